"""Hostile input through the command line: one line, the right exit status, nothing written.

Options are checked before any derivation starts; values that are not physics are refused
at load with the key named; files a model names stay inside its folder; an internal error is
one line (exit 1) unless --debug; LaTeX names are whitelisted and a pdflatex failure or
time-out names the field. The CLI runs in-process on small toy models."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from symflav import cli
from symflav.core import limits, printed, spec
from symflav.core.errors import SpecError
from symflav.report import pdf
from symflav.verify import checks

TOY = """
[derivation]
name = "toy"
degree = 4
{printed}
[symmetries.U]
group = "U1"
[[scalars]]
name = "s0"
label = "0"
charges = {{ U = "1" }}
latex = {latex}
[[scalars]]
name = "s1"
label = "1"
charges = {{ U = "2" }}
[parameters]
v_0 = {{ kind = "vev" }}
v_1 = {{ kind = "vev" }}
M = {{ kind = "mass" }}
p = {{}}
[[mediators]]
name = "F"
mass = {mass}
charges = {{ U = [1, 2] }}
[vacuum]
vevs = {{ s0 = "v_0", s1 = "v_1" }}
alignment = {{ v_1 = {alignment} }}
small_parameter = {{ name = "epsilon", value = {small} }}
[points.bench]
v_0 = {point}
M = 1000
"""
GOOD = {"printed": "", "latex": "'\\phi_0'", "mass": '"M"', "alignment": '"2*v_0"', "small": '"v_0/M"',
        "point": "100"}


def toy(tmp_path: Path, **changes) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir(exist_ok=True)
    (folder / "model.toml").write_text(TOY.format(**{**GOOD, **changes}), encoding="utf-8")
    return folder


def refused(argv, capsys, *words, status: int = 2) -> str:
    assert cli.main([str(a) for a in argv]) == status
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def test_the_toy_model_loads(tmp_path, capsys):
    assert cli.main(["terms", str(toy(tmp_path))]) == 0
    assert "(s0† s0)" in capsys.readouterr().out


# ------------------------------------------------------------------ options, before any derivation


@pytest.mark.parametrize("target,words", [
    ("afile", "exists and is not a folder"),
    ("afile/below", "is a file, not a folder"),
    ("/dev/null", "exists and is not a folder"),
    ("/proc/no/such/place", "cannot write in /proc"),
    ("", "not a usable path"),
    ("a\x00b", "not a usable path"),
])
def test_derive_output_that_cannot_be_a_folder_is_refused_before_deriving(tmp_path, capsys, target, words,
                                                                         monkeypatch):
    (tmp_path / "afile").write_text("keep me")
    monkeypatch.setattr(spec, "load", lambda *a, **k: pytest.fail("the model was read before -o was checked"))
    refused(["derive", toy(tmp_path), "-o", tmp_path / target if target.startswith("afile") else target],
            capsys, "--output", words)
    assert (tmp_path / "afile").read_text() == "keep me"
    assert not list(tmp_path.glob(".symflav-probe-*")) and not list(Path("/tmp").glob(".symflav-probe-*x"))


@pytest.mark.parametrize("argv,words", [
    (["--seed", "-1"], "--seed: -1: must be between 0 and 4294967295"),
    (["--seed", str(2**32)], "must be between 0 and"),
    (["--points", "1e9"], "is not an integer"),
    (["--points", "1000000001"], "--points"),
    (["--points", "0"], "--points"),
    (["--points", "٣"], "ASCII digits"),
    (["--workers", "100000"], "--workers"),
    (["-o", "/dev/null"], "must end in .csv"),
    (["-o", "afile/x.csv"], "not a folder"),
])
def test_scan_options_are_refused_before_the_model_is_read(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    monkeypatch.setattr(spec, "load", lambda *a, **k: pytest.fail("the model was read before the options"))
    refused(["scan", toy(tmp_path), "--scan", "any", *argv], capsys, words)


@pytest.mark.parametrize("argv,words", [
    (["terms", "--charge", "s0=٣"], "ASCII"),
    (["terms", "--degree", "٣"], "ASCII digits"),
    (["terms", "--degree", "9"], "between 1 and 8"),
    (["spectrum", "--seed", "-5"], "--seed"),
    (["spectrum", "--starts", str(limits.MAX_STARTS + 1)], "--starts"),
])
def test_other_options_take_ascii_digits_within_their_ranges(tmp_path, capsys, argv, words):
    refused([argv[0], toy(tmp_path), *argv[1:]], capsys, words)


@pytest.mark.slow
def test_a_degree_past_the_work_bound_needs_force(tmp_path, capsys):
    err = refused(["derive", "calibbi2020", "--degree", "8", "-o", tmp_path / "out"], capsys, "--force", "min")
    assert "--degree" in err and not (tmp_path / "out").exists()


# ------------------------------------------------------------------ one error path


def test_an_internal_error_is_one_line_with_a_hint_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setitem(cli.COMMANDS, "terms", broken)
    err = refused(["terms", toy(tmp_path)], capsys, "internal error", "RuntimeError: a bug over two lines",
                  "--debug", status=1)
    assert err.startswith("symflav: internal error")
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["terms", str(toy(tmp_path)), "--debug"])
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["--debug", "terms", str(toy(tmp_path))])


# ------------------------------------------------------------------ values that are not physics


@pytest.mark.parametrize("field,value,key", [
    ("alignment", '"0^(-1)"', "vacuum.alignment.v_1"),
    ("alignment", '"log(0)"', "vacuum.alignment.v_1"),
    ("alignment", '"v_0 * 1e400"', "vacuum.alignment.v_1"),
    ("small", '"log(v_0 - v_0)"', "vacuum.small_parameter.value"),
    ("small", '"exp(exp(exp(1000)))"', "vacuum.small_parameter.value"),
    ("mass", '"sqrt(-1)"', "mediators[0].mass"),
    ("mass", '"M/0"', "mediators[0].mass"),
    ("point", '"1e400"', "points.bench.v_0"),
    ("point", "1e400", "points.bench.v_0"),
    ("point", "nan", "points.bench.v_0"),
    ("point", "-inf", "points.bench.v_0"),
    ("point", '"1e99999999"', "points.bench.v_0"),
    ("point", "9" * 5000, "toy/model.toml"),
])
def test_values_that_are_not_finite_real_numbers_are_refused_with_their_key(tmp_path, capsys, field, value, key):
    refused(["terms", toy(tmp_path, **{field: value})], capsys, key)


# ------------------------------------------------------------------ named files stay inside the folder


@pytest.mark.parametrize("path", ["/etc/passwd", "../x.toml", "sub/../../x.toml"])
def test_a_printed_registry_outside_the_folder_is_refused(tmp_path, capsys, path):
    (tmp_path / "x.toml").write_text("[symbols]\n")
    refused(["terms", toy(tmp_path, printed=f"printed = {path!r}")], capsys, "derivation.printed", "outside",
            "--allow-outside-paths")


def test_allow_outside_paths_lets_a_printed_registry_outside_the_folder_be_read(tmp_path, capsys):
    (tmp_path / "x.toml").write_text("[symbols]\n")
    folder = toy(tmp_path, printed="printed = '../x.toml'")
    model = spec.load(str(folder), allow_outside_paths=True)
    assert Path(model.printed_path).resolve() == (tmp_path / "x.toml").resolve()
    assert cli.main(["terms", str(folder), "--allow-outside-paths"]) == 0, capsys.readouterr().err


def test_a_printed_registry_inside_the_folder_is_accepted(tmp_path):
    folder = toy(tmp_path, printed="printed = 'sub/p.toml'")
    (folder / "sub").mkdir()
    (folder / "sub" / "p.toml").write_text("[symbols]\n")
    assert spec.load(str(folder)).printed_path.endswith("p.toml")


# ------------------------------------------------------------------ LaTeX names


@pytest.mark.parametrize("latex,words", [
    (r"'\input{/etc/passwd}'", r"\input is not allowed"),
    (r"'\def\x{\x}\x'", r"\def is not allowed"),
    (r"'\catcode`\^^M=13'", "not allowed"),
    (r"'\csname input\endcsname'", r"\csname"),
    (r"'\write18{rm -rf /}'", r"\write"),
    ("'x_{'", "unbalanced braces"),
    ("'x}'", "unbalanced braces"),
    ("'^^5cinput'", "'^^'"),
    ("'a % b'", "'%'"),
])
def test_latex_names_outside_the_whitelist_are_refused_with_the_field(tmp_path, capsys, latex, words):
    refused(["terms", toy(tmp_path, latex=latex)], capsys, "scalars[0].latex", words)


def test_a_pdflatex_time_out_is_one_latex_error(monkeypatch):
    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])

    monkeypatch.setattr(pdf, "pdflatex", lambda: "/bin/true")
    monkeypatch.setattr(pdf.subprocess, "run", slow)
    with pytest.raises(pdf.LatexError, match="did not finish in 5 s") as info:
        pdf.compile_pdf("\\documentclass{article}", timeout=5)
    assert "\n" not in str(info.value)


@pytest.mark.skipif(pdf.pdflatex() is None, reason="pdflatex is not installed")
def test_a_pdflatex_failure_names_the_model_field_whose_latex_it_stopped_at():
    name = "a^b^c"  # passes the whitelist, stops TeX (double superscript)
    tex = "\\documentclass{article}\\begin{document}$x + " + name + "$\\end{document}\n"
    with pytest.raises(pdf.LatexError) as info:
        pdf.compile_pdf(tex, timeout=60)
    fields = {"scalars[0].latex": name, "scalars[1].latex": "\\phi_1"}
    assert pdf.culprit(str(info.value), fields) == "; check scalars[0].latex"


@pytest.mark.slow
def test_eight_neutral_fields_are_refused_by_the_work_estimate_unless_forced(tmp_path, capsys):
    lines = ["[derivation]", 'name = "eight"', "degree = 4", "[symmetries.U]", 'group = "U1"']
    for i in range(8):
        lines += ["[[scalars]]", f'name = "s{i}"', f'label = "{i}"', "charges = { U = 0 }"]
    (tmp_path / "model.toml").write_text("\n".join(lines) + "\n")
    err = refused(["derive", tmp_path, "-o", tmp_path / "out"], capsys, "derivation.degree", "--force")
    assert "2444 operators" in err and not (tmp_path / "out").exists()
    cli.check_work(spec.load(str(tmp_path)), None, force=True)  # --force lifts the bound (not derived here)


def test_non_finite_numbers_in_json_output_are_named_not_written_as_numbers():
    data = {"mass": float("nan"), "masses": [1.5, float("inf"), -float("inf")], "ok": 2}
    text = cli.dumps_finite(data)
    assert json.loads(text) == {"mass": "nan", "masses": [1.5, "inf", "-inf"], "ok": 2}
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.parametrize("formula,words", [("0^(-1)", "division by zero"), ("-" * 1990 + "x", "nested too deeply"),
                                           ("log(0)", "log of zero"), ("1e99999999", "larger than 1e300")])
def test_the_printed_registry_and_the_errata_refuse_what_a_model_refuses(tmp_path, formula, words):
    folder = tmp_path / "c"
    shutil.copytree(Path(spec.builtin_root()) / "calibbi2020", folder)
    errata = (folder / "errata.toml").read_text()
    first = errata.index('corrected = "') + len('corrected = "')
    (folder / "errata.toml").write_text(errata[:first] + formula + errata[errata.index('"', first):])
    model = spec.load(str(folder))
    registry = printed.load(model)
    with pytest.raises(SpecError, match=words) as info:
        checks.read_errata(model, registry)
    assert info.value.where.endswith("errata.toml") and info.value.key.startswith("errata[")
    text = (folder / "printed.toml").read_text()
    first = text.index('\nformula = "') + len('\nformula = "')
    (folder / "printed.toml").write_text(text[:first] + formula + text[text.index('"', first):])
    with pytest.raises(SpecError, match=words) as info:
        printed.load(spec.load(str(folder)))
    assert info.value.where.endswith("printed.toml") and info.value.key.endswith(".formula")
