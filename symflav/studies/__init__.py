"""Studies: what a paper adds on top of the generic toolkit (:class:`symflav.pipeline.Study`).

A derivation names its study in ``model.toml`` (``[derivation] study = "NAME"``);
:func:`study_for` returns it from the registry of built-in studies, :data:`STUDIES`.
"""

from __future__ import annotations

from symflav.core.errors import SpecError
from symflav.core.model import Model
from symflav.pipeline import Study
from symflav.studies import calibbi2020

STUDIES: dict[str, Study] = {calibbi2020.STUDY.name: calibbi2020.STUDY}


def study_for(model: Model) -> Study | None:
    """The study a model names (``[derivation] study``), or None when it names none."""
    if model.study is None:
        return None
    if model.study not in STUDIES:
        raise SpecError(model.path, "derivation.study",
                        f"unknown study {model.study!r} (built-in studies: {', '.join(sorted(STUDIES))})")
    return STUDIES[model.study]
