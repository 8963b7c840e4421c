"""Test helpers: an origin server to put on the virtual network or a real socket, the
shortest way to a window with an active service worker, and a service worker that
records what it saw of each background-fetch event."""

from __future__ import annotations

from typing import Any, TypeVar

from bgfetch.infra import Condition
from bgfetch.sw.environment import Window
from bgfetch.sw.registration import ServiceWorker, ServiceWorkerRegistration
from bgfetch.testing.origin_server import OriginServer, RecordedRequest, Resource
from bgfetch.testing.recorder import SeenEvent, SeenResponse, WorkerRecorder, worker_of
from bgfetch.testing.watchdog import Stuck, fail_when_stuck
from bgfetch.useragent import UserAgent
from bgfetch.waits import waiting_for

R = TypeVar("R")


async def open_window_with_worker(
    user_agent: UserAgent,
    worker: ServiceWorker | WorkerRecorder,
    url: str = "https://example.test/",
    *,
    scope: str = "/",
) -> tuple[Window, ServiceWorkerRegistration]:
    """Open a window at *url*, register *worker* (a ServiceWorker, or a WorkerRecorder's)
    for *scope*, and wait until it is active.

    Returns the window and its (ready) ServiceWorkerRegistration object.
    """
    window = await user_agent.open_window(url)
    await window.navigator.service_worker.register(worker_of(worker), scope=scope)
    registration = await window.navigator.service_worker.ready
    return window, registration


async def settled(bg: R) -> R:
    """Wait until the background fetch *bg* (a page's BackgroundFetchRegistration, of
    either edition) has settled and its completion event was handled (every handler
    returned, every ``wait_until`` settled); return *bg*.  In the current edition the
    page's ``bg.result`` and ``bg.failure_reason`` then say how it ended.

    Instead of polling ``while bg.result == "": await trio.sleep(1)``; a fetch that
    cannot settle is named by the ``user_agent`` fixture's watchdog."""
    page: Any = bg
    concept = page.background_fetch
    page_heard = Condition()
    with waiting_for(lambda: _why_unsettled(page)):
        await concept.changed.wait_for(lambda: concept.completion_event == "handled")
        if hasattr(page, "result"):  # the current edition: the page's copy, updated in a task
            page.add_event_listener("progress", lambda event: page_heard.notify())
            await page_heard.wait_for(lambda: page.result != "")
    return bg


def _why_unsettled(bg: Any) -> str:
    concept = bg.background_fetch
    ua = concept.service_worker_registration.user_agent
    head = f"settled(<background fetch {concept.id!r}>)"
    if concept.completion_event == "fired":
        why = (
            "its completion event's handlers have not finished "
            "(a wait_until() that never settles?)"
        )
    elif getattr(concept, "result", "") != "" or getattr(concept, "settled_event", "") != "":
        why = "it has settled, and its completion event waits for an active service worker"
    elif concept.completion_event == "handled":
        why = "the page has not heard the result (its window closed?)"
    elif getattr(concept, "paused", False):
        why = "it is paused (ua.ui.find(id).resume())"
    elif not ua.network.is_online():
        why = "the network is offline (network.set_online(True))"
    else:
        why = "its records are still being fetched"
    return f"{head}: {why}"


__all__ = [
    "OriginServer",
    "RecordedRequest",
    "Resource",
    "SeenEvent",
    "SeenResponse",
    "Stuck",
    "WorkerRecorder",
    "fail_when_stuck",
    "open_window_with_worker",
    "settled",
]
