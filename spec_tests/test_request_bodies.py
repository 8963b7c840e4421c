"""Request bodies are read against the quota as they come, and no body read holds the
registration's active background fetches edit queue: a slow or endless stream neither
buffers past the quota nor blocks abort(), the UI's cancel, or any other fetch()
(issue 9, "pages and workers"; SPEC-NOTES.md SN-current-25)."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.testing import WorkerRecorder, open_window_with_worker

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
CURRENT = pytest.mark.parametrize("bgfetch_edition", ["current"])
FETCH = "#background-fetch-manager-fetch"
ORIGIN = "https://example.test"
CHUNK = b"x" * 65536


class Stream:
    """A request body stream that counts what was read of it; *chunks* None: endless."""

    def __init__(self, chunks: int | None = None, *, every: float = 0, then_hang=False):
        self.chunks, self.every, self.then_hang = chunks, every, then_hang
        self.bytes_read = 0

    def __aiter__(self):
        return self._chunks()

    async def _chunks(self):
        sent = 0
        while self.chunks is None or sent < self.chunks:
            if self.every:
                await trio.sleep(self.every)
            self.bytes_read += len(CHUNK)
            sent += 1
            yield CHUNK
        if self.then_hang:
            await trio.sleep_forever()


def upload(stream, path="/upload"):
    return bgfetch.Request(path, method="POST", body=stream, base_url=ORIGIN)


async def page(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    origin_server.add("/slow.bin", b"s" * 10_000, throttle=1000)
    origin_server.add_echo("/upload")
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    return window, recorder, registration.background_fetch


@EDITIONS
@pytest.mark.step(FETCH, "8.9")
async def test_an_endless_body_stream_stops_at_the_quota(user_agent, origin_server):
    window, recorder, manager = await page(user_agent, origin_server)
    user_agent.store.quota = 1_000_000
    stream = Stream(None)
    with trio.fail_after(60):
        if user_agent.edition.NAME == "current":
            with pytest.raises(bgfetch.QuotaExceededError, match="'endless'"):
                await manager.fetch("endless", upload(stream))
            # Rejected as the quota is passed: not a chunk more than that is read.
            assert 1_000_000 < stream.bytes_read <= 1_000_000 + len(CHUNK)
        else:  # the draft refuses a stream body at once (step 7.3.1), reading none of it
            with pytest.raises(TypeError, match="stream"):
                await manager.fetch("endless", upload(stream))
            assert stream.bytes_read == 0
    assert await manager.get_ids() == []
    assert user_agent.store.usage(window.origin) == 0
    await manager.fetch("after", "/a.txt")
    assert (await recorder.settled("after")).texts() == ["A"]


@CURRENT
@pytest.mark.step(FETCH, "8.9")
async def test_the_quota_counts_download_total_and_every_body_read_so_far(
    user_agent, origin_server
):
    window, recorder, manager = await page(user_agent, origin_server)
    user_agent.store.quota = 10 * len(CHUNK)
    first, second = Stream(3), Stream(None, every=0.1)
    requests = [upload(first, "/upload?1"), upload(second, "/upload?2")]
    with trio.fail_after(60), pytest.raises(bgfetch.QuotaExceededError):
        await manager.fetch("two", requests, download_total=5 * len(CHUNK))
    # Rejected once the bodies read and downloadTotal pass the quota: 5 chunks read.
    assert 5 * len(CHUNK) < first.bytes_read + second.bytes_read <= 6 * len(CHUNK)
    assert user_agent.store.usage(window.origin) == 0
    bg = await manager.fetch("fits", [upload(Stream(3))], download_total=5 * len(CHUNK))
    assert bg.upload_total == 3 * len(CHUNK)
    await recorder.settled("fits")


@EDITIONS
@pytest.mark.step(FETCH, "8")
async def test_a_hanging_body_stream_blocks_no_other_fetch_abort_or_cancel(
    user_agent, origin_server
):
    window, recorder, manager = await page(user_agent, origin_server)
    running = await manager.fetch("running", "/slow.bin")
    await manager.fetch("cancelled", "/slow.bin")
    hanging = Stream(1, then_hang=True)
    outcome = []

    async def fetch_hanging():
        try:
            outcome.append(await manager.fetch("hanging", upload(hanging)))
        except TypeError as error:  # the draft refuses streams
            outcome.append(error)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch_hanging)
        await trio.sleep(1)
        with trio.fail_after(5):
            # abort(), the UI's cancel, another fetch() and get() all answer meanwhile.
            assert await running.abort() is True
            user_agent.ui.find("cancelled").cancel()
            assert (await recorder.settled("cancelled")).type == "backgroundfetchabort"
            await manager.fetch("another", "/a.txt")
            assert (await recorder.settled("another")).texts() == ["A"]
            assert (await manager.get("another")) is None
            assert sorted(await manager.get_ids()) == []
        assert (await recorder.settled("running")).type == "backgroundfetchabort"
        if user_agent.edition.NAME == "current":
            assert outcome == [] and hanging.bytes_read == len(CHUNK)  # still waiting for its body
            nursery.cancel_scope.cancel()
        else:
            assert isinstance(outcome[0], TypeError) and hanging.bytes_read == 0


@CURRENT
@pytest.mark.step(FETCH, "8.5")
async def test_a_fetch_of_an_id_still_reading_its_body_decides_whether_the_id_is_taken(
    user_agent, origin_server
):
    window, recorder, manager = await page(user_agent, origin_server)
    order = []

    async def fetch(id, request, name):
        try:
            await manager.fetch(id, request)
            order.append((name, "resolved"))
        except TypeError:
            order.append((name, "TypeError"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch, "x", upload(Stream(3, every=2)), "slow body")
        await trio.sleep(0.5)
        nursery.start_soon(fetch, "x", "/a.txt", "same id")
        await trio.sleep(0.5)
        nursery.start_soon(fetch, "y", "/a.txt", "other id")
    # The same id waits for the body, as the spec's edit queue would make it, and finds
    # the id taken; another id does not wait (SPEC-NOTES.md SN-current-25).
    assert order == [("other id", "resolved"), ("slow body", "resolved"), ("same id", "TypeError")]
    await recorder.settled("x")


@CURRENT
@pytest.mark.step(FETCH, "8.11")
async def test_when_the_body_of_an_id_fails_a_waiting_fetch_of_that_id_gets_it(
    user_agent, origin_server
):
    window, recorder, manager = await page(user_agent, origin_server)

    async def failing():
        await trio.sleep(2)
        yield b"a"
        raise OSError("the stream broke")

    results = {}

    async def fetch(name, request):
        try:
            results[name] = await manager.fetch("x", request)
        except TypeError as error:
            results[name] = error

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch, "failing", upload(failing()))
        await trio.sleep(0.5)
        nursery.start_soon(fetch, "waiting", "/a.txt")
    assert isinstance(results["failing"], TypeError)
    assert "the stream broke" in str(results["failing"])
    assert results["waiting"].id == "x"
    assert (await recorder.settled("x")).texts() == ["A"]


@CURRENT
@pytest.mark.step(FETCH, "8.8.3")
async def test_closing_the_window_while_its_body_is_read_stores_nothing(user_agent, origin_server):
    window, recorder, manager = await page(user_agent, origin_server)
    stream = Stream(None, every=1)

    async def fetch():
        await manager.fetch("closed", upload(stream))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch)
        await trio.sleep(3.5)
        await window.close()
        read = stream.bytes_read
        await trio.sleep(5)
        assert stream.bytes_read == read  # the read ended with the window
        nursery.cancel_scope.cancel()
    assert user_agent.store.usage(window.origin) == 0
    other, registration = await open_window_with_worker(user_agent, recorder)
    assert await registration.background_fetch.get_ids() == []
    await registration.background_fetch.fetch("closed", "/a.txt")  # the id is free
    assert (await recorder.settled("closed")).texts() == ["A"]


@EDITIONS
@pytest.mark.parametrize("status", [307, 308])
async def test_uploaded_never_goes_down_when_a_redirect_sends_the_body_again(
    user_agent, origin_server, status
):
    # SPEC-NOTES.md SN-current-30 (the 2017-10-12 fill has the same steps).
    origin_server.add_redirect("/moved", "/echo", status=status)
    origin_server.add_echo("/echo")
    recorder = WorkerRecorder.for_edition(user_agent)
    _, registration = await open_window_with_worker(user_agent, recorder)
    body = bytes(range(256)) * 800  # 200 KiB: several chunks each time
    request = bgfetch.Request(
        f"{ORIGIN}/moved", method="POST", body=body, headers={"Content-Type": "text/plain"}
    )
    bg = await registration.background_fetch.fetch("resent", request)
    uploads: list[int] = []
    bg.add_event_listener("progress", lambda event: uploads.append(event.target.uploaded))
    await recorder.settled("resent")
    await trio.sleep(1)
    assert [r.target for r in origin_server.requests] == ["/moved", "/echo"]
    assert len(uploads) > 2 and uploads == sorted(uploads)
    assert uploads[-1] == bg.uploaded == len(body)
