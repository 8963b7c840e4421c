"""``bgfetch conformance``: the conformance suite of the repository (conformance/), run on
bgfetch and real browsers, and its report (conformance/report.py does the work)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

BACKENDS = ("reference", "chromium")
EDITIONS = ("current", "2017-10-12")

DESCRIPTION = """\
Run the web-platform-tests Background Fetch suite (ported to Python, with bgfetch's
differential cases) on bgfetch ("reference") and/or a real headless Chromium, and
report: every test x backend with pass / fail / skip and the failure's message, the
totals per file (as wpt.fyi counts them), and every test where the backends disagree,
with the spec step it concerns, which side follows it, and a classification.

Runs from a checkout of bgfetch: the suite lives in its conformance/ folder."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="reference")
    parser.add_argument(
        "--edition", choices=[*EDITIONS, "all"], default="all", help="default: all"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip, in Chromium, the tests that wait on its 20-second retry timers",
    )
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--html", metavar="FILE", help="write the table as HTML")
    parser.add_argument(
        "--differences", metavar="FILE", help="write the report as markdown (DIFFERENCES.md)"
    )


def suite_root() -> Path:
    """The checkout holding conformance/, next to this bgfetch package."""
    root = Path(__file__).resolve().parent.parent.parent
    if not (root / "conformance" / "report.py").is_file():
        raise FileNotFoundError(
            f"no conformance suite at {root / 'conformance'}: bgfetch conformance runs from "
            "a checkout of bgfetch (pip install -e .)"
        )
    return root


def run(args: argparse.Namespace) -> int:
    root = str(suite_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    report: Any = importlib.import_module("conformance.report")
    status: int = report.command(args)
    return status
