"""Shared helpers for the API spec tests (test_api_*.py, test_display.py).

WPT's ``sw.js`` (report every record of each settled background fetch) is
:class:`bgfetch.testing.WorkerRecorder`; ``bgfetch.testing.open_window_with_worker``
opens a page with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

import bgfetch

ORIGIN = "https://example.test"
FEATURE = "Background Fetch"
FEATURE_PATH = "/feature-name.txt"


async def eventually(predicate: Callable[[], bool], *, timeout: float = 30) -> None:
    """Poll *predicate* in simulated time (MockClock): fail after *timeout* simulated seconds."""
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.01)


async def installing_only(user_agent: Any) -> tuple[Any, Any]:
    """A window whose registration has an installing worker that never finishes installing."""
    worker = bgfetch.ServiceWorker()

    @worker.on("install")
    def on_install(event: Any) -> None:
        event.wait_until(trio.sleep_forever())

    window = await user_agent.open_window(ORIGIN + "/")
    registration = await window.navigator.service_worker.register(worker)
    assert registration.installing is not None and registration.active is None
    return window, registration


def concept(instance: Any) -> Any:
    """The background fetch (the concept) behind a BackgroundFetchRegistration."""
    return instance.background_fetch
