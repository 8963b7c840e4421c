"""bgfetch's pytest plugin (entry point ``pytest11``): fixtures for service-worker tests.

Installed with bgfetch, so in any project::

    async def test_podcast_download(user_agent, origin_server):
        origin_server.add("/ep-5.mp3", b"..." * 1000)
        window, registration = await open_window_with_worker(user_agent, worker)
        ...

``virtual_network`` runs on trio's MockClock (autojump): simulated time, so a
throttled multi-MiB download takes milliseconds of real time.  Requires
pytest-trio (``trio_mode = true``, or mark tests with ``@pytest.mark.trio``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio.testing

from bgfetch.net.virtual import VirtualNetwork
from bgfetch.testing.origin_server import OriginServer
from bgfetch.useragent import UserAgent, open_user_agent

ORIGIN = "https://example.test"


@pytest.fixture
def virtual_network(autojump_clock: trio.testing.MockClock) -> VirtualNetwork:
    """A VirtualNetwork on trio's MockClock: deterministic, in simulated time."""
    return VirtualNetwork()


@pytest.fixture
def origin_server(virtual_network: VirtualNetwork) -> OriginServer:
    """An OriginServer at https://example.test on the virtual network."""
    server = OriginServer()
    virtual_network.serve(ORIGIN, server)
    return server


@pytest.fixture
async def user_agent(virtual_network: VirtualNetwork) -> AsyncIterator[UserAgent]:
    """A user agent (current edition) on the virtual network.

    The test fails if a service-worker handler raised: an exception in a handler
    is a bug in the worker under test, and would otherwise pass unseen.
    """
    async with open_user_agent(network=virtual_network) as ua:
        yield ua
        errors = list(ua.handler_errors)
    if errors:
        lines = "\n".join(f"  {e.event_type}: {e.error!r}" for e in errors)
        pytest.fail(f"service-worker handlers raised:\n{lines}", pytrace=False)
