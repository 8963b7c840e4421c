"""BackgroundFetchManager.fetch() (#background-fetch-manager-fetch), 2017-10-12 edition."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.editions.draft_2017.concepts import registration_extension
from bgfetch.testing import OriginServer, WorkerRecorder
from bgfetch.useragent import open_user_agent

from .support import FEATURE, ORIGIN, page


@pytest.mark.step("#background-fetch-manager-fetch", "5")
async def test_step_5_a_single_request_info_is_a_list_of_one(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("one", "/feature-name.txt")
    seen = await reporter.settled("one")
    assert [f.url for f in seen.responses] == [f"{ORIGIN}/feature-name.txt"]


@pytest.mark.step("#background-fetch-manager-fetch", "6")
async def test_step_6_empty_requests_reject_with_type_error(draft_user_agent, origin_server):
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    with pytest.raises(TypeError, match="at least one request"):
        await registration.background_fetch.fetch("empty", [])
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-manager-fetch", "7.1")
async def test_step_7_1_request_constructor_exception_rejects(draft_user_agent, origin_server):
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    with pytest.raises(TypeError, match="credentials"):
        await registration.background_fetch.fetch("creds", "https://user:pass@example.test/a")


@pytest.mark.step("#background-fetch-manager-fetch", "7.2")
async def test_step_7_2_no_cors_rejects_with_type_error(draft_user_agent, origin_server):
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    request = bgfetch.Request(f"{ORIGIN}/feature-name.txt", mode="no-cors")
    with pytest.raises(TypeError, match="no-cors"):
        await registration.background_fetch.fetch("no-cors", [request])
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-manager-fetch", "7.3.1")
async def test_step_7_3_1_readable_stream_body_rejects_with_type_error(
    draft_user_agent, origin_server
):
    async def stream():
        yield b"chunk"

    registration = await page(draft_user_agent, WorkerRecorder().worker)
    request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=stream())
    with pytest.raises(TypeError, match="ReadableStream"):
        await registration.background_fetch.fetch("stream", [request])
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-manager-fetch", "7.3.2")
async def test_step_7_3_2_upload_total_is_the_sum_of_body_sizes(draft_user_agent, origin_server):
    origin_server.add_echo("/upload")
    origin_server.add("/feature-name.txt", FEATURE)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    requests = [
        bgfetch.Request(f"{ORIGIN}/upload", method="POST", body="Background Fetch!"),
        bgfetch.Request(
            f"{ORIGIN}/upload", method="PUT", body=b"12345", headers={"Content-Type": "a/b"}
        ),
        "/feature-name.txt",
    ]
    bg = await registration.background_fetch.fetch("uploads", requests)
    assert bg.upload_total == 17 + 5
    seen = await reporter.settled("uploads")
    assert seen.type == "backgroundfetched"
    assert seen.texts() == ["Background Fetch!", "12345", FEATURE]


@pytest.mark.step("#background-fetch-manager-fetch", "7.4")
async def test_step_7_4_the_requests_client_is_null(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("client", "/feature-name.txt")
    record = bg.background_fetch.records[0]
    assert record.request.client is None


@pytest.mark.step("#background-fetch-manager-fetch", "9.2")
async def test_step_9_2_no_active_worker_rejects_with_type_error(draft_user_agent, origin_server):
    window = await draft_user_agent.open_window(f"{ORIGIN}/")
    worker = bgfetch.ServiceWorker()
    installing = trio.Event()

    @worker.on("install")
    async def hold(event):
        installing.set()
        await trio.sleep(3600)  # stay installing: no active worker

    registration = await window.navigator.service_worker.register(worker)
    await installing.wait()
    assert registration.active is None
    with pytest.raises(TypeError, match="no active worker"):
        await registration.background_fetch.fetch("no-worker", "/feature-name.txt")


@pytest.mark.step("#background-fetch-manager-fetch", "9.3")
async def test_step_9_3_a_duplicate_id_rejects_with_type_error(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    manager = registration.background_fetch
    results: list[object] = []

    async def start() -> None:
        try:
            results.append(await manager.fetch("my-id", "/slow.txt"))
        except TypeError as error:
            results.append(error)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(start)
        nursery.start_soon(start)
    errors = [r for r in results if isinstance(r, TypeError)]
    assert len(results) == 2 and len(errors) == 1
    assert "already" in str(errors[0])


@pytest.mark.step("#background-fetch-manager-fetch", "9.4")
async def test_step_9_4_the_background_fetch_takes_the_options(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    icons = [{"src": "/icon.png", "sizes": "64x64", "type": "image/png"}]
    bg = await registration.background_fetch.fetch(
        "options", "/feature-name.txt", title="Episode", icons=icons, download_total=1234
    )
    bg_fetch = bg.background_fetch
    assert (bg_fetch.title, bg_fetch.icons, bg_fetch.download_total) == ("Episode", icons, 1234)
    assert bg.download_total == 1234 and bg.upload_total == 0
    assert bg_fetch.service_worker_registration is registration.registration


@pytest.mark.step("#background-fetch-manager-fetch", "9.5")
async def test_step_9_5_the_background_fetch_is_active_by_its_id(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("active", "/slow.txt")
    active = registration_extension(registration.registration).active_background_fetches
    assert active == {"active": bg.background_fetch}


@pytest.mark.step("#background-fetch-manager-fetch", "9.6")
async def test_step_9_6_quota_exceeded_rejects_and_leaves_no_active_fetch(virtual_network):
    server = OriginServer()
    virtual_network.serve(ORIGIN, server)
    async with open_user_agent(network=virtual_network, edition="2017-10-12", quota=1000) as ua:
        registration = await page(ua, WorkerRecorder().worker)
        manager = registration.background_fetch
        request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=b"x" * 1001)
        with pytest.raises(bgfetch.QuotaExceededError) as raised:
            await manager.fetch("huge", [request])
        assert raised.value.name == "QuotaExceededError"
        # The rejected background fetch does not stay active (SPEC-NOTES.md SN-2017-17).
        assert await manager.get_ids() == []
        assert await manager.get("huge") is None
        assert ua.store.usage(registration.registration.origin) == 0


@pytest.mark.step("#background-fetch-manager-fetch", "9.6")
async def test_step_9_6_the_download_total_is_no_bytes_to_store(draft_user_agent, origin_server):
    # "Storing bgFetch" stores its request bodies; its download total is a number, which
    # no revision of the draft's line reserves room for (SPEC-NOTES.md SN-2017-17).  The
    # current edition rejects this, as WPT and Chromium do (SN-current-7).
    origin_server.add("/feature-name.txt", FEATURE)
    draft_user_agent.store.quota = 1000
    reporter = WorkerRecorder()
    manager = (await page(draft_user_agent, reporter.worker)).background_fetch
    bg = await manager.fetch("huge", "/feature-name.txt", download_total=2**53 - 1)
    assert bg.download_total == 2**53 - 1
    assert (await reporter.settled("huge")).type == "backgroundfetched"


@pytest.mark.step("#background-fetch-manager-fetch", "9.6")
async def test_step_9_6_request_bodies_count_against_the_quota(virtual_network):
    server = OriginServer()
    virtual_network.serve(ORIGIN, server)
    async with open_user_agent(network=virtual_network, edition="2017-10-12", quota=10) as ua:
        registration = await page(ua, WorkerRecorder().worker)
        request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=b"x" * 11)
        with pytest.raises(bgfetch.QuotaExceededError):
            await registration.background_fetch.fetch("body", [request])


@pytest.mark.step("#background-fetch-manager-fetch", "9.7")
async def test_step_9_7_resolves_with_the_managers_instance(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    manager = registration.background_fetch
    bg = await manager.fetch("instance", "/slow.txt")
    assert manager.instances == {bg.background_fetch.key: bg}
    assert await manager.get("instance") is bg


@pytest.mark.step("#background-fetch-manager-fetch", "9.8")
async def test_step_9_8_attempt_runs_in_parallel_not_on_the_edit_queue(
    draft_user_agent, origin_server
):
    # Run on the edit queue, the attempt would hold it until every fetch ended, and
    # abort() (queued behind it) could not run before then (SPEC-NOTES.md).
    origin_server.add("/slow.txt", FEATURE, delay=100)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("parallel", "/slow.txt")
    start = trio.current_time()
    assert await bg.abort() is True
    assert trio.current_time() - start < 1
    seen = await reporter.settled("parallel")
    assert seen.type == "backgroundfetchabort"
