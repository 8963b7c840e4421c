"""Every task has its narrowest owner: a finished background fetch leaves nothing behind.

infra.TaskOwner is the one way to run steps in parallel; these tests count what the
owners run and what stays alive once the spec says a background fetch is over (its
records are no longer available and no step of it is pending).
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest
import trio

import bgfetch
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://example.test"
BODY = b"x" * 10_000


# What a background fetch is made of, in both editions.
PARTS = (
    "BackgroundFetch",
    "BackgroundFetchRecord",
    "BackgroundFetchResponse",
    "BackgroundFetchRegistration",
    "BackgroundFetchDisplay",
    "MemoryBytes",
    "TaskOwner",
    "ParallelQueue",
)


def alive() -> dict[str, int]:
    """How many objects of each of PARTS are alive."""
    gc.collect()
    counts = dict.fromkeys(PARTS, 0)
    for o in gc.get_objects():
        if type(o).__name__ in counts:
            counts[type(o).__name__] += 1
    return counts


async def run_to_the_end(ua, registration, id: str) -> None:
    """Background-fetch one resource, wait until the background fetch is over (its
    records are no longer available and no step of it is pending: it has no task left),
    then dismiss its display, as the user would."""
    await registration.background_fetch.fetch(id, "/a.bin")
    display = ua.ui.find(id)
    while not display.bg_fetch.tasks.done:
        await trio.sleep(0.1)
    display.dismiss()


@pytest.mark.parametrize(
    ("bgfetch_edition", "stored"), [("current", False), ("2017-10-12", False), ("current", True)]
)
async def test_a_thousand_finished_background_fetches_leave_no_task_and_no_bytes(
    virtual_network, bgfetch_edition, stored, tmp_path
):
    server = OriginServer()
    server.add("/a.bin", BODY)
    virtual_network.serve(ORIGIN, server)
    worker = bgfetch.ServiceWorker()
    completion = "backgroundfetchsuccess" if bgfetch_edition == "current" else "backgroundfetched"
    handled = 0

    @worker.on(completion)
    async def on_done(event):
        nonlocal handled
        handled += 1

    store = tmp_path if stored else None
    async with bgfetch.open_user_agent(
        network=virtual_network, edition=bgfetch_edition, store=store
    ) as ua:
        _, registration = await open_window_with_worker(ua, worker)
        # One fetch first, so what the first one creates for good (the registration's
        # edit queue, the worker's global scope, connections) is in the baseline.
        await run_to_the_end(ua, registration, "warm-up")
        await trio.sleep(1)
        tasks_before = ua.tasks.task_count()
        parts_before = alive()
        tracemalloc.start()
        try:
            gc.collect()
            retained = []  # bytes traced beyond the baseline, after 500 and after 1000
            baseline = tracemalloc.get_traced_memory()[0]
            for n in range(1000):
                await run_to_the_end(ua, registration, f"bg-{n}")
                if n + 1 in (500, 1000):
                    await trio.sleep(1)  # the last one's queued tasks run
                    server.requests.clear()  # the test server's log is not the user agent's
                    gc.collect()
                    retained.append(tracemalloc.get_traced_memory()[0] - baseline)
        finally:
            tracemalloc.stop()
        assert handled == 1001
        assert ua.tasks.task_count() == tasks_before
        assert alive() == parts_before and parts_before["BackgroundFetch"] == 0
        assert ua.ui.displays == []
        assert ua.store.usage(registration.registration.origin) == 0
        if stored:  # nor anything on disk but the registration
            assert ua.store.load("background fetch") == {} and ua.store.load("record") == {}
            assert list((tmp_path / "bodies").iterdir()) == []
        # 1000 × 10 kB were downloaded.  What stays is the interpreter's and trio's own
        # caches (about 30 kB, and barely growing): a fetch that left its body, or just
        # its objects, behind would add 10 MB, or a few hundred kB.
        after_500, after_1000 = retained
        assert after_1000 < 64 * 1024, f"{after_1000} bytes retained after 1000 fetches"
        assert after_1000 - after_500 < 16 * 1024, f"the last 500 fetches kept {retained}"


async def test_a_closed_window_ends_its_tasks(virtual_network):
    server = OriginServer()
    server.add("/a.bin", BODY, throttle=1_000)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        window, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        bg = await registration.background_fetch.fetch("slow", "/a.bin")

        async def listener(event):
            await trio.sleep_forever()  # a listener that never returns

        bg.add_event_listener("progress", listener)
        await trio.sleep(2)
        assert window.tasks.task_count() > 1  # its event loop and the listeners
        await window.close()
        await trio.sleep(1)
        assert window.tasks.task_count() == 0 and window.tasks.done
        # The background fetch goes on without the window.
        while ua.ui.find("slow").result == "":
            await trio.sleep(1)
        assert ua.ui.find("slow").result == "success"


@pytest.mark.step("#get-a-backgroundfetchregistration-instance-algorithm", "2")
@pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
async def test_an_instance_the_page_dropped_comes_back_with_its_expandos(
    virtual_network, bgfetch_edition
):
    """The instances map is weak, but no page can tell (SPEC-NOTES.md SN-current-21):
    while its background fetch lives, a dropped instance is the one get() returns."""
    server = OriginServer()
    server.add("/a.bin", BODY, throttle=1_000)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network, edition=bgfetch_edition) as ua:
        _, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        bg = await registration.background_fetch.fetch("kept", "/a.bin")
        bg.expando = "still here"
        heard: list[int] = []
        bg.add_event_listener("progress", lambda event: heard.append(event.type))
        first = id(bg)
        del bg
        gc.collect()
        await trio.sleep(2)
        again = await registration.background_fetch.get("kept")
        assert id(again) == first and again.expando == "still here"
        assert heard  # the dropped instance's listener still hears progress
