"""The user agent owns every task and connection it starts; closing it leaves nothing behind."""

import pytest
import trio

import bgfetch
from bgfetch.observe import Step
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://example.test"


async def test_closing_the_user_agent_mid_fetch_closes_every_connection(virtual_network):
    server = OriginServer()
    server.add("/slow.bin", b"x" * 100_000, throttle=1_000)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        _, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        bg = await registration.background_fetch.fetch("slow", ["/slow.bin"] * 3)
        await trio.sleep(5)
        assert virtual_network.open_connections == 3
        assert 0 < ua.ui.find("slow").downloaded < 300_000
        assert bg.result == ""
    assert virtual_network.open_connections == 0


async def test_leaving_the_block_cancels_the_user_agents_tasks(virtual_network):
    server = OriginServer()
    server.add("/slow.bin", b"x" * 10_000, throttle=100)
    virtual_network.serve(ORIGIN, server)
    before = len(trio.lowlevel.current_task().parent_nursery.child_tasks)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        _, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        await registration.background_fetch.fetch("slow", "/slow.bin")
        assert ua.tasks.task_count() > 0
    # The user agent's nursery has closed: no task of it survives the block.
    assert len(trio.lowlevel.current_task().parent_nursery.child_tasks) == before


async def test_unknown_edition_is_rejected_by_name():
    with pytest.raises(ValueError, match="'1999'.*known editions: 'current'"):
        async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork(), edition="1999"):
            pass


async def test_negative_quota_is_rejected_by_value():
    with pytest.raises(ValueError, match="-1"):
        async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork(), quota=-1):
            pass


async def test_a_handler_that_raises_is_reported_and_the_fetch_still_settles(
    virtual_network,
):
    server = OriginServer()
    server.add("/a.txt", "A")
    virtual_network.serve(ORIGIN, server)
    worker = bgfetch.ServiceWorker()
    seen = trio.Event()

    @worker.on("backgroundfetchsuccess")
    async def broken(event):
        seen.set()
        raise RuntimeError("bug in the worker")

    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        _, registration = await open_window_with_worker(ua, worker)
        bg = await registration.background_fetch.fetch("a", "/a.txt")
        await seen.wait()
        await trio.sleep(1)
        assert [(e.event_type, str(e.error)) for e in ua.handler_errors] == [
            ("backgroundfetchsuccess", "bug in the worker")
        ]
        assert bg.result == "success"
        assert bg.records_available is False  # the event ended despite the exception


async def test_observers_see_the_algorithm_steps_with_their_anchors(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    steps: list[Step] = []
    user_agent.observers.subscribe(steps.append)
    _, registration = await open_window_with_worker(user_agent, bgfetch.ServiceWorker())
    await registration.background_fetch.fetch("a", "/a.txt")
    await trio.sleep(1)
    seen = [(s.algorithm, s.what) for s in steps]
    assert ("#background-fetch-display-algorithm", "displayed") in seen
    assert ("#complete-a-record-algorithm", "fetch started") in seen
    assert ("#complete-a-record-algorithm", "record settled") in seen
    assert ("#perform-a-background-fetch-algorithm", "fire backgroundfetchsuccess") in seen
    assert all(s.id == "a" for s in steps)


async def test_unsubscribed_observer_sees_nothing_more(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    steps: list[Step] = []
    unsubscribe = user_agent.observers.subscribe(steps.append)
    unsubscribe()
    _, registration = await open_window_with_worker(user_agent, bgfetch.ServiceWorker())
    await registration.background_fetch.fetch("a", "/a.txt")
    await trio.sleep(1)
    assert steps == []


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6")
async def test_a_window_of_another_origin_hears_no_progress(virtual_network):
    server = OriginServer()
    server.add("/a.bin", b"x" * 1000, throttle=100)
    virtual_network.serve(ORIGIN, server)
    virtual_network.serve("https://other.test", OriginServer())
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        window, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        bg = await registration.background_fetch.fetch("a", "/a.bin")
        heard: list[int] = []
        bg.add_event_listener("progress", lambda event: heard.append(bg.downloaded))
        other = await ua.open_window("https://other.test/")
        same = await ua.open_window("https://example.test/elsewhere")
        assert other.origin != window.origin
        queued = {other: 0, same: 0}
        for env in queued:

            def count(steps, env=env, queue=env.event_loop.queue_task):
                queued[env] += 1
                queue(steps)

            env.event_loop.queue_task = count
        await trio.sleep(20)
        assert heard and heard[-1] == 1000
        # Only environments of the scope's origin get tasks (step 6 of "update
        # background fetch instances").
        assert queued[other] == 0
        assert queued[same] > 0


async def test_a_closed_window_gets_no_more_tasks_and_its_fetch_goes_on(virtual_network):
    """Closing a window ends its event loop: progress is no longer delivered to it, a
    promise it was owed is dropped with it, and the background fetch itself goes on."""
    server = OriginServer()
    server.add("/a.bin", b"x" * 1000, throttle=100)
    virtual_network.serve(ORIGIN, server)
    worker = bgfetch.ServiceWorker()
    done = trio.Event()
    worker.add_event_listener("backgroundfetchsuccess", lambda event: done.set())
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        window, registration = await open_window_with_worker(ua, worker)
        bg = await registration.background_fetch.fetch("a", "/a.bin")
        heard: list[int] = []
        bg.add_event_listener("progress", lambda event: heard.append(bg.downloaded))
        await trio.sleep(2)
        await window.close()
        assert window.event_loop.closed
        count = len(heard)
        window.event_loop.queue_task(lambda: heard.append(-1))  # dropped, no error
        with trio.fail_after(60):
            await done.wait()
        assert len(heard) == count and -1 not in heard
        assert ua.ui.find("a").downloaded == 1000


@pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
async def test_the_user_agent_fixture_runs_the_edition_asked_for(user_agent, bgfetch_edition):
    assert user_agent.edition.NAME == bgfetch_edition


async def test_the_user_agent_fixture_runs_the_current_edition_by_default(user_agent):
    assert user_agent.edition.NAME == "current"
