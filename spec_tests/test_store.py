"""A stored user agent (open_user_agent(store=DIR)): state in SQLite, bodies in files,
and background fetches that go on after a restart (SPEC-NOTES.md SN-current-24).

A "restart" here is leaving the user agent's block mid-download and opening the same
store again: every task is cancelled where it stands, as a killed process would be,
except that the operating system's buffers survive (a SIGKILL test of the `bgfetch
fetch` command covers the process itself).
"""

from __future__ import annotations

import gc
import hashlib
import os
import sqlite3
import tracemalloc
from pathlib import Path

import pytest
import trio

import bgfetch
from bgfetch.store.sqlite import StoreError
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://example.test"
BODY = bytes(range(256)) * 4_000  # 1 MB, every offset distinct enough to catch splices


BODIES: dict[str, bytes] = {}


def worker_counting(events: list[str], *, hold: trio.Event | None = None) -> bgfetch.ServiceWorker:
    """A worker that notes each completion event and reads every record's body (into
    BODIES, by the URL's last segment)."""
    worker = bgfetch.ServiceWorker()

    async def done(event):
        events.append(event.type)
        BODIES.clear()
        for record in await event.registration.match_all():
            response = await record.response_ready
            BODIES[record.request.url.rsplit("/", 1)[-1]] = await response.bytes()
        if hold is not None:
            await hold.wait()

    for name in ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"):
        worker.add_event_listener(name, done)
    return worker


def served(network: bgfetch.VirtualNetwork, **options) -> OriginServer:
    server = OriginServer()
    server.add("/big.bin", BODY, throttle=100_000, etag='"v1"', **options)
    server.add("/small.txt", b"small")
    network.serve(ORIGIN, server)
    return server


async def until(predicate, *, step: float = 0.1, limit: float = 600) -> None:
    deadline = trio.current_time() + limit
    while not predicate():
        assert trio.current_time() < deadline, "timed out"
        await trio.sleep(step)


async def bodies_seen(registration) -> dict[str, bytes]:
    """What the worker read in its completion event, once the event is over."""
    await until(lambda: not registration.records_available)
    return dict(BODIES)


async def test_a_download_cut_by_a_restart_resumes_with_range_and_completes(
    virtual_network, tmp_path
):
    server = served(virtual_network)
    events: list[str] = []
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting(events))
        await registration.background_fetch.fetch("ep", ["/big.bin", "/small.txt"])
        await trio.sleep(3.5)  # about a third of the big file
        stored = ua.ui.find("ep").downloaded
        big_stored = len(ua.ui.find("ep").bg_fetch.records[0].response_data.bytes)
    assert 0 < big_stored < len(BODY) and stored == big_stored + len(b"small")
    assert events == []

    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        display = ua.ui.find("ep")  # restored before any page or worker is back
        assert display.downloaded == stored
        _, registration = await open_window_with_worker(ua, worker_counting(events))
        bg = await registration.background_fetch.get("ep")
        assert bg is not None and bg.downloaded == stored
        await until(lambda: bg.result != "")
        assert bg.result == "success"
        assert await bodies_seen(bg) == {"big.bin": BODY, "small.txt": b"small"}
    big = [r for r in server.requests if r.target == "/big.bin"]
    assert big[-1].header("range") == f"bytes={big_stored}-"
    assert big[-1].header("if-range") == '"v1"'
    assert [r.target for r in server.requests].count("/small.txt") == 1  # complete: not again
    assert events == ["backgroundfetchsuccess"]


async def test_a_finished_background_fetch_leaves_nothing_in_the_store(virtual_network, tmp_path):
    served(virtual_network)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        await registration.background_fetch.fetch("done", ["/big.bin", "/small.txt"])
        tasks = ua.ui.find("done").bg_fetch.tasks
        await until(lambda: tasks.done)
        ua.ui.find("done").dismiss()
        gc.collect()
        assert ua.store.usage(registration.registration.origin) == 0
        assert ua.store.load("background fetch") == {} and ua.store.load("record") == {}
        assert list((tmp_path / "bodies").iterdir()) == []


