"""Test helpers: an origin server to put on the virtual network or a real socket, the
shortest way to a window with an active service worker, and a service worker that
records what it saw of each background-fetch event."""

from __future__ import annotations

from bgfetch.sw.environment import Window
from bgfetch.sw.registration import ServiceWorker, ServiceWorkerRegistration
from bgfetch.testing.origin_server import OriginServer, RecordedRequest, Resource
from bgfetch.testing.recorder import SeenEvent, SeenResponse, WorkerRecorder, worker_of
from bgfetch.useragent import UserAgent


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


__all__ = [
    "OriginServer",
    "RecordedRequest",
    "Resource",
    "SeenEvent",
    "SeenResponse",
    "WorkerRecorder",
    "open_window_with_worker",
]
