"""The ``symflav`` command (also ``python -m symflav``).

Bad input -- a malformed derivation file, an unknown field, a bad option -- prints
one line on stderr naming the file or option and the problem, and exits with 2; the
options are checked before any derivation starts, and nothing is written. Any other
failure is a bug: one line saying so, exit 1; ``--debug`` shows its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from symflav import __version__, pipeline
from symflav.codegen import assemble
from symflav.core import background, limits, printer, spec
from symflav.core.cache import Cache, record_command
from symflav.core.errors import SpecError
from symflav.core.files import MANIFEST, check_replaceable, manifest_text, publish_files, publish_tree
from symflav.core.parsing import ParseError, parse_number
from symflav.core.printed import load as load_registry
from symflav.numerics import points, viability
from symflav.physics import invariants
from symflav.numerics import scan as scans
from symflav.report import outputs, pdf
from symflav.studies import study_for
from symflav.verify import checks


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        raise SpecError("command line", None, message)


def ascii_int(text: str) -> int:
    """An integer option written in ASCII digits (``int`` would also take ``"٣"``), at most
    ``MAX_NUMBER_DIGITS`` of them."""
    if not re.fullmatch(r"[+-]?[0-9]+", text.strip(), re.ASCII):
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer (ASCII digits)")
    try:
        limits.check_digits(text.strip().lstrip("+-"))
    except limits.LimitError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return int(text)


def _common(parser: argparse.ArgumentParser, charges: bool = True):
    parser.add_argument(
        "derivation", nargs="?", default=None,
        help="folder, model file or built-in name (default: calibbi2020)",
    )
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on an internal error, show the traceback")
    parser.add_argument("--allow-outside-paths", action="store_true",
                        help="allow the files a model names (printed registry) outside its folder")
    parser.add_argument("--force", action="store_true",
                        help=f"derive even when the estimated symbolic work exceeds {limits.MAX_POTENTIAL_SECONDS:.0f} s "
                             f"or {limits.MAX_CANDIDATES:,} enumerated monomials (core/limits.py); derive: also "
                             "replace an output folder that is not empty and holds no symflav manifest.json")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the on-disk cache of derived results "
                             "($SYMFLAV_CACHE_DIR, else ~/.cache/symflav; docs/performance.md)")
    if charges:
        parser.add_argument(
            "--charge", action="append", default=[], metavar="FIELD=Q",
            help="override a charge: FIELD=Q for the first U(1), FIELD.SYMMETRY=Q otherwise (repeatable)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symflav", description="Derive, verify and compile the formulas of a flavor model.")
    parser.add_argument("--version", action="version", version=f"symflav {__version__}")
    parser.add_argument("--debug", action="store_true", help="on an internal error, show the traceback")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    terms = sub.add_parser("terms", help="the invariant operators of the potential")
    _common(terms)
    terms.add_argument("--degree", type=ascii_int, default=None, help="highest operator degree (default: the model's)")
    terms.add_argument("--json", action="store_true", help="JSON output (contract: docs/architecture.md, Contracts)")

    derive = sub.add_parser("derive", help="run the whole pipeline and write generated/<name>/")
    _common(derive)
    derive.add_argument("-o", "--output", default=None, metavar="DIR", help="output folder (default: generated/<name>)")
    derive.add_argument("--degree", type=ascii_int, default=None, help="highest operator degree (default: the model's)")
    derive.add_argument("--no-pdf", action="store_true", help="do not compile report.pdf even if pdflatex exists")
    derive.add_argument("--code-only", action="store_true",
                        help="derivation and code generation only: numeric.py, the operator and potential files "
                             "and the formula snippets; no paper check, viability scan, figures or report")
    derive.add_argument("--backend", choices=("numpy", "numba", "jax"), default="numpy",
                        help="numba: also write numeric_numba.py, the same functions as numba.njit kernels; jax: "
                             "also write numeric_jax.py, pure jax.numpy functions (jit, grad); each needs its package "
                             "(numeric.py, which needs only numpy, is written either way)")
    derive.add_argument("--fields", choices=("model", "canonical"), default="model",
                        help="canonical: the generated modules also hold potential_canonical, gradient_canonical and "
                             "hessian_canonical of the canonically normalized fields z = (v + sigma + i varphi) "
                             "(phi = z/sqrt 2)")
    derive.add_argument("--label-prefix", default=printer.LABEL_PREFIX, metavar="PREFIX",
                        help="first part of every equation label of the report and the snippets, "
                             f"\\label{{PREFIX:stage:object}} (default: {printer.LABEL_PREFIX})")

    check = sub.add_parser("check", help="compare the paper's printed formulas with the derived ones")
    _common(check, charges=False)
    check.add_argument("--json", action="store_true", help="JSON output (contract: docs/architecture.md, Contracts)")
    check.add_argument("--no-sweep", action="store_true", help="do not re-derive under the convention variants")

    spectrum = sub.add_parser("spectrum", help="global minimum, exact and perturbative spectrum at a point")
    _common(spectrum)
    spectrum.add_argument("--point", default=None, metavar="NAME", help="named parameter point (default: the first)")
    spectrum.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                          help="override a parameter of the point (repeatable; exact decimals or p/q)")
    spectrum.add_argument("--starts", type=ascii_int, default=32, help="random starts of the minimum search (default 32)")
    spectrum.add_argument("--seed", type=ascii_int, default=20200316, help="seed of the minimum search")
    spectrum.add_argument("--json", action="store_true", help="JSON output (contract: docs/architecture.md, Contracts)")
    scan = sub.add_parser("scan", help="parameter scans with the generated functions")
    _common(scan, charges=False)
    scan.add_argument("--scan", required=True, metavar="NAME",
                      help="a [scans.NAME] of the model file, or a scan of its study")
    scan.add_argument("--points", type=ascii_int, default=100_000, help="number of points (default 1e5)")
    scan.add_argument("--grid", action="store_true", help="a grid of about POINTS points instead of random points")
    scan.add_argument("--seed", type=ascii_int, default=0, help="random seed (default 0)")
    scan.add_argument("--chunk", type=ascii_int, default=50_000, help="points per chunk (default 5e4)")
    scan.add_argument("-o", "--output", default=None, metavar="FILE.csv",
                      help="columns file (default generated/<name>/scans/<scan>.csv); a .json summary is written beside it")
    scan.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                      help="run on dask.distributed: a local cluster, or the scheduler at ADDRESS")
    scan.add_argument("--workers", type=ascii_int, default=2, help="workers of the local Dask cluster (default 2)")
    return parser


RUNTIME_DEPENDENCIES = {
    "derive": (("matplotlib", "the figures"), ("jinja2", "the report")),
}
"""Per command: the runtime dependencies it imports only when it gets there, and what for."""


def check_dependencies(command: str, skip: bool = False) -> None:
    """One line naming a missing runtime dependency of ``command`` and how to install it, before
    any work starts (not when ``skip``: a run that does not need them, ``derive --code-only``)."""
    for module, purpose in () if skip else RUNTIME_DEPENDENCIES.get(command, ()):
        if _missing(module):
            raise SpecError(module, None, f"not installed; symflav {command} needs it for {purpose}: "
                            f"pip install {module}" + (" (derive --code-only does not)" if command == "derive" else ""))


def check_printed_files(model) -> None:
    """Read the derivation's printed registry and errata (each a :class:`SpecError` naming the
    file and entry when malformed) before any stage runs, not when the comparison needs them."""
    if model.printed_path:
        checks.read_errata(model, load_registry(model))


def _missing(module: str) -> bool:
    """True when ``module`` cannot be imported here (not installed, or blocked in ``sys.modules``)."""
    if module in sys.modules:
        return sys.modules[module] is None
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def _check_degree(degree):
    if degree is not None and not 1 <= degree <= limits.MAX_DEGREE:
        raise SpecError("--degree", str(degree), f"must be between 1 and {limits.MAX_DEGREE}")


def _check_range(option: str, value: int, check) -> None:
    try:
        check(value)
    except limits.LimitError as exc:
        raise SpecError(option, str(value), str(exc)) from None


def check_work(model, degree: int | None, force: bool) -> None:
    """Refuse (unless ``force``) a derivation whose operator enumeration or symbolic stages
    would exceed the bounds of :mod:`symflav.core.limits` (an estimate from the operator count)."""
    degree = degree or model.degree
    try:
        limits.check_candidates(len(model.scalars), degree, force)
        table = invariants.operator_table(model, degree)
        limits.check_potential([(op.monomial.degree, op.monomial.is_hermitian) for op in table.in_potential],
                               force)
    except limits.LimitError as exc:
        raise SpecError(model.path, "derivation.degree" if degree == model.degree else "--degree", str(exc)) from None


def check_output_dir(option: str, value: str) -> Path:
    """An output folder that can be made here: not an existing file (``/dev/null``), no file
    on its way, and its nearest existing ancestor writable."""
    path = _path(option, value)
    if path.exists() and not path.is_dir():
        raise SpecError(option, value, "exists and is not a folder")
    _check_writable_ancestor(option, value, path)
    return path


def check_output_file(option: str, value: str, suffix: str) -> Path:
    """An output file that can be written: the right suffix, not a folder or a device, and
    a folder for it that exists or can be made."""
    path = _path(option, value)
    if path.suffix != suffix:
        raise SpecError(option, value, f"the columns file must end in {suffix}")
    if path.exists() and not path.is_file():
        raise SpecError(option, value, "exists and is not a regular file")
    if path.parent.exists() and not path.parent.is_dir():
        raise SpecError(option, value, f"{path.parent} is not a folder")
    _check_writable_ancestor(option, value, path.parent)
    return path


def _path(option: str, value: str) -> Path:
    if not value or "\x00" in value:
        raise SpecError(option, repr(value), "not a usable path")
    return Path(value)


def _check_writable_ancestor(option: str, value: str, path: Path) -> None:
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise SpecError(option, value, f"{ancestor} is a file, not a folder")
    try:  # os.access says yes to root everywhere (even /proc): a probe folder, removed at once
        os.rmdir(tempfile.mkdtemp(prefix=".symflav-probe-", dir=ancestor))
    except OSError as exc:
        raise SpecError(option, value, f"cannot write in {ancestor} ({exc.strerror or exc})") from None


def _progress(report: pipeline.StageReport, i: int, n: int):
    if sys.stderr.isatty():
        print(f"[{i}/{n}] {report.description:<40} {report.seconds:7.2f} s  {report.operations:>8} ops",
              file=sys.stderr)


def cmd_terms(args) -> int:
    _check_degree(args.degree)
    model = spec.load(args.derivation, charges=args.charge, allow_outside_paths=args.allow_outside_paths)
    table = pipeline.run(model, study=study_for(model), degree=args.degree, until="operators")["operators"]
    if args.json:
        print(dumps_finite(table.to_json(), indent=1, ensure_ascii=False))
        return 0
    print(format_terms(table))
    for note in table.model.notes:  # relations and point entries a --charge change left out
        print(f"note: {note}")
    return 0


def format_terms(table) -> str:
    """A readable operator table."""
    model = table.model
    groups = " x ".join(s.latex.replace("\\", "") if False else s.name for s in model.symmetries)
    lines = [f"{model.name}: invariant operators up to degree {table.degree} under {groups}"]
    if model.charge_overrides:
        lines.append("charges changed: " + ", ".join(f"{f}.{s}={q}" for f, s, q in model.charge_overrides))
    width = max(len(op.text) for op in table.operators) if table.operators else 10
    lines.append(f"  {'#':>3}  {'operator':<{width}}  deg  herm  {'coupling':<14} status")
    for i, op in enumerate(table.operators, 1):
        herm = "yes" if op.monomial.is_hermitian else "h.c."
        status = op.status.replace("_", " ")
        if op.status == "explicit_breaking":
            status += " of " + ", ".join(op.explicit_breaking)
        lines.append(f"  {i:>3}  {op.text:<{width}}  {op.monomial.degree:>3}  {herm:<4}  {op.coupling or '-':<14} {status}")
    for op in table.operators:
        if op.status in ("dropped", "forbidden"):
            lines.append(f"  {op.status}: {op.text}: {op.reason}")
    for comparison in table.comparisons:
        lines.append(comparison.summary)
    lines.extend(f"note: {n}" for n in table.notes)
    return "\n".join(lines)


def cmd_derive(args) -> int:
    check_dependencies("derive", skip=args.code_only)
    _check_degree(args.degree)
    printer.check_label_prefix(args.label_prefix)
    if args.output is not None:
        check_output_dir("--output", args.output)
    if args.backend != "numpy":
        try:  # only to know that the generated module can run here (numba or jax: optional)
            __import__(args.backend)
        except ImportError:
            raise SpecError("--backend", args.backend, f"{args.backend} is not installed (pip install "
                            f"{args.backend}); the default backend, numpy, needs nothing more") from None
    model = spec.load(args.derivation, charges=args.charge, allow_outside_paths=args.allow_outside_paths)
    check_work(model, args.degree, args.force)
    if not args.code_only:
        check_printed_files(model)
    out_dir = Path(args.output) if args.output else Path("generated") / model.name
    check_replaceable(out_dir, args.force)  # before the derivation; again under the lock
    study = study_for(model)
    drawers = {**outputs.DRAWERS, **(dict(study.drawers) if study else {})}
    drawing, drawer = {}, []

    def draw_early(name, result):  # figure files are drawn in the background while later work runs
        if args.code_only or name not in ("loops", *drawers):
            return
        if not drawer:  # one drawing process, from when the forked loops stage is done (a core is idle)
            drawer.append(background.Server(_prepare_drawing))
        if name != "loops" and result is not None and not isinstance(result, pipeline.Unavailable):
            drawing[name] = drawer[0].submit(drawers[name], result)

    begin = time.perf_counter()
    until = "codegen" if args.code_only else None
    try:
        derivation = pipeline.run(model, study=study, degree=args.degree, until=until, progress=_progress,
                                  on_result=draw_early, parallel=True, cache=args.cache)
        files = outputs.render(derivation, drawing, report=not args.code_only,
                               sections=study.report_sections if study else (), drawers=drawers,
                               extra=study.outputs if study else None, label_prefix=args.label_prefix)
    finally:
        for server in drawer:
            server.close()
    numba_line = ""
    if args.backend != "numpy" or args.fields != "model":  # other backends beside numpy, canonical fields
        start = time.perf_counter()
        modules = assemble.extra_modules(derivation.model, pipeline.available_results(derivation.results),
                                         args.backend, args.fields, exports=study.exports if study else ())
        files.update({name: module.source for name, module in modules.items()})
        numba_line = (f"  {args.backend + '/' + args.fields:<16} {time.perf_counter() - start:7.3f} s  "
                      f"{sum(m.operations for m in modules.values()):>8} ops  ({', '.join(modules)})")
    pdf_note = ""
    if "report.tex" in files and not args.no_pdf:
        if pdf.pdflatex() is None:
            pdf_note = "pdflatex not found: report.pdf not written"
        else:  # before anything is replaced: a failure leaves the previous output as it was
            try:
                files["report.pdf"] = pdf.compile_report(files)
            except (pdf.LatexError, subprocess.TimeoutExpired) as exc:
                raise SpecError("report.tex", None, f"pdflatex failed, {out_dir} left as it was: "
                                f"{exc}{pdf.culprit(str(exc), latex_fields(model))}") from None
    files[MANIFEST] = manifest_text(files, model, derive_command(args, model))
    written = publish_tree(out_dir, files, force=args.force, keep=("scans",))
    total = sum(r.seconds for r in derivation.reports)
    wall = time.perf_counter() - begin
    rest = "writing" if args.code_only else "rendering and pdflatex"
    print(f"symflav derive: {model.name}: wrote {len(written)} files to {out_dir} in {wall:.2f} s "
          f"(stages {total:.2f} s of computing, some of it in parallel; the rest {rest})")
    for report in derivation.reports:
        print(f"  {report.name:<16} {report.seconds:7.3f} s  {report.operations:>8} ops  ({report.description})")
    if numba_line:
        print(numba_line)
    if pdf_note:
        print(f"symflav derive: {pdf_note}", file=sys.stderr)
    return 0


def derive_command(args, model) -> list[str]:
    """The options of a derive that decide its files, for manifest.json: the derivation by name,
    no output folder (the same run into two folders gives the same manifest)."""
    command = ["symflav", "derive", model.name]
    command += [f"--charge={c}" for c in args.charge]
    command += [f"--degree={args.degree}"] if args.degree is not None else []
    command += [flag for flag, on in (("--code-only", args.code_only), ("--no-pdf", args.no_pdf)) if on]
    command += [f"--backend={args.backend}"] if args.backend != "numpy" else []
    command += [f"--fields={args.fields}"] if args.fields != "model" else []
    prefix = getattr(args, "label_prefix", printer.LABEL_PREFIX)
    command += [f"--label-prefix={prefix}"] if prefix != printer.LABEL_PREFIX else []
    return command


def latex_fields(model) -> dict[str, str]:
    """Every LaTeX name of the model file by its key (to name the field a pdflatex error points at)."""
    fields = {f"symmetries.{s.name}.latex": s.latex for s in model.symmetries}
    for table, items in (("scalars", model.scalars), ("spectators", model.spectators), ("fermions", model.fermions)):
        fields.update({f"{table}[{i}].latex": item.latex for i, item in enumerate(items)})
    fields.update({f"mediators ({m.family}).latex": m.latex for m in model.mediators})
    fields.update({f"parameters.{p.name}.latex": p.latex for p in model.parameters if not p.generated})
    if model.vacuum is not None:
        fields["vacuum.small_parameter.latex"] = model.vacuum.small_latex
    return fields


def _prepare_drawing() -> None:
    """What drawing the figures imports (about a second), done ahead by the drawing process."""
    import matplotlib.backends.backend_agg  # noqa: F401  (optional dependency, imported ahead)
    import matplotlib.figure  # noqa: F401  (optional dependency, imported ahead)
    import matplotlib.ticker  # noqa: F401  (optional dependency, imported ahead)


def cmd_check(args) -> int:
    model = spec.load(args.derivation, allow_outside_paths=args.allow_outside_paths)
    check_work(model, None, args.force)
    study = study_for(model)
    if not model.printed_path:
        raise SpecError(model.path, "derivation.printed", "this derivation has no printed registry to check against")
    args.inputs = input_files(model)
    key = Cache.key("check", pipeline.fingerprint(model), study.name if study else None, args.no_sweep)
    shown = args.cache.remember(key, lambda: _check_outputs(model, study, args))
    print(shown["json"] if args.json else shown["text"])
    return 0 if shown["ok"] else 1


def _check_outputs(model, study, args) -> dict:
    """The comparison of ``symflav check``, as its text and JSON outputs and its verdict."""
    check_printed_files(model)
    providers = dict(study.providers) if study else {}
    if args.no_sweep:
        derivation = pipeline.run(model, study=study, until="real_potential", cache=args.cache)
        report = checks.run(derivation, sweep=False, providers=providers)
    else:  # the comparison a derive made (its checks stage), or every stage it reads, then the comparison
        report = pipeline.cached_result(model, study, "checks", args.cache)
        if report is None:
            derivation = pipeline.run(model, study=study, until=pipeline.analysis_stages(study)[-1],
                                      cache=args.cache)
            report = checks.run(derivation, rederive=pipeline.rederive_for(study, args.cache), providers=providers)
    data = report.to_json()
    if data.get("inferred_conventions"):
        data["inferred_conventions"]["seconds"] = round(report.inference_seconds, 3)
    return {"json": dumps_finite(data, indent=1, ensure_ascii=False), "text": format_check(report), "ok": report.ok}


def format_check(report) -> str:
    """Equation by equation, then every unexplained disagreement with its witness."""
    s = report.summary()
    lines = [f"{report.derivation}: {s['results']} entries in {s['equations']} equations and tables"]
    variants = dict(report.variants)
    for label, status, note in report.equations:
        also = f" [agrees under variant: {', '.join(variants[label])}]" if variants.get(label) else ""
        lines.append(f"  {label:<8} {status:<16} {note}{also}".rstrip())
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in s["by_status"].items() if n)
    lines.append(f"entries: {counts}; {s['explained_disagreements']} disagreements explained by errata")
    lines.extend(format_causes(report))
    for use in report.errata:
        e = use.erratum
        lines.append(f"erratum ({use.state}): eq. {e.equation} {e.object or ''}: {e.explanation}")
    for r in report.unexplained:
        where = f"{r.equation} {r.object}" + (f" [{r.entry}]" if r.entry else "")
        lines.append(f"UNEXPLAINED: {where}: difference {r.difference}; {r.note}")
        if r.witness:
            point = ", ".join(f"{k}={v}" for k, v in r.witness["point"].items())
            lines.append(f"  witness: {point}: printed {r.witness['printed']}, derived {r.witness['derived']}")
    for use in report.problems:
        lines.append(f"ERRATUM {use.state.upper()}: eq. {use.erratum.equation}: {use.note}")
    lines.append("ok: every disagreement is explained" if report.ok else "NOT ok: see above")
    return "\n".join(lines)




def format_causes(report) -> list[str]:
    """The inferred conventions, then every root cause with the entries it explains."""
    lines = []
    inferred = report.inferred
    if inferred:
        changes = "; ".join(inferred["changes"]) or "the derivation's own"
        lines.append(f"inferred conventions: {changes} ({inferred['entries']} entries compared under "
                     f"{inferred['assignments_tried']} assignments in {report.inference_seconds:.1f} s; "
                     f"{inferred['agree_under_derivation']} agree under the derivation's conventions, "
                     f"{inferred['agree_under_inferred']} under the inferred ones)")
    if report.root_causes:
        total = sum(c.entries for c in report.root_causes)
        lines.append(f"{len(report.root_causes)} root causes explain {total} disagreements")
        by_cause: dict = {}
        for r in report.results:
            if r.root_cause:
                by_cause.setdefault(r.root_cause, []).append(r)
        for cause in report.root_causes:
            lines.append(f"  [{cause.entries}] {cause.id}: {cause.explanation}")
            for r in by_cause.get(cause.id, []):
                lines.append(f"      {r.equation} {r.object}" + (f" [{r.entry}]" if r.entry else "") + f" ({r.status})")
    return lines


def cmd_spectrum(args) -> int:
    overrides = {}
    for item in args.set:
        if "=" not in item:
            raise SpecError("--set", item, "expected PARAM=VALUE")
        key, value = (part.strip() for part in item.split("=", 1))
        try:
            overrides[key] = parse_number(value)
        except ParseError as exc:
            raise SpecError("--set", item, str(exc)) from None
    if not 0 <= args.starts <= limits.MAX_STARTS:
        raise SpecError("--starts", str(args.starts), f"must be between 0 and {limits.MAX_STARTS}")
    _check_range("--seed", args.seed, limits.check_seed)
    model = spec.load(args.derivation, charges=args.charge, allow_outside_paths=args.allow_outside_paths)
    study = study_for(model)
    args.inputs = input_files(model)
    key = Cache.key("spectrum", pipeline.fingerprint(model), study.name if study else None, args.point,
                    sorted((k, str(v)) for k, v in overrides.items()), args.starts, args.seed)
    result = args.cache.load(key)  # stored only after a run that succeeded: its input was checked then
    if result is None:
        result = _spectrum_result(model, study, args, overrides)
        args.cache.store(key, result)
    if args.json:
        print(dumps_finite(result, indent=1, ensure_ascii=False))
    else:
        print(points.format_text(result))
    return 0


def _spectrum_result(model, study, args, overrides) -> dict:
    """What ``symflav spectrum`` shows (:func:`symflav.numerics.points.evaluate`)."""
    check_work(model, None, args.force)
    model = pipeline.bind(model, study)  # the generated couplings, which --set may name
    points.point_values(model, args.point, overrides)  # bad --point/--set fail before the pipeline
    derivation = pipeline.run(model, study=study, until=pipeline.analysis_stages(study)[-1], cache=args.cache)
    # a derive's comparison and the pieces of every point it derived once
    derivation = pipeline.with_stored(derivation, study, ("checks", "point_pieces"), args.cache)
    return points.evaluate(derivation, args.point, overrides, starts=args.starts, seed=args.seed,
                           statement=study.spectrum_statement if study else None)


def scan_names(model, study) -> list[str]:
    """The scans of ``symflav scan --scan``: the model file's ``[scans.NAME]``, then its study's."""
    return [s.name for s in model.scans] + [n for n in (study.scans if study else {}) if n not in
                                           {s.name for s in model.scans}]


def cmd_scan(args) -> int:
    for option, value, low in (("--points", args.points, 1), ("--chunk", args.chunk, 1), ("--workers", args.workers, 1)):
        if value < low:
            raise SpecError(option, str(value), f"must be at least {low}")
    _check_range("--points", args.points, limits.check_scan_points)
    _check_range("--seed", args.seed, limits.check_seed)
    if args.workers > limits.MAX_WORKERS:
        raise SpecError("--workers", str(args.workers), f"must be at most {limits.MAX_WORKERS}")
    if args.output is not None:
        check_output_file("--output", args.output, ".csv")
    model = spec.load(args.derivation, allow_outside_paths=args.allow_outside_paths)
    check_work(model, None, args.force)
    study = study_for(model)
    known = scan_names(model, study)
    if args.scan not in known:
        raise SpecError("--scan", args.scan, f"unknown scan (known: {', '.join(known) or 'none'})")
    declared = {s.name: s for s in model.scans}
    if args.scan in declared and args.grid:  # before deriving: a viability scan has random points only
        raise SpecError("--grid", args.scan, "a viability scan samples random points only")
    derivation = pipeline.run(model, study=study, until="codegen", cache=args.cache)
    if args.scan in declared:
        plan, evaluator = viability.plan_and_evaluator(derivation, declared[args.scan], args.points, args.seed,
                                                       args.chunk, args.grid)
    else:
        plan, evaluator = study.scans[args.scan](derivation, args.points, args.seed, args.chunk, args.grid)
    if args.dask:
        result = scans.run_dask(plan, evaluator, None if args.dask == "local" else args.dask, args.workers)
    else:
        result = scans.run_local(plan, evaluator)
    out = Path(args.output) if args.output else Path("generated") / model.name / "scans" / f"{args.scan}.csv"
    if out.suffix != ".csv":
        raise SpecError("--output", str(out), "the columns file must end in .csv")
    summary = scans.summary(result)
    if hasattr(evaluator, "summary"):
        summary[args.scan] = evaluator.summary(result.columns)
    publish_files(out.parent, {out.name: scans.to_csv(result.columns),
                               out.with_suffix(".json").name: json.dumps(summary, indent=1, allow_nan=False) + "\n"},
                  lock=None if args.output else out.parent.parent)
    rate = result.n / result.seconds if result.seconds else float("inf")
    print(f"symflav scan: {args.scan}: {result.n} points in {result.seconds:.2f} s ({rate:.3g} points/s, "
          f"{result.backend}) -> {out}")
    if args.scan in summary and "viable" in summary[args.scan]:
        v, check = summary[args.scan]["viable"], summary[args.scan]["numeric_confirmation"]
        agreement = check["agreement"]
        print(f"  viable: {v['count']} of {v['of']} = {v['fraction']:.3g} +- {v['error']:.2g}; analytic minimum "
              f"conditions vs numeric search: {agreement['count']} of {agreement['of']} agree; "
              f"{check['candidates_confirmed']} of {check['candidates']} candidates confirmed")
    return 0


COMMANDS = {"terms": cmd_terms, "derive": cmd_derive, "check": cmd_check, "spectrum": cmd_spectrum,
            "scan": cmd_scan}


REPLAYED = ("spectrum", "check")
"""Commands whose output the cache keeps whole, replayed by ``python -m symflav`` when their
command line and input files are the same (:func:`symflav.core.cache.replayed_command`)."""


def _recorded(args, argv: list[str]) -> int:
    """Run a command of :data:`REPLAYED` and keep its output (when it ends with 0 or 1)."""
    args.inputs = []  # the files it read (set by the command)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            status = COMMANDS[args.command](args)
    finally:
        sys.stdout.write(out.getvalue())
    if status in (0, 1) and args.inputs:
        record_command(args.cache, argv, args.inputs, out.getvalue(), status)
    return status


def input_files(model) -> list[str]:
    """The files a derivation reads: its model file, printed registry and errata (as
    :func:`symflav.core.files.input_hash`)."""
    errata = Path(model.path).with_name("errata.toml")
    return [model.path] + ([model.printed_path] if model.printed_path else []) + \
        ([str(errata)] if errata.is_file() else [])


def main(argv: list[str] | None = None) -> int:
    """Run one command: 0 on success (1 when ``check`` finds unexplained disagreements or
    pdflatex fails), 2 with one line on bad input, 1 with one line on an internal error
    (a bug; ``--debug`` re-raises it, so the traceback shows), 130 on an interrupt."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    cache = Cache(None)
    try:
        args = build_parser().parse_args(argv)
        args.cache = cache = Cache.from_environment(enabled=not args.no_cache)
        if args.command in REPLAYED and cache.enabled:
            return _recorded(args, argv)
        return COMMANDS[args.command](args)
    except SpecError as exc:
        print(f"symflav: error: {_one_line(exc.line())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symflav: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001  (a bug: one line, the traceback only with --debug)
        if debug:
            raise
        print(f"symflav: internal error (a bug, please report it): {type(exc).__name__}: "
              f"{_one_line(str(exc))[:300]}; rerun with --debug for the traceback", file=sys.stderr)
        return 1
    finally:
        for note in cache.notes:  # entries ignored (corrupt, unreadable): computed again
            print(f"symflav: note: {_one_line(note)}", file=sys.stderr)


def dumps_finite(data, **options) -> str:
    """JSON text of ``data`` in which a non-finite float (a numeric stage gave NaN or inf) is the
    string ``"nan"``, ``"inf"`` or ``"-inf"``: reported as such, never written as a number
    (``NaN`` and ``Infinity`` are not JSON)."""
    return json.dumps(_finite_json(data), allow_nan=False, **options)


def _finite_json(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    return value


def _one_line(text: str) -> str:
    return " ".join(text.split())


def console() -> None:
    """The ``symflav`` command: :func:`main`, then exit without the interpreter's teardown.

    Freeing the millions of small sympy objects a derivation leaves takes most of a second;
    every file is written and closed and every temporary folder removed by then; forked stages
    still running (after an error) are stopped, and the output streams flushed (mypy's command
    also exits this way)."""
    status = main()
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None:  # children still running after an error: stop them
        for child in multiprocessing.active_children():
            child.terminate()
            child.join()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(status)


if __name__ == "__main__":
    console()
