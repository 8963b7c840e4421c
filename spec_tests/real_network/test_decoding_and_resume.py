"""Content decoding and resuming, on real loopback sockets, beyond the fault matrix:
framing, unsupported codings, what a Range request sends, resuming a cross-origin
(CORS) response, and a 206 that fails "validate a partial response"."""

from __future__ import annotations

import pytest
from real_network_support import run_background_fetch

from bgfetch import Request

TEXT = b"Background Fetch " * 300
BODY = bytes(range(256)) * 16


@pytest.mark.parametrize("framing", ["content-length", "chunked", "close"])
async def test_gzip_over_each_framing(real_ua, loopback, framing):
    loopback.server.add("/text.txt", TEXT, encoding="gzip", framing=framing)
    outcome = await run_background_fetch(real_ua, loopback.url(), "/text.txt")
    assert outcome.record("/text.txt").body == TEXT
    assert outcome.downloaded == len(TEXT)


async def test_an_unsupported_coding_is_stored_as_sent(real_ua, loopback):
    """Fetch's "handle content codings": codings it does not support leave the bytes."""
    loopback.server.add("/odd.bin", BODY, headers=[("Content-Encoding", "x-custom")])
    outcome = await run_background_fetch(real_ua, loopback.url(), "/odd.bin")
    assert outcome.record("/odd.bin").body == BODY


async def test_a_page_cannot_choose_the_content_coding(real_ua, loopback):
    """`Accept-Encoding` is a forbidden request-header (Fetch): the Request's headers
    drop the page's `identity`, the user agent asks for what it decodes, and the page
    reads the decoded body."""
    loopback.server.add("/text.txt", TEXT, encoding="gzip")
    request = Request(loopback.url(path="/text.txt"), headers={"Accept-Encoding": "identity"})
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    record = outcome.record("/text.txt")
    assert (record.body, record.header("Content-Encoding")) == (TEXT, "gzip")
    (sent,) = loopback.server.requests_for("/text.txt")
    assert "identity" not in (sent.header("accept-encoding") or "")


async def test_a_resumed_cross_origin_response_is_validated_on_its_internal_headers(
    real_ua, loopback
):
    """A CORS response hides Content-Range and ETag; resuming still validates the 206
    against the unfiltered headers (SPEC-NOTES.md, "Fetch integration") and needs no
    preflight: Range `bytes=N-` is safelisted and If-Range is added below CORS."""
    loopback.server.add("/shared.bin", BODY, cors="*", cut_after=1000, etag='"s1"')
    url = loopback.url("https", "localhost", "/shared.bin")
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    record = outcome.record(url)
    assert (record.type, record.body) == ("cors", BODY)
    assert record.header("ETag") is None and record.header("Content-Range") is None
    requests = loopback.server.requests_for("/shared.bin")
    assert [(r.method, r.header("range"), r.header("if-range")) for r in requests] == [
        ("GET", None, None),
        ("GET", "bytes=1000-", '"s1"'),
    ]


async def test_a_206_for_the_wrong_range_is_a_fetch_error(real_ua, loopback):
    """A server that answers every request with the same 206 (bytes 0-99): the resume
    from 100 gets a 206 starting at 0, which "validate a partial response" rejects."""
    part = BODY[:100]
    loopback.server.add(
        "/part.bin",
        part,
        status=206,
        ranges=False,
        cut_after=50,
        headers=[("Content-Range", f"bytes 0-99/{len(BODY)}")],
    )
    outcome = await run_background_fetch(real_ua, loopback.url(), "/part.bin")
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert [r.header("range") for r in loopback.server.requests_for("/part.bin")] == [
        None,
        "bytes=50-",
    ]
