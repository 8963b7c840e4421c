"""Helpers for the 2017-10-12 edition's spec tests.

:class:`Reporter` is a service worker that, on each of the draft's settled events
(``backgroundfetched``, ``backgroundfetchfail``, ``backgroundfetchabort``), reads
every settled fetch (``event.fetches.values()``) and keeps what it saw, by id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

import bgfetch
from bgfetch.fetch.fetching import Fetched
from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse
from bgfetch.observe import Step
from bgfetch.testing import open_window_with_worker
from bgfetch.useragent import UserAgent

ORIGIN = "https://example.test"
FEATURE = "Background Fetch"
SETTLED_EVENTS = ("backgroundfetched", "backgroundfetchfail", "backgroundfetchabort")
ATTEMPT = "#attempt-a-background-fetch-algorithm"


@attrs.define
class Fetch:
    """One settled fetch as the worker read it."""

    url: str
    method: str
    status: int | None  # None: the settled fetch's response is null
    text: str | None


@attrs.define
class Seen:
    type: str
    id: str
    event: Any
    fetches: list[Fetch]

    def texts(self) -> list[str | None]:
        return [f.text for f in self.fetches]

    def statuses(self) -> list[int | None]:
        return [f.status for f in self.fetches]


class Reporter:
    """A service worker reporting each settled event of the draft, by id."""

    def __init__(self) -> None:
        self.worker = bgfetch.ServiceWorker("reporter")
        self.seen: dict[str, Seen] = {}
        self.events: list[Any] = []
        self._changed = trio.Event()
        for type in SETTLED_EVENTS:
            self.worker.add_event_listener(type, self._on_settled)

    async def _on_settled(self, event: Any) -> None:
        self.events.append(event)
        fetches = []
        for settled in await event.fetches.values():
            response = settled.response
            fetches.append(
                Fetch(
                    settled.request.url,
                    settled.request.method,
                    None if response is None else response.status,
                    None if response is None else await response.text(),
                )
            )
        self.seen[event.id] = Seen(event.type, event.id, event, fetches)
        self._changed.set()
        self._changed = trio.Event()

    async def settled(self, id: str, *, within: float = 600) -> Seen:
        """Wait (at most *within* simulated seconds) for the settled event of *id*."""
        with trio.fail_after(within):
            while id not in self.seen:
                await self._changed.wait()
        return self.seen[id]


async def page(ua: UserAgent, worker: bgfetch.ServiceWorker, url: str = f"{ORIGIN}/") -> Any:
    """A window at *url* whose service worker is active; returns its registration object."""
    _, registration = await open_window_with_worker(ua, worker, url)
    return registration


def record_steps(ua: UserAgent) -> list[Step]:
    """Every algorithm step observed from now on."""
    steps: list[Step] = []
    ua.observers.subscribe(steps.append)
    return steps


def steps_at(steps: list[Step], algorithm: str, step: str) -> list[Step]:
    return [s for s in steps if s.algorithm == algorithm and s.step == step]


class StubFetcher:
    """Stands in for ``ua.fetcher``: records every request, and answers those whose URL
    is in *answers* with that (network error) response; the rest go to the real fetcher."""

    def __init__(self, inner: Any, answers: dict[str, InternalResponse] | None = None) -> None:
        self.inner = inner
        self.answers = dict(answers or {})
        self.requests: list[InternalRequest] = []

    def fetch(self, request: InternalRequest, **kwargs: Any) -> Any:
        self.requests.append(request)
        answer = self.answers.get(request.url.href)
        if answer is None:
            return self.inner.fetch(request, **kwargs)
        return _answer(answer)


@asynccontextmanager
async def _answer(response: InternalResponse) -> AsyncIterator[Fetched]:
    await trio.lowlevel.checkpoint()
    yield Fetched(response)


def stub_fetcher(ua: UserAgent, answers: dict[str, InternalResponse] | None = None) -> StubFetcher:
    stub = StubFetcher(ua.fetcher, answers)
    ua.fetcher = stub  # type: ignore[assignment]
    return stub
