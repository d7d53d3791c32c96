"""Hostile and random inputs for the command line, and the properties every run must keep.

* :data:`CORPUS`: every hostile input named in the robustness issues (formulas, numbers,
  charges, sizes, LaTeX names, paths), each a model file that must be refused with exit 2.
* :func:`formulas`, :func:`models`: hypothesis strategies -- formula strings from a grammar
  that includes the hostile cases, and small model files (fields, U(1) and Z_N charges,
  relations, points, mediators, LaTeX names, named files) with hostile values mixed in.
* :func:`run_case`: runs ``symflav terms`` on a model in-process, and on a refusal also
  ``symflav derive -o DIR``, and reports the exit codes, tracebacks, time and whether
  anything was written.
* :func:`invariance_failures`: for a model that loads, every operator the enumeration keeps
  is checked two ways: its phase under each symmetry is 1 (numerically, with random fields
  and angles), and brute-force enumeration of all monomials finds the same invariant set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import json
import math
import random
import signal
import time
from fractions import Fraction
from pathlib import Path

from hypothesis import strategies as st

from symflav import cli
from symflav.core import spec
from symflav.physics import invariants

TIMEOUT = 30  # seconds of one case before it counts as a hang

# ------------------------------------------------------------------ model files


def toml_value(value) -> str:
    """A TOML value: strings through JSON escapes (valid TOML basic strings), lists, inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value) if not isinstance(value, float) or math.isfinite(value) else (
            "nan" if value != value else ("inf" if value > 0 else "-inf"))
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


@dataclasses.dataclass
class ModelSpec:
    """A small model file; every field may hold a hostile value."""

    symmetries: list[tuple[str, str]] = dataclasses.field(default_factory=lambda: [("U", "U1")])
    charges: list[dict] = dataclasses.field(default_factory=lambda: [{"U": "1"}])  # one table per scalar
    degree: object = 4
    latex: str | None = None
    relation: object = None  # p1 = ...
    point: object = None  # points.bench.p2 = ...
    mediator: dict | None = None  # charges of a mediator family F
    printed: str | None = None
    raw: str = ""  # text appended as is (e.g. deep nesting)

    def text(self) -> str:
        lines = ["[derivation]", 'name = "fuzz"', f"degree = {toml_value(self.degree)}"]
        if self.printed is not None:
            lines.append(f"printed = {toml_value(self.printed)}")
        for name, group in self.symmetries:
            lines += [f"[symmetries.{name}]", f"group = {toml_value(group)}"]
        for i, charges in enumerate(self.charges):
            lines += ["[[scalars]]", f'name = "s{i}"', f'label = "{i}"', f"charges = {toml_value(charges)}"]
            if i == 0 and self.latex is not None:
                lines.append(f"latex = {toml_value(self.latex)}")
        lines += ["[parameters]", "p1 = {}", "p2 = {}", 'M = { kind = "mass" }']
        if self.mediator is not None:
            lines += ["[[mediators]]", 'name = "F"', 'mass = "M"', f"charges = {toml_value(self.mediator)}"]
        if self.relation is not None:
            lines += ["[relations]", f"p1 = {toml_value(self.relation)}"]
        if self.point is not None:
            lines += ["[points.bench]", f"p2 = {toml_value(self.point)}"]
        return "\n".join(lines) + "\n" + self.raw


def valid(**changes) -> ModelSpec:
    return dataclasses.replace(ModelSpec(), **changes)


