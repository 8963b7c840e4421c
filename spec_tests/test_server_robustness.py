"""Nothing a server sends takes the user agent down (issue 9, the server side).

One regression test per class of hostile answer, under both editions: the background
fetch ends in the spec's outcome (a result and failure reason), no exception escapes
the user agent, the user agent asks a bounded number of times, and no connection is
left open.  The policies these tests pin are SPEC-NOTES.md's SN-fetch-7 and after.
"""

from __future__ import annotations

from typing import Any

import pytest

import bgfetch
from bgfetch.testing import SeenEvent, WorkerRecorder, open_window_with_worker

EDITIONS = ["current", "2017-10-12"]
both = pytest.mark.parametrize("bgfetch_edition", EDITIONS)
ORIGIN = "https://example.test"
BODY = bytes(range(256)) * 64  # 16 KiB, every offset distinguishable

# Where each edition stores a body's bytes and decides what a broken stream means.
CURRENT_BYTES = ("#complete-a-record-algorithm", "process response 6", "process response 8")
DRAFT_BYTES = ("#attempt-a-background-fetch-algorithm", "6.8.3", "6.8.5.2")


def pins(current: tuple[str, ...], draft: tuple[str, ...]) -> Any:
    """The step marks of a test run under both editions: *current*'s and *draft*'s."""

    def mark(test: Any) -> Any:
        test = pytest.mark.step(*current, edition="current")(test)
        return pytest.mark.step(*draft, edition="2017-10-12")(test)

    return mark


async def background_fetch(
    ua: bgfetch.UserAgent, requests: Any, *, id: str = "hostile", **options: Any
) -> tuple[SeenEvent, Any]:
    """Fetch *requests* in the background from a page at ORIGIN; the settled event and
    the BackgroundFetchRegistration."""
    recorder = WorkerRecorder.for_edition(ua)
    _, registration = await open_window_with_worker(ua, recorder, f"{ORIGIN}/")
    bg = await registration.background_fetch.fetch(id, requests, **options)
    seen = await recorder.settled(id, within=3600)
    return seen, bg


def outcome(seen: SeenEvent, bg: Any) -> str:
    """ "success", or the failure reason (current); the event's kind (2017-10-12, which
    has no failure reasons)."""
    if seen.type == "backgroundfetched":
        return "success"
    if seen.type in ("backgroundfetchfail", "backgroundfetchabort") and not hasattr(
        bg, "failure_reason"
    ):
        return "failure"
    return "success" if bg.result == "success" else str(bg.failure_reason)


def failed(edition: str, reason: str) -> str:
    """What :func:`outcome` says for a fetch failing with *reason* in *edition*."""
    return reason if edition == "current" else "failure"


# -- header bytes outside ASCII ------------------------------------------------------


@both
@pins(
    ("#complete-a-record-algorithm", "8", "process response 2.1"),
    ("#attempt-a-background-fetch-algorithm", "6.8.5.2", "6.8"),
)
@pytest.mark.parametrize("validator", ["etag", "last_modified"])
async def test_a_validator_with_obs_text_is_sent_back_byte_for_byte(
    user_agent, origin_server, validator
):
    """RFC 9110 allows obs-text (0x80-0xFF) in a field value; a resume echoes the
    ETag (or Last-Modified) as `If-Range` with the very bytes received
    (SPEC-NOTES.md SN-fetch-7)."""
    value = '"caf\xe9-\xff\x80"' if validator == "etag" else "Mon, 1 Jan 2024 00:00:00 GMT\xa0"
    origin_server.add("/a.bin", BODY, cut_after=5000, **{validator: value})
    seen, bg = await background_fetch(user_agent, "/a.bin")
    assert outcome(seen, bg) == "success"
    assert seen.responses[0].body == BODY
    first, resume = origin_server.requests_for("/a.bin")
    assert resume.header("range") == "bytes=5000-"
    assert resume.header("if-range") == value
    assert seen.responses[0].header("etag" if validator == "etag" else "last-modified") == value


@both
async def test_obs_text_in_any_response_header_is_kept(user_agent, origin_server):
    origin_server.add("/a.txt", "hi", headers=[("X-Name", "J\xfcrgen \x80\xff")])
    seen, bg = await background_fetch(user_agent, "/a.txt")
    assert outcome(seen, bg) == "success"
    assert seen.responses[0].header("x-name") == "J\xfcrgen \x80\xff"