async def test_an_event_not_yet_handled_is_delivered_after_the_restart_once(
    virtual_network, tmp_path
):
    served(virtual_network)
    events: list[str] = []
    never = trio.Event()
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting(events, hold=never))
        await registration.background_fetch.fetch("held", "/small.txt")
        await until(lambda: events == ["backgroundfetchsuccess"])  # the handler is running
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        display = ua.ui.find("held")
        assert display.result == "success"
        await trio.sleep(5)
        assert events == ["backgroundfetchsuccess"]  # waits for the worker to be back
        await open_window_with_worker(ua, worker_counting(events))
        await until(lambda: display.bg_fetch.tasks.done)
        assert events == ["backgroundfetchsuccess"] * 2  # delivered again, as it was running
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        await open_window_with_worker(ua, worker_counting(events))
        await trio.sleep(5)
        assert ua.ui.displays == [] and events == ["backgroundfetchsuccess"] * 2  # not again


async def test_a_paused_background_fetch_is_still_paused_after_a_restart(
    virtual_network, tmp_path
):
    served(virtual_network)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        await registration.background_fetch.fetch("p", "/big.bin")
        await trio.sleep(2)
        ua.ui.find("p").pause()
        await trio.sleep(1)
        paused_at = ua.ui.find("p").downloaded
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        await open_window_with_worker(ua, worker_counting([]))
        display = ua.ui.find("p")
        await trio.sleep(5)
        assert display.paused and display.downloaded == paused_at
        display.resume()
        await until(lambda: display.result != "")
        assert display.result == "success"


async def test_a_server_that_drops_range_support_between_runs_starts_over(
    virtual_network, tmp_path
):
    served(virtual_network)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        await registration.background_fetch.fetch("r", "/big.bin")
        await trio.sleep(3)
    served(virtual_network, ranges=False)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        bg = await registration.background_fetch.get("r")
        await until(lambda: bg.result != "")
        assert bg.result == "success"
        assert await bodies_seen(bg) == {"big.bin": BODY}


async def test_a_resource_changed_between_runs_comes_back_whole(virtual_network, tmp_path):
    served(virtual_network)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        await registration.background_fetch.fetch("e", "/big.bin")
        await trio.sleep(3)
    server = OriginServer()
    changed = BODY[::-1]
    server.add("/big.bin", changed, throttle=100_000, etag='"v2"')
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        bg = await registration.background_fetch.get("e")
        await until(lambda: bg.result != "")
        assert await bodies_seen(bg) == {"big.bin": changed}
    assert server.requests[0].header("if-range") == '"v1"'


@pytest.mark.parametrize("change", ["truncated", "longer"])
async def test_a_body_file_changed_behind_the_stores_back_is_repaired(
    virtual_network, tmp_path, change
):
    served(virtual_network)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        await registration.background_fetch.fetch("t", "/big.bin")
        await trio.sleep(3)
        stored = ua.ui.find("t").downloaded
    (body,) = (tmp_path / "bodies").iterdir()
    if change == "truncated":  # a power cut lost the file's tail
        os.truncate(body, stored // 2)
        expected = stored // 2
    else:  # bytes written after the last recorded length
        with open(body, "ab") as file:
            file.write(b"garbage")
        expected = stored
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        assert ua.ui.find("t").downloaded == expected
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        bg = await registration.background_fetch.get("t")
        await until(lambda: bg.result != "")
        assert hashlib.sha256((await bodies_seen(bg))["big.bin"]).digest() == (
            hashlib.sha256(BODY).digest()
        )


async def test_a_hostile_id_never_reaches_the_file_system(virtual_network, tmp_path):
    served(virtual_network)
    store = tmp_path / "store"
    hostile = "../../escape\0/x"
    async with bgfetch.open_user_agent(network=virtual_network, store=store) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        bg = await registration.background_fetch.fetch(hostile, "/small.txt")
        await until(lambda: bg.result != "")
        assert bg.id == hostile
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    for path in store.rglob("*"):
        assert path.relative_to(store).as_posix() in (
            "bodies",
            "lock",
            "state.sqlite3",
            "state.sqlite3-wal",
            "state.sqlite3-shm",
        ) or (path.parent.name == "bodies" and path.name.isdigit())


async def test_a_store_of_another_edition_or_version_is_refused_by_name(tmp_path):
    async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork(), store=tmp_path):
        pass
    with pytest.raises(StoreError, match="'current' edition.*'2017-10-12' edition"):
        async with bgfetch.open_user_agent(
            network=bgfetch.VirtualNetwork(), store=tmp_path, edition="2017-10-12"
        ):
            pass
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema '99'.*schema 1"):
        async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork(), store=tmp_path):
            pass


