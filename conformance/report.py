"""``bgfetch conformance``: run the suite on backends, and report.

The suite runs under pytest in this process (``run``), with a plugin that keeps each
test's outcome, its failure's innermost message and its ``@wpt`` declaration.  Then:

- a table of every test x run (a run: one backend, one edition) with ``pass`` /
  ``fail`` / ``skip`` and the message; totals per file, as wpt.fyi shows them;
- the differential section: each test where the backends disagree, with the spec steps
  it concerns quoted from specs/, which side follows them, and a classification;
- where the suite asserts the spec against WPT's expectation (each test's note);
- JSON: ``{"runs": [{"backend", "edition", "results": [{"file", "subtest", "outcome",
  "message"}]}]}``; HTML; and DIFFERENCES.md (``make conformance``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import json
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest

from .backends import BACKENDS
from .interface import EDITIONS
from .suite import Declared, spec_refs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
Outcome = Literal["pass", "fail", "skip"]


@attrs.frozen
class Result:
    backend: str
    edition: str
    file: str
    subtest: str
    outcome: Outcome
    message: str
    declared: Declared

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.file, self.subtest, self.edition)


def innermost(error: BaseException) -> BaseException:
    """The one exception inside nested exception groups of one (a nursery's wrapping)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def describe(error: BaseException) -> str:
    error = innermost(error)
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class Collector:
    """A pytest plugin keeping every conformance test's result."""

    def __init__(self) -> None:
        self.results: list[Result] = []
        self._state: dict[str, tuple[Outcome, str]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        state = self._state.get(item.nodeid)
        if report.when == "setup" or (report.when == "call" and state is None):
            if report.skipped:
                self._state[item.nodeid] = ("skip", skip_reason(report))
            elif report.failed:
                self._state[item.nodeid] = ("fail", self._message(call))
            elif report.when == "call":
                self._state[item.nodeid] = ("pass", "")
        elif report.when == "call":
            pass
        if report.when == "teardown":
            if report.failed and (state is None or state[0] != "fail"):
                self._state[item.nodeid] = ("fail", self._message(call))
            self._finish(item)

    @staticmethod
    def _message(call: pytest.CallInfo[None]) -> str:
        return describe(call.excinfo.value) if call.excinfo is not None else ""

    def _finish(self, item: pytest.Item) -> None:
        callspec = getattr(item, "callspec", None)
        marker = item.get_closest_marker("conformance")
        state = self._state.get(item.nodeid)
        if callspec is None or marker is None or state is None:
            return
        if "conformance_run" not in callspec.params:
            return
        backend, edition = callspec.params["conformance_run"]
        declared: Declared = marker.args[0]
        outcome, message = state
        self.results.append(
            Result(backend, edition, declared.file, declared.subtest, outcome, message, declared)
        )


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def run(
    backends: Sequence[str],
    editions: Sequence[str],
    *,
    quick: bool = False,
    paths: Sequence[str] = (),
) -> list[Result]:
    """Run the suite on *backends* x *editions*; pytest's own output goes to stderr.

    Raises KeyboardInterrupt when the run was interrupted (Ctrl-C, or pytest stopped
    early): the tests that did not finish have no outcome, so there is nothing to report.
    """
    collector = Collector()
    args = [*(paths or [str(HERE)]), "-q", "-p", "no:cacheprovider", f"--rootdir={ROOT}"]
    args += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    args.append(f"--conformance-backend={'all' if len(backends) > 1 else backends[0]}")
    args.append(f"--conformance-edition={'all' if len(editions) > 1 else editions[0]}")
    if quick:
        args.append("--quick")
    with contextlib.redirect_stdout(sys.stderr):
        status = pytest.main(args, plugins=[collector])
    if status == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    return [r for r in collector.results if r.backend in backends and r.edition in editions]


# -- reading the results ---------------------------------------------------------------


def runs_of(results: Sequence[Result]) -> list[tuple[str, str]]:
    return sorted(
        {(r.backend, r.edition) for r in results},
        key=lambda run: (BACKENDS.index(run[0]), EDITIONS.index(run[1])),
    )


def to_json(results: Sequence[Result]) -> dict[str, Any]:
    return {
        "runs": [
            {
                "backend": backend,
                "edition": edition,
                "results": [
                    {
                        "file": r.file,
                        "subtest": r.subtest,
                        "outcome": r.outcome,
                        "message": r.message,
                    }
                    for r in results
                    if (r.backend, r.edition) == (backend, edition)
                ],
            }
            for backend, edition in runs_of(results)
        ]
    }


def totals(results: Sequence[Result]) -> dict[str, dict[tuple[str, str], tuple[int, int]]]:
    """Per file, per run: (subtests passed, subtests run, skips left out), as wpt.fyi counts."""
    table: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
    for r in results:
        if r.outcome == "skip":
            continue
        passed, count = table.setdefault(r.file, {}).get((r.backend, r.edition), (0, 0))
        table[r.file][(r.backend, r.edition)] = (passed + (r.outcome == "pass"), count + 1)
    return dict(sorted(table.items()))


@attrs.frozen
class Difference:
    file: str
    subtest: str
    edition: str
    outcomes: dict[str, Result]
    follows_spec: tuple[str, ...]
    classification: str
    quotes: tuple[tuple[str, str], ...]
    note: str
    cause: str


def differences(results: Sequence[Result]) -> list[Difference]:
    """Tests that passed on one backend and failed on another (skips do not disagree)."""
    by_key: dict[tuple[str, str, str], dict[str, Result]] = {}
    for r in results:
        by_key.setdefault(r.key, {})[r.backend] = r
    found = []
    for (file, subtest, edition), outcomes in by_key.items():
        ran = {b: r for b, r in outcomes.items() if r.outcome != "skip"}
        if len({r.outcome for r in ran.values()}) < 2:
            continue
        declared = next(iter(ran.values())).declared
        passing = tuple(b for b, r in ran.items() if r.outcome == "pass")
        reference = ran.get("reference")
        classification = (
            "bgfetch bug"
            if reference is not None and reference.outcome == "fail"
            else declared.disagreement
        )
        found.append(
            Difference(
                file,
                subtest,
                edition,
                outcomes,
                passing,
                classification,
                tuple(
                    (ref, quote_step(edition, ref))
                    for ref in spec_refs(declared, edition)  # type: ignore[arg-type]
                ),
                declared.note,
                declared.cause,
            )
        )
    return found


@functools.cache
def quote_step(edition: str, ref: str) -> str:
    """The text of spec step *ref* ("#anchor", "#anchor 8.2", "#anchor process response
    1.1") in the edition's pinned spec, or where it is defined."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from spec_text import load_spec
    finally:
        sys.path.pop(0)
    anchor, _, step = ref.partition(" ")
    spec = load_spec(edition)
    algorithm = spec.algorithm(anchor)
    if algorithm is None:
        if anchor in spec.anchors:
            return f"(the definition at {anchor})"
        raise ValueError(f"{ref!r}: no {anchor} in the {edition} spec")
    if not step:
        return f"(the algorithm: {algorithm.name})"
    words = step.split(" ")
    number = words[-1]
    sublist = " ".join(words[:-1])
    steps = algorithm.sublists[sublist] if sublist else algorithm
    if number not in steps.texts:
        raise ValueError(f"{ref!r}: {algorithm.name} has no step {step}")
    return f"{number}. {steps.texts[number]}"


# -- rendering ---------------------------------------------------------------------------


def run_name(run: tuple[str, str]) -> str:
    return f"{run[0]} ({run[1]})"


def not_run_lines(results: Sequence[Result], backends: Sequence[str]) -> list[str]:
    """A line for each asked backend that ran nothing (every test skipped), with why."""
    lines = []
    for backend in backends:
        mine = [r for r in results if r.backend == backend]
        if mine and all(r.outcome == "skip" for r in mine):
            reasons = sorted({r.message for r in mine})
            lines.append(f"{backend} was not run: every test skipped ({'; '.join(reasons)})")
        elif not mine:
            lines.append(f"{backend} was not run")
    return lines


def markdown(results: Sequence[Result], backends: Sequence[str]) -> str:
    runs = runs_of(results)
    out = [
        "# Conformance: where the backends differ",
        "",
        "Generated by `make conformance` (`bgfetch conformance --backend all`) from the suite in",
        "`conformance/`: every WPT Background Fetch subtest and bgfetch's differential cases,",
        "each asserting what the spec says (conformance/README.md). Do not edit by hand.",
        "",
    ]
    for line in not_run_lines(results, backends):
        out += [f"**{line}.**", ""]
    out += ["## Totals per file", "", "| file | " + " | ".join(run_name(r) for r in runs) + " |"]
    out.append("|---|" + "---|" * len(runs))
    for file, counts in totals(results).items():
        cells = [f"{counts[r][0]} / {counts[r][1]}" if r in counts else "" for r in runs]
        out.append(f"| {file} | " + " | ".join(cells) + " |")
    out += ["", "## Differences", ""]
    found = differences(results)
    if not found:
        out += ["No test passed on one backend and failed on another in this run.", ""]
    for d in found:
        out += [f"### {d.file}: {d.subtest} ({d.edition})", ""]
        for backend, r in sorted(d.outcomes.items()):
            out.append(f"- **{backend}**: {r.outcome}" + (f" — `{r.message}`" if r.message else ""))
        out.append(f"- **follows the spec**: {', '.join(d.follows_spec) or 'neither'}")
        out.append(f"- **classification**: {d.classification}")
        if d.cause:
            out.append(f"- **known cause**: {d.cause}")
        for ref, quote in d.quotes:
            out.append(f"- **spec** `{ref}`: {quote}")
        if d.note:
            out.append(f"- **note**: {d.note}")
        out.append("")
    out += ["## Where the suite asserts the spec rather than WPT's expectation", ""]
    seen: set[tuple[str, str]] = set()
    for r in results:
        if r.declared.note and (r.file, r.subtest) not in seen:
            seen.add((r.file, r.subtest))
            out.append(f"- {r.file}: *{r.subtest}* — {r.declared.note}")
    out += [
        "",
        "## Every test",
        "",
        "| file | subtest | " + " | ".join(run_name(r) for r in runs) + " |",
    ]
    out.append("|---|---|" + "---|" * len(runs))
    for (file, subtest), cells in table_rows(results, runs):
        out.append(f"| {file} | {subtest.replace('|', '/')} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def table_rows(
    results: Sequence[Result], runs: Sequence[tuple[str, str]]
) -> list[tuple[tuple[str, str], list[str]]]:
    rows: dict[tuple[str, str], dict[tuple[str, str], Result]] = {}
    for r in results:
        rows.setdefault((r.file, r.subtest), {})[(r.backend, r.edition)] = r
    return [(key, [cell(cells.get(run)) for run in runs]) for key, cells in sorted(rows.items())]


def cell(result: Result | None) -> str:
    if result is None:
        return "—"
    if result.outcome == "pass" or not result.message:
        return result.outcome
    return f"{result.outcome}: {result.message}".replace("|", "/").replace("\n", " ")[:160]


def html_page(results: Sequence[Result], backends: Sequence[str]) -> str:
    runs = runs_of(results)
    head = "".join(f"<th>{html.escape(run_name(r))}</th>" for r in runs)
    body = []
    for (file, subtest), cells in table_rows(results, runs):
        tds = "".join(
            f'<td class="{html.escape(c.split(":")[0])}">{html.escape(c)}</td>' for c in cells
        )
        body.append(f"<tr><td>{html.escape(file)}</td><td>{html.escape(subtest)}</td>{tds}</tr>")
    notes = "".join(
        f"<p><strong>{html.escape(line)}.</strong></p>" for line in not_run_lines(results, backends)
    )
    return (
        "<!doctype html><meta charset=utf-8><title>bgfetch conformance</title>"
        "<style>td.pass{background:#dfd}td.fail{background:#fdd}td.skip{background:#eee}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font:13px sans-serif}</style>"
        f"<h1>bgfetch conformance</h1>{notes}<table><tr><th>file</th><th>subtest</th>{head}</tr>"
        + "".join(body)
        + "</table>"
    )


def print_report(results: Sequence[Result], backends: Sequence[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    runs = runs_of(results)
    for line in not_run_lines(results, backends):
        console.print(f"[bold]{line}.[/bold]")
    table = Table(title="Every test")
    table.add_column("file")
    table.add_column("subtest")
    for run in runs:
        table.add_column(run_name(run))
    for (file, subtest), cells in table_rows(results, runs):
        table.add_row(file, subtest, *cells)
    console.print(table)
    summary = Table(title="Totals per file (subtests passed / run)")
    summary.add_column("file")
    for run in runs:
        summary.add_column(run_name(run))
    for file, counts in totals(results).items():
        summary.add_row(
            file, *[f"{counts[r][0]} / {counts[r][1]}" if r in counts else "" for r in runs]
        )
    console.print(summary)
    found = differences(results)
    console.print(f"[bold]Differences[/bold]: {len(found)}")
    for d in found:
        outcomes = ", ".join(f"{b} {r.outcome}" for b, r in sorted(d.outcomes.items()))
        console.print(
            f"- {d.file}: {d.subtest} ({d.edition}): {outcomes}; follows the spec: "
            f"{', '.join(d.follows_spec) or 'neither'}; {d.classification}"
        )
        for ref, quote in d.quotes:
            console.print(f"    {ref}: {quote}")


def main(argv: Sequence[str] | None = None) -> int:
    from bgfetch.command.conformance import DESCRIPTION, add_arguments

    parser = argparse.ArgumentParser(prog="bgfetch conformance", description=DESCRIPTION)
    add_arguments(parser)
    return command(parser.parse_args(argv))


def command(args: argparse.Namespace) -> int:
    backends = list(BACKENDS) if args.backend == "all" else [args.backend]
    editions = list(EDITIONS) if args.edition == "all" else [args.edition]
    try:
        results = run(backends, editions, quick=args.quick)
    except KeyboardInterrupt:
        # Unfinished tests would count as failures: a partial report would mislead.
        print("bgfetch conformance: interrupted; no report written", file=sys.stderr)
        return 130
    if not results:
        print("bgfetch conformance: no test ran", file=sys.stderr)
        return 1
    print_report(results, backends)
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(results), indent=1) + "\n")
    if args.html:
        Path(args.html).write_text(html_page(results, backends))
    if args.differences:
        Path(args.differences).write_text(markdown(results, backends))
    reference_failed = any(r.backend == "reference" and r.outcome == "fail" for r in results)
    return 1 if reference_failed else 0


if __name__ == "__main__":
    sys.exit(main())
