"""Clearing a service worker registration clears its background fetches (current spec,
Privacy and bandwidth usage; SPEC-NOTES.md SN-current-28, and SN-2017-26 for the draft,
filled from it): ``edition.registration_cleared(registration)``, which Service Workers'
"Clear Registration" runs.  Run here as Clear Registration runs it: the registration's
workers are gone first."""

from __future__ import annotations

import inspect

import pytest
import trio

import bgfetch
from bgfetch.editions import load_edition
from bgfetch.testing import OriginServer, open_window_with_worker

EDITIONS = ["current", "2017-10-12"]
ORIGIN = "https://example.test"
BODY = b"x" * 200_000
both = pytest.mark.parametrize("edition", EDITIONS)


def clear_registration(registration) -> None:
    """Service Workers' Clear Registration, as far as it matters here: the active worker
    becomes redundant and the registration's active worker null; then the background
    fetches are cleared."""
    worker = registration.active_worker
    if worker is not None:
        worker.state = "redundant"
        registration.active_worker = None
        registration.changed.notify()
    registration.user_agent.edition.registration_cleared(registration)


def worker_noting(edition: str, events: list[str], *, hold: trio.Event | None = None):
    worker = bgfetch.ServiceWorker()

    async def noted(event) -> None:
        events.append(event.type)
        if hold is not None:
            await hold.wait()

    for name in load_edition(edition).EVENTS:
        worker.add_event_listener(name, noted)
    return worker


def served(network: bgfetch.VirtualNetwork) -> OriginServer:
    server = OriginServer()
    server.add("/big.bin", BODY, throttle=10_000, etag='"v1"')  # 20 s
    server.add("/small.txt", b"small")
    network.serve(ORIGIN, server)
    return server


async def until(predicate, *, limit: float = 600) -> None:
    deadline = trio.current_time() + limit
    while not predicate():
        assert trio.current_time() < deadline, "timed out"
        await trio.sleep(0.1)


def test_both_editions_export_the_same_hook():
    hooks = [load_edition(edition).registration_cleared for edition in EDITIONS]
    assert all("registration_cleared" in load_edition(e).__all__ for e in EDITIONS)
    assert [list(inspect.signature(hook).parameters) for hook in hooks] == [["registration"]] * 2


@both
async def test_an_active_background_fetch_is_aborted_without_an_event_and_its_storage_freed(
    edition, virtual_network
):
    server = served(virtual_network)
    events: list[str] = []
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        _, sw_registration = await open_window_with_worker(ua, worker_noting(edition, events))
        manager = sw_registration.background_fetch
        bg = await manager.fetch("ep", ["/big.bin", "/small.txt"])
        await trio.sleep(5)  # a quarter of the big file
        display = ua.ui.find("ep")
        origin = sw_registration.registration.origin
        assert 0 < ua.store.usage(origin) < len(BODY)
        clear_registration(sw_registration.registration)
        await until(lambda: display.bg_fetch.tasks.done)
        assert await manager.get_ids() == [] and await manager.get("ep") is None
        assert events == []  # no worker: no abort event
        assert display.bg_fetch.abort_all
        if edition == "current":
            assert (bg.result, bg.failure_reason, bg.records_available) == (
                "failure",
                "aborted",
                False,
            )
        await trio.sleep(60)
        assert ua.store.usage(origin) == 0
        big = [r for r in server.requests if r.target == "/big.bin"]
        assert len(big) == 1  # stopped, never resumed
        # The cleared registration takes no new background fetch (no active worker).
        with pytest.raises(TypeError, match="no active worker"):
            await manager.fetch("after", "/small.txt")
        assert ua.reported_errors == []


@both
async def test_clearing_a_registration_without_background_fetches_does_nothing(
    edition, virtual_network
):
    served(virtual_network)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        _, sw_registration = await open_window_with_worker(ua, worker_noting(edition, []))
        registration = sw_registration.registration
        clear_registration(registration)
        assert registration.extensions == {}  # no background fetch state made for it
        assert ua.reported_errors == []


@both
async def test_a_restored_background_fetch_waiting_for_its_worker_ends_when_cleared(
    edition, virtual_network, tmp_path
):
    # SN-current-24: after a restart, an event that was being handled waits for the
    # worker to be registered again; a cleared registration's never will be.
    served(virtual_network)
    events: list[str] = []
    never = trio.Event()
    async with bgfetch.open_user_agent(
        network=virtual_network, edition=edition, store=tmp_path
    ) as ua:
        _, sw_registration = await open_window_with_worker(
            ua, worker_noting(edition, events, hold=never)
        )
        await sw_registration.background_fetch.fetch("held", "/small.txt")
        await until(lambda: len(events) == 1)  # its handler is running at the restart
    async with bgfetch.open_user_agent(
        network=virtual_network, edition=edition, store=tmp_path
    ) as ua:
        display = ua.ui.find("held")
        registration = display.bg_fetch.service_worker_registration
        await trio.sleep(5)
        assert not display.bg_fetch.tasks.done  # waiting for a worker
        clear_registration(registration)
        await until(lambda: display.bg_fetch.tasks.done)
        assert len(events) == 1  # never delivered again
        assert ua.store.load("background fetch") == {}
        assert ua.store.usage(registration.origin) == 0


async def test_a_fetch_reading_its_bodies_when_the_registration_is_cleared_rejects(
    virtual_network,
):
    # SN-current-25: the bodies are read outside the edit queue; coming back to it after
    # the clear, the fetch() rejects as step 8.4 would, and nothing is started.
    server = served(virtual_network)
    server.add_echo("/upload")
    gate = trio.Event()

    async def body():
        yield b"first"
        await gate.wait()
        yield b"last"

    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        _, sw_registration = await open_window_with_worker(ua, worker_noting("current", []))
        manager = sw_registration.background_fetch
        request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=body())
        rejected: list[BaseException] = []

        async def fetch() -> None:
            try:
                await manager.fetch("upload", request)
            except TypeError as error:
                rejected.append(error)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(fetch)
            await trio.sleep(1)
            clear_registration(sw_registration.registration)
            await trio.sleep(1)
            gate.set()
        assert len(rejected) == 1 and "was cleared" in str(rejected[0])
        assert ua.ui.displays == [] and server.requests_for("/upload") == []
        assert ua.store.usage(sw_registration.registration.origin) == 0
