"""The report's forms (conformance/report.py), on results made here."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from conformance import report
from conformance.report import Result, differences, markdown, quote_step, to_json, totals
from conformance.suite import Declared

DECLARED = Declared(
    "fetch.https.window.js",
    "Using Background Fetch to fetch a non-existent resource should fail.",
    ("current",),
    "upstream",
    "virtual",
    False,
    "asserts the JSON text",
    ("#create-record-objects", "#complete-a-record-algorithm process response 7.2"),
    "WPT bug",
)


def result(backend: str, outcome: str, message: str = "") -> Result:
    return Result(backend, "current", DECLARED.file, DECLARED.subtest, outcome, message, DECLARED)  # type: ignore[arg-type]


def test_json_has_exactly_the_issue_form() -> None:
    data = to_json([result("reference", "pass"), result("chromium", "fail", "AssertionError: ''")])
    assert data == {
        "runs": [
            {
                "backend": "reference",
                "edition": "current",
                "results": [
                    {
                        "file": DECLARED.file,
                        "subtest": DECLARED.subtest,
                        "outcome": "pass",
                        "message": "",
                    }
                ],
            },
            {
                "backend": "chromium",
                "edition": "current",
                "results": [
                    {
                        "file": DECLARED.file,
                        "subtest": DECLARED.subtest,
                        "outcome": "fail",
                        "message": "AssertionError: ''",
                    }
                ],
            },
        ]
    }


def test_a_disagreement_is_classified_and_quotes_the_spec() -> None:
    [found] = differences([result("reference", "pass"), result("chromium", "fail", "x")])
    assert found.follows_spec == ("reference",)
    assert found.classification == "WPT bug"
    assert dict(found.quotes)["#complete-a-record-algorithm process response 7.2"] == (
        quote_step("current", "#complete-a-record-algorithm process response 7.2")
    )
    assert "bad-status" in quote_step(
        "current", "#complete-a-record-algorithm process response 7.2"
    )


def test_a_failing_reference_is_a_bgfetch_bug() -> None:
    [found] = differences([result("reference", "fail", "x"), result("chromium", "pass")])
    assert found.classification == "bgfetch bug"
    assert found.follows_spec == ("chromium",)


def test_skips_do_not_disagree_and_an_unrun_backend_is_said() -> None:
    results = [result("reference", "pass"), result("chromium", "skip", "chromium is not installed")]
    assert differences(results) == []
    assert totals(results) == {DECLARED.file: {("reference", "current"): (1, 1)}}
    text = markdown(results, ["reference", "chromium"])
    assert "chromium was not run: every test skipped (chromium is not installed)" in text


def test_an_interrupted_run_writes_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C mid-run: the unfinished tests have no outcome, so no report is written
    (counting them as failures would put false differences in DIFFERENCES.md)."""

    def interrupted(args: list[str], plugins: list[object]) -> pytest.ExitCode:
        collector = plugins[0]
        assert isinstance(collector, report.Collector)
        collector.results.append(result("reference", "pass"))
        return pytest.ExitCode.INTERRUPTED

    monkeypatch.setattr(pytest, "main", interrupted)
    out = tmp_path / "DIFFERENCES.md"
    args = argparse.Namespace(
        backend="all", edition="all", quick=False, json=None, html=None, differences=str(out)
    )
    assert report.command(args) == 130
    assert not out.exists()
    assert "interrupted; no report written" in capsys.readouterr().err
