"""The plugin's fixtures give a working user agent on a deterministic virtual network."""

import trio

import bgfetch
from bgfetch.testing import open_window_with_worker


async def test_fixtures_download_one_resource_in_simulated_time(user_agent, origin_server):
    origin_server.add("/feature-name.txt", "Background Fetch", throttle=4)
    worker = bgfetch.ServiceWorker()
    settled = trio.Event()
    texts = []

    @worker.on("backgroundfetchsuccess")
    async def on_success(event):
        record = await event.registration.match("/feature-name.txt")
        texts.append(await (await record.response_ready).text())
        settled.set()

    window, registration = await open_window_with_worker(user_agent, worker)
    start = trio.current_time()
    await registration.background_fetch.fetch("one", "/feature-name.txt")
    await settled.wait()
    assert texts == ["Background Fetch"]
    # 16 bytes at 4 bytes/s take 4 simulated seconds, no real ones.
    assert trio.current_time() - start >= 4
