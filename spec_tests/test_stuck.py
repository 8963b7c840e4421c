"""Tests that cannot hang (issue 11): the ``user_agent`` fixture fails a test that can make
no progress, naming what it waits for; ``settled(bg)`` waits from the page's side for a
background fetch to settle, so that tests do not poll."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.testing import Stuck, WorkerRecorder, fail_when_stuck, open_window_with_worker, settled
from bgfetch.testing.watchdog import AFTER

pytest_plugins = ["pytester"]

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])


async def stuck_message(wait) -> str:
    """Run *wait* under a watchdog of its own; the Stuck message it ends with."""
    messages = []
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait)
            nursery.start_soon(fail_when_stuck)
    except* Stuck as group:
        messages += [str(e) for e in group.exceptions]
    assert len(messages) == 1, "the watchdog let a stuck wait be"
    return messages[0]


@EDITIONS
async def test_ready_without_register_names_the_forgotten_register(user_agent, origin_server):
    window = await user_agent.open_window("https://example.test/page")
    start = trio.current_time()
    message = await stuck_message(lambda: window.navigator.service_worker.ready)
    assert (
        "service_worker.ready: no service worker is registered (a forgotten register()?)" in message
    )
    assert "test_stuck.py" in message and "in stuck_message" not in message.split("where:")[0]
    assert AFTER <= trio.current_time() - start <= AFTER + 120  # a long simulated time only


@EDITIONS
async def test_ready_with_a_scope_that_does_not_cover_the_page_names_the_scopes(
    user_agent, origin_server
):
    window = await user_agent.open_window("https://example.test/page")
    await window.navigator.service_worker.register(bgfetch.ServiceWorker(), scope="/app/")
    message = await stuck_message(lambda: window.navigator.service_worker.ready)
    assert (
        "service_worker.ready: no registration's scope covers https://example.test/page "
        "(the scopes: https://example.test/app/)"
    ) in message


@EDITIONS
async def test_settled_names_a_wait_until_that_never_settles(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    never = trio.Event()
    recorder = WorkerRecorder.for_edition(user_agent, hold=never)
    window, registration = await open_window_with_worker(user_agent, recorder)
    bg = await registration.background_fetch.fetch("held", "/a.txt")
    message = await stuck_message(lambda: settled(bg))
    assert (
        "settled(<background fetch 'held'>): its completion event's handlers have not "
        "finished (a wait_until() that never settles?)"
    ) in message
    never.set()
    assert await settled(bg) is bg


async def test_settled_names_a_network_left_offline(user_agent, origin_server, virtual_network):
    origin_server.add("/a.bin", b"a" * 10_000, throttle=1_000)
    window, registration = await open_window_with_worker(user_agent, WorkerRecorder())
    bg = await registration.background_fetch.fetch("offline", "/a.bin")
    await trio.sleep(2)
    virtual_network.set_online(False)
    message = await stuck_message(lambda: settled(bg))
    assert "settled(<background fetch 'offline'>): the network is offline" in message
    virtual_network.set_online(True)
    await settled(bg)
    assert bg.result == "success"


async def test_a_timer_or_a_download_in_progress_is_not_stuck(user_agent, origin_server):
    """Progress that takes simulated days is progress: the watchdog keeps quiet."""
    origin_server.add("/slow.bin", b"s" * 3_000, throttle=1 / 120)  # a byte every two minutes
    window, registration = await open_window_with_worker(user_agent, WorkerRecorder())
    bg = await registration.background_fetch.fetch("slow", "/slow.bin")
    with trio.move_on_after(3 * 86400):
        await fail_when_stuck()
    assert 0 < bg.downloaded < 3_000
    await bg.abort()


@EDITIONS
async def test_settled_waits_from_the_page_side_and_returns_the_registration(
    user_agent, origin_server
):
    origin_server.add("/a.txt", "A", delay=30)
    origin_server.add("/missing.txt", "", status=404)
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    ok = await registration.background_fetch.fetch("ok", "/a.txt")
    bad = await registration.background_fetch.fetch("bad", ["/a.txt", "/missing.txt"])
    assert await settled(ok) is ok
    assert recorder.by_id["ok"].handled  # its completion event was handled
    await settled(bad)
    assert recorder.by_id["bad"].handled
    if user_agent.edition.NAME == "current":
        assert (ok.result, bad.result, bad.failure_reason) == ("success", "failure", "bad-status")
    assert await settled(ok) is ok  # at once, when it has settled already


def test_a_hanging_test_fails_under_the_fixture_naming_what_it_waits_for(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(
        test_hang="""
import trio

async def test_forgot_register(user_agent, origin_server):
    window = await user_agent.open_window("https://example.test/page")
    await window.navigator.service_worker.ready

async def test_waits_for_its_own_event(user_agent, origin_server):
    never = trio.Event()
    await never.wait()
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*the test is stuck: no progress for 600 simulated seconds*",
            "*service_worker.ready: no service worker is registered (a forgotten register()?)",
            "*test_hang.py:5 in test_forgot_register: await window.navigator.service_worker.ready",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*test_hang.py:9 in test_waits_for_its_own_event: await never.wait()"]
    )


async def test_a_recorder_that_waits_too_long_says_what_it_waited_for(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    recorder = WorkerRecorder.for_edition(user_agent)
    await open_window_with_worker(user_agent, recorder)
    with pytest.raises(trio.TooSlowError) as raised:
        await recorder.settled("never-fetched", within=30)
    assert str(raised.value) == (
        f"WorkerRecorder 'recorder'.settled('never-fetched'): it listens for "
        f"{', '.join(user_agent.edition.EVENTS)}; events seen: none; not within 30 simulated "
        "seconds"
    )
