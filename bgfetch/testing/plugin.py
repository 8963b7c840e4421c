"""bgfetch's pytest plugin (entry point ``pytest11``): fixtures for service-worker tests.

Installed with bgfetch, so in any project::

    async def test_podcast_download(user_agent, origin_server):
        origin_server.add("/ep-5.mp3", b"..." * 1000)
        window, registration = await open_window_with_worker(user_agent, worker)
        ...

``virtual_network`` runs on trio's MockClock (autojump): simulated time, so a
throttled multi-MiB download takes milliseconds of real time.  Requires
pytest-trio (``pip install 'bgfetch[pytest]'``; ``trio_mode = true``, or mark tests
with ``@pytest.mark.trio``).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trio.testing

from bgfetch.editions import edition_name
from bgfetch.net.virtual import VirtualNetwork
from bgfetch.testing.origin_server import OriginServer
from bgfetch.testing.watchdog import Stuck, fail_when_stuck
from bgfetch.useragent import ReportedError, UserAgent, open_user_agent

ORIGIN = "https://example.test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run each test that uses ``virtual_network`` on that fixture's MockClock.

    pytest-trio hands ``trio.run`` only the clocks a test requests *directly*; a
    test asking for ``user_agent`` alone would run on the real clock (and take
    real seconds).  A ``trio`` mark whose runner takes the test's clock fixture
    fixes that for every test whose fixtures include ``virtual_network``.
    """
    if items and not items[0].config.pluginmanager.hasplugin("trio") and any(
        "virtual_network" in getattr(item, "fixturenames", ()) for item in items
    ):
        raise pytest.UsageError(
            "bgfetch's fixtures run on pytest-trio, which is not installed: "
            "pip install 'bgfetch[pytest]' (and set trio_mode = true)"
        )
    for item in items:
        test = getattr(item, "obj", None)
        if "virtual_network" in getattr(item, "fixturenames", ()) and (
            inspect.iscoroutinefunction(test)
        ):
            item.add_marker(pytest.mark.trio(run=_runner_on_clock_of(item)), append=False)


def _runner_on_clock_of(item: pytest.Item) -> Callable[..., Any]:
    def run(fn: Callable[[], Any], *, clock: Any = None, **kwargs: Any) -> Any:
        if clock is None:
            clock = item.funcargs.get("autojump_clock")  # type: ignore[attr-defined]
        return trio.run(fn, clock=clock, **kwargs)

    return run


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
def bgfetch_edition() -> str:
    """The spec edition ``user_agent`` runs: "current".  Override this fixture, or
    parametrize it: ``@pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])``."""
    return "current"


@pytest.fixture
async def user_agent(
    virtual_network: VirtualNetwork, bgfetch_edition: str
) -> AsyncIterator[UserAgent]:
    """A user agent of ``bgfetch_edition`` (the current spec by default) on the virtual network.

    The test fails if the user agent reported an exception: a service-worker
    handler, a page's event listener (``onprogress`` too) or an ``ua.observers``
    subscriber raised.  Each is a bug in the code under test, which the user agent
    survives (DOM's "report the exception") and which would otherwise pass unseen.  A
    test that makes one on purpose empties ``ua.reported_errors`` once it has checked it.

    The test also fails, instead of hanging, once nothing can make progress any more
    (bgfetch.testing.watchdog): the failure names what it waits for.
    """
    edition = edition_name(bgfetch_edition)
    stuck: list[Stuck] = []
    async with open_user_agent(network=virtual_network, edition=edition) as ua:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(fail_when_stuck)
                yield ua
                nursery.cancel_scope.cancel()
        except* Stuck as group:  # the test was cancelled: it would have waited for ever
            stuck += [e for e in group.exceptions if isinstance(e, Stuck)]
        errors = list(ua.reported_errors)
    if stuck:
        pytest.fail(f"the test is stuck: {stuck[0]}", pytrace=False)
    if errors:
        pytest.fail(
            f"the user agent reported exceptions:\n{describe_reported(errors)}", pytrace=False
        )


def describe_reported(errors: list[ReportedError]) -> str:
    """One line per reported exception: whose code raised, in which event, what."""
    return "\n".join(f"  {SOURCES[e.source]} ({e.event_type}): {e.error!r}" for e in errors)


SOURCES = {
    "handler": "a service-worker handler",
    "listener": "an event listener",
    "observer": "an observer",
}
