"""Body iterators left mid-way are closed, by whoever made them.

A body's bytes come from async generators: the HTTP exchange's (ConnectionPool._body),
content decoding's (decode_body), the record's stream from storage (records.py's
_stream_from_storage), a Response's iteration over it, a request body's stream.  A
reader may stop early (break, return, an error, a cancellation); the generator it left
must then be closed at once, not whenever the garbage collector gets to it.  Each test
keeps a reference to the generators it watches, so only that closing can close them.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

import pytest
import trio
import trio.testing

import bgfetch
import bgfetch.editions.current.records as current_records
import bgfetch.editions.draft_2017.records as draft_records
import bgfetch.fetch.fetching as fetching
from bgfetch.errors import NetworkError
from bgfetch.fetch.http import ConnectionPool
from bgfetch.fetch.request import Body, InternalRequest
from bgfetch.testing import WorkerRecorder, open_window_with_worker
from bgfetch.url import parse_url

ORIGIN = "https://example.test"
# Several chunks, and several storage slices (4 of the user agent's slices).
BIG = bytes(range(256)) * (4 * current_records.STREAM_SLICE // 256)
THROTTLE = len(BIG) // 4  # bytes per simulated second: BIG takes 4 s
SUCCESS = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}
STORAGE_STREAMS = {"current": current_records, "2017-10-12": draft_records}


def made_by(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str
) -> list[AsyncGenerator[bytes, None]]:
    """Every async generator *owner.name* makes from now on (kept alive by the list)."""
    made: list[AsyncGenerator[bytes, None]] = []
    original: Callable[..., AsyncGenerator[bytes, None]] = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        generator = original(*args, **kwargs)
        made.append(generator)
        return generator

    monkeypatch.setattr(owner, name, spy)
    return made


def closed(generator: AsyncGenerator[Any, None]) -> bool:
    """Whether *generator* is over: closed or run to its end (no frame left)."""
    return generator.ag_frame is None and not generator.ag_running


def suspended(generator: AsyncGenerator[Any, None]) -> bool:
    """Whether *generator* was started and waits at a yield (not over)."""
    return generator.ag_frame is not None and generator.ag_frame.f_lasti >= 0


def request_for(path: str) -> InternalRequest:
    request = InternalRequest(url=parse_url(f"{ORIGIN}{path}"))
    request.origin = request.url.origin
    return request


# -- the fetch: the exchange's body and the decoded body ----------------------------------


@pytest.mark.parametrize("encoding", [None, "gzip"])
async def test_leaving_a_fetch_after_one_chunk_closes_its_body_iterators(
    user_agent, origin_server, virtual_network, monkeypatch, encoding
):
    raw = made_by(monkeypatch, ConnectionPool, "_body")
    decoded = made_by(monkeypatch, fetching, "decode_body")
    origin_server.add("/big", BIG, throttle=THROTTLE, encoding=encoding)
    async with user_agent.fetcher.fetch(request_for("/big")) as fetched:
        assert fetched.body is not None
        async for _chunk in fetched.body:
            break
        assert suspended(raw[0]) and suspended(decoded[0])  # left mid-way, still open
    # Leaving the fetch's block (terminating the fetch) closed both.
    assert closed(raw[0]) and closed(decoded[0])
    # And the connection with them: the next fetch needs a new one.
    async with user_agent.fetcher.fetch(request_for("/big")) as fetched:
        pass
    assert virtual_network.connections_opened_to(ORIGIN) == 2


async def test_discarding_a_response_closes_its_body_iterators_at_once(
    user_agent, origin_server, monkeypatch
):
    raw = made_by(monkeypatch, ConnectionPool, "_body")
    decoded = made_by(monkeypatch, fetching, "decode_body")
    origin_server.add("/big", BIG, throttle=THROTTLE)
    async with user_agent.fetcher.fetch(request_for("/big")) as fetched:
        assert fetched.body is not None
        async for _chunk in fetched.body:
            break
        await fetched.discard()
        assert closed(raw[0]) and closed(decoded[0])


async def test_a_decoding_error_mid_body_closes_the_exchanges_body(
    user_agent, origin_server, monkeypatch
):
    # Valid gzip at first, then garbage: decode_body raises after the first chunks,
    # leaving the exchange's body at a yield.
    good = zlib.compressobj(wbits=31)
    start = good.compress(BIG[:1000]) + good.flush(zlib.Z_SYNC_FLUSH)
    body = start + b"\xff" * len(BIG)
    raw = made_by(monkeypatch, ConnectionPool, "_body")
    origin_server.add("/bad-gzip", body, throttle=THROTTLE, headers=[("Content-Encoding", "gzip")])
    async with user_agent.fetcher.fetch(request_for("/bad-gzip")) as fetched:
        assert fetched.body is not None
        with pytest.raises(NetworkError, match="decoding"):
            async for _chunk in fetched.body:
                pass
        assert suspended(raw[0])  # the exchange's: closed when the exchange ends
    assert closed(raw[0])


# -- complete a record / attempt a background fetch: storing the body ----------------------


async def fetch_and_settle(ua: bgfetch.UserAgent, edition: str, id: str, **options: Any) -> Any:
    recorder = WorkerRecorder.for_edition(edition)
    _, registration = await open_window_with_worker(ua, recorder)
    await registration.background_fetch.fetch(id, "/big", **options)
    return await recorder.settled(id)


async def test_download_total_exceeded_mid_body_closes_the_body_iterators(
    virtual_network, origin_server, monkeypatch
):
    # #complete-a-record-algorithm 6.1: the stream is cancelled from inside its loop.
    raw = made_by(monkeypatch, ConnectionPool, "_body")
    decoded = made_by(monkeypatch, fetching, "decode_body")
    origin_server.add("/big", BIG, throttle=THROTTLE)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        seen = await fetch_and_settle(ua, "current", "small", download_total=len(BIG) // 2)
        assert seen.failure_reason == "download-total-exceeded"
        assert raw and decoded and all(closed(g) for g in raw + decoded)


@pytest.mark.parametrize("edition", ["current", "2017-10-12"])
async def test_quota_exceeded_mid_body_closes_the_body_iterators(
    virtual_network, origin_server, monkeypatch, edition
):
    # Storing a chunk fails: the loop over the body is left (current 6.3, draft 6.8.3.1).
    raw = made_by(monkeypatch, ConnectionPool, "_body")
    decoded = made_by(monkeypatch, fetching, "decode_body")
    origin_server.add("/big", BIG, throttle=THROTTLE)
    async with bgfetch.open_user_agent(
        network=virtual_network, edition=edition, quota=len(BIG) // 2
    ) as ua:
        seen = await fetch_and_settle(ua, edition, "quota")
        assert seen.type == "backgroundfetchfail"
        assert raw and decoded and all(closed(g) for g in raw + decoded)


@pytest.mark.parametrize("edition", ["current", "2017-10-12"])
async def test_aborting_while_the_body_is_read_closes_the_body_iterators(
    virtual_network, origin_server, monkeypatch, edition
):
    raw = made_by(monkeypatch, ConnectionPool, "_body")
    decoded = made_by(monkeypatch, fetching, "decode_body")
    origin_server.add("/big", BIG, throttle=THROTTLE)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        _, registration = await open_window_with_worker(ua, WorkerRecorder())
        bg = await registration.background_fetch.fetch("abort", "/big")
        await trio.sleep(2)  # half the body is in
        assert raw and not closed(raw[0])  # mid-body
        assert await bg.abort()
        await trio.testing.wait_all_tasks_blocked()
        assert all(closed(g) for g in raw + decoded)


# -- a Response over the record's stored body ----------------------------------------------


# (trio warns of a bare break: the iteration was garbage collected before its end.)
@pytest.mark.filterwarnings("ignore:Async generator .*Response._chunks:ResourceWarning")
@pytest.mark.parametrize("edition", ["current", "2017-10-12"])
@pytest.mark.parametrize("how", ["break", "aclosing"])
async def test_a_listener_reading_one_chunk_of_a_response_closes_its_stream(
    virtual_network, origin_server, monkeypatch, edition, how
):
    """A success handler reads one chunk of a stored body (several storage slices) and
    stops, keeping the Response.  With ``aclosing`` (the reader closes what it opened)
    the stream is closed when its block ends; with a bare ``break`` the iteration is
    closed once dropped (trio's async-generator finalizer), and the Response closes its
    stream with it."""
    streams = made_by(monkeypatch, STORAGE_STREAMS[edition], "_stream_from_storage")
    origin_server.add("/big", BIG)
    kept: list[bgfetch.Response] = []
    first_chunks: list[bytes] = []
    closed_when_the_block_ended: list[bool] = []
    worker = bgfetch.ServiceWorker()

    @worker.on(SUCCESS[edition])
    async def on_success(event: Any) -> None:
        if edition == "current":
            records = await event.registration.match_all()
            response = await records[0].response_ready
        else:
            response = (await event.fetches.values())[0].response
        kept.append(response)
        if how == "aclosing":
            async with aclosing(aiter(response)) as chunks:
                async for chunk in chunks:
                    first_chunks.append(chunk)
                    break
            stream = response._stream
            closed_when_the_block_ended.append(stream is not None and closed(stream))
        else:
            async for chunk in response:
                first_chunks.append(chunk)
                break

    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        _, registration = await open_window_with_worker(ua, worker)
        await registration.background_fetch.fetch("one-chunk", "/big")
        while not kept or not first_chunks:
            await trio.sleep(0.5)
        await trio.testing.wait_all_tasks_blocked()
        assert 0 < len(first_chunks[0]) < len(BIG)
        stream = kept[0]._stream
        assert stream is not None and stream in streams
        assert closed(stream)
        if how == "aclosing":
            assert closed_when_the_block_ended == [True]


async def test_a_page_reading_one_chunk_while_the_fetch_runs_closes_the_stream(
    user_agent, origin_server, monkeypatch
):
    """The page reads the first chunk of a response still being downloaded (the stream
    waits for more) and leaves the loop, keeping the Response."""
    streams = made_by(monkeypatch, current_records, "_stream_from_storage")
    origin_server.add("/big", BIG, throttle=THROTTLE)
    _, registration = await open_window_with_worker(user_agent, WorkerRecorder())
    bg = await registration.background_fetch.fetch("page", "/big")
    response = await (await bg.match("/big")).response_ready
    async with aclosing(aiter(response)) as chunks:
        async for _chunk in chunks:
            break
        stream = response._stream
        assert stream is not None and suspended(stream)
    assert closed(stream) and stream in streams
    assert bg.result == ""  # the fetch goes on


async def test_response_bytes_cancelled_mid_way_closes_the_stream(user_agent, origin_server):
    origin_server.add("/big", BIG, throttle=THROTTLE)
    _, registration = await open_window_with_worker(user_agent, WorkerRecorder())
    bg = await registration.background_fetch.fetch("cancelled-read", "/big")
    response = await (await bg.match("/big")).response_ready
    stream = response._stream
    with trio.move_on_after(1):
        await response.bytes()
    assert stream is not None and closed(stream)
    assert response.body_used


# -- a request body's stream -----------------------------------------------------------------


async def test_a_request_body_read_that_fails_closes_its_stream():
    finally_ran: list[bool] = []

    async def stream() -> AsyncGenerator[Any, None]:
        try:
            yield b"bytes, "
            yield "then a str, which is not bytes"
            yield b"never read"
        finally:
            finally_ran.append(True)

    chunks = stream()
    body = Body(stream=chunks)
    with pytest.raises(TypeError):
        await body.wait()
    assert finally_ran == [True] and closed(chunks)
