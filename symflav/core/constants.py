"""Built-in physical constants (``symflav/core/data/constants.toml``), with their sources.

Every number lives in the data file; this module only reads and validates it. A model file
may declare a parameter of the same name in ``[parameters]``: its ``default`` then overrides
the built-in value (:meth:`symflav.core.model.Model.constant`). Names follow fixed patterns
per lepton and per pair of leptons (see the data file and the helpers below), so a lepton
declared in a model finds its mass, its measured Delta a and the bounds of its decays by its
``lepton`` name.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

import sympy as sp

from symflav.core.errors import SpecError
from symflav.core.parsing import ParseError, parse_number

DATA = "data/constants.toml"
KEYS = {"value", "unit", "latex", "note", "source"}
UNITS = ("GeV", "GeV^-2", "GeV cm", "e cm", "dimensionless")


@dataclass(frozen=True)
class Constant:
    """A physical constant: exact ``value`` in ``unit``, what it is and where it comes from."""

    name: str
    value: sp.Rational
    unit: str
    latex: str
    note: str
    source: str

    @property
    def description(self) -> str:
        return f"{self.note} ({self.source})"


def load() -> dict[str, Constant]:
    """Every built-in constant by name, validated (a broken data file names itself and the key)."""
    where = f"symflav/core/{DATA}"
    try:
        raw = tomllib.loads((resources.files("symflav.core") / DATA).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(where, None, f"cannot read the built-in constants ({exc})") from None
    out = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) != KEYS:
            raise SpecError(where, name, f"expected a table with exactly the keys {', '.join(sorted(KEYS))}")
        if entry["unit"] not in UNITS:
            raise SpecError(where, f"{name}.unit", f"{entry['unit']!r} is not one of {', '.join(UNITS)}")
        try:
            value = parse_number(entry["value"])
        except ParseError as exc:
            raise SpecError(where, f"{name}.value", str(exc)) from None
        out[name] = Constant(name, value, entry["unit"], entry["latex"], entry["note"], entry["source"])
    return out


def lepton_mass(lepton: str) -> str:
    """Name of the mass of ``lepton`` (GeV)."""
    return f"m_{lepton}"


def anomaly(lepton: str) -> tuple[str, str]:
    """Names of the measured Delta a of ``lepton`` and its 1 sigma."""
    return f"Delta_a_{lepton}_exp", f"Delta_a_{lepton}_sigma"


def leptonic_branching(heavy: str, light: str) -> str:
    """Name of BR(heavy -> light nu nubar)."""
    return f"BR_{heavy}_{light}nunu"


def radiative_bound(heavy: str, light: str) -> str:
    """Name of the upper bound on BR(heavy -> light gamma)."""
    return f"BR_{heavy}_{light}_gamma_max"


def edm_bound(lepton: str) -> str:
    """Name of the upper bound on |d_lepton| (e cm)."""
    return f"d_{lepton}_max"
