"""bgfetch.testing.WorkerRecorder, under both editions: what it records of each
background-fetch event, and open_window_with_worker taking it as the worker."""

from __future__ import annotations

import pytest
import trio

from bgfetch.testing import SeenEvent, WorkerRecorder, open_window_with_worker

pytestmark = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])

ORIGIN = "https://example.test"
SUCCESS = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}
BODY = bytes(range(256)) * 4


async def start(user_agent, origin_server, **options):
    origin_server.add("/a.txt", "Background Fetch", etag='"a"')
    origin_server.add("/b.bin", BODY)
    origin_server.add("/slow.txt", "slow", delay=100)
    recorder = WorkerRecorder.for_edition(user_agent, **options)
    window, registration = await open_window_with_worker(user_agent, recorder)
    return recorder, window, registration.background_fetch


async def test_listens_to_the_events_of_the_edition(user_agent, bgfetch_edition):
    assert WorkerRecorder.for_edition(user_agent).events == user_agent.edition.EVENTS
    assert WorkerRecorder.for_edition(bgfetch_edition).events == user_agent.edition.EVENTS
    assert set(WorkerRecorder().events) >= set(user_agent.edition.EVENTS)
    assert SUCCESS[bgfetch_edition] in WorkerRecorder().events


async def test_records_a_settle_event_and_every_response_with_its_body(
    user_agent, origin_server, bgfetch_edition
):
    recorder, _, manager = await start(user_agent, origin_server)
    started = trio.current_time()
    await manager.fetch("ok", ["/a.txt", "/b.bin?x=1"])
    seen = await recorder.settled("ok")
    assert isinstance(seen, SeenEvent) and seen.handled
    assert (seen.type, seen.id) == (SUCCESS[bgfetch_edition], "ok")
    assert seen.time >= started and seen.event.type == seen.type
    assert seen.statuses() == [200, 200]
    assert seen.bodies() == [b"Background Fetch", BODY]
    assert seen.texts()[0] == "Background Fetch"
    assert [r.url for r in seen.responses] == [f"{ORIGIN}/a.txt", f"{ORIGIN}/b.bin?x=1"]
    assert [r.method for r in seen.responses] == ["GET", "GET"]
    assert list(seen.by_path) == ["/a.txt", "/b.bin?x=1"]
    assert seen.response("b.bin?x=1") is seen.responses[1]
    first = seen.responses[0]
    assert first.response_url == f"{ORIGIN}/a.txt" and first.type == "basic"
    assert first.header("ETag") == '"a"' and first.headers["etag"] == '"a"'
    assert (first.error, first.body_error) == (None, None)
    assert recorder.seen == [seen] and recorder.by_id == {"ok": seen}
    if bgfetch_edition == "current":
        assert seen.registration is seen.event.registration
        assert (seen.result, seen.failure_reason) == ("success", "")
        assert (seen.downloaded, seen.download_total) == (len("Background Fetch") + len(BODY), 0)
        assert (seen.uploaded, seen.upload_total, seen.records_available) == (0, 0, True)
    else:  # the draft's events carry an id, and no registration
        assert seen.registration is None
        assert (seen.result, seen.failure_reason, seen.downloaded) == (None, None, None)


async def test_records_a_404_and_an_abort(user_agent, origin_server, bgfetch_edition):
    recorder, _, manager = await start(user_agent, origin_server)
    await manager.fetch("missing", "/missing.txt")
    missing = await recorder.settled("missing")
    assert missing.type == "backgroundfetchfail"
    if bgfetch_edition == "current":
        assert (missing.statuses(), missing.texts()) == ([404], ["Not Found"])
        assert missing.failure_reason == "bad-status"
    else:  # the draft keeps no response of a status that is not ok (SPEC-NOTES.md SN-2017-9)
        assert (missing.statuses(), missing.texts()) == ([None], [None])
    bg = await manager.fetch("abort", ["/a.txt", "/slow.txt"])
    await trio.sleep(1)
    assert await bg.abort() is True
    aborted = await recorder.settled("abort")
    assert aborted.type == "backgroundfetchabort"
    # The finished response is there; the aborted one has none (a rejection, current).
    assert aborted.statuses() == [200, None] and aborted.texts() == ["Background Fetch", None]
    assert aborted.responses[1].body is None
    if bgfetch_edition == "current":
        assert aborted.failure_reason == "aborted"
        assert isinstance(aborted.responses[1].error, Exception)
    assert [s.id for s in recorder.seen] == ["missing", "abort"]


async def test_records_clicks(user_agent, origin_server, bgfetch_edition):
    recorder, _, manager = await start(user_agent, origin_server)
    await manager.fetch("click", "/slow.txt")
    user_agent.ui.find("click").click()
    click = await recorder.next("backgroundfetchclick")
    assert (click.type, click.id, click.responses) == ("backgroundfetchclick", "click", [])
    assert recorder.clicks == [click] and "click" not in recorder.by_id
    if bgfetch_edition == "current":
        assert click.result == ""
    else:
        assert click.state == "pending"
    settled = await recorder.settled("click")
    assert settled.type == SUCCESS[bgfetch_edition]
    assert recorder.seen == [click, settled]


async def test_read_responses_false_records_only_the_event(
    user_agent, origin_server, bgfetch_edition
):
    recorder, _, manager = await start(user_agent, origin_server, read_responses=False)
    await manager.fetch("quiet", "/a.txt")
    seen = await recorder.settled("quiet")
    assert (seen.type, seen.responses, seen.handled) == (SUCCESS[bgfetch_edition], [], True)


async def test_hold_keeps_the_event_active_until_set(user_agent, origin_server, bgfetch_edition):
    recorder, _, manager = await start(user_agent, origin_server)
    recorder.hold = trio.Event()
    await manager.fetch("held", "/a.txt")
    await recorder.wait_until(lambda: "held" in recorder.by_id, within=60)
    seen = recorder.by_id["held"]
    assert await recorder.settled("held") is seen  # handled: the responses are read
    assert seen.texts() == ["Background Fetch"]
    await trio.sleep(100)
    assert seen.event.active
    recorder.hold.set()
    await trio.sleep(1)
    assert not seen.event.active


async def test_on_adds_a_listener_and_open_window_with_worker_takes_a_script_too(
    user_agent, origin_server, bgfetch_edition
):
    recorder = WorkerRecorder.for_edition(user_agent, name="sw.js")
    heard = []
    recorder.on(SUCCESS[bgfetch_edition])(lambda event: heard.append(event.type))
    assert repr(recorder.worker) == "<ServiceWorker sw.js>"
    window, registration = await open_window_with_worker(
        user_agent, recorder.worker, f"{ORIGIN}/app/page.html", scope="/app/"
    )
    assert window.url.href == f"{ORIGIN}/app/page.html"
    assert registration.scope == f"{ORIGIN}/app/"
    origin_server.add("/app/a.txt", "in scope")
    await registration.background_fetch.fetch("scoped", "a.txt")
    seen = await recorder.settled("scoped")
    assert seen.texts() == ["in scope"] and heard == [SUCCESS[bgfetch_edition]]
