"""`symflav check`: exit codes and the JSON contract of DESIGN.md section 4.

Run in this process (``symflav.cli.main``); the comparisons of a changed printed registry or
errata file use ``--no-sweep`` (the stages up to the potential, seconds), and the same ones
with the convention sweep (a whole derivation each) are marked slow."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import LISTED, REPO, run_main


STATUSES = {"agrees", "agrees_to_order", "disagrees", "convention", "incomplete", "not_checked"}
KEYS = {"equation", "object", "entry", "status", "printed", "derived", "difference", "witness", "note"}


@pytest.fixture(scope="module")
def builtin():
    result = run_main("check", "--json")
    return result, json.loads(result.stdout)


@pytest.mark.slow
def test_builtin_check_passes_and_follows_the_contract(builtin):
    result, data = builtin
    assert result.returncode == 0, result.stderr
    assert set(data) >= {"results", "summary"}
    for r in data["results"]:
        assert set(r) >= KEYS and r["status"] in STATUSES
        if r["status"] == "not_checked":
            assert r["note"], r
        if r["status"] == "disagrees":
            assert r["witness"] and r["difference"] is not None and r["explained"], r
    assert data["summary"]["ok"] is True and data["summary"]["unexplained_disagreements"] == 0


@pytest.mark.slow
def test_every_listed_equation_has_a_status(builtin):
    _, data = builtin
    by_label = {e["equation"]: e for e in data["equations"]}
    for label in LISTED + ["Table 1", "Table 2"]:
        assert label in by_label and by_label[label]["status"], label
    assert by_label["3.3"]["status"] == "convention"
    v = next(r for r in data["results"] if r["equation"] == "3.3" and r["object"] == "V")
    assert v["variants"]["eq3_3_sign"] == "agrees" and v["variants"]["canonical"] == "disagrees"


@pytest.mark.slow
def test_not_checked_only_where_the_paper_defines(builtin, model):
    """Every provider is wired: an equation is not checked only when it defines rather than claims,
    and then with the registry's stated reason; no single entry is left unchecked."""
    from symflav.core import printed

    _, data = builtin
    registry = printed.load(model)
    defining = {eq.label: eq.not_checked for eq in registry.equations if eq.not_checked}
    assert set(defining) == {"2.8", "A.7", "A.8", "A.9", "A.17"}
    for e in data["equations"]:
        if e["status"] == "not_checked":
            assert e["equation"] in defining and e["note"] == defining[e["equation"]], e
    unchecked = [r for r in data["results"] if r["status"] == "not_checked"]
    assert {r["equation"] for r in unchecked} == set(defining)
    assert all("not wired" not in r["note"] and "not available" not in r["note"] for r in data["results"])


@pytest.mark.slow
def test_disagreements_are_errata_with_witnesses(builtin):
    _, data = builtin
    s = data["summary"]
    assert s["by_status"]["disagrees"] == s["explained_disagreements"] > 0
    assert s["errata"]["explains"] == len(data["errata"]) and not (s["errata"]["stale"] or s["errata"]["contradicted"])
    for r in data["results"]:
        if r["status"] == "disagrees":
            assert r["erratum"] and r["witness"] and r["witness"]["printed"] and r["witness"]["derived"], r


@pytest.mark.slow
def test_text_output(builtin):
    result = run_main("check")
    assert result.returncode == 0
    assert "A.14" in result.stdout and "ok: every disagreement is explained" in result.stdout


@pytest.mark.slow
def test_a_second_check_prints_the_first_ones_bytes(builtin):
    """The second run reads the on-disk cache: the same output, byte for byte."""
    again = run_main("check", "--json")
    assert (again.returncode, again.stdout) == (builtin[0].returncode, builtin[0].stdout)


def _copy(tmp_path):
    target = tmp_path / "calibbi2020"
    shutil.copytree(REPO / "derivations" / "calibbi2020", target)
    return target


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


TYPO = ("lambda_13*(phi1_dag*phi1)*(phi3_dag*phi3)", "2*lambda_13*(phi1_dag*phi1)*(phi3_dag*phi3)")


