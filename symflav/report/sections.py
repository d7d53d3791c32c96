"""Extra sections of ``report.tex``: what a study adds to the generic report.

A :class:`Section` renders LaTeX from the derivation (or nothing, when its data is absent) and
says where it goes. The generic report (:mod:`symflav.report.render`) places it and, when the
derivation differs from its printed reference (a ``--charge`` option changed the file's
charges), replaces a ``paper_only`` section by one line saying why it is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

PLACES = ("after_stages", "after_comparison")


@dataclass(frozen=True)
class Section:
    """``render(derivation) -> LaTeX | None`` placed at ``place`` (one of :data:`PLACES`):
    ``after_stages`` follows the derived stages, ``after_comparison`` the comparison with the
    printed registry. ``title`` names it in the line that says it is left out; ``snippet``: also
    written to ``snippets/<snippet>.tex``."""

    name: str
    title: str
    render: Callable[[Any], str | None]
    place: str = "after_stages"
    paper_only: bool = True
    snippet: str | None = None

    def __post_init__(self):
        if self.place not in PLACES:
            raise ValueError(f"section {self.name}: place must be one of {', '.join(PLACES)}")
