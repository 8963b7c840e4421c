"""Fixtures for the 2017-10-12 edition's spec tests: a user agent of that edition."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bgfetch.net.virtual import VirtualNetwork
from bgfetch.useragent import UserAgent, open_user_agent


@pytest.fixture
async def draft_user_agent(virtual_network: VirtualNetwork) -> AsyncIterator[UserAgent]:
    """A user agent of the 2017-10-12 edition on the virtual network (MockClock).

    The test fails if a service-worker handler raised.
    """
    async with open_user_agent(network=virtual_network, edition="2017-10-12") as ua:
        yield ua
        errors = list(ua.handler_errors)
    if errors:
        lines = "\n".join(f"  {e.event_type}: {e.error!r}" for e in errors)
        pytest.fail(f"service-worker handlers raised:\n{lines}", pytrace=False)
