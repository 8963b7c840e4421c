"""scripts/spec_text.py reads the pinned spec texts; scripts/spec_lint.py checks the code
against them.  The lint runs here on small planted trees (specs/ copied, a few edition
modules written out), one mistake of each kind, each caught at its path:line."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap
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


spec_text = _script("spec_text")
spec_lint = _script("spec_lint")


# -- spec_text ---------------------------------------------------------------------------


def test_complete_a_record_steps_and_named_sub_lists() -> None:
    algorithm = spec_text.load_spec("current").algorithms["#complete-a-record-algorithm"]
    assert algorithm.name == "complete a record"
    top = [step for step in algorithm.steps if "." not in step]
    assert top == [str(n) for n in range(1, 16)]
    assert "14.4" in algorithm and "13.2" in algorithm
    assert "14.5" not in algorithm and "16" not in algorithm
    # Step 11's named lists are numbered on their own, not as 11.x.
    assert "11.1" not in algorithm
    assert set(algorithm.sublists) == {"process request body", "process response"}
    body = algorithm.sublists["process request body"]
    assert body.steps == ["1", "2", "3", "4"] and body.within == "11"
    response = algorithm.sublists["process response"]
    assert response.within == "11"
    assert "7.1.2" in response and "8.2" in response and "3.4" in response
    assert "8.3" not in response
    assert response.order("7.1.2") < response.order("8.2")
    assert algorithm.has("process response 7.1.2") and algorithm.has("14.4")
    assert algorithm.has("") and not algorithm.has("process response 9")


def test_perform_a_background_fetch_and_the_drafts_attempt() -> None:
    current = spec_text.load_spec("current")
    perform = current.algorithms["#perform-a-background-fetch-algorithm"]
    assert "8.13.3" in perform and "8.13.4" not in perform
    assert perform.steps[:5] == ["1", "2", "3", "4", "5"]
    assert perform.order("8.10") < perform.order("8.11") < perform.order("8.13.1")
    draft = spec_text.load_spec("2017-10-12")
    attempt = draft.algorithms["#attempt-a-background-fetch-algorithm"]
    assert "6.8.5.2" in attempt and "10.7" in attempt and "9.1" in attempt
    assert "10.8" not in attempt and "6.9" not in attempt


def test_anchors_headings_dfns_and_idl() -> None:
    current = spec_text.load_spec("current")
    for anchor in (
        "#complete-a-record-algorithm",  # a heading
        "#background-fetch-manager-fetch",  # a heading
        "#dom-backgroundfetchmanager-fetch",  # <dfn method>fetch(...)</dfn>
        "#background-fetch-stored-body-bytes-total",  # <dfn> in a dfn-for block
        "#dom-backgroundfetchevent-registration",  # <dfn attribute>
        "#eventdef-serviceworkerglobalscope-backgroundfetchsuccess",  # dfn-type="event"
        "#does-not-contain-background-fetch",
    ):
        assert anchor in current.anchors, anchor
    assert "#create-settled-fetches" not in current.anchors
    draft = spec_text.load_spec("2017-10-12")
    for anchor in (
        "#dom-backgroundfetchevent-backgroundfetchevent",  # <dfn constructor for=...>
        "#active-background-fetches-contains",  # <dfn for="active background fetches">
        "#dom-backgroundfetchactivefetches-match",  # only in the IDL block
        "#dom-backgroundfetchupdateevent-updateui",
    ):
        assert anchor in draft.anchors, anchor
    assert "#validate-partial-response-algorithm" not in draft.anchors  # later revisions'


def test_algorithms_by_heading_and_by_dfn() -> None:
    current = spec_text.load_spec("current")
    fetch = current.algorithms["#background-fetch-manager-fetch"]
    assert current.algorithms["#dom-backgroundfetchmanager-fetch"] is fetch
    assert fetch.anchor == "#background-fetch-manager-fetch"
    assert "8.16" in fetch
    # A section with two algorithms: its heading names the first.
    contains = current.algorithms["#contains-background-fetch-algorithm"]
    assert contains.name == "contains background fetch" and contains.steps == ["1", "2", "3", "4"]
    other = current.algorithm(
        "#contains-background-fetch-algorithm", hint='("does not contain background fetch")'
    )
    assert other is current.algorithms["#does-not-contain-background-fetch"]
    assert other.steps == ["1", "2"]
    # Prose and bulleted algorithms have no numbered steps; sections are not algorithms.
    assert current.algorithms["#background-fetch-display-algorithm"].steps == []
    assert "#background-fetch-manager" not in current.algorithms
    # Every algorithm once, in spec order.
    names = [algorithm.name for algorithm in current.in_order]
    assert names.index("perform a background fetch") < names.index("complete a record")
    assert len(names) == len(set(map(id, current.in_order)))


def test_the_drafts_todo_algorithms() -> None:
    draft = spec_text.load_spec("2017-10-12")
    update_ui = draft.algorithms["#dom-backgroundfetchupdateevent-updateui"]
    assert update_ui.steps == ["1"] and update_ui.todo
    assert not draft.algorithms["#attempt-a-background-fetch-algorithm"].todo


def test_split_step() -> None:
    assert spec_text.split_step("process response 7.1.2") == ("process response", "7.1.2")
    assert spec_text.split_step("8.13") == ("", "8.13")
    assert spec_text.split_step("") == ("", "")
    assert spec_text.split_step("process response") == ("process response", "")


def test_unknown_edition() -> None:
    with pytest.raises(ValueError, match="unknown edition"):
        spec_text.load_spec("2019")


# -- spec_lint on planted trees ------------------------------------------------------------

NOTES = """\
# Spec notes

