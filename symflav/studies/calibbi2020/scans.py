"""The paper's figure scans: ``figure3-mu``, ``figure3-e``, ``figure4-mu``, ``figure4-e``.

Each samples the derived section-2 relations (:mod:`symflav.studies.calibbi2020.figures`) on
the ranges of the paper's figures 3 and 4, with the generated numeric module.
"""

from __future__ import annotations

from symflav.numerics.scan import Axis, ScanPlan
from symflav.studies.calibbi2020 import figures


class SectionTwoEvaluator:
    """Picklable evaluator of the section-2 relations (figures 3 and 4) for one lepton.

    Carries only the generated module's source (plain text), so a Dask worker rebuilds
    the functions without sympy or the derivation. ``kind`` is "figure3" (x_phi, delta_a,
    c -> M_chi) or "figure4" (x_phi, lambda, c -> v1_over_va).
    """

    def __init__(self, kind: str, lepton: str, source: str, constants):
        if kind not in ("figure3", "figure4"):
            raise ValueError(kind)
        self.kind, self.lepton, self.source, self.constants = kind, lepton, source, constants
        self._relations = None

    def __getstate__(self):
        return {**self.__dict__, "_relations": None}

    def relations(self):
        if self._relations is None:
            self._relations = figures.derived_relations(figures.load_numeric(self.source))
        return self._relations

    def __call__(self, columns):
        rel = self.relations()
        const = self.constants
        if self.kind == "figure3":
            return {"M_chi": rel.mediator_mass(columns["x_phi"], columns["delta_a"], columns["c"], const.mass[self.lepton])}
        s = rel.radiative_sign(const.delta_a[self.lepton])
        return {"v1_over_va": rel.vev_ratio(columns["x_phi"], columns["lambda"], columns["c"], s)}


def figure_scan(kind: str, lepton: str):
    """The scan function of ``symflav scan --scan {kind}-{lepton}``:
    ``(derivation, points, seed, chunk, grid) -> (ScanPlan, evaluator)``."""

    def scan(derivation, n_points: int, seed: int, chunk_size: int, grid: bool = False):
        const = figures.Constants.from_model(derivation.model)
        x_axis = Axis("x_phi", *figures.X_RANGE, scale="log")
        if kind == "figure3":
            axes = (x_axis, Axis("delta_a", *const.band(lepton)), Axis("c", *figures.C_RANGE))
        else:
            axes = (x_axis, Axis("lambda", *figures.LAMBDA_RANGE), Axis("c", *figures.C_RANGE))
        if grid:
            per_axis = max(2, round(n_points ** (1 / len(axes))))
            axes = tuple(Axis(a.name, a.low, a.high, a.scale, per_axis) for a in axes)
        plan = ScanPlan(axes, "grid" if grid else "random", n_points, seed, chunk_size)
        return plan, SectionTwoEvaluator(kind, lepton, derivation["codegen"].source, const)

    return scan


SCANS = {f"{kind}-{lepton}": figure_scan(kind, lepton) for kind in ("figure3", "figure4") for lepton in figures.LEPTONS}
