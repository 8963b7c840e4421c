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
import trio

import bgfetch
from bgfetch.testing import OriginServer, open_window_with_worker

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


class ReferencePage:
    """A page on bgfetch with WPT's sw.js behaviour, written in Python."""

    def __init__(self, registration: Any) -> None:
        self.registration = registration
        self._send, self._receive = trio.open_memory_channel[Settled](16)

    async def fetch(self, id: str, requests: Any, **options: Any) -> Any:
        return await self.registration.background_fetch.fetch(id, requests, **options)

    async def settled(self) -> Settled:
        return await self._receive.receive()

    def worker(self) -> bgfetch.ServiceWorker:
        worker = bgfetch.ServiceWorker("wpt-sw.js")

        async def handle(event: Any) -> None:
            registration = event.registration
            results: list[RecordResult | None] = []
            for record in await registration.match_all():
                try:
                    response = await record.response_ready
                    results.append(
                        RecordResult(response.url, response.status, await response.text())
                    )
                except Exception:  # sw.js turns a rejection into null
                    results.append(None)
            await self._send.send(
                Settled(
                    event.type,
                    registration.result,
                    registration.failure_reason,
                    registration.downloaded,
                    tuple(results),
                )
            )

        for name in ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"):
            worker.add_event_listener(name, handle)
        return worker


@asynccontextmanager
async def reference_page() -> AsyncIterator[ReferencePage]:
    network = bgfetch.VirtualNetwork()
    network.serve(ORIGIN, wpt_server())
    async with bgfetch.open_user_agent(network=network) as ua:
        page = ReferencePage(None)
        _, page.registration = await open_window_with_worker(
            ua, page.worker(), f"{ORIGIN}/background-fetch/fetch.https.window.html"
        )
        yield page