HOSTILE_FORMULAS = [
    "p1 + 1e99999999", "((((p2^64)^64)^64)^64)^64", "exp(exp(exp(1000)))", "-" * 1990 + "p2",
    "(" * 300 + "p2" + ")" * 300, "sqrt(" * 100 + "p2" + ")" * 100, "log(0)", "sqrt(-1)", "0^(-1)",
    "1" * 5000, "p2/0", "p2/(p2-p2)", "log(p2-p2)", "2^64^64", "(p2+1)^100", "1e400", "-1e400", "nan", "inf",
    "p2 * 1e-400", "__import__('os').system('touch /tmp/pwned')", "p2.__class__", "(lambda: 1)()",
    "[1, 2]", "p2 if p2 else 1", "eval('1')", "open('/etc/passwd')", "p2 @ p2", "p2 % 2", "p2 ** -1 ** 99",
    "\u0663 + p2", "p2\x00", "", "   ", "p2 +", "exp(691)", "(10^64)^5", "abs(sqrt(-4))",
]
HOSTILE_NUMBERS = ["1e99999999", "1e400", "-1e400", "9" * 5000, "٣", "1/0", "nan", "inf", "1e-400", "0x10",
                   "1_000", "+-1", "3/4/5", "", float("inf"), float("nan"), 10**40]
HOSTILE_LATEX = [r"\input{/etc/passwd}", r"\include{x}", r"\write18{ls}", r"\openin5=/etc/passwd", r"\read5 to\x",
                 r"\def\x{\x}\x", r"\edef\x{}", r"\gdef\x{}", r"\let\x\relax", r"\catcode`\^^M=13",
                 r"\csname input\endcsname", r"\immediate\write", r"\loop\repeat", "{", "}", r"x_{", "^^5cinput",
                 "a % comment", "a # b", "$x$", "a & b", "x\ny", "φ", "a" * 1000]
HOSTILE_PATHS = ["/etc/passwd", "../x.toml", "../../../../etc/hostname", "/dev/zero", "printed/../../x.toml"]


def corpus() -> list[tuple[str, str]]:
    """(name, model text) of every hostile case of the robustness issues; each must exit 2."""
    cases = []
    for i, formula in enumerate(HOSTILE_FORMULAS):
        cases.append((f"relation-{i}", valid(relation=formula).text()))
    for i, number in enumerate(HOSTILE_NUMBERS):
        cases.append((f"point-{i}", valid(point=number).text()))
        if isinstance(number, str):
            cases.append((f"charge-{i}", valid(charges=[{"U": number}]).text()))
    for i, latex in enumerate(HOSTILE_LATEX):
        cases.append((f"latex-{i}", valid(latex=latex).text()))
    for i, path in enumerate(HOSTILE_PATHS):
        cases.append((f"path-{i}", valid(printed=path).text()))
    cases += [
        ("degree-9", valid(degree=9).text()),
        ("degree-0", valid(degree=0).text()),
        ("degree-huge", valid(degree=10**40).text()),
        ("zn-huge", valid(symmetries=[("U", "Z1000000")], charges=[{"U": 1}]).text()),
        ("zn-nonascii", valid(symmetries=[("U", "Z٣")], charges=[{"U": 1}]).text()),
        ("zn-any-huge", valid(symmetries=[("U", "Z1000")], charges=[{"U": 1}], mediator={"U": "any"}).text()),
        ("mediators-10000", valid(mediator={"U": list(range(10_000))}).text()),
        ("species", valid(symmetries=[("U", "U1"), ("V", "U1")], charges=[{"U": 1, "V": 1}],
                          mediator={"U": list(range(20)), "V": list(range(20))}).text()),
        ("scalars-17", valid(charges=[{"U": 0}] * 17).text()),
        ("toml-deep", valid().text() + "[points.deep]\nx = " + "[" * 10_000 + "]" * 10_000 + "\n"),
        ("toml-bigint", valid().text() + "[points.big]\np2 = " + "9" * 5000 + "\n"),
        ("scan-nan", valid().text() + "[scans.s]\nranges = { p2 = { low = nan, high = 1 } }\n"),
        ("scan-inf", valid().text() + "[scans.s]\nranges = { p2 = { low = 0, high = inf } }\n"),
        ("scan-overflow", valid().text() + '[scans.s]\nranges = { p2 = { low = 0, high = "1e400" } }\n'),
        ("scan-seed", valid().text() + "[scans.s]\nseed = -1\nranges = { p2 = { low = 0, high = 1 } }\n"),
        ("scan-points", valid().text() + "[scans.s]\npoints = 1000000000\nranges = { p2 = { low = 0, high = 1 } }\n"),
        ("not-utf8", "[derivation]\nname = \"\xff\"\n"),
        ("malformed", "[derivation\n"),
    ]
    return cases


