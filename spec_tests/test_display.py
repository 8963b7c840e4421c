"""Display (#background-fetch-display-algorithm): what the UI shows, and what the user can
do with it (pause, resume, cancel, click, accept, refuse, dismiss)."""

from __future__ import annotations

import pytest
import trio
from api_support import (
    FEATURE,
    FEATURE_PATH,
    ORIGIN,
    concept,
    eventually,
)

import bgfetch
from bgfetch.editions.current import BackgroundFetchEvent
from bgfetch.testing import WorkerRecorder, open_window_with_worker

SLOW = 2000


async def page(user_agent, origin_server, worker=None):
    origin_server.add(FEATURE_PATH, FEATURE)
    origin_server.add("/slow", b"", delay=SLOW)
    origin_server.add("/big", bytes(range(256)) * 4, throttle=100)  # about 10 s
    worker = worker or WorkerRecorder()
    window, registration = await open_window_with_worker(user_agent, worker)
    return worker, window, registration


# -- what the UI shows -----------------------------------------------------------------


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_display_shows_the_origin_title_and_icons(user_agent, origin_server):
    worker = WorkerRecorder()
    origin_server.add("/app/slow", b"", delay=SLOW)
    _, registration = await open_window_with_worker(user_agent, worker, ORIGIN + "/app/page.html")
    icons = [{"src": "/icon.png", "sizes": "48x48"}]
    await registration.background_fetch.fetch("shown", "slow", title="Podcast", icons=icons)
    display = user_agent.ui.find("shown")
    assert display.origin == ORIGIN  # the scope URL's origin, not the page's URL
    assert (display.id, display.title, display.icons) == ("shown", "Podcast", icons)
    assert "https://example.test" in repr(display)


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_display_shows_the_progress_numbers(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    origin_server.add_echo("/upload")
    upload = bgfetch.Request(ORIGIN + "/upload", method="POST", body="12345")
    await registration.background_fetch.fetch("numbers", [upload, "/big"], download_total=4096)
    display = user_agent.ui.find("numbers")
    assert (display.upload_total, display.download_total, display.result) == (5, 4096, "")
    await trio.sleep(3)
    assert 0 < display.downloaded < 1024
    assert display.uploaded == 5
    assert display.using_bandwidth is True
    await worker.settled("numbers")
    assert (display.downloaded, display.uploaded) == (1024 + len("12345"), 5)
    assert display.result == "success"  # the echo answered the 5 bytes uploaded
    assert display.using_bandwidth is False


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_display_of_a_granted_fetch_starts_unpaused(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("granted", "/slow")
    display = user_agent.ui.find("granted")
    assert (display.paused, display.awaiting_permission) == (False, False)


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_ui_find_names_the_missing_id(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("present", "/slow")
    with pytest.raises(KeyError, match="'absent'.*'present'"):
        user_agent.ui.find("absent")


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_ui_find_gives_the_newest_display_of_a_reused_id(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    first = await registration.background_fetch.fetch("reused", FEATURE_PATH, title="one")
    await worker.settled("reused")
    await registration.background_fetch.fetch("reused", "/slow", title="two")
    display = user_agent.ui.find("reused")
    assert display.title == "two" and display.bg_fetch is not concept(first)
    assert len(user_agent.ui.displays) == 2


# -- pause and resume: only when every request is GET ----------------------------------


@pytest.mark.step("#background-fetch-display-algorithm")
@pytest.mark.step("#complete-a-record-algorithm", "3", "13")
async def test_pause_stops_the_download_and_resume_continues_it(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("pausable", "/big")
    display = user_agent.ui.find("pausable")
    assert display.can_pause is True
    await trio.sleep(3)
    display.pause()
    assert display.paused is True and display.using_bandwidth is False
    await trio.sleep(1)
    held = display.downloaded
    await trio.sleep(60)
    assert display.downloaded == held and 0 < held < 1024
    assert display.result == ""
    display.resume()
    assert display.paused is False
    settled = await worker.settled("pausable")
    assert settled.result == "success"
    requests = origin_server.requests_for("/big")
    assert len(requests) == 2
    assert requests[1].header("range") == f"bytes={held}-"
    assert settled.downloaded == 1024


@pytest.mark.step("#background-fetch-display-algorithm")
@pytest.mark.step("#complete-a-record-algorithm", "8")
async def test_a_resumed_fetch_reassembles_the_whole_body(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("whole", ["/big", "/slow"])
    display = user_agent.ui.find("whole")
    await trio.sleep(2)
    display.pause()
    await trio.sleep(10)
    display.resume()
    response = await (await bg.match("/big")).response_ready
    assert await response.bytes() == bytes(range(256)) * 4


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_pause_is_refused_when_a_request_is_not_get(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    post = bgfetch.Request(ORIGIN + "/slow", method="POST", body="x")
    put = bgfetch.Request(ORIGIN + "/slow", method="PUT", body="y")
    await registration.background_fetch.fetch("unpausable", ["/slow", post, put])
    display = user_agent.ui.find("unpausable")
    assert display.can_pause is False
    with pytest.raises(bgfetch.InvalidStateError, match="'unpausable'.*POST, PUT"):
        display.pause()
    assert display.paused is False


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_resume_of_an_unpaused_fetch_changes_nothing(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("running", FEATURE_PATH)
    user_agent.ui.find("running").resume()
    assert (await worker.settled("running")).result == "success"
    assert len(origin_server.requests_for(FEATURE_PATH)) == 1


# -- cancel: sets abort all ------------------------------------------------------------


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_cancel_sets_abort_all_and_fires_backgroundfetchabort(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("cancelled", "/big")
    await trio.sleep(2)
    display = user_agent.ui.find("cancelled")
    display.cancel()
    assert concept(bg).abort_all is True
    settled = await worker.settled("cancelled")
    assert settled.type == "backgroundfetchabort"
    assert (settled.result, settled.failure_reason) == ("failure", "aborted")
    assert await registration.background_fetch.get_ids() == []
    assert display.result == "failure"


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_cancel_of_a_paused_fetch_aborts_it(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("paused-cancel", "/big")
    display = user_agent.ui.find("paused-cancel")
    await trio.sleep(2)
    display.pause()
    await trio.sleep(5)
    display.cancel()
    settled = await worker.settled("paused-cancel")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchabort", "aborted")


# -- click: fires backgroundfetchclick -------------------------------------------------


@pytest.mark.step("#background-fetch-display-algorithm")
@pytest.mark.step("#fire-a-background-fetch-click-event-algorithm")
async def test_click_fires_backgroundfetchclick_with_the_workers_instance(
    user_agent, origin_server
):
    worker = WorkerRecorder()
    clicks: list[tuple[object, object]] = []

    @worker.on("backgroundfetchclick")
    async def on_click(event):
        scope = event.registration.realm
        clicks.append((event, await scope.registration.background_fetch.get(event.registration.id)))

    _, _, registration = await page(user_agent, origin_server, worker)
    bg = await registration.background_fetch.fetch("clicked", "/slow")
    user_agent.ui.find("clicked").click()
    await eventually(lambda: clicks != [])
    ((event, in_worker),) = clicks
    assert type(event) is BackgroundFetchEvent
    assert event.type == "backgroundfetchclick" and event.is_trusted
    assert event.registration is in_worker  # the instance in the worker's realm
    assert event.registration.realm is registration.active.global_scope
    assert event.registration is not bg and event.background_fetch is concept(bg)
    assert event.registration.result == ""


@pytest.mark.step("#background-fetch-display-algorithm")
@pytest.mark.step("#fire-a-background-fetch-click-event-algorithm")
async def test_click_after_the_fetch_completed_still_fires(user_agent, origin_server):
    # "The UI may remain once the operation is complete, in which case it can still be
    # activated."
    worker = WorkerRecorder()
    clicks: list[object] = []
    worker.on("backgroundfetchclick")(clicks.append)
    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch("completed", FEATURE_PATH)
    settled = await worker.settled("completed")
    user_agent.ui.find("completed").click()
    await eventually(lambda: clicks != [])
    assert clicks[0].registration is settled.registration
    assert clicks[0].registration.result == "success"


# -- the "prompt" permission: paused until accepted ------------------------------------


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_prompt_permission_starts_paused_until_accepted(virtual_network, origin_server):
    async with bgfetch.open_user_agent(network=virtual_network, permission="prompt") as ua:
        worker, _, registration = await page(ua, origin_server)
        bg = await registration.background_fetch.fetch("prompted", FEATURE_PATH)
        display = ua.ui.find("prompted")
        assert (display.paused, display.awaiting_permission) == (True, True)
        await trio.sleep(60)
        assert origin_server.requests_for(FEATURE_PATH) == []
        assert bg.result == "" and bg.downloaded == 0
        display.accept()
        assert (display.paused, display.awaiting_permission) == (False, False)
        settled = await worker.settled("prompted")
        assert settled.result == "success" and settled.texts() == [FEATURE]
        assert not ua.handler_errors


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_prompt_permission_set_for_the_origin_and_refused_aborts(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    user_agent.permissions.set("background-fetch", ORIGIN, "prompt")
    await registration.background_fetch.fetch("refused", [FEATURE_PATH, "/big"])
    display = user_agent.ui.find("refused")
    assert (display.paused, display.awaiting_permission) == (True, True)
    await trio.sleep(5)
    display.refuse()
    assert display.awaiting_permission is False
    settled = await worker.settled("refused")
    assert settled.type == "backgroundfetchabort"
    assert (settled.result, settled.failure_reason) == ("failure", "aborted")
    assert origin_server.requests == []  # nothing was fetched for a refused fetch
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_prompt_permission_pauses_even_a_fetch_that_cannot_be_paused(
    user_agent, origin_server
):
    # The prompt pauses at the beginning, before any request is sent; accept still
    # works where the pause toggle is not offered.
    worker, _, registration = await page(user_agent, origin_server)
    origin_server.add_echo("/upload")
    user_agent.permissions.set("background-fetch", ORIGIN, "prompt")
    post = bgfetch.Request(ORIGIN + "/upload", method="POST", body="hello")
    await registration.background_fetch.fetch("prompted-post", post)
    display = user_agent.ui.find("prompted-post")
    assert (display.paused, display.can_pause) == (True, False)
    await trio.sleep(30)
    assert origin_server.requests == []
    display.accept()
    settled = await worker.settled("prompted-post")
    assert (settled.result, settled.texts()) == ("success", ["hello"])
    assert len(origin_server.requests_for("/upload")) == 1


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_prompt_for_another_origin_does_not_pause_this_one(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    user_agent.permissions.set("background-fetch", "https://elsewhere.test", "prompt")
    await registration.background_fetch.fetch("not-prompted", "/slow")
    assert user_agent.ui.find("not-prompted").paused is False


@pytest.mark.step("#background-fetch-display-algorithm")
@pytest.mark.step("#background-fetch-manager-fetch", "8.2")
async def test_denied_permission_rejects_with_not_allowed_error_and_shows_nothing(
    virtual_network, origin_server
):
    async with bgfetch.open_user_agent(network=virtual_network, permission="denied") as ua:
        _, _, registration = await page(ua, origin_server)
        with pytest.raises(bgfetch.NotAllowedError, match="'denied'"):
            await registration.background_fetch.fetch("denied", FEATURE_PATH)
        assert ua.ui.displays == []


# -- dismiss: only once settled --------------------------------------------------------


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_dismiss_is_refused_until_the_fetch_settled(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("dismissable", "/big")
    display = user_agent.ui.find("dismissable")
    with pytest.raises(bgfetch.InvalidStateError, match="'dismissable' is still running"):
        display.dismiss()
    assert display.dismissed is False
    await worker.settled("dismissable")
    display.dismiss()
    assert display.dismissed is True


@pytest.mark.step("#background-fetch-display-algorithm")
async def test_dismiss_after_cancel_is_allowed(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("cancel-then-dismiss", "/slow")
    display = user_agent.ui.find("cancel-then-dismiss")
    display.cancel()
    await worker.settled("cancel-then-dismiss")
    display.dismiss()
    assert display.dismissed is True
