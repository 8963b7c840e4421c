"""Mistakes that speak up (issue 11): an event type no one fires, ``@worker.on`` without
its type, a worker written for the other edition, and a handler or listener that raises
(reported as it happens, with its traceback, through ``logging``)."""

from __future__ import annotations

import logging

import pytest

import bgfetch
from bgfetch.sw.event_types import SERVICE_WORKER_EVENTS, known_event_types
from bgfetch.testing import WorkerRecorder, open_window_with_worker, settled

pytest_plugins = ["pytester"]

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("backgroundfetchsucess", "backgroundfetchsuccess"),
        ("BackgroundFetchSuccess", "backgroundfetchsuccess"),
        ("backgroundfetchfailed", "backgroundfetchfail"),
        ("backgroundfetchclicked", "backgroundfetchclick"),
        ("instal", "install"),
    ],
)
def test_a_misspelled_event_type_is_a_value_error_naming_the_closest(typo, meant):
    worker = bgfetch.ServiceWorker()
    with pytest.raises(ValueError, match=f"did you mean '{meant}'") as raised:
        worker.on(typo)
    message = str(raised.value)
    assert repr(typo) in message
    assert all(name in message for name in known_event_types())  # the known events
    with pytest.raises(ValueError, match=f"did you mean '{meant}'"):
        worker.add_event_listener(typo, lambda event: None)
    assert worker.event_types() == []


def test_the_known_events_are_every_editions_and_the_service_workers_ones():
    known = set(known_event_types())
    assert {"backgroundfetchsuccess", "backgroundfetched", "backgroundfetchfail"} <= known
    assert SERVICE_WORKER_EVENTS <= known
    with pytest.raises(ValueError, match="the events it fires: activate, "):
        bgfetch.ServiceWorker().on("nothing-like-any")


def test_at_worker_on_without_its_type_is_a_type_error_saying_how_to_write_it():
    worker = bgfetch.ServiceWorker()
    with pytest.raises(
        TypeError,
        match=r'write @worker.on\("backgroundfetchsuccess"\) above '
        r"def on_success\(event\), not @worker.on",
    ):

        @worker.on
        async def on_success(event): ...

    with pytest.raises(TypeError, match="an event type is a str"):
        worker.on(None)
    with pytest.raises(TypeError, match="must be callable"):
        worker.add_event_listener("backgroundfetchsuccess", "on_success")
    assert worker.event_types() == []


@pytest.mark.parametrize(
    ("bgfetch_edition", "foreign", "written_for"),
    [
        ("current", "backgroundfetched", "2017-10-12"),
        ("2017-10-12", "backgroundfetchsuccess", "current"),
    ],
)
async def test_a_worker_of_the_other_edition_is_refused_at_register_naming_its_edition(
    user_agent, origin_server, foreign, written_for
):
    worker = bgfetch.ServiceWorker("episodes")
    worker.on(foreign)(lambda event: None)
    worker.on("backgroundfetchfail")(lambda event: None)
    window = await user_agent.open_window("https://example.test/")
    with pytest.raises(ValueError) as raised:
        await window.navigator.service_worker.register(worker)
    message = str(raised.value)
    assert f"{foreign!r}, an event of the {written_for} edition" in message
    assert f"runs the {user_agent.edition.NAME} edition, which never fires it" in message
    assert ", ".join(user_agent.edition.EVENTS) in message
    assert user_agent.registrations == {}


