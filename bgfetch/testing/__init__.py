"""Test helpers: an origin server to put on the virtual network or a real socket, and
the shortest way to a window with an active service worker."""

from __future__ import annotations

from bgfetch.sw.environment import Window
from bgfetch.sw.registration import ServiceWorker, ServiceWorkerRegistration
from bgfetch.testing.origin_server import OriginServer, RecordedRequest, Resource
from bgfetch.useragent import UserAgent


async def open_window_with_worker(
    user_agent: UserAgent,
    worker: ServiceWorker,
    url: str = "https://example.test/",
    *,
    scope: str = "/",
) -> tuple[Window, ServiceWorkerRegistration]:
    """Open a window at *url*, register *worker* for *scope*, and wait until it is active.

    Returns the window and its (ready) ServiceWorkerRegistration object.
    """
    window = await user_agent.open_window(url)
    await window.navigator.service_worker.register(worker, scope=scope)
    registration = await window.navigator.service_worker.ready
    return window, registration


__all__ = ["OriginServer", "RecordedRequest", "Resource", "open_window_with_worker"]
