"""Service worker events as bgfetch dispatches them, in both editions: an async handler
extends its event until it returns (SPEC-NOTES.md SN-current-32), and an event nobody
listens for is dispatched all the same, never skipped (SN-current-33)."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.infra import Promise
from bgfetch.testing import open_window_with_worker

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
SUCCESS = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}


async def settle(user_agent, origin_server, worker, path="/a.txt"):
    origin_server.add("/a.txt", "A")
    _, registration = await open_window_with_worker(user_agent, worker)
    bg = await registration.background_fetch.fetch("it", path)
    display = user_agent.ui.find("it")
    return bg, display


@EDITIONS
async def test_an_async_handler_keeps_its_event_active_until_it_returns(user_agent, origin_server):
    worker = bgfetch.ServiceWorker()
    seen: list[tuple[float, bool]] = []

    @worker.on(SUCCESS[user_agent.edition.NAME])
    async def handler(event):
        await trio.sleep(100)  # no wait_until(): the handler's own awaits extend it
        seen.append((trio.current_time(), event.active))
        done: Promise[None] = Promise()
        done.resolve(None)
        event.wait_until(done)  # still allowed: the event is active

    bg, display = await settle(user_agent, origin_server, worker)
    started = trio.current_time()
    await trio.sleep(50)
    assert not display.bg_fetch.tasks.done  # the handler is still running
    if user_agent.edition.NAME == "current":
        assert bg.records_available
    await trio.sleep(100)
    assert len(seen) == 1 and seen[0][1] and seen[0][0] >= started + 99
    assert display.bg_fetch.tasks.done
    if user_agent.edition.NAME == "current":
        assert not bg.records_available
    assert user_agent.reported_errors == []


@EDITIONS
@pytest.mark.parametrize("listening", [False, True])
async def test_an_event_nobody_listens_for_is_dispatched_and_the_fetch_ends(
    user_agent, origin_server, listening
):
    worker = bgfetch.ServiceWorker()
    heard: list[str] = []
    if listening:  # a listener for another event only
        worker.add_event_listener("backgroundfetchabort", lambda e: heard.append(e.type))
    # A 404: the completion event (whichever it is) is one nobody listens for.
    _, display = await settle(user_agent, origin_server, worker, path="/missing.txt")
    origin = display.bg_fetch.service_worker_registration.origin
    for _ in range(600):
        if display.bg_fetch.tasks.done:
            break
        await trio.sleep(1)
    assert display.bg_fetch.tasks.done and heard == []
    if user_agent.edition.NAME == "current":
        assert not display.bg_fetch.records_available
    assert user_agent.store.usage(origin) == 0
