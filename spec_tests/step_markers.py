"""``@pytest.mark.step(anchor, *steps, edition=None)``: which spec step a test pins.

::

    @pytest.mark.step("#complete-a-record-algorithm", "14.2", "process response 2.1")
    async def test_...(user_agent, origin_server): ...

*anchor* is the spec's ``{#anchor}`` (with its "#"); *steps* are step numbers as the
spec numbers them ("8.13.1"), a step of a named sub-list with its name ("process
response 2.1": step 11 of #complete-a-record-algorithm says "To process response ...,
run these steps", a list of its own; as scripts/spec_text.py numbers them); none means
the algorithm (or section) as a whole.

The edition a marked test pins: ``edition=`` if given; else its ``bgfetch_edition``
parameter (one entry per parametrized test); else "2017-10-12" under
``spec_tests/draft_2017/``; else "current".

``pytest --collect-only -q --collect-steps=PATH`` writes every marked test as a JSON
list of ``{"edition", "anchor", "step", "test"}`` (one entry per test x step; ``step``
is "" for a mark without steps); scripts/steps_report.py reads it.  A malformed
marker is a collection error naming the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bgfetch.editions import EDITIONS

MARKER = "step"
DRAFT_DIR = Path(__file__).resolve().parent / "draft_2017"
STEP = re.compile(r"([a-z][a-z ]*[a-z] )?\d+(\.\d+)*")  # "8.13.1", "process response 2.1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--collect-steps",
        metavar="PATH",
        default=None,
        help="write the spec steps each collected test pins (@pytest.mark.step) to PATH, as JSON",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker where pyproject.toml (which does) is not the configuration."""
    if not any(line.startswith(f"{MARKER}(") for line in config.getini("markers")):
        config.addinivalue_line(
            "markers", f"{MARKER}(anchor, *steps, edition=None): the spec step(s) a test pins"
        )


def _problem(mark: pytest.Mark) -> str | None:
    """Why *mark* is malformed, or None."""
    if not mark.args:
        return "step() needs an anchor"
    anchor, *steps = mark.args
    if not isinstance(anchor, str) or not re.fullmatch(r"#[A-Za-z0-9_.:-]+", anchor):
        return f"the anchor must be a string starting with '#', not {anchor!r}"
    for step in steps:
        if not isinstance(step, str) or not STEP.fullmatch(step):
            return (
                "a step is a string of numbers and dots ('8.13.1'), after the name of its "
                f"sub-list if any ('process response 2.1'), not {step!r}"
            )
    if len(set(steps)) != len(steps):
        return f"a step is given twice: {steps!r}"
    unknown = set(mark.kwargs) - {"edition"}
    if unknown:
        return f"unknown keyword(s) {sorted(unknown)!r}; step() takes only edition="
    edition = mark.kwargs.get("edition")
    if edition is not None and edition not in EDITIONS:
        return f"unknown edition {edition!r}; known editions: {sorted(EDITIONS)!r}"
    return None


def _functions(result: Any) -> Iterator[pytest.Function]:
    for item in result if isinstance(result, list) else [result]:
        if isinstance(item, pytest.Function):
            yield item


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Collector, name: str, obj: object
) -> Generator[None, Any, Any]:
    """A malformed step marker fails the collection of its module, naming the test."""
    result = yield
    for item in _functions(result):
        for mark in item.iter_markers(MARKER):
            problem = _problem(mark)
            if problem is not None:
                raise collector.CollectError(
                    f"{item.nodeid}: malformed @pytest.mark.step{_signature(mark)}: {problem}"
                )
    return result


def _signature(mark: pytest.Mark) -> str:
    args = [repr(a) for a in mark.args] + [f"{k}={v!r}" for k, v in mark.kwargs.items()]
    return f"({', '.join(args)})"


def edition_of(item: pytest.Item, mark: pytest.Mark) -> str:
    """The edition the test *item* pins with *mark* (see the module docstring)."""
    edition = mark.kwargs.get("edition")
    if edition is not None:
        return str(edition)
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "bgfetch_edition" in callspec.params:
        return str(callspec.params["bgfetch_edition"])
    if DRAFT_DIR in Path(item.path).resolve().parents:
        return "2017-10-12"
    return "current"


def steps_of(item: pytest.Item) -> list[dict[str, str]]:
    """One entry per step (or one with step "" for a mark without steps) of each mark."""
    entries: list[dict[str, str]] = []
    for mark in item.iter_markers(MARKER):
        anchor, *steps = mark.args
        for step in steps or [""]:
            edition = edition_of(item, mark)
            entries.append(
                {"edition": edition, "anchor": anchor, "step": step, "test": item.nodeid}
            )
    return entries


def pytest_collection_finish(session: pytest.Session) -> None:
    path = session.config.getoption("collect_steps")
    if path is None:
        return
    entries = [entry for item in session.items for entry in steps_of(item)]
    Path(path).write_text(json.dumps(entries, indent=1) + "\n")
