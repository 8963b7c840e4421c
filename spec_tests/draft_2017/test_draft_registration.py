"""BackgroundFetchRegistration (#background-fetch-registration), 2017-10-12 edition:
its attributes, progress events, abort(), and activeFetches (filled: 4e709be)."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.editions.draft_2017 import BackgroundFetchActiveFetches
from bgfetch.testing import WorkerRecorder

from .support import FEATURE, ORIGIN, page


@pytest.mark.step("#background-fetch-registration")
async def test_attributes_are_copied_from_the_background_fetch(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    origin_server.add_echo("/upload")
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    upload = bgfetch.Request(
        f"{ORIGIN}/upload", method="POST", body="abc", headers={"Content-Type": "text/plain"}
    )
    bg = await registration.background_fetch.fetch(
        "attrs", ["/slow.txt", upload], download_total=99
    )
    assert (bg.id, bg.upload_total, bg.download_total) == ("attrs", 3, 99)
    assert (bg.downloaded, bg.uploaded) == (0, 0)  # each initially 0
    bg.background_fetch.download_total = 5  # copies: the instance keeps its own
    assert bg.download_total == 99


@pytest.mark.step("#background-fetch-registration")
async def test_uploaded_is_filled_from_3abbda2(draft_user_agent, origin_server):
    # The draft: "The uploaded attribute's getter must return TODO."
    origin_server.add_echo("/upload")
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    upload = bgfetch.Request(
        f"{ORIGIN}/upload",
        method="POST",
        body="Background Fetch!",
        headers={"Content-Type": "text/plain"},
    )
    bg = await registration.background_fetch.fetch("up", [upload])
    heard: list[tuple[int, int]] = []
    bg.add_event_listener("progress", lambda event: heard.append((bg.uploaded, bg.downloaded)))
    await reporter.settled("up")
    await trio.sleep(1)
    assert bg.uploaded == 17
    assert heard[-1] == (17, 17)
    assert heard[0][0] == 17  # the body is sent before any byte of the response arrives


@pytest.mark.step("#background-fetch-registration-events")
@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "5.2.1", "5.2.2")
async def test_progress_event_and_onprogress_report_downloaded(draft_user_agent, origin_server):
    origin_server.add("/big.bin", b"x" * 1000, throttle=500)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("progress", "/big.bin")
    listened: list[int] = []
    handled: list[str] = []
    bg.add_event_listener("progress", lambda event: listened.append(bg.downloaded))
    bg.onprogress = lambda event: handled.append(event.type)
    await reporter.settled("progress")
    await trio.sleep(1)
    assert listened == sorted(listened) and listened[-1] == 1000 and len(listened) > 1
    assert handled == ["progress"] * len(listened)


@pytest.mark.step("#background-fetch-registration-abort", "3.3")
async def test_abort_step_3_3_resolves_false_once_not_active(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("twice", "/slow.txt")
    assert await bg.abort() is True
    assert await bg.abort() is False
    seen = await reporter.settled("twice")
    assert seen.type == "backgroundfetchabort"


@pytest.mark.step("#background-fetch-registration-abort", "3.3")
async def test_abort_step_3_3_false_after_the_fetch_settled(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("late", "/feature-name.txt")
    assert (await reporter.settled("late")).type == "backgroundfetched"
    assert await bg.abort() is False
    assert len(reporter.seen) == 1  # no abort event follows


@pytest.mark.step("#background-fetch-registration-abort", "3.3")
@pytest.mark.step("#active-background-fetches-contains", "3")
async def test_abort_step_3_3_false_for_a_new_fetch_with_the_same_id(
    draft_user_agent, origin_server
):
    # "contains" compares the background fetch, not only the id.
    origin_server.add("/feature-name.txt", FEATURE)
    origin_server.add("/slow.txt", FEATURE, delay=10)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    manager = registration.background_fetch
    old = await manager.fetch("reused", "/feature-name.txt")
    await reporter.settled("reused")
    new = await manager.fetch("reused", "/slow.txt")
    assert await old.abort() is False
    assert await manager.get_ids() == ["reused"]
    assert await new.abort() is True


@pytest.mark.step("#background-fetch-registration-abort", "3.4")
async def test_abort_step_3_4_removes_it_from_the_active_fetches(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("gone", "/slow.txt")
    await bg.abort()
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-registration-abort", "3.6")
async def test_abort_step_3_6_terminates_related_fetches_with_the_aborted_flag(
    draft_user_agent, origin_server, virtual_network
):
    # The draft: "TODO: Terminate related fetches with the aborted flag set".
    origin_server.add("/feature-name.txt", FEATURE)
    origin_server.add("/big.bin", b"x" * 10_000, throttle=1000)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("abort", ["/feature-name.txt", "/big.bin"])
    await trio.sleep(2)
    assert await bg.abort() is True
    seen = await reporter.settled("abort")
    assert seen.type == "backgroundfetchabort"
    # The finished record keeps its response; the terminated one has none.
    assert seen.statuses() == [200, None]
    assert seen.texts()[0] == FEATURE
    big = bg.background_fetch.records[1]
    assert big.outcome == "aborted"
    stored = len(big.response_body)
    await trio.sleep(20)  # the whole body would have arrived by now: the fetch is gone
    assert len(big.response_body) == stored < 10_000


@pytest.mark.step("#background-fetch-registration")
async def test_active_fetches_is_one_object_over_the_records(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("af", ["/slow.txt", "/other.txt"])
    assert isinstance(bg.active_fetches, BackgroundFetchActiveFetches)
    assert bg.active_fetches is bg.active_fetches
    values = await bg.active_fetches.values()
    assert [f.request.url for f in values] == [f"{ORIGIN}/slow.txt", f"{ORIGIN}/other.txt"]


@pytest.mark.step("#background-fetch-registration")
async def test_active_fetches_match_finds_by_url_or_gives_undefined(
    draft_user_agent, origin_server
):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    origin_server.add("/feature-name.txt", FEATURE)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("m", ["/slow.txt", "/feature-name.txt"])
    found = await bg.active_fetches.match("/feature-name.txt")
    assert found is not None and found.request.url == f"{ORIGIN}/feature-name.txt"
    assert await bg.active_fetches.match("/missing.txt") is None
    assert await bg.active_fetches.match(bgfetch.Request(f"{ORIGIN}/slow.txt")) is not None


@pytest.mark.step("#background-fetch-registration")
async def test_active_fetch_response_ready_resolves_while_the_fetch_is_active(
    draft_user_agent, origin_server
):
    origin_server.add("/slow.txt", FEATURE, delay=100)
    origin_server.add("/feature-name.txt", FEATURE, headers=[("X-Kept", "yes")])
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    manager = registration.background_fetch
    bg = await manager.fetch("ready", ["/slow.txt", "/feature-name.txt"])
    found = await bg.active_fetches.match("/feature-name.txt")
    response = await found.response_ready
    assert await manager.get_ids() == ["ready"]  # still active
    assert response.status == 200 and await response.text() == FEATURE
    assert response.headers.get("X-Kept") == "yes"
    assert "content-length" not in response.headers  # deleted, as 4e709be does


@pytest.mark.step("#background-fetch-registration")
async def test_active_fetch_response_ready_rejects_abort_error_when_aborted(
    draft_user_agent, origin_server
):
    origin_server.add("/slow.txt", FEATURE, delay=100)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("ab", "/slow.txt")
    [active] = await bg.active_fetches.values()
    await bg.abort()
    with pytest.raises(bgfetch.AbortError):
        await active.response_ready


@pytest.mark.step("#background-fetch-registration")
async def test_active_fetch_response_ready_rejects_type_error_when_failed(
    draft_user_agent, origin_server
):
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("fail", "https://elsewhere.test/x")
    [active] = await bg.active_fetches.values()
    with pytest.raises(TypeError):
        await active.response_ready
