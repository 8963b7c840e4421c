"""BackgroundFetchManager.get() and getIds() (#background-fetch-manager-get,
#background-fetch-manager-get-ids), 2017-10-12 edition."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.testing import WorkerRecorder

from .support import FEATURE, ORIGIN, page


@pytest.mark.step("#background-fetch-manager-get", "3")
async def test_get_step_3_an_unknown_id_resolves_undefined(draft_user_agent, origin_server):
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    assert await registration.background_fetch.get("missing") is None
    # The draft looks any id up, the empty one too (the current edition rejects it).
    assert await registration.background_fetch.get("") is None


@pytest.mark.step("#background-fetch-manager-get", "3")
@pytest.mark.step("#background-fetch-manager-get-ids", "2", "3")
async def test_get_does_not_require_an_active_worker(draft_user_agent, origin_server):
    window = await draft_user_agent.open_window(f"{ORIGIN}/")
    worker = bgfetch.ServiceWorker()
    installing = trio.Event()

    @worker.on("install")
    async def hold(event):
        installing.set()
        await trio.sleep(3600)

    registration = await window.navigator.service_worker.register(worker)
    await installing.wait()
    assert await registration.background_fetch.get("x") is None
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-manager-get", "4", "5.1.2")
async def test_get_step_4_downloaded_is_the_last_reported_download(draft_user_agent, origin_server):
    origin_server.add("/big.bin", b"x" * 1000, throttle=100)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("big", "/big.bin")
    await trio.sleep(4.05)
    bg_fetch = bg.background_fetch
    assert 0 < bg_fetch.last_reported_download < 1000
    # A service worker's manager has no instance yet: get() makes one, with
    # downloaded set to the last reported download (a new instance's is 0).
    scope = registration.registration.active_worker.global_scope
    worker_manager = scope.registration.background_fetch
    before = bg_fetch.last_reported_download
    in_worker = await worker_manager.get("big")
    assert in_worker is not bg
    assert in_worker.downloaded == before > 0


@pytest.mark.step("#background-fetch-manager-get", "5.1.1")
async def test_get_step_5_1_1_returns_the_same_instance_each_time(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    manager = registration.background_fetch
    bg = await manager.fetch("same", "/slow.txt")
    first = await manager.get("same")
    second = await manager.get("same")
    assert first is bg and second is bg
    assert (first.id, first.upload_total, first.download_total) == ("same", 0, 0)


@pytest.mark.step("#background-fetch-manager-get", "5", "5.2")
async def test_get_step_5_resolves_after_pending_progress(draft_user_agent, origin_server):
    # get() runs behind the progress handling queue: a new instance misses no progress.
    origin_server.add("/big.bin", b"x" * 1000, throttle=100)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("queued", "/big.bin")
    await trio.sleep(2.05)
    scope = registration.registration.active_worker.global_scope
    in_worker = await scope.registration.background_fetch.get("queued")
    heard: list[int] = []
    in_worker.add_event_listener("progress", lambda event: heard.append(in_worker.downloaded))
    await trio.sleep(20)
    assert heard and heard[-1] == 1000
    assert bg.downloaded == 1000


@pytest.mark.step("#background-fetch-manager-get", "3")
@pytest.mark.step("#attempt-a-background-fetch-algorithm", "10.3")
async def test_get_after_the_fetch_settled_resolves_undefined(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("done", "/feature-name.txt")
    await reporter.settled("done")
    assert await registration.background_fetch.get("done") is None


@pytest.mark.step("#background-fetch-manager-get-ids", "2")
async def test_get_ids_step_2_lists_the_active_background_fetches(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    manager = registration.background_fetch
    assert await manager.get_ids() == []
    await manager.fetch("a", "/slow.txt")
    await manager.fetch("b", "/slow.txt")
    assert await manager.get_ids() == ["a", "b"]
    await reporter.settled("a")
    await reporter.settled("b")
    assert await manager.get_ids() == []
