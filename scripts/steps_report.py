"""Which spec steps the tests pin: ``python scripts/steps_report.py PATH``.

PATH is a JSON list of citations, one per test and step, as ``pytest --collect-only
--collect-steps=PATH`` writes them (``make steps`` does both)::

    [{"edition": "current", "anchor": "#complete-a-record-algorithm", "step": "13.1",
      "test": "spec_tests/test_complete_a_record.py::test_paused"}, ...]

``step`` is a step number as the spec numbers it ("8.13.1"); a step of a named
sub-list is written after the sub-list's name ("process response 7.1.2"); "" cites
the algorithm (or a section written as prose) as a whole.

For each edition, every algorithm of its pinned spec text (specs/), in spec order:
its steps, each with the number of tests citing it, then those no test cites; and a
summary, steps covered / steps.  A citation of an anchor or a step the spec text does
not have is an error: they are listed last and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spec_text import ROOT, SPEC_FILES, Algorithm, Spec, load_spec, split_step  # noqa: E402


@dataclass(frozen=True)
class Citation:
    edition: str
    anchor: str
    step: str
    test: str


def read_citations(path: Path) -> list[Citation]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of citations")
    return [
        Citation(str(e["edition"]), str(e["anchor"]), str(e.get("step", "")), str(e["test"]))
        for e in entries
    ]


@dataclass
class Tally:
    """Who cites what, in one edition."""

    spec: Spec
    # id(algorithm) -> step ("" for the whole, "process response 7.1.2") -> tests
    tests: dict[int, dict[str, set[str]]]
    sections: dict[str, set[str]]  # a section cited as a whole -> tests


def tally(citations: list[Citation], root: Path) -> tuple[dict[str, Tally], list[str]]:
    tallies = {
        edition: Tally(load_spec(edition, root), defaultdict(lambda: defaultdict(set)), {})
        for edition in SPEC_FILES
    }
    errors: list[str] = []
    for citation in citations:
        where = f"{citation.test}: {citation.anchor}"
        if citation.edition not in tallies:
            errors.append(f"{where}: unknown edition {citation.edition!r}")
            continue
        edition = tallies[citation.edition]
        spec = edition.spec
        if citation.anchor not in spec.anchors:
            errors.append(f"{where}: not an anchor of the {spec.edition} spec text")
            continue
        algorithm = spec.algorithm(citation.anchor)
        if algorithm is None:
            if citation.step:
                errors.append(f"{where}: step {citation.step} of a section with no algorithm")
            else:
                edition.sections.setdefault(citation.anchor, set()).add(citation.test)
            continue
        if not algorithm.has(citation.step):
            errors.append(f"{where}: no step {citation.step!r} in the {spec.edition} spec text")
            continue
        sublist, number = split_step(citation.step)
        key = f"{sublist} {number}".strip()
        edition.tests[id(algorithm)][key].add(citation.test)
    return tallies, errors


def step_keys(algorithm: Algorithm) -> list[tuple[str, str]]:
    """(label, key) for each step of *algorithm*: its own, then each named sub-list's."""
    keys = [(step, step) for step in algorithm.steps]
    for name, sublist in algorithm.sublists.items():
        keys += [(f'"{name}" {step}', f"{name} {step}") for step in sublist.steps]
    return keys


def report(tallies: dict[str, Tally]) -> list[str]:
    lines: list[str] = []
    for edition, tally_ in tallies.items():
        spec = tally_.spec
        lines.append(f"== {edition} (specs/{spec.path.name})")
        covered = total = 0
        for algorithm in spec.in_order:
            cited = tally_.tests.get(id(algorithm), {})
            keys = step_keys(algorithm)
            done = [label for label, key in keys if cited.get(key)]
            covered += len(done)
            total += len(keys)
            whole = len(cited.get("", ()))
            heading = f"{algorithm.anchor} ({algorithm.name})"
            if keys:
                heading += f": {len(done)}/{len(keys)} steps"
            lines.append(heading + (f"; {whole} as a whole" if whole else ""))
            if not keys:
                lines.append("    (no numbered steps)")
            width = max((len(label) for label, _ in keys), default=0)
            for label, key in keys:
                lines.append(f"    {label:<{width}}  {len(cited.get(key, ()))}")
            missing = [label for label, key in keys if not cited.get(key)]
            if missing:
                lines.append(f"    no test: {', '.join(missing)}")
        for anchor, tests in sorted(tally_.sections.items()):
            lines.append(f"{anchor} (a section, as a whole): {len(tests)}")
        share = f" ({100 * covered // total}%)" if total else ""
        lines.append(f"-- {edition}: {covered}/{total} steps covered{share}")
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the JSON file --collect-steps wrote")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (specs/)")
    args = parser.parse_args(argv)
    tallies, errors = tally(read_citations(args.path), args.root)
    print("\n".join(report(tallies)))
    for error in errors:
        print(f"error: {error}")
    if errors:
        print(f"{len(errors)} citation(s) name no anchor or step of their spec text")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
