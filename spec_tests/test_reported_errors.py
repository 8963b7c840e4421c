"""A page's listener or an observer that raises never takes the user agent down: the
exception is reported (DOM's "report the exception"), the next listener is called, and
the background fetch goes on to its end (issue 9, "pages and workers")."""

from __future__ import annotations

import pytest
import trio

from bgfetch.testing import WorkerRecorder, open_window_with_worker

pytest_plugins = ["pytester"]

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])


def take_reported(user_agent, source):
    """The reported exceptions of *source*, removed from the user agent's list (they are
    this test's doing, and the fixture fails a test on any left)."""
    taken = [e for e in user_agent.reported_errors if e.source == source]
    user_agent.reported_errors[:] = [e for e in user_agent.reported_errors if e.source != source]
    return taken


@EDITIONS
async def test_a_raising_progress_listener_is_reported_and_the_next_one_runs(
    user_agent, origin_server
):
    origin_server.add("/a.bin", b"x" * 40_000, throttle=10_000)
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    bg = await registration.background_fetch.fetch("a", "/a.bin")
    heard = []

    def first(event):
        raise RuntimeError("bug in the page's first listener")

    async def second(event):
        heard.append(bg.downloaded)
        raise ValueError("bug in an async listener")

    def third(event):
        heard.append(bg.downloaded)
        return 1 / 0

    def onprogress(event):
        raise KeyError("bug in onprogress")

    bg.onprogress = onprogress
    bg.add_event_listener("progress", first)
    bg.add_event_listener("progress", second)
    bg.add_event_listener("progress", third)
    seen = await recorder.settled("a")
    assert seen.type in ("backgroundfetchsuccess", "backgroundfetched")
    assert seen.bodies() == [b"x" * 40_000]
    await trio.sleep(1)
    assert len(heard) >= 2 and heard == sorted(heard)  # the later listeners heard each one
    reported = take_reported(user_agent, "listener")
    kinds = {type(e.error) for e in reported}
    assert kinds == {RuntimeError, ValueError, ZeroDivisionError, KeyError}
    assert all(e.event_type == "progress" and e.where.startswith("<Window") for e in reported)
    # The window still works: another background fetch runs to its end.
    await registration.background_fetch.fetch("b", "/a.bin")
    assert (await recorder.settled("b")).bodies() == [b"x" * 40_000]
    take_reported(user_agent, "listener")


@EDITIONS
async def test_a_raising_observer_is_reported_and_the_algorithm_goes_on(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    recorder = WorkerRecorder.for_edition(user_agent)
    steps = []

    def broken(step):
        raise RuntimeError(f"bug in an observer at {step.step}")

    user_agent.observers.subscribe(broken)
    user_agent.observers.subscribe(steps.append)  # the next subscriber still hears each step
    window, registration = await open_window_with_worker(user_agent, recorder)
    await registration.background_fetch.fetch("a", "/a.txt")
    seen = await recorder.settled("a")
    assert seen.texts() == ["A"]
    await trio.sleep(5)  # the steps after the event's handler
    reported = take_reported(user_agent, "observer")
    assert reported and len(reported) == len(steps)
    assert [e.event_type for e in reported] == [s.what for s in steps]
    assert all(isinstance(e.error, RuntimeError) for e in reported)


def test_the_user_agent_fixture_fails_a_test_whose_listener_raised(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(
        test_listener="""
import bgfetch
from bgfetch.testing import WorkerRecorder, open_window_with_worker

async def test_it(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    bg = await registration.background_fetch.fetch("a", "/a.txt")
    bg.add_event_listener("progress", lambda event: 1 / 0)
    await recorder.settled("a")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the user agent reported exceptions:*",
            "*an event listener (progress): ZeroDivisionError*",
        ]
    )