## Current edition (WICG index.bs at a1f0bc2)

### SN-current-1. Perform a background fetch, step 5.3: the failure reason is never set
### SN-current-2. Complete a record, step 3: a paused fetch cannot be aborted

## 2017-10-12 edition (WICG index.bs at 86ad501)

### SN-2017-1. Attempt a background fetch, step 6.7

## Fetch integration

### SN-fetch-1. Manager fetch(), step 6.3
"""

GOOD_CURRENT = '''\
"""Complete a record (#complete-a-record-algorithm), written to pass the lint."""

from .concepts import BackgroundFetch

ANCHOR = "#complete-a-record-algorithm"


def complete_a_record(step, bg_fetch: BackgroundFetch) -> None:
    """#complete-a-record-algorithm"""
    # 1. Let responseData be record's response data.
    # 2. Let downloadTotal be bgFetch's download total.
    # 3. Wait for the paused flag to be unset (or abort all: SPEC-NOTES.md SN-current-2).
    # 4. (a copy)  5. Set request's keepalive to true.
    # 6-8. The request, and its range header.
    # (filled: 0a1eaad) Not a step: a comment that does not start with a number.

    # 11. Fetch request.
    def fetch() -> None:
        # To process request body for request:
        def process_request_body() -> None:
            # 1. Let transmittedSize be request's body's transmitted bytes.
            # 4. Update background fetch instances for bgFetch.
            pass

        # To process response for response:
        # 1. If response is a network error, then:
        if bg_fetch:
            # 1.1. If the resource is temporarily unavailable ...
            return
        # 2. If response's status is 206, then:
        try:
            # 6. Whenever one or more bytes are transmitted from stream:
            # 6.4. Update background fetch instances for bgFetch.
            pass
        except OSError:
            # 8. If at any point stream becomes errored, then:
            # 8.2. Otherwise, set responseData's result to "fetch-error".
            return
        # 7. If at any point the bytes transmission for stream is done normally:
        # 7.1.2. If completeLength is not null ...
        step(ANCHOR, "process response 7.1.2", "done")

    # 12. Let result be the empty string.
    if bg_fetch:
        # 13. Run these steps, but abort when ...
        # 13.2. Set result to responseData's result.
        pass
    else:
        # 14. If aborted, then:
        # 14.4. Terminate the ongoing fetch.
        pass
    # 15. If result is the empty string, complete a record again.
    step(ANCHOR, "15", "record settled")
    step(ANCHOR, "", "the algorithm as a whole")


def does_not_contain(map: dict, bg_fetch: BackgroundFetch) -> bool:
    """#contains-background-fetch-algorithm ("does not contain background fetch")"""
    # 1. If map contains background fetch bgFetch, then return false.
    # 2. Return true.
    return True


def choose(failure_reason: str) -> str:
    """#perform-a-background-fetch-algorithm, step 8.10-8.12: each branch its own."""
    # 8.10-8.12. The event to fire.
    if failure_reason == "aborted":
        # 8.10. If failureReason is "aborted", then:
        return "backgroundfetchabort"
    elif failure_reason:
        # 8.11. Otherwise, if failureReason is not the empty string, then:
        event = "backgroundfetchfail"
    else:
        # 8.12. Otherwise:
        event = "backgroundfetchsuccess"
    # 8.13. Fire a functional event ... (SPEC-NOTES.md SN-current-1, SN-fetch-1).
    return event
'''

GOOD_DRAFT = '''\
"""Attempt a background fetch (#attempt-a-background-fetch-algorithm).

Partial responses are validated as 0a1eaad says (#validate-partial-response-algorithm),
see SPEC-NOTES.md §2017; matching is Service Workers #request-matches-cached-item-algorithm.
"""

from bgfetch.editions import load_edition

from . import concepts

ANCHOR = "#attempt-a-background-fetch-algorithm"


async def attempt(step) -> None:
    """#attempt-a-background-fetch-algorithm"""
    # 6. For each record in bgFetch's records, run these steps in parallel:

    def process_request_body() -> None:
        # (filled: 3abbda2) To process request body:
        # 1. Let transmittedSize be request's body's transmitted bytes.
        # 5. A step the draft does not have: numbered as 3abbda2 numbers it.
        pass

    # 6.8.5.2. Set abandoned to true.
    step(ANCHOR, "6.8.5.2", "abandoned")
    # 10.5-10.7. Choose the event.
    # 10.7. "backgroundfetched".


def validate(response) -> bool:
    """#validate-partial-response-algorithm (0a1eaad): another revision's steps."""
    # 7. Any number: not checked against the draft.
    return True


class Event:
    """#dom-backgroundfetchupdateevent-updateui: "1. TODO" (filled: b8ba6f9)."""

    def update_ui(self) -> None:
        # 1. If this is untrusted ...
        # 6. ... numbered as b8ba6f9 numbers them.
        pass
'''


def plant(tmp_path: Path, files: dict[str, str], notes: str = NOTES) -> Path:
    """A tree for the lint: specs/ copied, SPEC-NOTES.md, and *files* (path -> source)."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    (tmp_path / "SPEC-NOTES.md").write_text(notes)
    for package in ("current", "draft_2017"):
        (tmp_path / "bgfetch" / "editions" / package).mkdir(parents=True)
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return tmp_path


def line_of(source: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(source.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


def problems(root: Path) -> list[str]:
    return [str(problem) for problem in spec_lint.lint(root)]


CURRENT = "bgfetch/editions/current"
DRAFT = "bgfetch/editions/draft_2017"


def test_correct_modules_pass(tmp_path: Path) -> None:
    root = plant(tmp_path, {f"{CURRENT}/good.py": GOOD_CURRENT, f"{DRAFT}/good.py": GOOD_DRAFT})
    assert problems(root) == []
    assert spec_lint.main([str(root)]) == 0


def test_an_anchor_the_spec_text_does_not_have(tmp_path: Path) -> None:
    source = '''\
    """Module docstring: #complete-a-record-algorithm and #no-such-section."""


    class Thing:
        """#background-fetch-manager, then #create-settled-fetches (not in the current)."""

        def method(self) -> None:
            """#dom-backgroundfetchmanager-fetch and #background-fetch-manager-fetchx"""
    '''
    # The draft does not have the current edition's anchors, unless cited as another's.
    draft = '''\
    """#background-fetch-registration-match-all, cited as the draft's own.

    (filled: 4e709be, #background-fetch-registration-match) is another revision's.
    """
    '''
    root = plant(tmp_path, {f"{CURRENT}/bad.py": source, f"{DRAFT}/bad.py": draft})
    source, draft = textwrap.dedent(source), textwrap.dedent(draft)
    spec = "(specs/background-fetch-current.bs)"
    assert problems(root) == [
        f"{CURRENT}/bad.py:1: #no-such-section is not an anchor of the current spec text {spec}",
        f"{CURRENT}/bad.py:{line_of(source, 'class Thing') + 1}: #create-settled-fetches is not "
        f"an anchor of the current spec text {spec}",
        f"{CURRENT}/bad.py:{line_of(source, 'fetchx')}: #background-fetch-manager-fetchx is not "
        f"an anchor of the current spec text {spec}",
        f"{DRAFT}/bad.py:1: #background-fetch-registration-match-all is not an anchor of the "
        "2017-10-12 spec text (specs/background-fetch-2017-10-12.bs)",
    ]


def test_a_step_the_algorithm_does_not_have(tmp_path: Path) -> None:
    source = '''\
    def perform(bg_fetch) -> None:
        """#perform-a-background-fetch-algorithm"""
        # 8.13.3. Update background fetch instances for bgFetch.
        # 8.13.4. There is no such step.
        # 9. Nor this one.


    def complete(bg_fetch) -> None:
        """#complete-a-record-algorithm"""
        # To process response for response:
        # 8.2. Otherwise, set responseData's result to "fetch-error".
        # 8.3. No such step in "process response".
        # To process everything:
    '''
    root = plant(tmp_path, {f"{CURRENT}/bad.py": source})
    source = textwrap.dedent(source)
    where = '"process response" (step 11 of #complete-a-record-algorithm)'
    assert problems(root) == [
        f"{CURRENT}/bad.py:{line_of(source, '8.13.4')}: step 8.13.4 is not a step of "
        "#perform-a-background-fetch-algorithm",
        f"{CURRENT}/bad.py:{line_of(source, '# 9.')}: step 9 is not a step of "
        "#perform-a-background-fetch-algorithm",
        f"{CURRENT}/bad.py:{line_of(source, '# 8.3.')}: step 8.3 is not a step of {where}",
        f"{CURRENT}/bad.py:{line_of(source, 'everything')}: #complete-a-record-algorithm has no "
        'steps "To process everything"',
    ]


def test_steps_out_of_order(tmp_path: Path) -> None:
    source = '''\
    async def fetch(self) -> None:
        """#background-fetch-manager-fetch"""
        # 8.7. Let requestReadFailed be false.
        # 8.10. Wait for requestBodiesRemaining to be 0.
        # 8.8. For each request of requests:
        # 8.11. If requestReadFailed is true, reject.
        # 8.11. Repeating a step is fine.
        # 8.9. If storing requests fails, reject.  8.12. Let bgFetch be a new background fetch.

        def nested() -> None:
            # 8.8.3.1. A nested def is a scope of its own, with the same algorithm.
            pass

        # 8.13-8.12. A range that goes backwards.
        try:
            # 8.14. Queue a bgfetch task.
            pass
        except OSError:
            # 8.15. Falls through to what follows the try.
            pass
        # 8.14. Comes after 8.15.
    '''
    root = plant(tmp_path, {f"{CURRENT}/bad.py": source})
    source = textwrap.dedent(source)
    order = "out of #background-fetch-manager-fetch's order"
    assert problems(root) == [
        f"{CURRENT}/bad.py:{line_of(source, '# 8.8.')}: step 8.8 comes after step 8.10: {order}",
        f"{CURRENT}/bad.py:{line_of(source, '# 8.9.')}: step 8.9 comes after step 8.11: {order}",
        f"{CURRENT}/bad.py:{line_of(source, '8.13-8.12')}: steps 8.13-8.12: the range goes "
        "backwards",
        f"{CURRENT}/bad.py:{line_of(source, 'Comes after')}: step 8.14 comes after step 8.15: "
        f"{order}",
    ]


def test_observed_steps(tmp_path: Path) -> None:
    source = """\
    ANCHOR = "#perform-a-background-fetch-algorithm"
    COMPLETE_A_RECORD = "#complete-a-record-algorithm"


    def complete(ua, step) -> None:
        step(ANCHOR, "11", "fetch started")
        ua.observers.step(COMPLETE_A_RECORD, "11", "fetch started")
        ua.observers.step(COMPLETE_A_RECORD, "process response 9", "nothing")
        step("#background-fetch-manager", "", "a section as a whole")
        step("#background-fetch-manager", "1", "a section has no steps")
        step("#no-such-anchor", "", "nothing")
    """
    root = plant(tmp_path, {f"{CURRENT}/bad.py": source})
    source = textwrap.dedent(source)
    assert problems(root) == [
        f"{CURRENT}/bad.py:{line_of(source, 'step(ANCHOR')}: step 11 is not a step of "
        "#perform-a-background-fetch-algorithm",
        f"{CURRENT}/bad.py:{line_of(source, 'response 9')}: step 9 is not a step of "
        '"process response" of #complete-a-record-algorithm',
        f"{CURRENT}/bad.py:{line_of(source, 'has no steps')}: step 1: #background-fetch-manager "
        "is not an algorithm (it has no steps)",
        f"{CURRENT}/bad.py:{line_of(source, 'no-such')}: #no-such-anchor is not an anchor of the "
        "current spec text",
    ]


def test_a_step_comment_without_an_algorithm(tmp_path: Path) -> None:
    source = '''\
    def helper() -> None:
        """No anchor here."""
        # 3. A step of which algorithm?
    '''
    root = plant(tmp_path, {f"{CURRENT}/bad.py": source})
    assert problems(root) == [
        f"{CURRENT}/bad.py:3: step 3: no enclosing def or class names an algorithm"
    ]


def test_an_edition_importing_the_other(tmp_path: Path) -> None:
    current = """\
    from bgfetch.editions import load_edition
    from bgfetch.editions.current import concepts
    from . import concepts as mine
    from ..draft_2017 import perform
    from .. import draft_2017
    """
    draft = """\
    import bgfetch.editions.current.concepts
    from bgfetch.editions.current import perform
    from .records import BackgroundFetchSettledFetches
    """
    init = "from ..current.concepts import BackgroundFetch\n"
    root = plant(
        tmp_path,
        {f"{CURRENT}/bad.py": current, f"{DRAFT}/bad.py": draft, f"{DRAFT}/__init__.py": init},
    )
    assert problems(root) == [
        f"{CURRENT}/bad.py:4: the current edition imports the draft_2017 edition "
        "(bgfetch.editions.draft_2017)",
        f"{CURRENT}/bad.py:5: the current edition imports the draft_2017 edition "
        "(bgfetch.editions.draft_2017)",
        f"{DRAFT}/__init__.py:1: the draft_2017 edition imports the current edition "
        "(bgfetch.editions.current.concepts)",
        f"{DRAFT}/bad.py:1: the draft_2017 edition imports the current edition "
        "(bgfetch.editions.current.concepts)",
        f"{DRAFT}/bad.py:2: the draft_2017 edition imports the current edition "
        "(bgfetch.editions.current)",
    ]


def test_spec_notes_pointers(tmp_path: Path) -> None:
    edition = '''\
    """A module docstring pointing at SPEC-NOTES.md, "2017-10-12 edition"."""

    # Counted over the requests that have a body: SPEC-NOTES.md.  SN-current-1 is in
    # the next sentence, too late.
    x = 1  # (SPEC-NOTES.md SN-current-2, SN-current-9)
    # A pointer wrapped across lines: SPEC-NOTES.md
    # SN-fetch-1, is fine; and so is SPEC-NOTES.md §current.
    y = "SPEC-NOTES.md §2019"
    '''
    elsewhere = "# bgfetch/resume.py: (SPEC-NOTES.md)\n"
    root = plant(tmp_path, {f"{CURRENT}/bad.py": edition, "bgfetch/resume.py": elsewhere})
    edition = textwrap.dedent(edition)
    no_id = "a SPEC-NOTES pointer without an entry id (SN-...) or a section (§...)"
    assert problems(root) == [
        f"bgfetch/editions/current/bad.py:1: {no_id}",
        f"bgfetch/editions/current/bad.py:3: {no_id}",
        "bgfetch/editions/current/bad.py:5: SN-current-9 is not an entry of SPEC-NOTES.md",
        f"bgfetch/editions/current/bad.py:8: {no_id}",
        f"bgfetch/resume.py:1: {no_id}",
    ]


def test_spec_notes_headings(tmp_path: Path) -> None:
    notes = NOTES.replace("### SN-2017-1. ", "### ") + (
        "### SN-fetch-1. Twice\n### SN-current-3. In the wrong section\n"
    )
    root = plant(tmp_path, {}, notes=notes)
    lines = notes.splitlines()
    assert problems(root) == [
        f"SPEC-NOTES.md:{lines.index('### Attempt a background fetch, step 6.7') + 1}: "
        "an entry without an id",
        f"SPEC-NOTES.md:{len(lines) - 1}: SN-fetch-1 is used twice",
        f"SPEC-NOTES.md:{len(lines)}: SN-current-3 is not in its section",
    ]


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = '"""#no-such-anchor"""\n'
    root = plant(tmp_path, {f"{CURRENT}/bad.py": source})
    assert spec_lint.main([str(root)]) == 1
    assert capsys.readouterr().out == (
        f"{CURRENT}/bad.py:1: #no-such-anchor is not an anchor of the current spec text "
        "(specs/background-fetch-current.bs)\n"
    )


def test_the_repository_passes() -> None:
    """The real tree: every anchor, step comment, observed step and SPEC-NOTES pointer
    of bgfetch/ is right (`make lint` runs the same)."""
    assert problems(ROOT) == []