async def test_a_corrupted_state_file_is_a_clear_error(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot be read"):
        async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork(), store=tmp_path):
            pass


async def test_a_store_that_is_a_file_is_named(tmp_path: Path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(StoreError, match="is not a directory"):
        async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork(), store=path):
            pass


async def test_quota_is_the_stored_bytes_and_can_change_while_running(virtual_network, tmp_path):
    served(virtual_network)
    async with bgfetch.open_user_agent(
        network=virtual_network, store=tmp_path, quota=len(BODY) * 2
    ) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        with pytest.raises(bgfetch.QuotaExceededError):
            await registration.background_fetch.fetch(
                "too-big", "/big.bin", download_total=len(BODY) * 3
            )
        bg = await registration.background_fetch.fetch("q", "/big.bin")
        await trio.sleep(2)
        ua.store.quota = ua.store.usage(registration.registration.origin) + 10
        await until(lambda: bg.result != "")
        assert (bg.result, bg.failure_reason) == ("failure", "quota-exceeded")


def draft_worker(events: list[str], bodies: dict[str, bytes], *, hold=None):
    """The 2017-10-12 edition's worker: the settled fetches' bodies, by last segment."""
    worker = bgfetch.ServiceWorker()

    async def settled(event):
        events.append(event.type)
        for fetch in await event.fetches.values():
            if fetch.response is not None:
                bodies[fetch.request.url.rsplit("/", 1)[-1]] = await fetch.response.bytes()
        if hold is not None:
            await hold.wait()

    for name in ("backgroundfetched", "backgroundfetchfail", "backgroundfetchabort"):
        worker.add_event_listener(name, settled)
    return worker


async def test_the_2017_edition_resumes_after_a_restart_too(virtual_network, tmp_path):
    server = served(virtual_network)
    events: list[str] = []
    bodies: dict[str, bytes] = {}
    never = trio.Event()
    options = {"network": virtual_network, "store": tmp_path, "edition": "2017-10-12"}
    async with bgfetch.open_user_agent(**options) as ua:
        _, registration = await open_window_with_worker(ua, draft_worker(events, bodies))
        await registration.background_fetch.fetch("ep", ["/big.bin", "/small.txt"])
        await trio.sleep(3.5)
        big_stored = len(ua.ui.find("ep").bg_fetch.records[0].response_body)
    assert 0 < big_stored < len(BODY) and events == []
    async with bgfetch.open_user_agent(**options) as ua:
        assert ua.ui.find("ep").downloaded >= 0
        await open_window_with_worker(ua, draft_worker(events, bodies, hold=never))
        await until(lambda: events == ["backgroundfetched"])
        assert bodies == {"big.bin": BODY, "small.txt": b"small"}
    big = [r for r in server.requests if r.target == "/big.bin"]
    assert big[-1].header("range") == f"bytes={big_stored}-"
    assert [r.target for r in server.requests].count("/small.txt") == 1
    # The handler was still running when the user agent stopped: delivered again, once.
    async with bgfetch.open_user_agent(**options) as ua:
        display = ua.ui.find("ep")
        await open_window_with_worker(ua, draft_worker(events, bodies))
        await until(lambda: display.bg_fetch.tasks.done)
        assert events == ["backgroundfetched"] * 2
    async with bgfetch.open_user_agent(**options) as ua:
        await open_window_with_worker(ua, draft_worker(events, bodies))
        await trio.sleep(5)
        assert ua.ui.displays == [] and events == ["backgroundfetched"] * 2


@pytest.mark.parametrize("stored", [True, False])
async def test_memory_is_bounded_by_what_is_in_flight_in_a_stored_user_agent(
    virtual_network, tmp_path, stored
):
    """A stored user agent writes bodies to files as they come and reads them back in
    slices: downloading, then reading back, 32 MiB never holds more than a few MiB at
    once (the in-memory store holds the whole body, as it must)."""
    size = 32 * 2**20
    body = os.urandom(size)
    server = OriginServer()
    server.add("/huge.bin", body)
    virtual_network.serve(ORIGIN, server)
    digests: list[bytes] = []
    worker = bgfetch.ServiceWorker()

    @worker.on("backgroundfetchsuccess")
    async def read_it(event):
        record = await event.registration.match("/huge.bin")
        digest = hashlib.sha256()
        async for chunk in await record.response_ready:
            digest.update(chunk)
        digests.append(digest.digest())

    async with bgfetch.open_user_agent(
        network=virtual_network, store=tmp_path if stored else None
    ) as ua:
        _, registration = await open_window_with_worker(ua, worker)
        gc.collect()
        tracemalloc.start()
        try:
            bg = await registration.background_fetch.fetch("huge", "/huge.bin")
            await until(lambda: not bg.records_available)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert digests == [hashlib.sha256(body).digest()]
    if stored:
        assert peak < 4 * 2**20, f"peak {peak} bytes for a {size}-byte body"
    else:
        assert peak > size