# ------------------------------------------------------------------ strategies

NAMES = ["p1", "p2", "M", "pi", "s0", "x", "__class__"]
FUNCTIONS = ["sqrt", "log", "exp", "abs", "eval", "open", "Re"]


def numbers():
    return st.one_of(st.integers(-1000, 1000).map(str), st.sampled_from(["0", "0.5", "1e-3", "2/3", "1e300"]),
                     st.sampled_from([n for n in HOSTILE_NUMBERS if isinstance(n, str) and n]))


def formulas():
    """Formula strings from a grammar of sums, products, powers, signs, calls and numbers, with the
    hostile leaves and shapes (huge numbers, deep nesting, unknown functions) mixed in."""
    leaves = st.one_of(st.sampled_from(NAMES), numbers())

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda t: f"{t[0]}({t[1]})"),
            inner.map(lambda f: f"-{f}"),
            st.tuples(inner, st.sampled_from([64, 65, 99])).map(lambda t: f"({t[0]})^{t[1]}"),
        )

    grammar = st.recursive(leaves, extend, max_leaves=12)
    return st.one_of(grammar, st.sampled_from(HOSTILE_FORMULAS),
                     st.tuples(st.integers(1, 80), grammar).map(lambda t: "-" * t[0] + t[1]),
                     st.tuples(st.integers(1, 80), grammar).map(lambda t: "(" * t[0] + t[1] + ")" * t[0]))


@st.composite
def models(draw) -> ModelSpec:
    """A small model file: about half of them well-formed, the others with hostile values drawn in.

    Which parts are hostile is decided by a random generator that hypothesis seeds (its own
    choices lean towards the edges of every range, which would make nearly every model hostile)."""
    rng = random.Random(draw(st.integers(0, 2**32)))

    def pick(valid, hostile, chance: float):
        return draw(hostile if rng.random() < chance else valid)

    groups = [pick(st.sampled_from(["U1", "Z2", "Z3", "Z4", "Z5"]),
                   st.sampled_from(["Z1", "Z0", "Z1001", "Z٣", "SU2", "Z999999999999"]), 0.03)
              for _ in range(rng.choice([1, 1, 2]))]
    symmetries = list(zip(["U", "V"], groups))
    charges = [{name: pick(_charge(group), numbers(), 0.02) for name, group in symmetries}
               for _ in range(rng.choice([1, 2, 2, 3]))]
    degree = pick(st.integers(2, 4), st.sampled_from([0, 9, "4", 10**40]), 0.03)
    model = ModelSpec(symmetries=symmetries, charges=charges, degree=degree)
    if rng.random() < 0.3:
        model.relation = pick(st.sampled_from(["p2", "2*p2^2", "sqrt(p2)/3", "p2 + pi"]), formulas(), 0.5)
    if rng.random() < 0.3:
        model.point = pick(st.sampled_from([1, 0.5, "2/3", -3]),
                           st.one_of(numbers(), st.floats(allow_nan=True, allow_infinity=True)), 0.5)
    if rng.random() < 0.15:
        model.latex = pick(st.sampled_from([r"\phi_1", r"\hat{\chi}'", r"\Phi^{(2)}"]),
                           st.sampled_from(HOSTILE_LATEX), 0.5)
    if rng.random() < 0.15:
        model.mediator = {name: pick(st.lists(st.integers(-3, 3), min_size=1, max_size=4), st.just("any"), 0.3)
                          for name, _ in symmetries}
    if rng.random() < 0.05:
        model.printed = draw(st.sampled_from(HOSTILE_PATHS))
    return model


