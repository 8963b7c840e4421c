"""A window that closes while its get() waits for its task stops nothing: the task is
dropped with the window, and the background fetch's queue goes on (issue 9, "pages and
workers"; SPEC-NOTES.md SN-current-26, SN-2017-24)."""

from __future__ import annotations

import pytest
import trio

from bgfetch.testing import WorkerRecorder, open_window_with_worker

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
GET = "#background-fetch-manager-get"
SIZE = 10_000


async def two_windows(user_agent, origin_server):
    origin_server.add("/slow.bin", b"s" * SIZE, throttle=1000)
    recorder = WorkerRecorder.for_edition(user_agent)
    first, registration = await open_window_with_worker(user_agent, recorder)
    second = await user_agent.open_window("https://example.test/other")
    other = await second.navigator.service_worker.ready
    return recorder, registration.background_fetch, second, other.background_fetch


@EDITIONS
@pytest.mark.step(GET)
@pytest.mark.parametrize("when", ["before its steps run", "after its task was queued"])
async def test_a_window_closing_during_get_stops_no_progress_event_or_storage_release(
    user_agent, origin_server, when
):
    recorder, manager, second, second_manager = await two_windows(user_agent, origin_server)
    bg = await manager.fetch("slow", "/slow.bin")
    heard = []
    bg.add_event_listener("progress", lambda event: heard.append(bg.downloaded))
    await trio.sleep(2)
    answers = []

    async def get():
        answers.append(await second_manager.get("slow"))

    async with trio.open_nursery() as nursery:
        if when == "before its steps run":
            nursery.start_soon(get)
            await second.close()  # no checkpoint: get() starts in a closed window
        else:
            queued = second.event_loop.queue_task

            def close_once_queued(task):
                queued(task)
                # get()'s task (queued by EventLoop.run_task): close before it runs.
                if ".get." in task.__qualname__ or "run_task" in task.__qualname__:
                    closing = second.close()  # (it has no checkpoint: run it here)
                    with pytest.raises(StopIteration):
                        closing.send(None)

            second.event_loop.queue_task = close_once_queued
            nursery.start_soon(get)
        with trio.fail_after(60):
            seen = await recorder.settled("slow")
        nursery.cancel_scope.cancel()  # the closed window's promise never settles
    assert answers == []
    assert seen.bodies() == [b"s" * SIZE]
    await trio.sleep(1)
    assert heard and heard[-1] == SIZE  # the first window heard every update
    assert user_agent.store.usage(second.origin) == 0  # the storage was released
    if user_agent.edition.NAME == "current":
        assert bg.records_available is False
    # And the fetch's tasks are over.
    assert bg.background_fetch.tasks.done
