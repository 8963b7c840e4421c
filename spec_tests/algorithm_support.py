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

from bgfetch.editions.current import BackgroundFetchEvent, BackgroundFetchRegistration
from bgfetch.editions.current.concepts import registration_extension
from bgfetch.infra import ParallelQueue
from bgfetch.observe import Step
from bgfetch.sw.environment import Window
from bgfetch.sw.registration import ServiceWorkerRegistration
from bgfetch.testing import SeenEvent, WorkerRecorder, open_window_with_worker
from bgfetch.useragent import UserAgent

ORIGIN = "https://example.test"


def pattern(size: int, seed: int = 0) -> bytes:
    """*size* bytes in which every offset is distinguishable from its neighbours."""
    return bytes((i * 7 + seed * 31 + i // 256) % 256 for i in range(size))


@attrs.define
class Progress:
    """A page registration's values when one of its progress events fired."""

    downloaded: int
    uploaded: int
    result: str
    failure_reason: str
    time: float


class Harness:
    """A window at https://example.test/ whose worker, a :class:`WorkerRecorder`, records
    the settle events and reads every record's response inside them.

    ``settled``: the recorder's settle events by id (each there once its handler started).
    ``hold``: set it to a trio.Event before a fetch settles and the handler passes
    ``hold.wait()`` to waitUntil, keeping the event active until the test sets it.
    """

    def __init__(self, ua: UserAgent) -> None:
        self.ua = ua
        self.recorder = WorkerRecorder.for_edition(ua)
        self.worker = self.recorder.worker
        self.window: Window
        self.sw_registration: ServiceWorkerRegistration

    @property
    def settled(self) -> dict[str, SeenEvent]:
        return self.recorder.by_id

    @property
    def hold(self) -> trio.Event | None:
        return self.recorder.hold

    @hold.setter
    def hold(self, hold: trio.Event | None) -> None:
        self.recorder.hold = hold

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

    async def wait_settled(self, id: str, *, within: float = 3600) -> SeenEvent:
        """Wait (simulated time) for the settle event of *id* and for its handler to finish."""
        settled = await self.recorder.settled(id, within=within)
        assert isinstance(settled.event, BackgroundFetchEvent)
        return settled

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