def _charge(group: str):
    """Charges that fit ``group`` (a U(1): small integers and fractions; Z_N: 0..N-1)."""
    if group == "U1":
        return st.one_of(st.integers(-3, 3), st.sampled_from(["1/2", "-2/3"]))
    order = int(group[1:]) if group[1:].isascii() and group[1:].isdigit() and len(group) < 6 else 2
    return st.integers(0, max(order, 2) - 1)


# ------------------------------------------------------------------ running a case


@dataclasses.dataclass
class Outcome:
    codes: list[int]
    stderr: str
    seconds: float
    timed_out: bool = False
    written: bool = False

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr

    @property
    def one_line(self) -> bool:
        return all(len(part.strip().splitlines()) <= 1 for part in self.stderr.split("\x00") if part.strip())


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def call(argv: list[str]) -> tuple[int, str]:
    """``symflav.cli.main(argv)`` with its output captured; (exit code, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, err.getvalue()


def run_case(text: str, folder: Path, *, derive_on_error: bool = True) -> Outcome:
    """Write ``text`` as ``folder/model.toml``; run ``terms`` on it; after a refusal (2), also
    ``derive -o folder/out``, which must refuse too and write nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.toml").write_bytes(text.encode("utf-8", "surrogateescape"))
    out = folder / "out"
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    begin = time.perf_counter()
    codes, errors, timed_out = [], [], False
    try:
        code, err = call(["terms", str(folder)])
        codes.append(code)
        errors.append(err)
        if code == 2 and derive_on_error:
            code, err = call(["derive", str(folder), "-o", str(out), "--no-pdf", "--code-only"])
            codes.append(code)
            errors.append(err)
    except _Hang:
        timed_out = True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(codes, "\x00".join(errors), time.perf_counter() - begin, timed_out, out.exists())


# ------------------------------------------------------------------ invariance of the potential


def invariance_failures(folder: Path, seed: int = 0) -> list[str]:
    """Problems with the operators the enumeration keeps for the model in ``folder``:
    (1) an operator whose phase under a symmetry rotation is not 1 (fields z_i e^{i q_i theta},
    theta random for a U(1), 2 pi k / N for a Z_N); (2) a monomial that brute-force enumeration
    of every (n_i, m_i) up to the degree finds invariant and the table lacks, or the reverse."""
    model = spec.load(str(folder))
    table = invariants.operator_table(model)
    rng = random.Random(seed)
    charges = [[Fraction(dict(s.charges)[sym.name]) for sym in model.symmetries] for s in model.scalars]
    problems = []
    kept = {op.monomial.powers for op in table.in_potential}
    for powers in kept:
        for k, sym in enumerate(model.symmetries):
            angles = [rng.uniform(0, 2 * math.pi) for _ in range(3)] if sym.is_u1 else \
                [2 * math.pi * j / sym.order for j in range(1, sym.order)]
            for theta in angles:
                phase = sum(float(charges[i][k]) * (n - m) for i, (n, m) in enumerate(powers)) * theta
                if abs(complex(math.cos(phase), math.sin(phase)) - 1) > 1e-9:
                    problems.append(f"{powers} is not invariant under {sym.name} (angle {theta:.3f})")
    invariant = set()
    fields = len(model.scalars)
    for degree in range(1, table.degree + 1):
        for combo in itertools.combinations_with_replacement(range(2 * fields), degree):
            powers = tuple((combo.count(2 * i), combo.count(2 * i + 1)) for i in range(fields))
            conjugate = tuple((m, n) for n, m in powers)
            if all(_invariant(powers, charges, k, sym) for k, sym in enumerate(model.symmetries)):
                invariant.add(min(powers, conjugate) if powers != conjugate else powers)
    found = {min(p, tuple((m, n) for n, m in p)) for p in kept}
    if found != invariant:
        problems.append(f"enumeration differs: table only {sorted(found - invariant)}, "
                        f"brute force only {sorted(invariant - found)}")
    return problems


def _invariant(powers, charges, k, sym) -> bool:
    total = sum(charges[i][k] * (n - m) for i, (n, m) in enumerate(powers))
    return total == 0 if sym.is_u1 else total.denominator == 1 and total.numerator % sym.order == 0
