"""symflav: derive, verify and compile the formulas of a flavor model.

Pipeline (each stage a pure function of the previous stage's frozen result):
model spec -> invariants -> potential -> vacuum -> hessian -> perturbative spectrum;
FN sector -> chains -> tree/radiative masses; loop integrals -> loop functions ->
observables; every derived object -> generated code and LaTeX.

Units are GeV throughout.
"""

__version__ = "0.1.0"
