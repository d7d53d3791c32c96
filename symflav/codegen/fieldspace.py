"""Functions on the whole field space: V, its gradient and Hessian over all 2n real components
at any complex field point, in the model's field expansion and canonically normalized, and the
leading thermal masses.

Field variables. The model declares phi_i = c (v_i + sigma_i + i varphi_i) with c = 1
("unnormalized") or c = 1/sqrt 2 ("canonical"). The functions
in the model's convention take w = v + sigma + i varphi = phi / c; their real components
(Re w, Im w) are the model's (v + sigma, varphi), so that ``gradient(v)[:n]`` is
``tadpoles(v)`` and ``mass_matrix_factor * hessian(v)`` holds both mass matrices. The
canonical functions take z = sqrt 2 phi, whose real components h = Re z, a = Im z have
canonical kinetic terms (1/2)(dh)^2 + (1/2)(da)^2: their Hessian is the squared-mass matrix.

Real form. V(phi, phi^dagger) with phi = c (x + i y) expanded into a real polynomial in the
2n real components; its derivatives are taken by sympy and exported through the same
straight-line code as every other function (one CSE over all entries).

Thermal masses. At one loop and leading order in the high-temperature expansion, scalar loops
shift the squared-mass matrix in canonical real fields by Pi_ij = (T^2/24) sum_k d^4 V /
dh_i dh_j dh_k dh_k (k over all 2n canonical components). Here the sum over k is the Laplacian
L = 2 sum_k d^2 V / dphi_k dphi_k^dagger (phi = z / sqrt 2), so c_ij = Pi_ij / T^2 =
(1/24) d^2 L / dh_i dh_j: constant for a quartic potential (only the quartic couplings
contribute), field-dependent above degree 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symflav.codegen.module import Argument, Function, Result

EXPANSION_FACTOR = {"unnormalized": sp.S.One, "canonical": 1 / sp.sqrt(2)}


@dataclass(frozen=True)
class RealForm:
    """V as a real polynomial in x_i = Re(field variable), y_i = Im(field variable)."""

    expr: sp.Expr
    re: tuple[sp.Symbol, ...]
    im: tuple[sp.Symbol, ...]

    @property
    def components(self) -> tuple[sp.Symbol, ...]:
        return self.re + self.im

    def _poly(self) -> sp.Poly:
        return sp.Poly(self.expr, *self.components)

    def gradient(self) -> list[sp.Expr]:
        poly = self._poly()
        return [poly.diff(s).as_expr() for s in self.components]

    def hessian(self) -> list[sp.Expr]:
        """Row-major, each entry computed once (the matrix is symmetric)."""
        poly = self._poly()
        first = [poly.diff(s) for s in self.components]
        m = len(self.components)
        upper = {(i, j): first[i].diff(self.components[j]).as_expr() for i in range(m) for j in range(i, m)}
        return [upper[min(i, j), max(i, j)] for i in range(m) for j in range(m)]


def real_form(pot, factor, prefix: str = "") -> RealForm:
    """V at phi_i = factor * (x_i + i y_i), expanded (x_i, y_i real)."""
    re = tuple(sp.Symbol(f"{prefix}re_{label}", real=True) for label in pot.labels)
    im = tuple(sp.Symbol(f"{prefix}im_{label}", real=True) for label in pot.labels)
    subs = {}
    for p, pb, x, y in zip(pot.phi, pot.phibar, re, im):
        subs[p] = factor * (x + sp.I * y)
        subs[pb] = factor * (x - sp.I * y)
    expr = sp.expand(pot.expr.xreplace(subs))
    if expr.has(sp.I):
        expr = sp.expand(sp.re(expr))
        if expr.has(sp.I) or expr.has(sp.re) or expr.has(sp.im):
            raise ValueError("the potential is not real on real field components; check the couplings' reality")
    return RealForm(expr, re, im)


def thermal_laplacian(pot) -> sp.Expr:
    """sum_k over the 2n canonical real components of d^2 V / dh_k^2, in holomorphic form:
    2 sum_k d^2 V / dphi_k dphi_k^dagger."""
    poly = sp.Poly(pot.expr, *pot.phi, *pot.phibar)
    return sp.expand(2 * sum((poly.diff(p).diff(pb).as_expr() for p, pb in zip(pot.phi, pot.phibar)), sp.S.Zero))


def field_note(expansion: str, canonical: bool) -> str:
    """What the field argument of a field-space function is, and how to convert."""
    if canonical:
        return ("Fields: z_i = v_i + sigma_i + i varphi_i with phi_i = z_i/sqrt(2), canonically normalized: "
                "h = Re z and a = Im z have kinetic terms (1/2)(dh)^2 + (1/2)(da)^2, so the Hessian over "
                "(h, a) is the squared-mass matrix (GeV^2)."
                + (" For this model z is also the argument of potential(), gradient() and hessian(), which "
                   "are the same functions." if expansion == "canonical" else
                   " The model's own functions take w = phi = z/sqrt(2): potential_canonical(z) = "
                   "potential(z/sqrt(2)), gradient_canonical(z) = gradient(z/sqrt(2))/sqrt(2), "
                   "hessian_canonical(z) = hessian(z/sqrt(2))/2."))
    if expansion == "canonical":
        return ("Fields: w_i = v_i + sigma_i + i varphi_i of the model's expansion phi_i = w_i/sqrt(2), "
                "canonically normalized: the Hessian over (Re w, Im w) is the squared-mass matrix (GeV^2); "
                "gradient(v)[:n] = tadpoles(v).")
    return ("Fields: w_i = phi_i = v_i + sigma_i + i varphi_i, the model's expansion (components (Re w, "
            "Im w) = (v + sigma, varphi)); gradient(v)[:n] = tadpoles(v) and the mass matrices are "
            "mass_matrix_factor times the Hessian blocks. These components are NOT canonically "
            "normalized (kinetic term (d sigma)^2 + (d varphi)^2): canonical real fields are "
            "h = sqrt(2) Re w, a = sqrt(2) Im w, i.e. z = sqrt(2) w; then V(z) = potential(z/sqrt(2)), "
            "dV/dh = gradient/sqrt(2), d^2V/dh dh = hessian/2 (the squared-mass matrix). A tunnelling "
            "or finite-temperature code fed (Re w, Im w) as if canonical gets wrong actions and masses.")


def vev_note(expansion: str) -> str:
    """The normalization of the vevs and fluctuations of tadpoles() and mass_matrices()."""
    if expansion == "canonical":
        return ("Normalization: v_i, sigma_i, varphi_i of phi_i = (v_i + sigma_i + i varphi_i)/sqrt(2), "
                "canonically normalized; tadpoles(v) = gradient(v)[:n].")
    return ("Normalization: v_i, sigma_i, varphi_i of phi_i = v_i + sigma_i + i varphi_i, not canonically "
            "normalized (canonical real fields are sqrt(2) sigma, sqrt(2) varphi; the mass_matrix_factor "
            "accounts for it in the mass matrices); tadpoles(v) = gradient(v)[:n] and the canonical "
            "Hessian is hessian_canonical(sqrt(2) v) = hessian(v)/2.")


def _field_argument(form: RealForm, canonical: bool) -> Argument:
    name, what = ("z", "z = sqrt(2) phi") if canonical else ("phi", "w of the model's expansion (see Notes)")
    return Argument(name, form.components,
                    f"Complex field values (GeV) in the order FIELDS, {what}; the derivatives are taken "
                    "over the real parts then the imaginary parts.", vector=True, complex=True, split=True,
                    internal=True)


def field_space_functions(model, pot, parameter_args, canonical: bool = False) -> list[Function]:
    """gradient, hessian and potential_gradient_hessian (all three in one pass) in the model's
    field expansion, or (``canonical``) potential_canonical, gradient_canonical,
    hessian_canonical. ``parameter_args(symbols)`` gives the keyword arguments."""
    expansion = model.conventions.field_expansion
    factor = EXPANSION_FACTOR["canonical"] if canonical else EXPANSION_FACTOR[expansion]
    form = real_form(pot, factor, "c" if canonical else "")
    m = len(form.components)
    grad, hess = form.gradient(), form.hessian()
    params = parameter_args(form.expr.free_symbols - set(form.components))
    argument = _field_argument(form, canonical)
    note = field_note(expansion, canonical) + " " + " ".join(f"{v}." for v in model.conventions.describe().values())
    suffix = "_canonical" if canonical else ""
    order = "(Re phi_1..n, Im phi_1..n)" if not canonical else "(h_1..n, a_1..n) = (Re z, Im z)"
    g = Result("gradient", tuple(grad), (m,), f"dV/dx in GeV^3 over x = {order}.")
    h = Result("hessian", tuple(hess), (m, m), f"d^2V/dx_i dx_j in GeV^2 over x = {order}, with the "
                                              "CP-even/CP-odd mixing block.")
    v = Result("V", (form.expr,), (), "V in GeV^4 (real).")
    functions = [
        Function(f"gradient{suffix}", f"The gradient of V over all {m} real field components (GeV^3).",
                 (argument,), params, (g,), notes=note),
        Function(f"hessian{suffix}", f"The Hessian of V over all {m} real field components (GeV^2).",
                 (argument,), params, (h,), notes=note),
    ]
    if canonical:
        functions.insert(0, Function("potential_canonical", "The scalar potential V in GeV^4, of canonical fields.",
                                     (argument,), params, (v,), notes=note))
    else:
        functions.append(Function(
            "potential_gradient_hessian", "V, its gradient and its Hessian in one pass (GeV^4, GeV^3, GeV^2).",
            (argument,), params, (v, g, h),
            notes=note + " The same numbers as potential(), gradient() and hessian() up to rounding (one "
            "common sub-expression elimination over all of them)."))
    return functions


def thermal_function(model, pot, parameter_args) -> Function:
    """c_ij = Pi_ij / T^2 over canonical real components (see the module docstring)."""
    laplacian = thermal_laplacian(pot)
    form = real_form(_Holomorphic(pot, laplacian), EXPANSION_FACTOR["canonical"], "c")
    coefficients = [sp.expand(e / 24) for e in form.hessian()]
    m = len(form.components)
    free = set().union(*(e.free_symbols for e in coefficients)) - set(form.components)
    expansion = model.conventions.field_expansion
    argument = Argument("z", form.components,
                        "Complex canonical field values z = sqrt(2) phi (GeV), in the order FIELDS (the "
                        "coefficients depend on them only above degree 4).", vector=True, complex=True,
                        split=True, internal=True)
    convert = ("" if expansion == "canonical" else
               " In the model's expansion w = phi (hessian() over (Re w, Im w)), the matrix to add to "
               "hessian(w) is 2 T^2 c: hessian(w) = 2 hessian_canonical(sqrt(2) w).")
    return Function(
        "thermal_mass_coefficients",
        "The leading thermal masses: c_ij with Pi_ij(T) = c_ij T^2 (dimensionless), canonical real fields.",
        (argument,), parameter_args(free),
        (Result("c", tuple(coefficients), (m, m),
                "c_ij over (h_1..n, a_1..n) = (Re z, Im z); the squared-mass matrix at temperature T is "
                "hessian_canonical(z) + c T^2."),),
        notes=("Convention: real fields, canonical normalization, one loop, leading order of the "
               "high-temperature expansion, scalar loops only (the model declares no gauge or light "
               "fermion couplings of these scalars): Pi_ij = (T^2/24) sum_k d^4V/dh_i dh_j dh_k dh_k, k over "
               "all real components. Only the quartic couplings contribute for a potential of degree 4 "
               "(the coefficients are then constant)." + convert),
    )


@dataclass(frozen=True)
class _Holomorphic:
    """A holomorphic expression with the field symbols of a potential (for :func:`real_form`)."""

    pot: object
    expr: sp.Expr

    @property
    def labels(self):
        return self.pot.labels

    @property
    def phi(self):
        return self.pot.phi

    @property
    def phibar(self):
        return self.pot.phibar
