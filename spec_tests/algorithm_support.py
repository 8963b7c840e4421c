"""Shared harness for the algorithm tests (perform a background fetch, complete a record,
update background fetch instances): a page with an active worker that records every
settle event, reads every record's response inside the event, and lets a test watch
progress events and algorithm steps.  Everything runs on the virtual network's MockClock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import trio
from api_support import concept, eventually  # noqa: F401 (re-exported for the tests)

import bgfetch
from bgfetch.editions.current import BackgroundFetchEvent, BackgroundFetchRegistration
from bgfetch.editions.current.concepts import registration_extension
from bgfetch.infra import ParallelQueue
from bgfetch.observe import Step
from bgfetch.sw.environment import Window
from bgfetch.sw.registration import ServiceWorkerRegistration
from bgfetch.testing import open_window_with_worker
from bgfetch.useragent import UserAgent

ORIGIN = "https://example.test"
SETTLE_EVENTS = ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort")


def pattern(size: int, seed: int = 0) -> bytes:
    """*size* bytes in which every offset is distinguishable from its neighbours."""
    return bytes((i * 7 + seed * 31 + i // 256) % 256 for i in range(size))


@attrs.define
class Outcome:
    """What reading one record's response inside the settle event gave."""

    url: str
    status: int | None = None  # None when responseReady rejected
    body: bytes | None = None  # None when responseReady rejected or the stream errored
    error: BaseException | None = None
    headers: dict[str, str] = attrs.field(factory=dict)


@attrs.define
class Settled:
    """A settle event as the worker saw it when its handler started."""

    type: str
    event: BackgroundFetchEvent
    result: str
    failure_reason: str
    time: float
    outcomes: dict[str, Outcome] = attrs.field(factory=dict)  # by request URL path


@attrs.define
class Progress:
    """A page registration's values when one of its progress events fired."""

    downloaded: int
    uploaded: int
    result: str
    failure_reason: str
    time: float


async def read_record(record: Any) -> Outcome:
    outcome = Outcome(url=record.request.url)
    try:
        response = await record.response_ready
    except Exception as error:
        outcome.error = error
        return outcome
    outcome.status = response.status
    outcome.headers = dict(response.headers.items())
    try:
        outcome.body = await response.bytes()
    except Exception as error:
        outcome.error = error
    return outcome


class Harness:
    """A window at https://example.test/ whose worker records the settle events.

    ``hold``: set it to a trio.Event before a fetch settles and the handler passes
    ``hold.wait()`` to waitUntil, keeping the event active until the test sets it.
    """

    def __init__(self, ua: UserAgent) -> None:
        self.ua = ua
        self.worker = bgfetch.ServiceWorker()
        self.settled: dict[str, Settled] = {}
        self.settled_changed = trio.Event()
        self.handled: dict[str, trio.Event] = {}
        self.hold: trio.Event | None = None
        self.window: Window
        self.sw_registration: ServiceWorkerRegistration
        for name in SETTLE_EVENTS:
            self.worker.add_event_listener(name, self._on_settle)

    async def _on_settle(self, event: BackgroundFetchEvent) -> None:
        registration = event.registration
        settled = Settled(
            event.type,
            event,
            registration.result,
            registration.failure_reason,
            trio.current_time(),
        )
        self.settled[registration.id] = settled
        self.settled_changed.set()
        self.settled_changed = trio.Event()
        if self.hold is not None:
            event.wait_until(self.hold.wait())
        for record in await registration.match_all():
            outcome = await read_record(record)
            path = record.request.url.removeprefix(ORIGIN)
            settled.outcomes[path] = outcome
        self.handled.setdefault(registration.id, trio.Event()).set()

    @classmethod
    async def open(cls, ua: UserAgent) -> Harness:
        harness = cls(ua)
        harness.window, harness.sw_registration = await open_window_with_worker(ua, harness.worker)
        return harness

    @property
    def manager(self) -> Any:
        return self.sw_registration.background_fetch

    async def fetch(self, id: str, requests: Any, **options: Any) -> BackgroundFetchRegistration:
        registration: BackgroundFetchRegistration = await self.manager.fetch(
            id, requests, **options
        )
        return registration

    async def wait_settled(self, id: str, *, within: float = 3600) -> Settled:
        """Wait (simulated time) for the settle event of *id* and for its handler to finish."""
        with trio.fail_after(within):
            while id not in self.settled:
                await self.settled_changed.wait()
            await self.handled.setdefault(id, trio.Event()).wait()
        return self.settled[id]

    def edit_queue(self) -> ParallelQueue:
        """The registration's active background fetches edit queue."""
        queue: ParallelQueue = registration_extension(
            self.sw_registration.registration
        ).active_background_fetches_edit_queue
        return queue


def record_progress(registration: BackgroundFetchRegistration) -> list[Progress]:
    """Every progress event *registration* receives from now on, as snapshots."""
    seen: list[Progress] = []

    def on_progress(event: Any) -> None:
        seen.append(
            Progress(
                registration.downloaded,
                registration.uploaded,
                registration.result,
                registration.failure_reason,
                trio.current_time(),
            )
        )

    registration.add_event_listener("progress", on_progress)
    return seen


def on_step(ua: UserAgent, what: str, action: Callable[[Step], object], **match: Any) -> list[Step]:
    """Run *action* synchronously at every observed step *what* whose details match."""
    seen: list[Step] = []

    def subscriber(step: Step) -> None:
        if step.what == what and all(step.details.get(k) == v for k, v in match.items()):
            seen.append(step)
            action(step)

    ua.observers.subscribe(subscriber)
    return seen

