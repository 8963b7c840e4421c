"""Helpers for the 2017-10-12 edition's spec tests.

The worker that reads every settled fetch (``event.fetches.values()``) of each of the
draft's settled events and keeps what it saw, by id, is
:class:`bgfetch.testing.WorkerRecorder`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

import bgfetch
from bgfetch.fetch.fetching import Fetched
from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse
from bgfetch.observe import Step
from bgfetch.testing import WorkerRecorder, open_window_with_worker
from bgfetch.useragent import UserAgent

ORIGIN = "https://example.test"
FEATURE = "Background Fetch"
ATTEMPT = "#attempt-a-background-fetch-algorithm"


async def page(
    ua: UserAgent, worker: bgfetch.ServiceWorker | WorkerRecorder, url: str = f"{ORIGIN}/"
) -> Any:
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

