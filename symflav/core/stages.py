"""The types every stage shares: a :class:`Stage` (a pure function of earlier results), its
:class:`StageReport` (time and expression size), the :class:`Derivation` (the model with
every result), and :class:`Unavailable` (the result of a stage that does not apply to the
model, with the reason). The driver that composes stages is :mod:`symflav.pipeline`."""

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
    final: bool = False  # runs after every non-final stage (code generation, scans, comparisons)
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


@dataclass(frozen=True)
class Unavailable:
    """The result of a stage that does not apply to the model (no small parameter, no
    fermions, no printed registry, no scan ranges ...): ``reason`` says why, in one line.
    Later stages and the outputs treat the stage as absent and say so."""

    reason: str

    def __str__(self) -> str:
        return f"not available: {self.reason}"

    def to_json(self) -> dict:
        return {"available": False, "reason": self.reason}


def available(results: Mapping[str, Any], name: str):
    """``results[name]`` when that stage ran and applies to the model, else None."""
    value = results.get(name)
    return None if isinstance(value, Unavailable) else value


def unavailable_reason(results: Mapping[str, Any], name: str) -> str:
    """Why ``results[name]`` is missing: the stage's own reason, or that it did not run."""
    value = results.get(name)
    if isinstance(value, Unavailable):
        return value.reason
    return "the stage did not run" if value is None else ""