@EDITIONS
async def test_a_worker_for_both_editions_registers_in_either(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    recorder = WorkerRecorder()  # every edition's events
    window, registration = await open_window_with_worker(user_agent, recorder)
    await registration.background_fetch.fetch("a", "/a.txt")
    assert (await recorder.settled("a")).texts() == ["A"]


@EDITIONS
async def test_a_raising_handler_is_logged_as_it_happens_with_its_traceback(
    user_agent, origin_server, caplog
):
    origin_server.add("/a.txt", "A")
    recorder = WorkerRecorder.for_edition(user_agent)
    logged_when_settled = []

    @recorder.on(user_agent.edition.EVENTS[0])
    async def broken(event):
        raise RuntimeError("the success handler's bug")

    @recorder.on("backgroundfetchclick")
    def unused(event): ...

    caplog.set_level(logging.ERROR, logger="bgfetch.console")
    window, registration = await open_window_with_worker(user_agent, recorder)
    bg = await registration.background_fetch.fetch("a", "/a.txt")
    bg.add_event_listener("progress", lambda event: 1 / 0)
    await recorder.settled("a")
    await settled(bg)
    logged_when_settled.extend(caplog.records)
    handler = [r for r in logged_when_settled if "the success handler's bug" in r.getMessage()]
    assert len(handler) == 1
    record = handler[0]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        "Uncaught RuntimeError: the success handler's bug "
        f"(in a service worker's {user_agent.edition.EVENTS[0]} handler)"
    )
    assert (
        record.exc_info is not None and record.exc_info[1] is user_agent.reported_errors[-1].error
    )
    assert "raise RuntimeError" in caplog.text  # the traceback, as a console shows it
    listener = [r for r in logged_when_settled if "ZeroDivisionError" in r.getMessage()]
    assert listener and "in a progress listener of <Window https://example.test/>" in (
        listener[0].getMessage()
    )
    # Collected for tests: the console and the reported errors (which fail the test).
    said = [m for m in user_agent.console.errors() if m.text.startswith("Uncaught")]
    assert {m.source for m in said} == {"worker", "javascript"}
    assert {type(e.error) for e in user_agent.reported_errors} == {RuntimeError, ZeroDivisionError}
    user_agent.reported_errors.clear()


def test_a_raising_handler_outside_pytest_prints_its_traceback_to_stderr(tmp_path):
    """A script (no logging set up) sees the handler's exception on stderr."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(
        """
import trio, trio.testing, bgfetch
from bgfetch.testing import OriginServer, open_window_with_worker, settled

worker = bgfetch.ServiceWorker()

@worker.on("backgroundfetchsuccess")
async def on_success(event):
    raise KeyError("episode-5")

async def main():
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    server.add("/ep.mp3", b"x")
    network.serve("https://example.test", server)
    async with bgfetch.open_user_agent(network=network) as ua:
        window, registration = await open_window_with_worker(ua, worker)
        bg = await registration.background_fetch.fetch("ep", "/ep.mp3")
        await settled(bg)
        print("result:", bg.result)

trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
"""
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.stdout == "result: success\n"
    assert "Uncaught KeyError: 'episode-5' (in a service worker's backgroundfetchsuccess" in (
        done.stderr
    )
    assert "Traceback (most recent call last):" in done.stderr
    assert 'raise KeyError("episode-5")' in done.stderr


def test_three_mistakes_each_fail_fast_with_a_message_naming_it(pytester):
    """Issue 11's last done-when: in an author's project, a misspelled event name, a
    forgotten register() and a raising handler each fail their test, at once, saying
    what the mistake is (none hangs: the run has a time limit)."""
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(
        test_podcast="""
import bgfetch
from bgfetch.testing import open_window_with_worker, settled

def test_misspelled_event_name():
    worker = bgfetch.ServiceWorker()

    @worker.on("backgroundfetchsucess")
    async def on_success(event): ...

async def test_forgotten_register(user_agent, origin_server):
    window = await user_agent.open_window("https://example.test/")
    await window.navigator.service_worker.ready

async def test_raising_handler(user_agent, origin_server):
    origin_server.add("/ep.mp3", b"x")
    worker = bgfetch.ServiceWorker()

    @worker.on("backgroundfetchsuccess")
    async def on_success(event):
        raise KeyError("no such cache")

    window, registration = await open_window_with_worker(user_agent, worker)
    await settled(await registration.background_fetch.fetch("ep", "/ep.mp3"))
"""
    )
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(failed=3)
    text = result.stdout.str()
    assert (
        "bgfetch fires no 'backgroundfetchsucess' event at a service worker; did you mean "
        "'backgroundfetchsuccess'?"
    ) in text
    assert "service_worker.ready: no service worker is registered (a forgotten register()?)" in text
    assert "test_podcast.py:12 in test_forgotten_register" in text
    assert "a service-worker handler (backgroundfetchsuccess): KeyError('no such cache')" in text
    # The console's line, logged as it happened (pytest shows it as captured log).
    assert "Uncaught KeyError: 'no such cache' (in a service worker's backgroundfetch" in text
