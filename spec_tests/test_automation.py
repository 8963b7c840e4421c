"""Automation (#automation-click): the background fetch click WebDriver extension command."""

import pytest
import trio

import bgfetch
from bgfetch.editions.current.automation import WebDriverError, background_fetch_click
from bgfetch.testing import WorkerRecorder, open_window_with_worker


@pytest.mark.step("#automation-click", "5", "7")
async def test_click_fires_backgroundfetchclick_for_the_newest_fetch_with_the_id(
    user_agent, origin_server
):
    """Steps 5 and 7: the newest background fetch with the id gets the click event."""
    origin_server.add("/a.txt", "A")
    origin_server.add("/slow.txt", "S", delay=5)
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    await registration.background_fetch.fetch("a", "/a.txt")
    await trio.sleep(1)  # settled: the id is free again
    await registration.background_fetch.fetch("a", "/slow.txt")
    background_fetch_click(window, "a")
    await trio.sleep(1)
    # The newest one, still running (the first had settled with "success").
    assert [(click.id, click.result) for click in recorder.clicks] == [("a", "")]
    assert user_agent.ui.displays[0].result == "success"
    newest = user_agent.ui.displays[-1].bg_fetch
    assert user_agent.ui.displays[0].bg_fetch is not newest


@pytest.mark.step("#automation-click", "6")
async def test_click_on_an_unknown_id_is_background_fetch_not_found(user_agent, origin_server):
    """Step 6: no background fetch with that id -> 404 "background fetch not found"."""
    window, _ = await open_window_with_worker(user_agent, bgfetch.ServiceWorker())
    with pytest.raises(WebDriverError) as error:
        background_fetch_click(window, "nope")
    assert (error.value.status, error.value.error_code) == (404, "background fetch not found")


@pytest.mark.step("#automation-click", "4")
async def test_click_without_a_registration_is_invalid_service_worker_state(user_agent):
    """Step 4: no matching service worker registration -> 400."""
    window = await user_agent.open_window("https://example.test/")
    with pytest.raises(WebDriverError) as error:
        background_fetch_click(window, "a")
    assert (error.value.status, error.value.error_code) == (400, "invalid service worker state")


@pytest.mark.step("#automation-click", "1")
async def test_click_in_a_closed_window_is_no_such_window(user_agent):
    """Step 1: the browsing context is no longer open -> no such window."""
    window = await user_agent.open_window("https://example.test/")
    await window.close()
    with pytest.raises(WebDriverError) as error:
        background_fetch_click(window, "a")
    assert error.value.error_code == "no such window"