async def test_a_fetch_still_queued_at_the_stop_was_never_accepted(virtual_network, tmp_path):
    """fetch() reads request bodies before it accepts a background fetch (step 8.10):
    one stopped while its body was still being read never existed, for the store too."""
    served(virtual_network)

    async def slow_body():
        yield b"part"
        await trio.sleep_forever()

    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        async with trio.open_nursery() as nursery:
            request = bgfetch.Request(f"{ORIGIN}/small.txt", method="POST", body=slow_body())
            nursery.start_soon(registration.background_fetch.fetch, "queued", request)
            await trio.sleep(1)
            nursery.cancel_scope.cancel()
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting([]))
        assert await registration.background_fetch.get_ids() == []
        bg = await registration.background_fetch.fetch("queued", "/small.txt")
        await until(lambda: bg.result != "")
        assert bg.result == "success"


@pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
async def test_an_unfinished_post_is_not_sent_again_after_a_restart(
    virtual_network, tmp_path, bgfetch_edition
):
    server = OriginServer()
    server.add("/upload", b"ok" * 50_000, throttle=10_000)
    virtual_network.serve(ORIGIN, server)
    options = {"network": virtual_network, "store": tmp_path, "edition": bgfetch_edition}
    async with bgfetch.open_user_agent(**options) as ua:
        _, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=b"payload")
        await registration.background_fetch.fetch("post", request)
        await trio.sleep(2)
    events: list[str] = []
    worker = bgfetch.ServiceWorker()
    for name in ("backgroundfetchfail", "backgroundfetchsuccess", "backgroundfetched"):
        worker.add_event_listener(name, lambda event: events.append(event.type))
    async with bgfetch.open_user_agent(**options) as ua:
        display = ua.ui.find("post")
        await open_window_with_worker(ua, worker)
        await until(lambda: display.bg_fetch.tasks.done)
    assert [r.method for r in server.requests] == ["POST"]  # sent once, before the stop
    assert events == ["backgroundfetchfail"]


async def test_a_settled_fetch_whose_event_was_never_fired_gets_it_after_a_restart(
    virtual_network, tmp_path
):
    """The state a stop between step 8.6 (the result is set) and 8.13 (the event is
    fired) leaves; made here by holding the handler and then writing the row back to
    "not fired", as a user agent that stopped a moment earlier would have left it."""
    served(virtual_network)
    events: list[str] = []
    never = trio.Event()
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        _, registration = await open_window_with_worker(ua, worker_counting(events, hold=never))
        await registration.background_fetch.fetch("due", "/small.txt")
        await until(lambda: events == ["backgroundfetchsuccess"])
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    (value,) = db.execute("SELECT value FROM state WHERE kind = 'background fetch'").fetchone()
    assert '"completion_event": "fired"' in value and '"result": "success"' in value
    db.execute(
        "UPDATE state SET value = ? WHERE kind = 'background fetch'",
        (value.replace('"completion_event": "fired"', '"completion_event": ""'),),
    )
    db.commit()
    db.close()
    events.clear()
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        display = ua.ui.find("due")
        await open_window_with_worker(ua, worker_counting(events))
        await until(lambda: display.bg_fetch.tasks.done)
    assert events == ["backgroundfetchsuccess"]
    assert BODIES == {"small.txt": b"small"}


async def test_a_store_in_use_is_refused_by_a_second_user_agent(virtual_network, tmp_path):
    """A second user agent would repair the body files the first is writing."""
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path):
        in_use = f"in use by another user agent .process {os.getpid()}"
        with pytest.raises(StoreError, match=in_use):
            async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path):
                pass
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path):
        pass  # free again once the first closed
