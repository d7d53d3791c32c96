"""Bad input fails with exit status 2, one line naming the file/key/problem, nothing written.

The command line runs in this process (``run``) where its exit status and output are what is
tested; in a subprocess (``cli``) where the real entry point and its children matter."""

from __future__ import annotations

from pathlib import Path

import pytest

from symflav.core.spec import builtin_root

MODEL = (builtin_root() / "calibbi2020" / "model.toml").read_text(encoding="utf-8")
PRINTED = (builtin_root() / "calibbi2020" / "printed.toml").read_text(encoding="utf-8")


def variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in MODEL, old
    folder = tmp_path / "variant"
    folder.mkdir()
    (folder / "model.toml").write_text(MODEL.replace(old, new, 1), encoding="utf-8")
    (folder / "printed.toml").write_text(PRINTED, encoding="utf-8")
    return folder


BAD = [
    ("malformed", 'name = "calibbi2020"', 'name = "calibbi2020', "malformed TOML"),
    ("unknown field", 'operator = "phi3† phi1^3"', 'operator = "phi3† phi7^3"', "unknown field 'phi7'"),
    ("unknown parameter", 'lambda_b = "lambda_a"', 'lambda_b = "lambda_q"', "unknown name 'lambda_q'"),
    ("relation lhs", 'lambda_b = "lambda_a"', 'lambda_z = "lambda_a"', "unknown parameter 'lambda_z'"),
    ("non-rational charge", 'U1f = "2/5"', 'U1f = "sqrt(2)"', "not a rational number"),
    ("duplicated name", 'name = "phi3"', 'name = "phi1"', "duplicated name 'phi1'"),
    ("Z_N out of range", 'charges = { U1f = "1", Z2 = "-" }', 'charges = { U1f = "1", Z2 = 2 }', "Z_2 charge"),
    ("not a formula", 'coefficient = "lambda_13"', 'coefficient = "lambda_13 +* 2"', "not a formula"),
    ("not invariant", 'operator = "phia† phib† phi1^2"', 'operator = "phia phib† phi1^2"', "not invariant"),
    ("unknown key", 'quadratic_sign = -1', 'quadratic_sing = -1', "unknown key"),
    ("bad sign", 'quadratic_sign = -1', 'quadratic_sign = 2', "must be 1 or -1"),
]


@pytest.mark.parametrize("label,old,new,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_fails_cleanly(tmp_path, run, label, old, new, message):
    folder = variant(tmp_path, old, new)
    out = tmp_path / "out"
    result = run("derive", str(folder), "-o", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "model.toml" in lines[0] and message in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_file_content_is_never_executed(tmp_path, run):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    folder = variant(tmp_path, 'coefficient = "lambda_13"', f'coefficient = "{payload}"')
    result = run("terms", str(folder))
    assert result.returncode == 2
    assert "not allowed" in result.stderr
    assert not marker.exists()
    # also in a relation and a point value
    folder2 = tmp_path / "second"
    folder2.mkdir()
    text = MODEL.replace('mu_3 = "mu_1"', f'mu_3 = "{payload}"')
    (folder2 / "model.toml").write_text(text, encoding="utf-8")
    (folder2 / "printed.toml").write_text(PRINTED, encoding="utf-8")
    assert run("terms", str(folder2)).returncode == 2
    assert not marker.exists()


@pytest.mark.parametrize(
    "option,message",
    [
        ("phi9=1", "unknown field 'phi9'"),
        ("phi1=pi", "not a rational number"),
        ("phi1.Z2=3", "Z_2 charge"),
        ("phi1", "expected FIELD=Q"),
        ("phi1.U9=1", "unknown symmetry"),
    ],
)
def test_bad_charge_option(run, option, message):
    result = run("terms", "--charge", option)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "--charge" in result.stderr


def test_unknown_derivation_and_option(run):
    result = run("terms", "no-such-model")
    assert result.returncode == 2 and "no-such-model" in result.stderr and result.stderr.count("\n") == 1
    result = run("terms", "--bogus")
    assert result.returncode == 2 and result.stderr.count("\n") == 1


@pytest.mark.slow
def test_bad_errata_found_after_the_forked_stages_fails_cleanly(tmp_path, cli):
    """The errata file is read by the last stage, while forked stages (viability) still run:
    one line, exit 2, nothing written, and no child left printing a traceback (the captured
    stderr is read until every process holding it has exited)."""
    folder = tmp_path / "variant"
    folder.mkdir()
    (folder / "model.toml").write_text(MODEL, encoding="utf-8")
    (folder / "printed.toml").write_text(PRINTED, encoding="utf-8")
    (folder / "errata.toml").write_text("[errata.x]\nfoo = 1\n", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("derive", str(folder), "-o", str(out), "--no-pdf", timeout=240)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "errata.toml" in lines[0], result.stderr
    assert not out.exists()
    assert "Traceback" not in result.stderr
