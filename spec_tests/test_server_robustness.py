"""Nothing a server sends takes the user agent down (issue 9, the server side).

One regression test per class of hostile answer, under both editions: the background
fetch ends in the spec's outcome (a result and failure reason), no exception escapes
the user agent, the user agent asks a bounded number of times, and no connection is
left open.  The policies these tests pin are SPEC-NOTES.md's SN-fetch-7 and after.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import random
import tracemalloc
from collections.abc import Iterator
from typing import Any

import brotli
import pytest
import trio

import bgfetch
from bgfetch.testing import (
    OriginServer,
    Resource,
    SeenEvent,
    WorkerRecorder,
    open_window_with_worker,
)

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
    seen = await recorder.settled(id, within=24 * 3600)
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


def partial(first: int, last: int, length: int | str, body: bytes, *fields: bytes) -> bytes:
    """A raw 206 of *body* for `bytes first-last/length`, with *fields*."""
    head = b"HTTP/1.1 206 Partial Content\r\nAccess-Control-Allow-Origin: *\r\n" + b"".join(
        f + b"\r\n" for f in fields
    )
    content_range = f"Content-Range: bytes {first}-{last}/{length}\r\n".encode("latin-1")
    return head + content_range + b"Content-Length: %d\r\n\r\n" % len(body) + body


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
    if user_agent.edition.NAME == "2017-10-12":  # it resumes after a 206 that ends short
        field = ("ETag: " if validator == "etag" else "Last-Modified: ") + value
        server = Answers(
            partial(0, 4999, len(BODY), BODY[:5000], field.encode("latin-1")),
            partial(5000, len(BODY) - 1, len(BODY), BODY[5000:], field.encode("latin-1")),
        )
        origin_server = server.as_origin(user_agent, "/a.bin")
    else:
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


# -- numbers too long for int() ---------------------------------------------------------

HUGE = "9" * 5000  # Python's int() refuses more than 4300 digits


def answer_the_resume_with(
    ua: bgfetch.UserAgent,
    origin_server: OriginServer,
    status: int,
    content_range: str,
    body: bytes = b"",
) -> Any:
    """/a.bin: cut after 5000 bytes (2017-10-12: a 206 of the first 5000, which it
    resumes, where it abandons a cut: SPEC-NOTES.md SN-2017-3); the resume is answered
    with *status* and *content_range* (and *body*), whatever it asks.  Returns what
    counts the requests (``requests_for``)."""
    if ua.edition.NAME == "2017-10-12":
        reason = {206: b"Partial Content", 416: b"Range Not Satisfiable"}[status]
        resume = (
            b"HTTP/1.1 %d %s\r\nAccess-Control-Allow-Origin: *\r\n" % (status, reason)
            + f"Content-Range: {content_range}\r\n".encode("latin-1")
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        server = Answers(partial(0, 4999, len(BODY), BODY[:5000]), resume)
        return server.as_origin(ua, "/a.bin")

    def change(resource: Resource) -> None:
        resource.status, resource.ranges, resource.body = status, False, body
        resource.headers = [("Content-Range", content_range)]

    origin_server.add("/a.bin", BODY, cut_after=5000, on_cut=change)
    return origin_server


@both
@pins(
    ("#validate-partial-response-algorithm", "2"),
    ("#attempt-a-background-fetch-algorithm", "6.8"),
)
@pytest.mark.step("#extract-content-range-values-algorithm", "4", "5", "7", edition="current")
@pytest.mark.parametrize(
    "content_range",
    [f"bytes {HUGE}-16383/16384", f"bytes 5000-{HUGE}/16384", f"bytes 5000-16383/{HUGE}"],
    ids=["first", "last", "complete"],
)
async def test_a_206_with_a_huge_number_is_invalid(
    user_agent, origin_server, bgfetch_edition, content_range
):
    """Content-Range numbers of more than 4300 digits do not parse: the partial response is
    invalid (SPEC-NOTES.md SN-fetch-8)."""
    server = answer_the_resume_with(user_agent, origin_server, 206, content_range, BODY[5000:])
    seen, bg = await background_fetch(user_agent, "/a.bin")
    assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")
    assert len(server.requests_for("/a.bin")) == 2


@both
@pins(
    ("#complete-a-record-algorithm", "process response 3"),
    ("#attempt-a-background-fetch-algorithm", "6.8"),
)
async def test_a_416_with_a_huge_complete_length_does_not_complete_the_record(
    user_agent, origin_server, bgfetch_edition
):
    """`bytes */N` with a 5000-digit N never says the stored bytes are complete
    (SPEC-NOTES.md SN-current-12, SN-fetch-8): the 416 is the response."""
    server = answer_the_resume_with(user_agent, origin_server, 416, f"bytes */{HUGE}")
    seen, bg = await background_fetch(user_agent, "/a.bin")
    # A 416 is a status that is not ok (2017-10-12: filled from 4a2cc52, SN-2017-9).
    assert outcome(seen, bg) == failed(bgfetch_edition, "bad-status")
    assert len(server.requests_for("/a.bin")) == 2


@both
@pins(
    ("#complete-a-record-algorithm", "process response 1.2"),
    ("#attempt-a-background-fetch-algorithm", "6.7.1"),
)
async def test_a_huge_content_length_is_a_network_error(
    user_agent, virtual_network, bgfetch_edition
):
    virtual_network.serve(
        "https://other.test",
        RawServer(OK_CORS + b"Content-Length: " + HUGE.encode() + b"\r\n\r\nhello"),
    )
    seen, bg = await background_fetch(user_agent, "https://other.test/a")
    assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")


@both
@pytest.mark.step("#background-fetch-manager-fetch", edition="current")
async def test_a_csp_port_too_long_for_int_matches_nothing(
    user_agent, origin_server, bgfetch_edition
):
    """A connect-src source with a 5000-digit port matches no URL (SPEC-NOTES.md
    SN-fetch-8, SN-fetch-2): the record fails, the user agent goes on."""
    origin_server.add("/a.txt", "hi")
    recorder = WorkerRecorder.for_edition(user_agent)
    window = await user_agent.open_window(
        f"{ORIGIN}/", csp=f"connect-src https://example.test:{HUGE}"
    )
    await window.navigator.service_worker.register(recorder.worker, scope="/")
    registration = await window.navigator.service_worker.ready
    bg = await registration.background_fetch.fetch("csp", "/a.txt")
    seen = await recorder.settled("csp")
    assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")
    assert origin_server.requests_for("/a.txt") == []


@both
async def test_a_page_range_header_with_a_huge_number(user_agent, origin_server, bgfetch_edition):
    """The origin server (a test's) ignores a range it cannot hold and answers 200."""
    origin_server.add("/a.bin", BODY)
    request = bgfetch.Request(f"{ORIGIN}/a.bin", headers={"Range": f"bytes={HUGE}-"})
    seen, bg = await background_fetch(user_agent, [request])
    assert outcome(seen, bg) == "success"
    assert seen.responses[0].body == BODY


OK_CORS = b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\n"
"""The start of a 200 the page at ORIGIN may read from another origin."""


class RawServer:
    """Answers each request with bytes of its choosing: *answer* (the same for every
    request) or ``answer_for(target)``; ``pieces`` splits each answer into writes of
    that many bytes.  Counts requests, and connections in ``connections``."""

    def __init__(self, answer: bytes = b"", *, pieces: int | None = None) -> None:
        self.answer = answer
        self.pieces = pieces
        self.requests: list[tuple[int, str]] = []  # (connection number, target)
        self.heads: list[bytes] = []  # each request's head
        self.connections = 0

    async def answer_for(self, target: str, stream: trio.abc.Stream) -> None:
        await self.send(stream, self.answer)

    async def send(self, stream: trio.abc.Stream, data: bytes) -> None:
        step = self.pieces or max(1, len(data))
        for start in range(0, len(data), step):
            await stream.send_all(data[start : start + step])

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        self.connections += 1
        number = self.connections
        received = b""
        try:
            while True:
                while b"\r\n\r\n" not in received:
                    data = await stream.receive_some()
                    if not data:
                        return
                    received += data
                head, _, received = received.partition(b"\r\n\r\n")
                target = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
                self.requests.append((number, target))
                self.heads.append(head)
                await self.answer_for(target, stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await stream.aclose()


class ReceivedHead:
    """A request head as :class:`RawServer` received it: ``header(name)``, as Latin-1."""

    def __init__(self, head: bytes) -> None:
        self.fields = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            self.fields[name.strip(" \t").lower()] = value.strip(" \t")

    def header(self, name: str) -> str | None:
        return self.fields.get(name.lower())


class Answers(RawServer):
    """Answers the first request with the first of *answers*, the next with the next (the
    last for any after), on a connection that then closes."""

    def __init__(self, *answers: bytes) -> None:
        super().__init__()
        self.answers = answers

    async def answer_for(self, target: str, stream: trio.abc.Stream) -> None:
        await self.send(stream, self.answers[min(len(self.requests), len(self.answers)) - 1])
        await stream.aclose()

    def requests_for(self, target: str) -> list[ReceivedHead]:
        return [
            ReceivedHead(head)
            for (_, t), head in zip(self.requests, self.heads, strict=True)
            if t == target
        ]

    def as_origin(self, ua: bgfetch.UserAgent, target: str) -> Answers:
        """Serve ORIGIN (instead of the test's OriginServer)."""
        ua.network.serve(ORIGIN, self)  # type: ignore[attr-defined]
        return self


def test_parse_decimal_is_exact_up_to_4300_digits_and_fails_beyond():
    from bgfetch.fetch.numbers import parse_decimal

    assert parse_decimal("0" * 5000 + "42") == 42  # leading zeros do not count
    assert parse_decimal("9" * 4300) == 10**4300 - 1
    assert parse_decimal("1" + "0" * 4300) is None
    assert parse_decimal("0") == 0


# -- decompression bombs ---------------------------------------------------------------

MiB = 1024 * 1024


@functools.cache
def gzip_bomb(decoded: int = 1024 * MiB) -> bytes:
    """`Content-Encoding: gzip, gzip`: about 2 KiB that decode to *decoded* zero bytes
    (gzip members of 16 MiB of zeros, one after the other, gzipped again)."""
    member = gzip.compress(bytes(16 * MiB), compresslevel=9, mtime=0)
    return gzip.compress(member * (decoded // (16 * MiB)), compresslevel=9, mtime=0)


@functools.cache
def br_bomb(decoded: int = 128 * MiB) -> bytes:
    compressor = brotli.Compressor(quality=1)
    zeros = bytes(16 * MiB)
    return b"".join(compressor.process(zeros) for _ in range(decoded // len(zeros))) + (
        compressor.finish()
    )


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of Python's allocations within the block (tracemalloc), in bytes."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


@both
@pins(
    ("#complete-a-record-algorithm", "process response 6.3"),
    ("#attempt-a-background-fetch-algorithm", "6.8.3.1"),
)
@pytest.mark.parametrize("coding", ["gzip, gzip", "br"])
async def test_a_decompression_bomb_meets_the_quota_a_chunk_at_a_time(
    user_agent, origin_server, bgfetch_edition, coding
):
    """Decoding gives bounded chunks, each counted against the quota before the next is
    decoded: a bomb of 1 GiB (gzip, gzip) or 128 MiB (br) stops at a 1 MiB quota
    without ever holding much more (SPEC-NOTES.md SN-fetch-9)."""
    bomb = gzip_bomb() if coding == "gzip, gzip" else br_bomb()
    origin_server.add("/bomb", bomb, headers=[("Content-Encoding", coding)])
    user_agent.store.quota = 1 * MiB
    with peak_memory() as peak:
        seen, bg = await background_fetch(user_agent, "/bomb")
    assert outcome(seen, bg) == failed(bgfetch_edition, "quota-exceeded")
    assert peak[0] < 24 * MiB
    assert len(origin_server.requests_for("/bomb")) == 1


@pytest.mark.step("#complete-a-record-algorithm", "process response 6.1")
async def test_a_decompression_bomb_meets_the_download_total_a_chunk_at_a_time(
    user_agent, origin_server
):
    origin_server.add("/bomb", gzip_bomb(), headers=[("Content-Encoding", "gzip, gzip")])
    with peak_memory() as peak:
        seen, bg = await background_fetch(user_agent, "/bomb", download_total=1 * MiB)
    assert outcome(seen, bg) == "download-total-exceeded"
    assert bg.downloaded <= 1 * MiB
    assert peak[0] < 24 * MiB


@both
@pytest.mark.step("#background-fetch-manager-fetch", edition="current")
async def test_a_preflight_body_is_never_decoded(user_agent, virtual_network, bgfetch_edition):
    """A cross-origin server that never grants CORS answers the preflight with a bomb: the
    body nobody reads is dropped as received, never decoded (SPEC-NOTES.md SN-fetch-9)."""
    other = OriginServer()
    other.add("/x", gzip_bomb(), headers=[("Content-Encoding", "gzip, gzip")])
    virtual_network.serve("https://other.test", other)
    request = bgfetch.Request("https://other.test/x", headers={"X-Needs": "preflight"})
    with peak_memory() as peak:
        seen, bg = await background_fetch(user_agent, [request])
    assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")
    assert [r.method for r in other.requests] == ["OPTIONS"]
    assert peak[0] < 24 * MiB


@both
async def test_more_codings_than_supported_pass_through_undecoded(user_agent, origin_server):
    """Nine or more codings are not supported (each decoder holds a window): the body is
    the bytes as sent, as Fetch says of unsupported codings (SPEC-NOTES.md SN-fetch-9)."""
    origin_server.add("/many", b"as sent", headers=[("Content-Encoding", ", ".join(["gzip"] * 9))])
    seen, bg = await background_fetch(user_agent, "/many")
    assert outcome(seen, bg) == "success"
    assert seen.responses[0].body == b"as sent"


# -- connections: bytes past the end, heads, closing -------------------------------


class Smuggler(RawServer):
    """/first's answer carries a second response after its Content-Length's worth of
    body (at once, or a second later): a connection that went back to the pool would
    give it to the next request as its response."""

    def __init__(self, later: bool) -> None:
        super().__init__()
        self.later = later

    async def answer_for(self, target: str, stream: trio.abc.Stream) -> None:
        if target == "/first":
            await stream.send_all(OK_CORS + b"Content-Length: 5\r\n\r\nfirst")
            if self.later:
                await trio.sleep(1)
            await stream.send_all(OK_CORS + b"Content-Length: 4\r\n\r\nevil")
        else:
            await stream.send_all(OK_CORS + b"Content-Length: 4\r\n\r\ngood")


@both
@pytest.mark.parametrize("later", [False, True], ids=["together", "later"])
async def test_bytes_past_the_content_length_close_the_connection(
    user_agent, virtual_network, later
):
    """More bytes than `Content-Length` (with the response, or while the connection is
    idle): the connection is closed, never reused (SPEC-NOTES.md SN-fetch-10)."""
    server = Smuggler(later)
    virtual_network.serve("https://other.test", server)
    recorder = WorkerRecorder.for_edition(user_agent)
    _, registration = await open_window_with_worker(user_agent, recorder, f"{ORIGIN}/")
    await registration.background_fetch.fetch("one", "https://other.test/first")
    first = await recorder.settled("one")
    await trio.sleep(5)
    await registration.background_fetch.fetch("two", "https://other.test/second")
    second = await recorder.settled("two")
    assert first.responses[0].body == b"first"
    assert second.responses[0].body == b"good"
    assert server.requests == [(1, "/first"), (2, "/second")]
    await trio.sleep(5)
    assert user_agent.pool.idle_connections <= 1


def big_head(size: int) -> bytes:
    """A 200 response whose head (status line to blank line) is exactly *size* bytes."""
    start = OK_CORS + b"Content-Length: 2\r\n"
    filler = size - len(start) - len(b"X-Filler: \r\n\r\n")
    return start + b"X-Filler: " + b"f" * filler + b"\r\n\r\nok"


@both
@pins(
    ("#complete-a-record-algorithm", "process response 1.2"),
    ("#attempt-a-background-fetch-algorithm", "6.7.1"),
)
@pytest.mark.parametrize("pieces", [None, 1000], ids=["at-once", "in-pieces"])
@pytest.mark.parametrize("size", [200 * 1024, 256 * 1024, 256 * 1024 + 1, 300 * 1024])
async def test_a_response_head_above_256_kib_fails_however_it_arrives(
    user_agent, virtual_network, bgfetch_edition, pieces, size
):
    """Heads up to 256 KiB are read, larger ones are a network error, whether the
    bytes come at once or a thousand at a time (SPEC-NOTES.md SN-fetch-10)."""
    virtual_network.serve("https://other.test", RawServer(big_head(size), pieces=pieces))
    seen, bg = await background_fetch(user_agent, "https://other.test/a")
    if size <= 256 * 1024:
        assert outcome(seen, bg) == "success"
        assert seen.responses[0].body == b"ok"
    else:
        assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")


@both
async def test_user_agents_closed_mid_download_leave_no_connection(
    virtual_network, bgfetch_edition
):
    """A connection whose exchange ends while the user agent closes is closed, not put
    back in the emptied pool: 40 user agents closed at random moments of their
    downloads leave no connection open."""
    server = OriginServer()
    for index in range(8):
        server.add(f"/{index}", BODY[: 1000 * (index + 1)], throttle=20_000 * (index + 1))
    virtual_network.serve(ORIGIN, server)
    randomness = random.Random(9)
    for _ in range(40):
        async with bgfetch.open_user_agent(network=virtual_network, edition=bgfetch_edition) as ua:
            _, registration = await open_window_with_worker(ua, WorkerRecorder.for_edition(ua))
            await registration.background_fetch.fetch("x", [f"/{i}" for i in range(8)])
            await trio.sleep(randomness.uniform(0, 0.5))
        assert virtual_network.open_connections == 0


@both
async def test_an_exchange_ending_after_the_pool_closed_closes_its_connection(
    user_agent, origin_server, virtual_network
):
    """The user agent closes its pool first, then cancels its tasks: an exchange that ends
    in between closes its connection instead of putting it back in the emptied pool."""
    origin_server.add("/slow", BODY, throttle=len(BODY) / 2)  # two seconds
    recorder = WorkerRecorder.for_edition(user_agent)
    _, registration = await open_window_with_worker(user_agent, recorder, f"{ORIGIN}/")
    await registration.background_fetch.fetch("slow", "/slow")
    await trio.sleep(1)
    assert virtual_network.open_connections == 1
    await user_agent.pool.close()  # what closing the user agent does first
    await trio.sleep(5)  # the body ends
    assert user_agent.pool.idle_connections == 0
    assert virtual_network.open_connections == 0


@both
@pins(CURRENT_BYTES[:1] + ("process response 8.2",), DRAFT_BYTES[:1] + ("6.8.5.2",))
async def test_a_body_that_does_not_decode_is_not_resumed(
    user_agent, origin_server, bgfetch_edition
):
    """A decoding error is a network error that fetching again cannot fix: the record
    fails at once, with one request, instead of resuming 15 times (SPEC-NOTES.md
    SN-fetch-9, SN-current-11)."""
    broken = gzip.compress(BODY * 4)[:300] + b"not gzip at all" * 100
    origin_server.add("/broken", broken, headers=[("Content-Encoding", "gzip")])
    seen, bg = await background_fetch(user_agent, "/broken")
    assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")
    assert len(origin_server.requests_for("/broken")) == 1


# -- servers that stall ----------------------------------------------------------------


class Staller(RawServer):
    """Answers with *before* then goes quiet for ever, keeping the connection open, on
    the first *stalls* requests; then answers with *after*.  ``trickle``: *before* goes
    out one byte every that many seconds."""

    def __init__(
        self, before: bytes, after: bytes = b"", *, stalls: int = 1, trickle: float = 0
    ) -> None:
        super().__init__()
        self.before, self.after, self.stalls, self.trickle = before, after, stalls, trickle

    async def answer_for(self, target: str, stream: trio.abc.Stream) -> None:
        if len(self.requests) > self.stalls:
            await stream.send_all(self.after)
            return
        for index in range(len(self.before)):
            if self.trickle:
                await trio.sleep(self.trickle)
            await stream.send_all(self.before[index : index + 1])
        await trio.sleep_forever()


STALL = 300  # bgfetch.resume.STALL_TIMEOUT


@both
@pins(
    ("#complete-a-record-algorithm", "process response 1.2"),
    ("#attempt-a-background-fetch-algorithm", "6.7.1"),
)
@pytest.mark.parametrize("trickle", [0, 10], ids=["silent", "trickled-head"])
async def test_a_head_that_never_comes_is_a_network_error_after_the_stall_timeout(
    user_agent, virtual_network, bgfetch_edition, trickle
):
    """No head within 300 s of the request (nothing at all, or a head trickled a byte
    every 10 s): a network error (SPEC-NOTES.md SN-fetch-11), asked once."""
    server = Staller(OK_CORS + b"X-Slow: " + b"s" * 100 + b"\r\n", trickle=trickle)
    virtual_network.serve("https://other.test", server)
    start = trio.current_time()
    seen, bg = await background_fetch(user_agent, "https://other.test/a")
    assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")
    assert STALL <= trio.current_time() - start < STALL + 5
    assert len(server.requests) == 1


@both
@pins(("#complete-a-record-algorithm", "process response 8.1"), DRAFT_BYTES[:1] + ("6.8.5.2",))
async def test_a_body_that_stops_coming_is_a_cut_after_the_stall_timeout(
    user_agent, virtual_network, bgfetch_edition
):
    """The body stops for good mid-way: after 300 s without a byte the connection is cut,
    and the record resumes with a range request (SPEC-NOTES.md SN-fetch-11, SN-current-11);
    the 2017-10-12 draft abandons a cut body (SN-2017-3)."""
    body = BODY[:4000]
    head = OK_CORS + b'ETag: "v1"\r\nContent-Length: 4000\r\n\r\n'
    rest = (
        b"HTTP/1.1 206 Partial Content\r\nAccess-Control-Allow-Origin: *\r\n"
        b'ETag: "v1"\r\nContent-Range: bytes 1000-3999/4000\r\nContent-Length: 3000\r\n\r\n'
        + body[1000:]
    )
    server = Staller(head + body[:1000], rest)
    virtual_network.serve("https://other.test", server)
    start = trio.current_time()
    seen, bg = await background_fetch(user_agent, "https://other.test/a")
    if bgfetch_edition == "2017-10-12":
        assert outcome(seen, bg) == "failure" and len(server.requests) == 1
        assert STALL <= trio.current_time() - start < STALL + 5
        return
    assert outcome(seen, bg) == "success"
    assert seen.responses[0].body == body
    assert len(server.requests) == 2


@both
async def test_a_body_trickled_slower_than_the_stall_timeout_is_not_cut(
    user_agent, virtual_network
):
    """A byte every 200 s is slow, not stalled: the policy cuts silence, not slowness
    (the user sees the progress and can cancel; SPEC-NOTES.md SN-fetch-11)."""
    head = OK_CORS + b"Content-Length: 20\r\n\r\n"
    server = Staller(b"", trickle=0)
    virtual_network.serve("https://other.test", server)

    async def trickle(target: str, stream: trio.abc.Stream) -> None:
        await stream.send_all(head)
        for byte in range(20):
            await trio.sleep(200)
            await stream.send_all(bytes([65 + byte]))

    server.answer_for = trickle  # type: ignore[method-assign]
    seen, bg = await background_fetch(user_agent, "https://other.test/a")
    assert outcome(seen, bg) == "success"
    assert seen.responses[0].body == bytes(range(65, 85))
    assert len(server.requests) == 1


@both
async def test_an_upload_nobody_reads_stalls(user_agent, virtual_network, bgfetch_edition):
    """A server that never reads the request body: sending blocks, and after 300 s
    without a byte sent the exchange is a network error (SPEC-NOTES.md SN-fetch-11)."""

    class Deaf:
        async def serve_stream(self, stream: trio.abc.Stream) -> None:
            await trio.sleep_forever()

    virtual_network.serve(ORIGIN, Deaf())
    request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=bytes(2 * MiB))
    seen, bg = await background_fetch(user_agent, [request])
    assert outcome(seen, bg) == failed(bgfetch_edition, "fetch-error")


@both
async def test_the_stall_timeout_can_be_turned_off(bgfetch_edition, autojump_clock):
    network = bgfetch.VirtualNetwork(stall_timeout=None)
    network.serve("https://other.test", Staller(b""))
    network.serve(ORIGIN, OriginServer())
    async with bgfetch.open_user_agent(network=network, edition=bgfetch_edition) as ua:
        assert ua.pool.stall_timeout is None
        recorder = WorkerRecorder.for_edition(ua)
        _, registration = await open_window_with_worker(ua, recorder, f"{ORIGIN}/")
        bg = await registration.background_fetch.fetch("x", "https://other.test/a")
        await trio.sleep(10 * STALL)
        assert recorder.by_id == {}
        await bg.abort()


@pytest.mark.parametrize("length", ["\xb2", "\xb9", "9" * 5000, " 12 "])
def test_the_command_line_progress_reads_any_content_length(length):
    """`bgfetch fetch`'s progress reads a 200's Content-Length, which h11 leaves unchecked
    for a HEAD: superscript digits (obs-text) and numerals too long for int() are no size."""
    from bgfetch.command.progress import _stored_size
    from bgfetch.fetch.headers import HeaderList
    from bgfetch.fetch.response import InternalResponse

    response = InternalResponse(status=200, header_list=HeaderList([("Content-Length", length)]))
    assert _stored_size(response) == (12 if length == " 12 " else None)
