"""Backends a ported WPT case runs against.

A backend opens a page with an activated service worker on an origin that
serves WPT's shared fixtures, and reports what the worker's completion event
saw (``Settled``).  The reference backend is bgfetch on the virtual network;
a Chromium backend will drive a real browser over CDP with the same interface.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import attrs

import bgfetch
from bgfetch.testing import OriginServer, SeenResponse, WorkerRecorder, open_window_with_worker

ORIGIN = "https://web-platform.test"
FEATURE_NAME = b"Background Fetch"  # resources/feature-name.txt, 16 bytes


@attrs.frozen
class RecordResult:
    url: str
    status: int
    text: str


@attrs.frozen
class Settled:
    """What WPT's sw.js posts to the page from a completion event."""

    type: str
    result: str
    failure_reason: str
    downloaded: int
    results: tuple[RecordResult | None, ...]


class Page(Protocol):
    async def fetch(self, id: str, requests: Any, **options: Any) -> Any: ...

    async def settled(self) -> Settled: ...


def wpt_server() -> OriginServer:
    """WPT's shared fixtures, as far as the reference backend needs them."""
    server = OriginServer()
    server.add("/background-fetch/resources/feature-name.txt", FEATURE_NAME)
    server.add("/common/slow.py", b"", delay=2.0)
    server.add_echo("/background-fetch/resources/upload.py")
    return server


SW_JS_EVENTS = ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort")


class ReferencePage:
    """A page on bgfetch with WPT's sw.js behaviour: a WorkerRecorder listening to the
    events sw.js listens to, each settle event reported in turn."""

    def __init__(self, registration: Any) -> None:
        self.registration = registration
        self.recorder = WorkerRecorder(events=SW_JS_EVENTS, name="wpt-sw.js")
        self._reported = 0  # settle events settled() returned so far

    async def fetch(self, id: str, requests: Any, **options: Any) -> Any:
        return await self.registration.background_fetch.fetch(id, requests, **options)

    async def settled(self) -> Settled:
        """The next settle event, once the worker read its records, as sw.js posts it."""
        index = self._reported
        seen = self.recorder.seen
        await self.recorder.wait_until(lambda: len(seen) > index and seen[index].handled)
        self._reported += 1
        event = seen[index]
        assert event.result is not None and event.failure_reason is not None
        assert event.downloaded is not None
        return Settled(
            event.type,
            event.result,
            event.failure_reason,
            event.downloaded,
            tuple(_record_result(response) for response in event.responses),
        )


def _record_result(seen: SeenResponse) -> RecordResult | None:
    """A record as sw.js reports it: a rejected responseReady (or body) is null."""
    if seen.status is None or seen.response_url is None or seen.text is None:
        return None
    return RecordResult(seen.response_url, seen.status, seen.text)


@asynccontextmanager
async def reference_page() -> AsyncIterator[ReferencePage]:
    network = bgfetch.VirtualNetwork()
    network.serve(ORIGIN, wpt_server())
    async with bgfetch.open_user_agent(network=network) as ua:
        page = ReferencePage(None)
        _, page.registration = await open_window_with_worker(
            ua, page.recorder, f"{ORIGIN}/background-fetch/fetch.https.window.html"
        )
        yield page
