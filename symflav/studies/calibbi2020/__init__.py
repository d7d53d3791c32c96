"""The study of Calibbi, López-Ibáñez, Melis, Vives, JHEP 06 (2020) 087 (arXiv:2003.06633).

What exists only for this paper, registered through the hooks of :class:`symflav.pipeline.Study`:

* the ``paper`` stage (:mod:`.paper`): the section-2 relations, the forms of eqs. (3.6)-(3.11),
  (A.15)-(A.16), the sign rule -- exported to the generated module (the section-2 relations);
* the ``vertex_modes`` stage (:mod:`.vertex_modes`): eqs. (2.3), (3.7), (3.8) and Table 2's
  g-2 statement under each Yukawa vertex mode (all allowed; eqs. 3.1-3.2 as written);
* the ``figures`` stage (:mod:`.figures`): figures 3 and 4 and the numeric claims;
* the providers of its printed registry (:mod:`.providers`);
* the scans ``figure3-mu``, ``figure3-e``, ``figure4-mu``, ``figure4-e`` (:mod:`.scans`);
* its report sections and files (:mod:`.report`);
* the equation of the paper that prints each derived object (``REFERENCES``).
"""

from __future__ import annotations

from symflav.core.stages import Stage, Unavailable
from symflav.pipeline import Study
from symflav.studies.calibbi2020 import figures, paper, providers, report, scans, vertex_modes


def _figures(model, results):
    if model.changed_charges():
        return Unavailable("the charges differ from the paper's: figures 3 and 4 belong to the printed model")
    data = figures.derive_figures(model, results)
    return Unavailable("no section-2 relations to draw") if data is None else data


STAGES = (
    Stage("paper", paper.derive_paper_forms, lambda forms: len(forms.paper_form) if hasattr(forms, "paper_form") else 0,
          "the paper's forms (section 2, eqs. 3.6-3.11)"),
    Stage("vertex_modes", vertex_modes.derive_vertex_modes,
          lambda data: len(data.modes) if hasattr(data, "modes") else 0,
          "eqs. (2.3), (3.7), (3.8) and Table 2's g-2 statement under each Yukawa vertex mode"),
    Stage("figures", _figures, lambda data: 0 if isinstance(data, Unavailable) else 4,
          "figures 3 and 4, the paper's numeric claims", final=True),
)

REFERENCES = {
    "field_expansion": "A.1",
    "tadpoles": "A.2",
    "stationary_points": "A.3",
    "mass_matrix_factor": "A.4",
    "mass_matrices": "A.5-A.6",
    "spectrum": "A.10-A.14",
    "dipole_operator": "1.3",
    "loop.I_m": "A.18",
    "loop.I_da": "A.18",
    "loop.I_m_x": "2.5",
    "loop.I_da_x": "2.7",
    "relation.delta_a_from_C": "1.4",
    "relation.d_from_C": "4.5",
    "relation.BR_ratio_from_C": "1.7",
    "relation.delta_a_over_m_RAD": "2.9",
    "state_sum": "A.17",
    "mass_basis.m_RAD": "A.15",
    "mass_basis.delta_a_over_m": "A.16",
}

STUDY = Study(
    name="calibbi2020",
    stages=STAGES,
    providers=providers.PROVIDERS,
    scans=scans.SCANS,
    report_sections=report.SECTIONS,
    references=REFERENCES,
    exports=("paper",),
    drawers={"figures": figures.figure_files},
    outputs=report.outputs,
    spectrum_statement=paper.spectrum_statement,
)
