"""Shared helpers for the API spec tests (test_api_*.py, test_display.py).

:class:`ReportingWorker` is WPT's ``sw.js`` in Python: on backgroundfetchsuccess,
backgroundfetchfail and backgroundfetchabort it reads every record (``match_all``),
awaits each ``response_ready`` (a rejection becomes None) and reports what it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import trio

import bgfetch
from bgfetch.testing import open_window_with_worker

ORIGIN = "https://example.test"
FEATURE = "Background Fetch"
FEATURE_PATH = "/feature-name.txt"
SETTLE_EVENTS = ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort")


@attrs.define
class Result:
    """One record as the worker read it: its request, and its response or the rejection."""

    url: str
    method: str
    status: int | None = None
    text: str | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    error: BaseException | None = None


@attrs.define
class Settled:
    """A settle event as the worker saw it: a copy of every registration field, and records."""

    type: str
    event: Any
    registration: Any
    id: str
    result: str
    failure_reason: str
    downloaded: int
    uploaded: int
    download_total: int
    upload_total: int
    records_available: bool
    results: list[Result]

    def texts(self) -> list[str | None]:
        return [r.text for r in self.results]


class ReportingWorker:
    """A service worker that reports every settled background fetch, by id."""

    def __init__(self, *, read_records: bool = True) -> None:
        self.worker = bgfetch.ServiceWorker()
        self.read_records = read_records
        self.settled: dict[str, Settled] = {}
        self._changed = trio.Event()
        for type in SETTLE_EVENTS:
            self.worker.add_event_listener(type, self._on_settled)

    def on(self, type: str) -> Callable[[Any], Any]:
        return self.worker.on(type)

    async def _on_settled(self, event: Any) -> None:
        registration = event.registration
        results: list[Result] = []
        if self.read_records:
            for record in await registration.match_all():
                result = Result(record.request.url, record.request.method)
                try:
                    response = await record.response_ready
                except Exception as error:  # a rejection becomes None (here: .error)
                    result.error = error
                else:
                    result.status = response.status
                    result.headers = dict(response.headers.items())
                    result.text = await response.text()
                results.append(result)
        self.settled[registration.id] = Settled(
            type=event.type,
            event=event,
            registration=registration,
            id=registration.id,
            result=registration.result,
            failure_reason=registration.failure_reason,
            downloaded=registration.downloaded,
            uploaded=registration.uploaded,
            download_total=registration.download_total,
            upload_total=registration.upload_total,
            records_available=registration.records_available,
            results=results,
        )
        self._changed.set()
        self._changed = trio.Event()

    async def wait(self, id: str, *, timeout: float = 600) -> Settled:
        """Wait (in simulated time) until the background fetch *id* has settled."""
        with trio.fail_after(timeout):
            while id not in self.settled:
                await self._changed.wait()
        return self.settled[id]


async def open_page(user_agent: Any, worker: Any, url: str = ORIGIN + "/") -> tuple[Any, Any]:
    """A window at *url* with *worker* (a ServiceWorker or ReportingWorker) active."""
    script = worker.worker if isinstance(worker, ReportingWorker) else worker
    return await open_window_with_worker(user_agent, script, url)


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
