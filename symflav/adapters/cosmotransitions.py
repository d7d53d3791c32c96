"""cosmoTransitions on a generated module, in canonically normalized real fields.

    from cosmoTransitions import pathDeformation
    from symflav.adapters.cosmotransitions import GeneratedPotential

    m = GeneratedPotential("generated/calibbi2020/numeric.py", **point)
    true, false = m.minima()[:2]
    action = pathDeformation.fullTunneling([true, false], m.V0, m.dV0).action

Fields. cosmoTransitions assumes canonical real fields X with kinetic term (1/2)(dX)^2. The
generated functions take the model's field variable w (for the unnormalized expansion
phi = v + sigma + i varphi, w = phi, whose real components are *not* canonical). Here
X = (h_1..n, a_1..n) with z = h + i a = sqrt(2) phi, so w = s z with s = 1/sqrt(2)
(unnormalized) or 1 (canonical expansion), and by the chain rule

    V0(X) = potential(w),  dV0(X) = s gradient(w),  d2V0(X) = s^2 hessian(w).

Feeding (Re phi, Im phi) to cosmoTransitions as if canonical changes a bounce action (the
kinetic term is off by a factor 2): this class never does.

:class:`GeneratedPotential` is a ``cosmoTransitions.generic_potential.generic_potential``:
``V0``, ``dV0`` and ``d2V0`` are the generated (exact) functions; ``massSqMatrix`` is the
generated Hessian; ``boson_massSq(X, T)`` gives the 2n scalar masses of the field-dependent
mass matrix plus the leading thermal masses (``thermal_mass_coefficients`` of the module:
one loop, high-temperature expansion, scalar loops only; 1 degree of freedom and c = 3/2
each); there are no fermions (a placeholder with no degrees of freedom). ``approxZeroTMin`` and :meth:`minima` use the module's
``minimize``. Units: GeV.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
from cosmoTransitions import generic_potential


def load_module(module) -> ModuleType:
    """A generated module: returned as given, or imported from a file path (under a name of
    its own, so that several can be loaded side by side)."""
    if isinstance(module, ModuleType):
        return module
    path = Path(module)
    if not path.is_file():
        raise FileNotFoundError(f"no generated module at {path}")
    name = f"_symflav_generated_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    sys.modules[name] = loaded
    return loaded


class GeneratedPotential(generic_potential.generic_potential):
    """A generated module at one parameter point as a cosmoTransitions potential.

    ``GeneratedPotential(module, **params)``: ``module`` a generated module or the path of one;
    ``params`` one parameter point (as for the module's functions, e.g. ``**POINTS["name"]``
    or the result of ``solve_mu2``). Fields X have shape (..., 2n): (Re z, Im z) with
    z = sqrt(2) phi in the order of ``module.FIELDS`` (see the module docstring).
    """

    def init(self, module, **params):
        self.module = load_module(module)
        self.params = dict(params)
        self.n = len(self.module.FIELDS)
        self.Ndim = 2 * self.n
        self.scale = 1 / np.sqrt(2) if self.module.FIELD_EXPANSION == "unnormalized" else 1.0
        self.module.potential(np.zeros(self.n, dtype=complex), **self.params)  # bad parameters fail here

    # ---------------------------------------------------------------- fields
    def field(self, X) -> np.ndarray:
        """The module's field argument w for canonical real fields X (..., 2n)."""
        X = np.asarray(X, dtype=float)
        return (X[..., : self.n] + 1j * X[..., self.n:]) * self.scale

    def canonical(self, w) -> np.ndarray:
        """Canonical real fields X (..., 2n) of the module's field argument w (..., n)."""
        w = np.asarray(w, dtype=complex) / self.scale
        return np.concatenate([w.real, w.imag], axis=-1)

    # ---------------------------------------------------------------- tree level
    def V0(self, X):
        return self.module.potential(self.field(X), **self.params)

    def dV0(self, X):
        """The gradient of V0 over X (exact, the generated gradient)."""
        return self.scale * self.module.gradient(self.field(X), **self.params)

    def d2V0(self, X):
        """The Hessian of V0 over X: the field-dependent squared-mass matrix (GeV^2)."""
        return self.scale**2 * self.module.hessian(self.field(X), **self.params)

    def massSqMatrix(self, X):
        return self.d2V0(X)

    # ---------------------------------------------------------------- spectrum for the effective potential
    def thermal_masses(self, X) -> np.ndarray:
        """c_ij with Pi_ij = c_ij T^2 over X (the module's thermal_mass_coefficients)."""
        X = np.asarray(X, dtype=float)
        return self.module.thermal_mass_coefficients(X[..., : self.n] + 1j * X[..., self.n:], **self.params)

    def boson_massSq(self, X, T):
        X = np.asarray(X, dtype=float)
        T2 = np.asarray(T, dtype=float) ** 2
        M = self.d2V0(X) + T2[..., None, None] * self.thermal_masses(X)
        masses = np.linalg.eigvalsh(M)
        return masses, np.ones(self.Ndim), np.full(self.Ndim, 1.5)

    def fermion_massSq(self, X):
        """No fermions: one placeholder of zero mass and zero degrees of freedom (cosmoTransitions'
        spline of J_f does not take an empty array)."""
        X = np.asarray(X, dtype=float)
        return np.zeros(X.shape[:-1] + (1,)), np.zeros(1)

    # ---------------------------------------------------------------- minima
    def minima(self, **search) -> list[np.ndarray]:
        """Every distinct minimum that the module's ``minimize`` finds (options in ``search``:
        starts, seed, guesses), as canonical fields X, lowest V first, each rephased by the
        potential's symmetries towards real fields."""
        found = self.module.minimize(**search, **self.params)
        rephase = getattr(self.module, "_rephased", None)
        points = []
        for phi, _, _ in found.minima:
            if rephase is not None:
                phi = rephase(np.asarray(phi))[0]
            points.append(self.canonical(phi))
        return points

    def approxZeroTMin(self):
        return self.minima()[:1]
