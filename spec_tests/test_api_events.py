"""BackgroundFetchEvent (#background-fetch-event) and BackgroundFetchUpdateUIEvent
(#background-fetch-update-ui-event): registration, and updateUI().

WPT: update-ui.https.window.js 1-3.
"""

from __future__ import annotations

import pytest
import trio
from api_support import (
    FEATURE,
    FEATURE_PATH,
    concept,
    eventually,
)

import bgfetch
from bgfetch.editions.current import BackgroundFetchEvent, BackgroundFetchUpdateUIEvent
from bgfetch.testing import WorkerRecorder, open_window_with_worker

SLOW = 2000


async def page(user_agent, origin_server, worker=None):
    origin_server.add(FEATURE_PATH, FEATURE)
    origin_server.add("/slow", b"", delay=SLOW)
    origin_server.add("/missing.txt", "", status=404)
    worker = worker or WorkerRecorder()
    window, registration = await open_window_with_worker(user_agent, worker)
    return worker, window, registration


def capture(worker, type, calls):
    """Collect (event, outcome) from a handler that calls *calls(event)* and awaits it."""
    seen: list[tuple[object, object]] = []

    @worker.on(type)
    async def handler(event):
        try:
            seen.append((event, await calls(event)))
        except Exception as error:
            seen.append((event, error))

    return seen


# -- BackgroundFetchEvent.registration -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "type", "result", "failure_reason"),
    [
        (FEATURE_PATH, "backgroundfetchsuccess", "success", ""),
        ("/missing.txt", "backgroundfetchfail", "failure", "bad-status"),
    ],
)
@pytest.mark.step("#background-fetch-event")
@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.13")
async def test_settle_event_registration_is_the_instance_in_the_workers_realm(
    user_agent, origin_server, url, type, result, failure_reason
):
    worker, window, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("settle", url)
    settled = await worker.settled("settle")
    event = settled.event
    assert (event.type, settled.type) == (type, type)
    assert isinstance(event, BackgroundFetchUpdateUIEvent)
    assert event.is_trusted
    assert event.registration is settled.registration
    assert event.registration.realm is registration.active.global_scope
    assert event.registration is not bg
    assert event.background_fetch is concept(bg)
    assert (settled.id, settled.result, settled.failure_reason) == (
        "settle",
        result,
        failure_reason,
    )


