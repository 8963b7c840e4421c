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

from bgfetch.net.real import RealNetwork
from bgfetch.sw.registration import ServiceWorker
from bgfetch.testing import OriginServer, SeenResponse, WorkerRecorder, open_window_with_worker
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
class Outcome:
    """What the service worker saw in the event that settled the background fetch."""

    event: str
    result: str
    failure_reason: str
    downloaded: int
    uploaded: int
    records: list[SeenResponse]
    errors: dict[str, str] = attrs.field(factory=dict)
    """Why each network error happened, by the URL whose fetch ended in it."""

    def record(self, url_end: str) -> SeenResponse:
        matches = [r for r in self.records if r.url.endswith(url_end)]
        assert len(matches) == 1, f"{len(matches)} records end with {url_end!r}: {self.records}"
        return matches[0]


_RECORDERS: weakref.WeakKeyDictionary[UserAgent, WorkerRecorder] = weakref.WeakKeyDictionary()


def _recorder_for(ua: UserAgent) -> WorkerRecorder:
    """One recording service worker per user agent, shared by its runs."""
    if ua not in _RECORDERS:
        _RECORDERS[ua] = WorkerRecorder.for_edition(ua)
    return _RECORDERS[ua]


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
    recorder = _recorder_for(ua)
    recorder.by_id.pop(id, None)  # a run of its own, even where an earlier one had this id
    errors: dict[str, str] = {}

    def on_step(step: Any) -> None:
        if step.id == id and step.what == "response" and step.details.get("error"):
            errors[step.details["url"]] = step.details["error"]

    unsubscribe = ua.observers.subscribe(on_step)
    try:
        window = await ua.open_window(page, csp=csp)
        container = window.navigator.service_worker
        if container.matching_registration() is None:
            await container.register(recorder.worker, scope="/")
        sw_registration = await container.ready
        registration = await sw_registration.background_fetch.fetch(id, requests, **options)
        with trio.fail_after(timeout):
            if while_running is not None:
                await while_running(registration)
            seen = await recorder.settled(id, within=timeout)
    finally:
        unsubscribe()
    # The recorder is kept for the user agent (a weak key): holding the event, whose
    # registration leads back to the user agent, would keep both alive for good.
    del recorder.by_id[id]
    recorder.seen.remove(seen)
    assert seen.result is not None and seen.failure_reason is not None
    assert seen.downloaded is not None and seen.uploaded is not None
    return Outcome(
        seen.type,
        seen.result,
        seen.failure_reason,
        seen.downloaded,
        seen.uploaded,
        seen.responses,
        errors,
    )


async def fetch_rejection(ua: UserAgent, page: str, requests: Any, **options: Any) -> Exception:
    """Start a background fetch that must reject; return the exception."""
    _, sw_registration = await open_window_with_worker(ua, ServiceWorker(), page)
    try:
        await sw_registration.background_fetch.fetch("rejected", requests, **options)
    except Exception as error:
        return error
    raise AssertionError(f"fetch() of {requests!r} resolved; it should have rejected")
