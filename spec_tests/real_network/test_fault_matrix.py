"""The fault matrix, written once and run on both networks: the virtual network (in
MockClock time) and real loopback sockets over TLS (in real time).

Each scenario scripts the origin server (delay, throttle, a cut after N bytes, no
Range support, an ETag that changes between attempts, content codings, going
offline) and checks what the background fetch stored and what went over the wire.
Real-time budgets: bodies of a few KiB, delays of tens of milliseconds.
"""

from __future__ import annotations

import gzip

import pytest
import trio
from real_network_support import run_background_fetch

from bgfetch import Request
from bgfetch.fetch.fetching import Fetcher
from bgfetch.fetch.request import InternalRequest
from bgfetch.url import parse_url

BODY = bytes(range(256)) * 32  # 8 KiB, every offset distinguishable
CUT = 3000
NEW_BODY = bytes(reversed(BODY))


async def fetch_one(net, path: str, **options):
    return await run_background_fetch(net.ua, net.page, path, timeout=60, **options)


def ranges(net, path: str) -> list[tuple[str | None, str | None]]:
    """(Range, If-Range) of each request the server received for *path*."""
    return [(r.header("range"), r.header("if-range")) for r in net.server.requests_for(path)]


async def test_delay(net, clock):
    net.server.add("/slow.bin", BODY, delay=0.05)
    start = trio.current_time()
    outcome = await fetch_one(net, "/slow.bin")
    assert outcome.record("/slow.bin").body == BODY
    assert trio.current_time() - start >= 0.05
    assert outcome.downloaded == len(BODY)


async def test_throttle_shows_progress(net, clock):
    net.server.add("/throttled.bin", BODY, throttle=40_000)  # about 0.2 s
    progress: list[int] = []

    async def watch(registration):
        registration.add_event_listener(
            "progress", lambda event: progress.append(registration.downloaded)
        )

    outcome = await fetch_one(net, "/throttled.bin", while_running=watch)
    assert outcome.record("/throttled.bin").body == BODY
    partial = [d for d in progress if 0 < d < len(BODY)]
    assert len(partial) >= 2 and partial == sorted(partial)


@pytest.mark.parametrize(
    ("validator", "value"),
    [("etag", '"v1"'), ("last_modified", "Mon, 01 Jan 2024 00:00:00 GMT"), (None, None)],
)
async def test_cut_then_resume_with_range_and_if_range(net, clock, validator, value):
    resource = net.server.add("/cut.bin", BODY, cut_after=CUT)
    if validator is not None:
        setattr(resource, validator, value)
    outcome = await fetch_one(net, "/cut.bin")
    assert (outcome.event, outcome.record("/cut.bin").body) == ("backgroundfetchsuccess", BODY)
    assert outcome.downloaded == len(BODY)
    assert ranges(net, "/cut.bin") == [(None, None), (f"bytes={CUT}-", value)]
    resumed = net.server.requests_for("/cut.bin")[1]
    assert resumed.header("accept-encoding") == "identity"
    first = net.server.requests_for("/cut.bin")[0]
    assert "gzip" in (first.header("accept-encoding") or "")


async def test_cut_without_range_support_restarts_the_record(net, clock):
    """A 200 answer to the Range request: the old response is "redundant", the record
    starts over, and `downloaded` counts the new bytes only."""
    net.server.add("/no-ranges.bin", BODY, cut_after=CUT, ranges=False, etag='"v1"')
    outcome = await fetch_one(net, "/no-ranges.bin")
    record = outcome.record("/no-ranges.bin")
    assert (record.status, record.body) == (200, BODY)
    assert outcome.downloaded == len(BODY)
    assert ranges(net, "/no-ranges.bin") == [(None, None), (f"bytes={CUT}-", '"v1"')]


async def test_etag_change_between_attempts_restarts_with_the_new_body(net, clock):
    """If-Range with the old ETag: a compliant server answers 200 with the new version."""

    def change(resource):
        resource.etag, resource.body = '"v2"', NEW_BODY

    net.server.add("/changing.bin", BODY, cut_after=CUT, etag='"v1"', on_cut=change)
    outcome = await fetch_one(net, "/changing.bin")
    record = outcome.record("/changing.bin")
    assert (record.status, record.body, record.header("ETag")) == (200, NEW_BODY, '"v2"')
    assert outcome.downloaded == len(NEW_BODY)
    assert ranges(net, "/changing.bin") == [(None, None), (f"bytes={CUT}-", '"v1"')]


async def test_etag_change_with_a_server_ignoring_if_range_is_a_fetch_error(net, clock):
    """The 206 carries the new ETag: "validate a partial response" says invalid."""

    def change(resource):
        resource.etag, resource.body = '"v2"', NEW_BODY

    net.server.add(
        "/splice.bin", BODY, cut_after=CUT, etag='"v1"', on_cut=change, honour_if_range=False
    )
    outcome = await fetch_one(net, "/splice.bin")
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert [r.header("range") for r in net.server.requests_for("/splice.bin")] == [
        None,
        f"bytes={CUT}-",
    ]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_content_codings_are_decoded_and_counted_decoded(net, clock, encoding):
    text = b"Background Fetch " * 500  # compresses well
    net.server.add("/text.txt", text, encoding=encoding)
    outcome = await fetch_one(net, "/text.txt")
    record = outcome.record("/text.txt")
    assert (record.body, record.header("Content-Encoding")) == (text, encoding)
    assert outcome.downloaded == len(text)


