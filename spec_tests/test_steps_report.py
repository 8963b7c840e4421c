"""scripts/steps_report.py: which spec steps the tests pin, from --collect-steps' JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str) -> ModuleType:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


steps_report = _script("steps_report")

CITATIONS = [
    # Two tests of step 13.1, under either of the algorithm's anchors; one twice.
    {
        "edition": "current",
        "anchor": "#complete-a-record-algorithm",
        "step": "13.1",
        "test": "t::a",
    },
    {"edition": "current", "anchor": "#complete-a-record", "step": "13.1", "test": "t::b"},
    {
        "edition": "current",
        "anchor": "#complete-a-record-algorithm",
        "step": "13.1",
        "test": "t::b",
    },
    {
        "edition": "current",
        "anchor": "#complete-a-record-algorithm",
        "step": "process response 7.1.2",
        "test": "t::c",
    },
    {"edition": "current", "anchor": "#complete-a-record-algorithm", "step": "", "test": "t::d"},
    {"edition": "current", "anchor": "#background-fetch-manager", "step": "", "test": "t::e"},
    {
        "edition": "2017-10-12",
        "anchor": "#attempt-a-background-fetch-algorithm",
        "step": "6.8.5.2",
        "test": "d::f",
    },
]


def run(tmp_path: Path, citations: list[dict[str, str]], capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "steps.json"
    path.write_text(json.dumps(citations))
    status = steps_report.main([str(path)])
    return status, capsys.readouterr().out.splitlines()


def block(lines: list[str], heading: str) -> list[str]:
    """The lines of the algorithm whose heading starts with *heading*."""
    start = next(n for n, line in enumerate(lines) if line.startswith(heading))
    end = next(
        (n for n in range(start + 1, len(lines)) if not lines[n].startswith("    ")), len(lines)
    )
    return lines[start:end]


def test_counts_per_step_and_the_steps_no_test_cites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines = run(tmp_path, CITATIONS, capsys)
    assert status == 0
    assert lines[0] == "== current (specs/background-fetch-current.bs)"
    record = block(lines, "#complete-a-record-algorithm")
    # 15 steps and 6 sub-steps, 4 steps of "process request body", 33 of "process response".
    assert record[0] == "#complete-a-record-algorithm (complete a record): 2/58 steps; 1 as a whole"
    counts = {line.split()[0]: line.split()[-1] for line in record[1:] if '"' not in line}
    assert counts["13.1"] == "2" and counts["13.2"] == "0" and counts["1"] == "0"
    assert '    "process response" 7.1.2  1' in [line.rstrip() for line in record]
    (missing,) = [line for line in record if line.startswith("    no test: ")]
    assert "13.2" in missing and "13.1," not in missing
    assert '"process response" 8.2' in missing and '"process response" 7.1.2' not in missing
    # An algorithm no test cites, and one without numbered steps.
    perform = block(lines, "#perform-a-background-fetch-algorithm")
    assert perform[0].endswith(": 0/39 steps") and "8.13.3" in perform[-1]
    assert block(lines, "#background-fetch-display-algorithm")[1] == "    (no numbered steps)"
    assert "#background-fetch-manager (a section, as a whole): 1" in lines
    assert any(line.startswith("-- current: 2/") for line in lines)
    draft = lines.index("== 2017-10-12 (specs/background-fetch-2017-10-12.bs)")
    attempt = block(lines[draft:], "#attempt-a-background-fetch-algorithm")
    assert attempt[0].endswith(": 1/37 steps")
    assert any(line.startswith("-- 2017-10-12: 1/") for line in lines)


def test_every_algorithm_in_spec_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, lines = run(tmp_path, [], capsys)
    headings = [line.split(" (")[0] for line in lines if line.startswith("#")]
    current = headings[: headings.index("#active-background-fetches-contains")]
    assert current.index("#perform-a-background-fetch-algorithm") < current.index(
        "#complete-a-record-algorithm"
    )
    assert "#does-not-contain-background-fetch" in current
    assert len(current) == 21 and len(headings) - len(current) == 12


def test_citations_the_spec_does_not_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        {
            "edition": "current",
            "anchor": "#complete-a-record-algorithm",
            "step": "16",
            "test": "t::a",
        },
        {"edition": "current", "anchor": "#no-such-anchor", "step": "", "test": "t::b"},
        {"edition": "current", "anchor": "#background-fetch-manager", "step": "1", "test": "t::c"},
        {
            "edition": "2017-10-12",
            "anchor": "#complete-a-record-algorithm",  # the current edition's, not the draft's
            "step": "1",
            "test": "d::d",
        },
        {"edition": "2019", "anchor": "#intro", "step": "", "test": "t::e"},
    ]
    status, lines = run(tmp_path, CITATIONS + bad, capsys)
    assert status == 1
    assert [line for line in lines if line.startswith("error: ")] == [
        "error: t::a: #complete-a-record-algorithm: no step '16' in the current spec text",
        "error: t::b: #no-such-anchor: not an anchor of the current spec text",
        "error: t::c: #background-fetch-manager: step 1 of a section with no algorithm",
        "error: d::d: #complete-a-record-algorithm: not an anchor of the 2017-10-12 spec text",
        "error: t::e: #intro: unknown edition '2019'",
    ]
    assert lines[-1] == "5 citation(s) name no anchor or step of their spec text"
