"""Fixtures for tests on real loopback sockets (and for the fault matrix, on both networks).

* ``ca``: a trustme CA; ``server_ssl_context`` serves a certificate it issued for
  127.0.0.1, localhost, ::1 and web-platform.test (which the real network maps to
  127.0.0.1: a name that, unlike those, is not potentially trustworthy).
* ``loopback``: an :class:`OriginServer` on real sockets, http and https, bound to
  127.0.0.1 and (when the machine has it) ::1.  "127.0.0.1", "localhost" and
  "[::1]" name three different origins on the same port.
* ``real_ua``: a user agent on a :class:`RealNetwork` that trusts ``ca`` and is
  loopback-only, so a bug can never reach another host.
* ``network_kind`` / ``clock`` / ``net``: one user agent and origin server on the
  virtual network (in MockClock time) or on loopback sockets (in real time); a
  test taking ``net`` and ``clock`` runs on both.
* ``run_background_fetch(ua, page, requests, ...)``: open a window at *page* with a
  service worker, start a background fetch, and return what the worker saw when
  it settled (:class:`Outcome`).

Tests on real sockets run in real time: keep bodies small and delays short.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
import trustme
from real_network_support import WPT_HOST, Loopback, Net, make_real_network, serve_loopback

from bgfetch.net.real import RealNetwork
from bgfetch.net.virtual import VirtualNetwork
from bgfetch.testing import OriginServer
from bgfetch.useragent import UserAgent, open_user_agent

# -- certificates and servers ------------------------------------------------------


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost", "::1", WPT_HOST).configure_cert(context)
    return context


@pytest.fixture
async def loopback(nursery: trio.Nursery, server_ssl_context: ssl.SSLContext) -> Loopback:
    server = OriginServer()
    https_port = await serve_loopback(nursery, server, server_ssl_context)
    http_port = await serve_loopback(nursery, server, None)
    return Loopback(server, http_port, https_port)


@asynccontextmanager
async def _checked_user_agent(network: Any) -> AsyncIterator[UserAgent]:
    async with open_user_agent(network=network) as ua:
        yield ua
        errors = list(ua.handler_errors)
    if errors:
        lines = "\n".join(f"  {e.event_type}: {e.error!r}" for e in errors)
        pytest.fail(f"service-worker handlers raised:\n{lines}", pytrace=False)


@pytest.fixture
def real_network(ca: trustme.CA) -> RealNetwork:
    return make_real_network(ca)


@pytest.fixture
async def real_ua(real_network: RealNetwork) -> AsyncIterator[UserAgent]:
    """A user agent on the real network, trusting ``ca``, loopback-only."""
    async with _checked_user_agent(real_network) as ua:
        yield ua


# -- both networks -----------------------------------------------------------------


@pytest.fixture(params=["virtual", "real"])
def network_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock(network_kind: str) -> trio.testing.MockClock | None:
    """MockClock (autojump) on the virtual network; None (real time) on the real one.
    A test must take ``clock`` as an argument for pytest-trio to use it."""
    return trio.testing.MockClock(autojump_threshold=0) if network_kind == "virtual" else None


@pytest.fixture
async def net(
    network_kind: str,
    clock: trio.testing.MockClock | None,
    nursery: trio.Nursery,
    ca: trustme.CA,
    server_ssl_context: ssl.SSLContext,
) -> AsyncIterator[Net]:
    server = OriginServer()
    network: VirtualNetwork | RealNetwork
    if network_kind == "virtual":
        origin = "https://example.test"
        network = VirtualNetwork()
        network.serve(origin, server)
    else:
        port = await serve_loopback(nursery, server, server_ssl_context)
        origin = f"https://127.0.0.1:{port}"
        network = make_real_network(ca)
    async with _checked_user_agent(network) as ua:
        yield Net(network_kind, ua, server, origin)