async def test_a_cut_gzip_body_resumes_from_the_decoded_length(net, clock):
    """The first response is gzip; what was stored is decoded bytes, so the resume asks
    for identity bytes from that decoded length."""
    text = bytes(range(256)) * 64  # 16 KiB that gzip cannot shrink much
    cut = len(gzip.compress(text, mtime=0)) // 2
    net.server.add("/text.bin", text, encoding="gzip", cut_after=cut, etag='"t1"')
    outcome = await fetch_one(net, "/text.bin")
    assert outcome.record("/text.bin").body == text
    first, resumed = net.server.requests_for("/text.bin")
    stored_before = int(resumed.header("range").removeprefix("bytes=").removesuffix("-"))
    assert 0 < stored_before < len(text)
    assert (resumed.header("accept-encoding"), resumed.header("if-range")) == ("identity", '"t1"')
    assert outcome.downloaded == len(text)


async def test_going_offline_mid_download_waits_and_resumes(net, clock):
    """The user agent's online state: GET resources are "temporarily unavailable", the
    fetch waits, and resumes with a Range request when back online."""
    net.server.add("/long.bin", BODY, throttle=20_000, etag='"v1"')  # about 0.4 s
    network = net.ua.network
    went_offline = []

    async def go_offline_and_back(registration):
        started = trio.Event()
        registration.add_event_listener(
            "progress", lambda event: registration.downloaded > 0 and started.set()
        )
        await started.wait()
        network.set_online(False)
        went_offline.append(registration.downloaded)
        await trio.sleep(0.1)
        assert registration.result == ""  # still waiting, not failed
        network.set_online(True)

    outcome = await fetch_one(net, "/long.bin", while_running=go_offline_and_back)
    assert (outcome.event, outcome.record("/long.bin").body) == ("backgroundfetchsuccess", BODY)
    assert 0 < went_offline[0] < len(BODY)
    resumed = net.server.requests_for("/long.bin")[-1]
    assert resumed.header("range") is not None and resumed.header("if-range") == '"v1"'


async def test_offline_before_the_fetch_starts_waits_until_online(net, clock):
    net.server.add("/later.bin", BODY)
    network = net.ua.network
    network.set_online(False)

    async def back_online(registration):
        await trio.sleep(0.05)
        assert registration.result == "" and net.server.requests == []
        network.set_online(True)

    outcome = await fetch_one(net, "/later.bin", while_running=back_online)
    assert outcome.record("/later.bin").body == BODY


async def test_a_kept_alive_connection_the_server_closed_is_retried_once(net, clock):
    """The first response leaves the connection in the pool, but the server closes it
    unannounced; the next request fails on it before any response byte and is retried
    on a fresh connection."""
    net.server.add("/first.txt", b"one", close_after=True)
    net.server.add("/second.txt", b"two")
    fetcher: Fetcher = net.ua.fetcher
    bodies = []
    for path in ("/first.txt", "/second.txt"):
        request = InternalRequest(url=parse_url(net.url(path)))
        async with fetcher.fetch(request) as fetched:
            assert fetched.response.status == 200 and fetched.body is not None
            bodies.append(b"".join([chunk async for chunk in fetched.body]))
        await trio.sleep(0.05)  # the server's close reaches the client
    assert bodies == [b"one", b"two"]
    assert net.ua.network.connections_opened == 2
    assert [r.path for r in net.server.requests] == ["/first.txt", "/second.txt"]


async def test_an_upload_retried_on_a_fresh_connection_reports_monotonic_progress(net, clock):
    net.server.add("/first.txt", b"one", close_after=True)
    net.server.add_echo("/upload")
    fetcher: Fetcher = net.ua.fetcher
    request = InternalRequest(url=parse_url(net.url("/first.txt")))
    async with fetcher.fetch(request) as fetched:
        assert fetched.body is not None
        assert b"".join([chunk async for chunk in fetched.body]) == b"one"
    await trio.sleep(0.05)
    payload = bytes(200_000)
    upload = Request(net.url("/upload"), method="POST", body=payload).request
    upload.header_list.set("Content-Type", "application/octet-stream")
    reported: list[int] = []
    async with fetcher.fetch(
        upload, process_request_body=lambda: reported.append(upload.body.transmitted_bytes)
    ) as fetched:
        assert fetched.response.status == 200 and fetched.body is not None
        assert b"".join([chunk async for chunk in fetched.body]) == payload
    assert reported == sorted(reported) and reported[-1] == len(payload)
    assert net.ua.network.connections_opened == 2  # the upload went again, on a new one
    assert [r.path for r in net.server.requests] == ["/first.txt", "/upload"]