@pytest.mark.parametrize("options", [
    ("--no-sweep",), pytest.param((), marks=pytest.mark.slow)])
def test_an_unexplained_typo_fails_with_a_witness(tmp_path, options):
    folder = _copy(tmp_path)
    _edit(folder / "printed.toml", *TYPO)
    result = run_main("check", folder, "--json", *options)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    (bad,) = [r for r in data["results"] if r["status"] == "disagrees" and not r["explained"]]
    assert bad["equation"] == "3.3" and bad["object"] == "V"
    assert "lambda_{13}" in bad["difference"] and bad["witness"]["point"]
    if not options:  # with the convention sweep
        assert set(bad["variants"].values()) == {"disagrees"}
    text = run_main("check", folder, *options)
    assert text.returncode == 1 and "UNEXPLAINED: 3.3 V" in text.stdout and "witness:" in text.stdout


@pytest.mark.parametrize("options", [
    ("--no-sweep",), pytest.param((), marks=pytest.mark.slow)])
def test_a_recorded_erratum_explains_it(tmp_path, options):
    folder = _copy(tmp_path)
    _edit(folder / "printed.toml", *TYPO)
    with open(folder / "errata.toml", "a", encoding="utf-8") as f:
        f.write('\n[[errata]]\nequation = "3.3"\nobject = "V"\nexplanation = "a test typo: lambda_13 doubled"\n')
    result = run_main("check", folder, "--json", *options)
    (use,) = [e for e in json.loads(result.stdout)["errata"] if e["explanation"].startswith("a test typo")]
    assert use["state"] == "explains"
    assert not [r for r in json.loads(result.stdout)["results"] if r["status"] == "disagrees" and not r["explained"]]
    if not options:  # with the convention sweep
        assert result.returncode == 0


@pytest.mark.slow
def test_a_wrong_correction_is_contradicted(cli, tmp_path):
    folder = _copy(tmp_path)
    with open(folder / "errata.toml", "a", encoding="utf-8") as f:
        f.write('\n[[errata]]\nequation = "A.14"\nobject = "U_P^T U_P"\nexplanation = "x"\n'
                'corrected = [["-1","0","v_1/(sqrt(2)*v_a)","0"],["0","1","0","0"],\n'
                '  ["v_1/v_a","0","1/sqrt(2)","-1/sqrt(2)"],["v_1/v_a","0","1/sqrt(2)","1/sqrt(2)"]]\n')
    result = cli("check", str(folder), "--json")
    assert result.returncode == 1
    states = [e["state"] for e in json.loads(result.stdout)["errata"] if e["explanation"] == "x"]
    assert states == ["contradicted"]


@pytest.mark.slow
def test_a_stale_erratum_fails(cli, tmp_path):
    folder = _copy(tmp_path)
    with open(folder / "errata.toml", "a", encoding="utf-8") as f:
        f.write('\n[[errata]]\nequation = "A.4"\nexplanation = "claims a typo where there is none"\n')
    result = cli("check", str(folder))
    assert result.returncode == 1 and "ERRATUM STALE" in result.stdout


@pytest.mark.parametrize("write, problem", [
    (lambda f: f.write_text("[[errata]]\nequation = 3\n", encoding="utf-8"), "errata[0].equation"),
    (lambda f: f.write_text("[[errata\n", encoding="utf-8"), "malformed TOML"),
    (lambda f: f.write_text('[[errata]]\nequation = "A.4"\nexplanation = "x"\ncorrected = "import os"\n',
                            encoding="utf-8"), "errata[0]"),
])
def test_bad_errata_are_input_errors(tmp_path, write, problem):
    folder = _copy(tmp_path)
    write(folder / "errata.toml")
    result = run_main("check", folder)
    assert result.returncode == 2 and not result.stdout
    assert problem in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unknown_derivation_is_an_input_error(tmp_path):
    result = run_main("check", tmp_path / "nowhere")
    assert result.returncode == 2 and "Traceback" not in result.stderr
