"""Code generation: sympy expressions -> a numpy module that imports only numpy.

* :mod:`.printer` -- the one strict numpy printer (unknown function or symbol: error);
* :mod:`.cse` -- one common sub-expression elimination over all outputs of a function;
* :mod:`.series` -- series patches for removable singularities of one-variable functions;
* :mod:`.module` -- function specs -> module source (docstrings, broadcasting, chunks, ``out=``);
* :mod:`.assemble` -- the derivation -> the module ``generated/<name>/numeric.py``.
"""

from symflav.codegen.printer import CodegenError

__all__ = ["CodegenError"]
