"""``@pytest.mark.step`` and ``--collect-steps`` (step_markers.py): the JSON written, the
edition each marked test pins, and a malformed marker failing the collection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import step_markers

pytest_plugins = ["pytester"]

SPEC_TESTS = Path(__file__).resolve().parent

CONFTEST = f"""
import sys
sys.path.insert(0, {str(SPEC_TESTS)!r})
pytest_plugins = ["step_markers"]
"""

TESTS = """
import pytest

@pytest.mark.step("#complete-a-record-algorithm", "14.1", "process response 2.1")
def test_two_steps():
    pass

@pytest.mark.step("#api")
def test_the_whole_section():
    pass

@pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
@pytest.mark.step("#background-fetch-manager-fetch", "8.5")
def test_both(bgfetch_edition):
    pass

@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.5", edition="2017-10-12")
def test_explicit_edition():
    pass

def test_unmarked():
    pass
"""


def collect_steps(pytester: pytest.Pytester) -> tuple[pytest.RunResult, list[dict[str, str]]]:
    out = pytester.path / "steps.json"
    result = pytester.runpytest(
        "--collect-only", "-q", "--strict-markers", f"--collect-steps={out}"
    )
    return result, json.loads(out.read_text())


def test_collect_steps_writes_one_entry_per_test_edition_and_step(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_marked=TESTS)
    result, entries = collect_steps(pytester)
    result.assert_outcomes()
    assert entries == [
        {
            "edition": "current",
            "anchor": "#complete-a-record-algorithm",
            "step": "14.1",
            "test": "test_marked.py::test_two_steps",
        },
        {
            "edition": "current",
            "anchor": "#complete-a-record-algorithm",
            "step": "process response 2.1",
            "test": "test_marked.py::test_two_steps",
        },
        {
            "edition": "current",
            "anchor": "#api",
            "step": "",
            "test": "test_marked.py::test_the_whole_section",
        },
        {
            "edition": "current",
            "anchor": "#background-fetch-manager-fetch",
            "step": "8.5",
            "test": "test_marked.py::test_both[current]",
        },
        {
            "edition": "2017-10-12",
            "anchor": "#background-fetch-manager-fetch",
            "step": "8.5",
            "test": "test_marked.py::test_both[2017-10-12]",
        },
        {
            "edition": "2017-10-12",
            "anchor": "#attempt-a-background-fetch-algorithm",
            "step": "6.5",
            "test": "test_marked.py::test_explicit_edition",
        },
    ]


@pytest.mark.parametrize(
    ("mark", "problem"),
    [
        (
            '"complete-a-record-algorithm", "11.6.1"',
            "the anchor must be a string starting with '#'",
        ),
        ("", "step() needs an anchor"),
        ('"#api", 8', "a step is a string of numbers and dots"),
        ('"#api", "Step 8"', "a step is a string of numbers and dots"),
        ('"#api", "process response"', "a step is a string of numbers and dots"),
        ('"#api", "8.", ', "a step is a string of numbers and dots"),
        ('"#api", edition="1999"', "unknown edition '1999'"),
        ('"#api", editon="current"', "unknown keyword(s) ['editon']"),
    ],
)
def test_a_malformed_marker_is_a_collection_error_naming_the_test(pytester, mark, problem):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_bad=f"""
import pytest

def test_fine():
    pass

@pytest.mark.step({mark})
def test_misspelt():
    pass
"""
    )
    result = pytester.runpytest("--collect-only", "-q", "--strict-markers")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting test_bad.py*"])
    assert "test_bad.py::test_misspelt: malformed @pytest.mark.step(" in result.stdout.str()
    assert problem in result.stdout.str()


def test_a_test_under_draft_2017_pins_the_2017_edition(pytester, monkeypatch):
    monkeypatch.setattr(step_markers, "DRAFT_DIR", pytester.path / "old_edition")
    pytester.makeconftest(CONFTEST)
    pytester.mkpydir("old_edition")  # "draft_2017" is taken in sys.modules
    pytester.makepyfile(
        **{
            "old_edition/test_draft": """
import pytest

@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.5")
def test_draft():
    pass

@pytest.mark.step("#api", edition="current")
def test_explicit():
    pass
"""
        }
    )
    result, entries = collect_steps(pytester)
    result.assert_outcomes()
    assert [(e["edition"], e["test"]) for e in entries] == [
        ("2017-10-12", "old_edition/test_draft.py::test_draft"),
        ("current", "old_edition/test_draft.py::test_explicit"),
    ]