@pytest.mark.step("#background-fetch-event")
@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.10.2")
async def test_abort_event_is_a_background_fetch_event_without_update_ui(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("aborted", "/slow")
    await bg.abort()
    settled = await worker.settled("aborted")
    assert settled.type == "backgroundfetchabort"
    assert type(settled.event) is BackgroundFetchEvent
    assert not hasattr(settled.event, "update_ui")
    assert settled.event.registration.id == "aborted"
    assert (settled.result, settled.failure_reason) == ("failure", "aborted")


@pytest.mark.step("#background-fetch-event")
async def test_event_registration_returns_the_value_it_was_initialized_to(
    user_agent, origin_server
):
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("init", "/slow")
    event = BackgroundFetchEvent("backgroundfetchclick", registration=bg)
    assert event.registration is bg
    assert event.background_fetch is concept(bg)
    assert event.type == "backgroundfetchclick" and not event.is_trusted


# -- BackgroundFetchUpdateUIEvent.updateUI() -------------------------------------------


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "7")
async def test_update_ui_resolves_once(user_agent, origin_server):
    # WPT update-ui 1: updateUI({title}) inside waitUntil resolves.
    worker = WorkerRecorder()
    resolved: list[object] = []

    @worker.on("backgroundfetchsuccess")
    def on_success(event):
        promise = event.update_ui(title="Title1")

        async def wait() -> None:
            resolved.append(await promise)

        event.wait_until(wait())

    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch("update-once", FEATURE_PATH, title="Title0")
    await worker.settled("update-once")
    await eventually(lambda: resolved == [None])
    assert user_agent.ui.find("update-once").title == "Title1"


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "1")
async def test_update_ui_called_twice_rejects_with_invalid_state_error(user_agent, origin_server):
    # Step 1 (UI updated flag set); WPT update-ui 2.
    worker = WorkerRecorder()

    async def twice(event):
        await event.update_ui(title="first")
        return await event.update_ui(title="second")

    seen = capture(worker, "backgroundfetchsuccess", twice)
    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch("update-twice", FEATURE_PATH)
    await eventually(lambda: seen != [])
    ((event, outcome),) = seen
    assert isinstance(outcome, bgfetch.InvalidStateError)
    assert outcome.name == "InvalidStateError"
    assert "only be called once" in str(outcome)
    assert event.ui_updated is True
    assert user_agent.ui.find("update-twice").title == "first"


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "1")
async def test_update_ui_when_the_event_is_not_active_rejects_with_invalid_state_error(
    user_agent, origin_server
):
    # Step 1 (not active); WPT update-ui 3: called after the handler returned.
    worker = WorkerRecorder(read_responses=False)
    events: list[object] = []
    worker.on("backgroundfetchsuccess")(events.append)  # keeps the event, no waitUntil
    _, _, registration = await page(user_agent, origin_server, worker)
    bg = await registration.background_fetch.fetch("update-inactive", FEATURE_PATH, title="T")
    await worker.settled("update-inactive")
    await eventually(lambda: not bg.records_available)  # the event is no longer active
    (event,) = events
    assert not event.active
    with pytest.raises(bgfetch.InvalidStateError, match="backgroundfetchsuccess event is no"):
        await event.update_ui(title="too late")
    assert event.ui_updated is False
    assert user_agent.ui.find("update-inactive").title == "T"


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "1")
async def test_update_ui_of_an_untrusted_event_rejects_with_invalid_state_error(
    user_agent, origin_server
):
    # Step 1 (isTrusted false).
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("untrusted", "/slow", title="T")
    event = BackgroundFetchUpdateUIEvent("backgroundfetchsuccess", registration=bg)
    with pytest.raises(bgfetch.InvalidStateError, match="untrusted"):
        await event.update_ui(title="forged")
    assert user_agent.ui.find("untrusted").title == "T"


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "5", "6")
async def test_update_ui_sets_title_and_icons_shown_in_the_ui(user_agent, origin_server):
    # Steps 5-6, in the fail event too.
    worker = WorkerRecorder()
    icons = [{"src": "/done.png", "sizes": "96x96"}]
    seen = capture(
        worker,
        "backgroundfetchfail",
        lambda event: event.update_ui(title="Failed", icons=icons),
    )
    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch(
        "ui", "/missing.txt", title="Loading", icons=[{"src": "/loading.png"}]
    )
    await eventually(lambda: seen != [])
    assert seen[0][1] is None
    display = user_agent.ui.find("ui")
    assert (display.title, display.icons) == ("Failed", icons)
    assert concept(seen[0][0].registration).title == "Failed"


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "5", "6")
async def test_update_ui_keeps_the_members_that_are_not_present(user_agent, origin_server):
    # Steps 5-6: only present members replace the background fetch's.
    worker = WorkerRecorder()
    seen = capture(worker, "backgroundfetchsuccess", lambda event: event.update_ui(icons=[]))
    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch(
        "icons-only", FEATURE_PATH, title="Kept", icons=[{"src": "/old.png"}]
    )
    await eventually(lambda: seen != [])
    display = user_agent.ui.find("icons-only")
    assert (display.title, display.icons) == ("Kept", [])


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "6")
async def test_update_ui_with_an_empty_title_sets_it(user_agent, origin_server):
    # Step 6: a present member, even the empty string, replaces the title.
    worker = WorkerRecorder()
    seen = capture(worker, "backgroundfetchsuccess", lambda event: event.update_ui(title=""))
    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch("empty-title", FEATURE_PATH, title="Before")
    await eventually(lambda: seen != [])
    assert seen[0][1] is None
    assert user_agent.ui.find("empty-title").title == ""


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "2", "3")
async def test_update_ui_without_options_sets_the_flag_and_changes_nothing(
    user_agent, origin_server
):
    # Steps 2-3.
    worker = WorkerRecorder()

    async def empty_then_title(event):
        first = await event.update_ui()
        try:
            await event.update_ui(title="second")
        except bgfetch.InvalidStateError:
            return first, "second rejected"
        return first, "second resolved"

    seen = capture(worker, "backgroundfetchsuccess", empty_then_title)
    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch("no-options", FEATURE_PATH, title="Same")
    await eventually(lambda: seen != [])
    assert seen[0][1] == (None, "second rejected")
    assert user_agent.ui.find("no-options").title == "Same"


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "1")
async def test_update_ui_in_a_synchronous_handler_resolves(user_agent, origin_server):
    # The event is active while it is being dispatched.
    worker = WorkerRecorder()
    promises: list[object] = []

    @worker.on("backgroundfetchsuccess")
    def on_success(event):
        promises.append(event.update_ui(title="sync"))

    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch("sync", FEATURE_PATH)
    await worker.settled("sync")
    (promise,) = promises
    assert await promise is None
    assert user_agent.ui.find("sync").title == "sync"


@pytest.mark.step("#background-fetch-update-ui-event-update-ui", "1")
async def test_update_ui_after_awaits_in_an_async_handler_resolves(user_agent, origin_server):
    # An async handler is part of the dispatch until it returns: still active.
    worker = WorkerRecorder()

    async def later(event):
        await trio.sleep(5)
        record = await event.registration.match(FEATURE_PATH)
        await (await record.response_ready).text()
        return await event.update_ui(title="after awaits")

    seen = capture(worker, "backgroundfetchsuccess", later)
    _, _, registration = await page(user_agent, origin_server, worker)
    await registration.background_fetch.fetch("late-ui", FEATURE_PATH)
    await eventually(lambda: seen != [])
    assert seen[0][1] is None
    assert user_agent.ui.find("late-ui").title == "after awaits"
