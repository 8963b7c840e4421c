"""Privacy and bandwidth usage (#privacy-and-bandwidth-use), 2017-10-12 edition: the UI
shows each background fetch, lets the user abort it, and fires backgroundfetchclick."""

from __future__ import annotations

import pytest

from bgfetch.testing import WorkerRecorder

from .support import FEATURE, page


async def next_click(reporter: WorkerRecorder):
    """The next backgroundfetchclick event the worker receives."""
    return (await reporter.next("backgroundfetchclick", within=10)).event


@pytest.mark.step("#privacy-and-bandwidth-use")
async def test_the_ui_shows_the_origin_title_and_progress(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch(
        "shown", "/feature-name.txt", title="Podcast", download_total=16
    )
    display = draft_user_agent.ui.find("shown")
    assert (display.origin, display.title, display.download_total) == (
        "https://example.test",
        "Podcast",
        16,
    )
    await reporter.settled("shown")
    assert display.downloaded == 16


@pytest.mark.step("#privacy-and-bandwidth-use")
async def test_user_abort_terminates_the_fetches_with_the_abort_flag(
    draft_user_agent, origin_server
):
    origin_server.add("/slow.txt", FEATURE, delay=100)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("user-abort", "/slow.txt")
    draft_user_agent.ui.find("user-abort").cancel()
    seen = await reporter.settled("user-abort")
    assert seen.type == "backgroundfetchabort"
    assert seen.statuses() == [None]


@pytest.mark.step("#privacy-and-bandwidth-use")
@pytest.mark.step("#background-fetch-click-event")
async def test_click_reports_pending_then_succeeded(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("click", "/slow.txt")
    display = draft_user_agent.ui.find("click")
    display.click()
    pending = await next_click(reporter)
    assert (pending.type, pending.id, pending.state, pending.is_trusted) == (
        "backgroundfetchclick",
        "click",
        "pending",
        True,
    )
    await reporter.settled("click")
    display.click()
    assert (await next_click(reporter)).state == "succeeded"


@pytest.mark.step("#privacy-and-bandwidth-use")
@pytest.mark.step("#background-fetch-click-event")
async def test_click_reports_failed_after_fail_or_abort(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("failing", "https://nowhere.test/x")
    bg = await registration.background_fetch.fetch("aborting", "/slow.txt")
    await bg.abort()
    await reporter.settled("failing")
    await reporter.settled("aborting")
    for id in ("failing", "aborting"):
        draft_user_agent.ui.find(id).click()
        assert (await next_click(reporter)).state == "failed"
