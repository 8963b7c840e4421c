"""Golden tests: the DevTools Background Fetch log (bgfetch.devtools) pinned against what
Chromium logs (../shared/reference/chromium-observed.md, "DevTools BackgroundService
log"): event names, metadata keys and value formats, the envelope, and the order
wherever the spec allows Chromium's.

Records start at once (the spec fetches them in parallel; Chromium's scheduler runs two
at a time), so events of the same name at the same instant are compared in request
order (``canonical``).
"""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.devtools.protocol import ServiceName
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker

ORIGIN = "https://example.test"
KEY = "https://example.test/"

REGISTERED = "Background Fetch registered"
RESUMED = "Background Fetch resuming after browser restart"
STARTED = "Background Fetch started"
REQUEST_STARTED = "Request processing started"
REQUEST_COMPLETED = "Request processing completed"
COMPLETED = "Background Fetch completed"


def canonical(ua) -> list[tuple[str, dict[str, str]]]:
    """The log as (event name, metadata), same-instant events of one name in request order."""
    events = ua.devtools.events()
    runs: list[list] = []
    for event in events:
        if runs and (runs[-1][0].timestamp, runs[-1][0].event_name) == (
            event.timestamp,
            event.event_name,
        ):
            runs[-1].append(event)
        else:
            runs.append([event])
    ordered = [
        e
        for run in runs
        for e in sorted(run, key=lambda e: int(e.metadata().get("Request Index", -1)))
    ]
    return [(e.event_name, e.metadata()) for e in ordered]


def started(index: int, path: str, **extra: str) -> tuple[str, dict[str, str]]:
    return REQUEST_STARTED, {"URL": ORIGIN + path, "Request Index": str(index), **extra}


def completed(index: int, path: str, status: int, size: int, **extra: str):
    return REQUEST_COMPLETED, {
        "URL": ORIGIN + path,
        "Request Index": str(index),
        "Response Status": str(status),
        "Response Size (bytes)": str(size),
        **extra,
    }


def done(event_type: str, reason: str | None = None):
    metadata = {"Event Type": event_type}
    if reason is not None:
        metadata["Failure Reason"] = f"BackgroundFetchFailureReason::{reason}"
    return COMPLETED, metadata


def registered(total: int, paused: str = "No"):
    return REGISTERED, {"Total Requests": str(total), "Start Paused": paused}


@pytest.fixture
def server(virtual_network) -> OriginServer:
    server = OriginServer()
    server.add("/ep.txt", b"x" * 1000)
    server.add("/ep.mp3", b"m" * 300_000, throttle=100_000, etag='"v1"')
    server.add("/missing", b"nope", status=404)
    server.add("/upload", b"stored")
    virtual_network.serve(ORIGIN, server)
    return server


async def recorded(ua, **fetch_options):
    ua.devtools.set_recording(True)
    recorder = WorkerRecorder.for_edition(ua)
    _, registration = await open_window_with_worker(ua, recorder)
    return recorder, registration


async def until(predicate, limit: float = 600) -> None:
    deadline = trio.current_time() + limit
    while not predicate():
        assert trio.current_time() < deadline, "timed out"
        await trio.sleep(0.05)


async def test_success(user_agent, server):
    recorder, registration = await recorded(user_agent)
    await registration.background_fetch.fetch("ep", ["/ep.txt", "/ep.mp3"])
    await recorder.settled("ep")
    assert canonical(user_agent) == [
        registered(2),
        (STARTED, {}),
        started(0, "/ep.txt"),
        started(1, "/ep.mp3"),
        completed(0, "/ep.txt", 200, 1000),
        completed(1, "/ep.mp3", 200, 300_000),
        done("BackgroundFetchSuccessEvent"),
    ]
    events = user_agent.devtools.events()
    for event in events:
        assert event.service is ServiceName.BACKGROUND_FETCH
        assert (event.origin, event.storage_key, event.instance_id) == (KEY, KEY, "ep")
        assert event.service_worker_registration_id == "0"
    times = [e.timestamp for e in events]
    assert times == sorted(times) and times[-1] - times[0] == pytest.approx(3, abs=0.5)
    assert times[0] > 1.5e9  # seconds since the epoch


async def test_bad_status(user_agent, server):
    recorder, registration = await recorded(user_agent)
    await registration.background_fetch.fetch("ep", ["/ep.txt", "/missing"])
    await recorder.settled("ep")
    assert canonical(user_agent)[-3:] == [
        completed(0, "/ep.txt", 200, 1000),
        completed(1, "/missing", 404, 4),
        done("BackgroundFetchFailEvent", "BAD_STATUS"),
    ]


