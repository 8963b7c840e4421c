"""Helpers for the tests on real loopback sockets and the fault matrix (see conftest.py)."""

from __future__ import annotations

import socket
import ssl
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
import trio
import trustme

from bgfetch.fetch.response import Response
from bgfetch.net.real import RealNetwork
from bgfetch.sw.registration import ServiceWorker
from bgfetch.testing import OriginServer
from bgfetch.useragent import UserAgent


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


HAS_IPV6 = _has_ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(
    not HAS_IPV6, reason="this machine has no IPv6 loopback address (::1) to bind"
)

SETTLE_EVENTS = ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort")


async def serve_loopback(
    nursery: trio.Nursery, server: OriginServer, ssl_context: ssl.SSLContext | None
) -> int:
    """Serve *server* on 127.0.0.1 and ::1 (if any), one port for both; return it."""
    hosts = ["127.0.0.1", "::1"] if HAS_IPV6 else ["127.0.0.1"]
    for _ in range(20):  # the port picked on 127.0.0.1 may be taken on ::1: try another
        try:
            listeners = await nursery.start(
                lambda task_status: server.serve_tcp(
                    0, host=hosts, ssl_context=ssl_context, task_status=task_status
                )
            )
        except OSError:
            continue
        except BaseExceptionGroup as group:  # the same, wrapped by a nursery
            if group.split(OSError)[1] is not None:
                raise
            continue
        port: int = listeners[0].socket.getsockname()[1]
        return port
    raise RuntimeError("no loopback port free on both 127.0.0.1 and ::1")


@attrs.define
class Loopback:
    """An origin server on loopback: ``url("https", "localhost", "/a")``."""

    server: OriginServer
    http_port: int
    https_port: int

    def url(self, scheme: str = "https", host: str = "127.0.0.1", path: str = "/") -> str:
        port = self.https_port if scheme == "https" else self.http_port
        return f"{scheme}://{host}:{port}{path}"

    def origin(self, scheme: str = "https", host: str = "127.0.0.1") -> str:
        return self.url(scheme, host, "")


WPT_HOST = "web-platform.test"
"""A name that is not potentially trustworthy, mapped to 127.0.0.1 (as WPT's hosts are)."""


def make_real_network(ca: trustme.CA) -> RealNetwork:
    return RealNetwork(
        ca_certs=[ca.cert_pem.bytes()], hosts={WPT_HOST: "127.0.0.1"}, loopback_only=True
    )


@attrs.define
class Net:
    """A user agent and an origin server it reaches at ``page``'s origin."""

    kind: str
    ua: UserAgent
    server: OriginServer
    origin: str

    @property
    def page(self) -> str:
        return self.origin + "/"

    def url(self, path: str) -> str:
        return self.origin + path


# -- running a background fetch --------------------------------------------------------


@attrs.define
class RecordOutcome:
    """One record as the worker saw it: the response (or why responseReady rejected)."""

    url: str
    method: str
    response: Response | None = None
    error: BaseException | None = None
    body: bytes | None = None
    body_error: BaseException | None = None

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None

    @property
    def type(self) -> str | None:
        return self.response.type if self.response is not None else None

    def header(self, name: str) -> str | None:
        return self.response.headers.get(name) if self.response is not None else None


@attrs.define
class Outcome:
    """What the service worker saw in the event that settled the background fetch."""

    event: str
    result: str
    failure_reason: str
    downloaded: int
    uploaded: int
    records: list[RecordOutcome]
    errors: dict[str, str] = attrs.field(factory=dict)
    """Why each network error happened, by the URL whose fetch ended in it."""

    def record(self, url_end: str) -> RecordOutcome:
        matches = [r for r in self.records if r.url.endswith(url_end)]
        assert len(matches) == 1, f"{len(matches)} records end with {url_end!r}: {self.records}"
        return matches[0]


async def _record_outcome(record: Any) -> RecordOutcome:
    outcome = RecordOutcome(record.request.url, record.request.method)
    try:
        outcome.response = await record.response_ready
    except Exception as error:
        outcome.error = error
        return outcome
    try:
        outcome.body = await outcome.response.bytes()
    except Exception as error:
        outcome.body_error = error
    return outcome


@attrs.define
class _Worker:
    """One service worker per user agent; settled events go to the run waiting for that id."""

    worker: ServiceWorker
    waiting: dict[str, tuple[trio.Event, list[Outcome], dict[str, str]]] = attrs.field(factory=dict)


_WORKERS: weakref.WeakKeyDictionary[UserAgent, _Worker] = weakref.WeakKeyDictionary()


def _worker_for(ua: UserAgent) -> _Worker:
    if ua not in _WORKERS:
        state = _Worker(ServiceWorker())

        async def on_settled(event: Any) -> None:
            registration = event.registration
            settled, outcomes, errors = state.waiting[registration.id]
            records = [await _record_outcome(r) for r in await registration.match_all()]
            outcomes.append(
                Outcome(
                    event.type,
                    registration.result,
                    registration.failure_reason,
                    registration.downloaded,
                    registration.uploaded,
                    records,
                    errors,
                )
            )
            settled.set()

        for event_type in SETTLE_EVENTS:
            state.worker.add_event_listener(event_type, on_settled)
        _WORKERS[ua] = state
    return _WORKERS[ua]


async def run_background_fetch(
    ua: UserAgent,
    page: str,
    requests: Any,
    *,
    id: str = "bgfetch",
    csp: str | None = None,
    timeout: float = 10.0,
    while_running: Callable[[Any], Awaitable[None]] | None = None,
    **options: Any,
) -> Outcome:
    """Open a window at *page* (with *csp*) and a worker; fetch; return the settled event.

    *while_running*, given the BackgroundFetchRegistration, runs once fetch() resolved.
    Several runs on one user agent share its worker: give each its own *id*.
    """
    state = _worker_for(ua)
    settled = trio.Event()
    outcomes: list[Outcome] = []
    errors: dict[str, str] = {}
    state.waiting[id] = (settled, outcomes, errors)

    def on_step(step: Any) -> None:
        if step.id == id and step.what == "response" and step.details.get("error"):
            errors[step.details["url"]] = step.details["error"]

    unsubscribe = ua.observers.subscribe(on_step)
    try:
        window = await ua.open_window(page, csp=csp)
        container = window.navigator.service_worker
        if container.matching_registration() is None:
            await container.register(state.worker, scope="/")
        sw_registration = await container.ready
        registration = await sw_registration.background_fetch.fetch(id, requests, **options)
        with trio.fail_after(timeout):
            if while_running is not None:
                await while_running(registration)
            await settled.wait()
    finally:
        unsubscribe()
    return outcomes[0]


async def fetch_rejection(ua: UserAgent, page: str, requests: Any, **options: Any) -> Exception:
    """Start a background fetch that must reject; return the exception."""
    window = await ua.open_window(page)
    await window.navigator.service_worker.register(ServiceWorker(), scope="/")
    sw_registration = await window.navigator.service_worker.ready
    try:
        await sw_registration.background_fetch.fetch("rejected", requests, **options)
    except Exception as error:
        return error
    raise AssertionError(f"fetch() of {requests!r} resolved; it should have rejected")
