"""The types every stage shares: a :class:`Stage` (a pure function of earlier results), its
:class:`StageReport` (time and expression size), and the :class:`Derivation` (the model with
every result). The driver that composes stages is :mod:`symflav.pipeline`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from symflav.core.model import Model


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Model, Mapping[str, Any]], Any]
    size: Callable[[Any], int]
    description: str
    final: bool = False  # runs after every other stage (the comparison with the paper)
    background: bool = False  # no later stage reads it: may run in a forked process meanwhile
    independent: bool = False  # reads no other stage: may start at once in a forked process
    adopt: Callable[[Any], Any] | None = None  # takes in a result computed in another process


@dataclass(frozen=True)
class StageReport:
    name: str
    seconds: float
    operations: int
    description: str


@dataclass(frozen=True)
class Derivation:
    """Everything derived for one model: ``results[stage name]`` and per-stage reports."""

    model: Model
    results: Mapping[str, Any]
    reports: tuple[StageReport, ...]

    def __getitem__(self, name: str):
        return self.results[name]


Rederive = Callable[[Model, str], Derivation]
"""Runs the stages again for another model, up to the named stage (the pipeline's ``run``)."""