async def test_abort_by_the_page_logs_no_completion_for_the_aborted_request(user_agent, server):
    recorder, registration = await recorded(user_agent)
    bg = await registration.background_fetch.fetch("ep", ["/ep.txt", "/ep.mp3"])
    await trio.sleep(1)
    assert await bg.abort()
    await recorder.settled("ep")
    assert canonical(user_agent) == [
        registered(2),
        (STARTED, {}),
        started(0, "/ep.txt"),
        started(1, "/ep.mp3"),
        completed(0, "/ep.txt", 200, 1000),
        done("BackgroundFetchAbortEvent", "CANCELLED_BY_DEVELOPER"),
    ]


async def test_cancelled_from_the_ui(user_agent, server):
    recorder, registration = await recorded(user_agent)
    await registration.background_fetch.fetch("ep", ["/ep.mp3"])
    await trio.sleep(1)
    user_agent.ui.find("ep").cancel()
    await recorder.settled("ep")
    assert canonical(user_agent)[-1] == done("BackgroundFetchAbortEvent", "CANCELLED_FROM_UI")


async def test_download_total_exceeded(user_agent, server):
    recorder, registration = await recorded(user_agent)
    await registration.background_fetch.fetch("ep", ["/ep.mp3"], download_total=1000)
    await recorder.settled("ep")
    log = canonical(user_agent)
    assert [name for name, _ in log] == [
        REGISTERED,
        STARTED,
        REQUEST_STARTED,
        REQUEST_COMPLETED,
        COMPLETED,
    ]
    _, request = log[3]
    assert request["Response Status"] == "200"
    assert int(request["Response Size (bytes)"]) <= 1000  # the overflowing chunk is not stored
    assert log[-1] == done("BackgroundFetchFailEvent", "DOWNLOAD_TOTAL_EXCEEDED")


async def test_an_upload_has_its_size_on_both_request_events(user_agent, server):
    recorder, registration = await recorded(user_agent)
    request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=b"p" * 22)
    await registration.background_fetch.fetch("up", [request, "/ep.txt"])
    await recorder.settled("up")
    assert canonical(user_agent)[2:] == [
        started(0, "/upload", **{"Upload Size (bytes)": "22"}),
        started(1, "/ep.txt"),
        completed(0, "/upload", 200, 6, **{"Upload Size (bytes)": "22"}),
        completed(1, "/ep.txt", 200, 1000),
        done("BackgroundFetchSuccessEvent"),
    ]


async def test_start_paused_when_the_permission_is_asked(virtual_network, server):
    async with bgfetch.open_user_agent(network=virtual_network, permission="prompt") as ua:
        recorder, registration = await recorded(ua)
        await registration.background_fetch.fetch("ep", ["/ep.txt"])
        await trio.sleep(1)
        assert canonical(ua)[:2] == [registered(1, "Yes"), (STARTED, {})]
        ua.ui.find("ep").accept()
        await recorder.settled("ep")
        assert canonical(ua)[-1] == done("BackgroundFetchSuccessEvent")


async def test_a_restart_resumes_with_the_log_and_the_recording_kept(virtual_network, tmp_path):
    server = OriginServer()
    server.add("/ep.mp3", b"m" * 300_000, throttle=100_000, etag='"v1"')
    server.add("/ep.txt", b"x" * 1000)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        recorder, registration = await recorded(ua)
        await registration.background_fetch.fetch("ep", ["/ep.mp3", "/ep.txt"])
        await trio.sleep(1.5)  # the text is in, half the mp3
        before = canonical(ua)
    assert before == [
        registered(2),
        (STARTED, {}),
        started(0, "/ep.mp3"),
        started(1, "/ep.txt"),
        completed(1, "/ep.txt", 200, 1000),
    ]

    async with bgfetch.open_user_agent(network=virtual_network, store=tmp_path) as ua:
        assert ua.devtools.context.is_recording(ServiceName.BACKGROUND_FETCH)
        recorder = WorkerRecorder.for_edition(ua)
        await open_window_with_worker(ua, recorder)
        await recorder.settled("ep")
        # The resumed record goes on without a new start; the done one is not logged again.
        assert canonical(ua) == [
            *before,
            (RESUMED, {"Completed Requests": "1", "Active Requests": "1"}),
            completed(0, "/ep.mp3", 200, 300_000),
            done("BackgroundFetchSuccessEvent"),
        ]
        assert {e.service_worker_registration_id for e in ua.devtools.events()} == {"0"}
        times = [e.timestamp for e in ua.devtools.events()]
        assert times == sorted(times)  # the clock never goes back across the restart


