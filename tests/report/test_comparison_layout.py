"""The layout of the comparison section: what a reader sees once, and how display rows align."""

from __future__ import annotations

from symflav.core import printer
from symflav.report import render


def test_a_note_part_every_entry_carries_is_said_once_for_the_equation():
    notes = ["differs at order e^1; variant x not compared: no vacuum; erratum: sign",
             "claimed through e^2; variant x not compared: no vacuum",
             "variant x not compared: no vacuum; agrees under the inferred conventions"]
    assert render._shared_parts(notes) == ["variant x not compared: no vacuum"]


def test_a_single_note_or_notes_without_a_common_part_share_nothing():
    assert render._shared_parts(["a; b"]) == []
    assert render._shared_parts(["a; b", "c"]) == []


def test_matrix_entries_and_equations_start_rows_of_their_own_and_sums_continue_indented():
    assert printer.starts_statement(r"\left(M_S^2\right)_{11} \simeq 2 v_1^2")
    assert printer.starts_statement(r"m_{P_1}^2 \simeq -2 v_a^2")
    assert printer.starts_statement(r"x_{\phi} \leq 1")
    assert not printer.starts_statement(r"+ \lambda_1 \left(\phi_1^\dagger \phi_1\right)^2")
    assert not printer.starts_statement(r"= 2 v_1")
    assert not printer.starts_statement(r"- \frac{a = b}{c}")  # a relation inside braces is not the row's


def test_a_wide_printed_matrix_is_aligned_entry_by_entry():
    entries = " \\\\ ".join(" & ".join(f"{i}{j} \\lambda_{{{i}{j}}} v_1 v_a" for j in range(1, 5)) for i in range(1, 5))
    shown = render._display(rf"M^2 \simeq \left( \begin{{array}}{{cccc}} {entries} \end{{array}} \right)")
    rows = shown.removeprefix(r"\[ \begin{aligned} &").removesuffix(r" \end{aligned} \]").split(r" \\ &")
    assert len(rows) == 16 and rows[0].startswith(r"\left(M^2\right)_{11} \simeq")
    assert not any(row.startswith(r"\quad") for row in rows)