@pytest.mark.parametrize("bgfetch_edition", ["2017-10-12"])
async def test_the_2017_draft_names_its_event_interfaces(user_agent, server):
    server.add("/missing", b"gone", status=404, delay=1)  # after /ep.txt is complete
    recorder, registration = await recorded(user_agent)
    await registration.background_fetch.fetch("ep", ["/ep.txt", "/missing"])
    await recorder.settled("ep")
    # A 404 abandons, its body unread (SPEC-NOTES.md SN-2017-9); the draft has no failure
    # reasons.  backgroundfetchfail is a BackgroundFetchUpdateEvent.
    assert canonical(user_agent) == [
        registered(2),
        (STARTED, {}),
        started(0, "/ep.txt"),
        started(1, "/missing"),
        completed(0, "/ep.txt", 200, 1000),
        completed(1, "/missing", 404, 0),
        done("BackgroundFetchUpdateEvent"),
    ]
    bg = await registration.background_fetch.fetch("ab", ["/ep.txt", "/ep.mp3"])
    await trio.sleep(1)
    assert await bg.abort()
    await recorder.settled("ab")
    assert [e for e in canonical(user_agent)[7:] if e[0] != REQUEST_STARTED] == [
        registered(2),
        (STARTED, {}),
        completed(0, "/ep.txt", 200, 1000),
        done("BackgroundFetchSettledEvent"),
    ]


@pytest.mark.parametrize("bgfetch_edition", ["2017-10-12"])
async def test_the_2017_draft_resumes_after_a_restart(virtual_network, tmp_path, bgfetch_edition):
    server = OriginServer()
    server.add("/ep.mp3", b"m" * 300_000, throttle=100_000, etag='"v1"')
    server.add("/ep.txt", b"x" * 1000)
    virtual_network.serve(ORIGIN, server)
    options = dict(network=virtual_network, store=tmp_path, edition=bgfetch_edition)
    async with bgfetch.open_user_agent(**options) as ua:
        _, registration = await recorded(ua)
        await registration.background_fetch.fetch("ep", ["/ep.mp3", "/ep.txt"])
        await trio.sleep(1.5)
    async with bgfetch.open_user_agent(**options) as ua:
        recorder = WorkerRecorder.for_edition(ua)
        await open_window_with_worker(ua, recorder)
        await recorder.settled("ep")
        assert canonical(ua)[5:] == [
            (RESUMED, {"Completed Requests": "1", "Active Requests": "1"}),
            completed(0, "/ep.mp3", 200, 300_000),
            done("BackgroundFetchUpdateEvent"),
        ]


async def test_nothing_is_logged_unless_recording(user_agent, server):
    recorder = WorkerRecorder.for_edition(user_agent)
    _, registration = await open_window_with_worker(user_agent, recorder)
    await registration.background_fetch.fetch("ep", ["/ep.txt"])
    await recorder.settled("ep")
    assert user_agent.devtools.events() == []
    user_agent.devtools.set_recording(True)
    await registration.background_fetch.fetch("again", ["/ep.txt"])
    await recorder.settled("again")
    user_agent.devtools.set_recording(False)
    await registration.background_fetch.fetch("after", ["/ep.txt"])
    await recorder.settled("after")
    assert {e.instance_id for e in user_agent.devtools.events()} == {"again"}


async def test_recording_lapses_after_three_days(user_agent, server):
    context = user_agent.devtools.context
    heard: list[bool] = []

    class Observer:
        def on_event_received(self, event):
            pass

        def on_recording_state_changed(self, is_recording, service):
            heard.append(is_recording)

    context.add_observer(Observer())
    recorder, registration = await recorded(user_agent)
    await trio.sleep(3 * 24 * 3600 - 60)
    await registration.background_fetch.fetch("ep", ["/ep.txt"])
    await recorder.settled("ep")
    assert len(user_agent.devtools.events()) == 7 - 2  # one request: 5 events
    await trio.sleep(120)  # past three days since Record
    await registration.background_fetch.fetch("late", ["/ep.txt"])
    await recorder.settled("late")
    assert {e.instance_id for e in user_agent.devtools.events()} == {"ep"}
    assert not context.is_recording(ServiceName.BACKGROUND_FETCH)
    assert heard == [True, False]


async def test_the_log_is_per_storage_key_and_cleared_for_all(user_agent, virtual_network):
    for origin in ("https://a.test", "https://b.test"):
        server = OriginServer()
        server.add("/f", b"f")
        virtual_network.serve(origin, server)
    user_agent.devtools.set_recording(True)
    for origin in ("https://a.test", "https://b.test"):
        recorder = WorkerRecorder.for_edition(user_agent)
        _, registration = await open_window_with_worker(user_agent, recorder, url=origin + "/")
        await registration.background_fetch.fetch("same-id", ["/f"])
        await recorder.settled("same-id")
    a = user_agent.devtools.events(storage_key="https://a.test/")
    b = user_agent.devtools.events(storage_key="https://b.test/")
    assert len(a) == len(b) == 5
    assert {e.service_worker_registration_id for e in a} == {"0"}
    assert {e.service_worker_registration_id for e in b} == {"1"}
    user_agent.devtools.context.clear(ServiceName.BACKGROUND_FETCH)
    assert user_agent.devtools.events() == []
