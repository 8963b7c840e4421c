"""bgfetch.infra: the specs' concurrency vocabulary (promises, "wait for", "abort when",
"in parallel", parallel queues, event loops), each tested on its own.

Every wait is a trio checkpoint, as trio's own waits are: it yields to the scheduler and
raises Cancelled in a cancelled scope, even when it need not sleep.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trio.testing

from bgfetch.infra import (
    Condition,
    EventLoop,
    ParallelQueue,
    Promise,
    TaskOwner,
    abort_when,
)


async def returns_at_once() -> None:
    pass


def already_resolved() -> Promise[int]:
    promise: Promise[int] = Promise()
    promise.resolve(1)
    return promise


async def idle_queue_wait_idle() -> None:
    """wait_idle on a started queue that has run everything it was given."""
    async with trio.open_nursery() as nursery:
        queue = ParallelQueue("idle queue")
        queue.start(TaskOwner.root("root", nursery))
        queue.enqueue(lambda: None)
        await trio.testing.wait_all_tasks_blocked()
        with trio.testing.assert_checkpoints():
            await queue.wait_idle()
        queue.close()


# Waits that need not sleep, each still a checkpoint.
NEED_NOT_SLEEP: dict[str, Callable[[], Awaitable[Any]]] = {
    "await a settled promise": lambda: already_resolved().wait(),
    "Condition.wait_for, predicate true": lambda: Condition().wait_for(lambda: True),
    "abort_when, steps return at once": lambda: abort_when(
        returns_at_once, Condition(), lambda: False
    ),
}


# -- Every wait is a checkpoint -----------------------------------------------------------


@pytest.mark.parametrize("wait", NEED_NOT_SLEEP.values(), ids=NEED_NOT_SLEEP.keys())
async def test_a_wait_that_need_not_sleep_is_still_a_checkpoint(wait):
    with trio.testing.assert_checkpoints():
        await wait()


@pytest.mark.parametrize("wait", NEED_NOT_SLEEP.values(), ids=NEED_NOT_SLEEP.keys())
async def test_a_wait_that_need_not_sleep_is_cancellable(wait):
    after = []
    with trio.CancelScope() as scope:
        scope.cancel()
        await wait()
        after.append("not cancelled")
    assert scope.cancelled_caught and after == []


async def test_await_on_a_settled_promise_is_a_checkpoint():
    promise = already_resolved()
    with trio.testing.assert_checkpoints():
        assert await promise == 1


async def test_wait_idle_on_an_idle_queue_is_a_checkpoint():
    await idle_queue_wait_idle()


async def test_wait_idle_on_an_idle_queue_is_cancellable():
    async with trio.open_nursery() as nursery:
        queue = ParallelQueue("idle queue")
        queue.start(TaskOwner.root("root", nursery))
        with trio.CancelScope() as scope:
            scope.cancel()
            await queue.wait_idle()
        assert scope.cancelled_caught
        queue.close()


# -- Promise -------------------------------------------------------------------------------


async def test_a_promise_settles_once():
    resolved: Promise[str] = Promise()
    assert not resolved.settled
    resolved.resolve("first")
    resolved.resolve("second")
    resolved.reject(ValueError("too late"))
    assert resolved.settled and await resolved == "first"

    rejected: Promise[str] = Promise()
    error = ValueError("first")
    rejected.reject(error)
    rejected.reject(ValueError("second"))
    rejected.resolve("too late")
    with pytest.raises(ValueError) as raised:
        await rejected
    assert raised.value is error


async def test_a_promise_may_resolve_to_none():
    promise: Promise[None] = Promise()
    promise.resolve(None)
    assert promise.settled and await promise is None


async def test_promise_rejected_is_a_rejected_promise():
    error = TypeError("bad")
    promise: Promise[int] = Promise.rejected(error)
    assert promise.settled
    with pytest.raises(TypeError) as raised:
        await promise
    assert raised.value is error


async def test_several_tasks_await_one_promise():
    promise: Promise[int] = Promise()
    got: list[int] = []

    async def awaiter() -> None:
        got.append(await promise)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(awaiter)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []  # they wait
        promise.resolve(7)
    assert got == [7, 7, 7]
    assert await promise == 7  # and it can be awaited again later


async def test_a_rejection_is_raised_to_each_awaiter():
    promise: Promise[int] = Promise()
    error = LookupError("gone")
    raised: list[BaseException] = []

    async def awaiter() -> None:
        try:
            await promise
        except LookupError as e:
            raised.append(e)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(awaiter)
        await trio.testing.wait_all_tasks_blocked()
        promise.reject(error)
    assert raised == [error, error, error]


async def test_awaiting_a_pending_promise_is_cancellable():
    promise: Promise[int] = Promise()
    with trio.move_on_after(1) as scope:
        await promise
    assert scope.cancelled_caught and not promise.settled


# -- Condition -------------------------------------------------------------------------------


async def test_wait_for_rechecks_its_predicate_at_each_notify():
    changed = Condition()
    state = {"n": 0}
    woke = trio.Event()

    async def waiter() -> None:
        await changed.wait_for(lambda: state["n"] >= 2)
        woke.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        state["n"] = 1
        changed.notify()
        await trio.testing.wait_all_tasks_blocked()
        assert not woke.is_set()  # re-checked, still false: sleeps again
        state["n"] = 2
        await trio.testing.wait_all_tasks_blocked()
        assert not woke.is_set()  # true, but nobody said so: no re-check
        changed.notify()
    assert woke.is_set()


async def test_condition_wait_returns_at_a_notify_or_at_its_deadline(autojump_clock):
    changed = Condition()
    await changed.wait(deadline=trio.current_time() + 5)  # nobody notifies: the deadline
    assert trio.current_time() == pytest.approx(5)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(changed.wait)
        await trio.testing.wait_all_tasks_blocked()
        changed.notify()  # wakes it; the nursery closes without waiting for time
    assert trio.current_time() == pytest.approx(5)


# -- abort_when ------------------------------------------------------------------------------


async def test_abort_when_steps_that_finish_are_not_aborted(autojump_clock):
    done = []

    async def steps() -> None:
        await trio.sleep(1)
        done.append("steps")

    assert await abort_when(steps, Condition(), lambda: False) is False
    assert done == ["steps"]
    assert trio.current_time() == pytest.approx(1)  # the watcher did not linger


async def test_abort_when_the_condition_becomes_true_the_steps_are_cancelled(autojump_clock):
    changed = Condition()
    flag = {"set": False}
    progress: list[str] = []

    async def steps() -> None:
        try:
            progress.append("started")
            await trio.sleep(10)
            progress.append("never")
        finally:
            progress.append("finally")

    async def set_flag_later() -> None:
        await trio.sleep(3)
        flag["set"] = True
        changed.notify()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(set_flag_later)
        aborted = await abort_when(steps, changed, lambda: flag["set"])
    assert aborted is True
    assert progress == ["started", "finally"]
    assert trio.current_time() == pytest.approx(3)


async def test_abort_when_aborts_the_steps_at_their_next_checkpoint(autojump_clock):
    """The condition turns true in the middle of the steps' synchronous work: that work
    runs to the next checkpoint, where the steps are cancelled.  (A checkpoint that
    sleeps: one that only yields may let the steps go on before the watcher has run.)"""
    changed = Condition()
    flag = {"set": False}
    progress: list[str] = []

    async def steps() -> None:
        progress.append("before")
        flag["set"] = True
        changed.notify()
        progress.append("after, up to the checkpoint")
        await trio.sleep(1)
        progress.append("never")

    assert await abort_when(steps, changed, lambda: flag["set"]) is True
    assert progress == ["before", "after, up to the checkpoint"]
    assert trio.current_time() == 0


@pytest.mark.parametrize("steps_checkpoint", [True, False])
async def test_abort_when_the_condition_already_holds(steps_checkpoint):
    """What happens: the steps start, run up to their first checkpoint and are cancelled
    there; abort_when says aborted, even when the steps return without a checkpoint."""
    progress: list[str] = []

    async def steps() -> None:
        progress.append("up to the first checkpoint")
        if steps_checkpoint:
            await trio.lowlevel.checkpoint()
            progress.append("never")

    for _ in range(20):  # (trio runs a batch of tasks in either order: both are the same)
        progress.clear()
        assert await abort_when(steps, Condition(), lambda: True) is True
        assert progress == ["up to the first checkpoint"]


async def test_abort_when_cancelled_from_outside_cancels_the_steps(autojump_clock):
    progress: list[str] = []

    async def steps() -> None:
        try:
            await trio.sleep(10)
        finally:
            progress.append("steps cancelled")

    with trio.move_on_after(2) as scope:
        await abort_when(steps, Condition(), lambda: False)
    assert scope.cancelled_caught and progress == ["steps cancelled"]


# -- TaskOwner -----------------------------------------------------------------------------


async def sleep_forever_noting(ended: list[str], name: str) -> None:
    try:
        await trio.sleep_forever()
    finally:
        ended.append(name)


async def test_an_idle_owner_ends_by_itself_after_its_last_task(autojump_clock):
    ran: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        fetch = root.child("background fetch 1", until="idle")

        async def first() -> None:
            await trio.sleep(1)
            fetch.in_parallel(second)  # started by a task: the owner is not idle yet
            ran.append("first")

        async def second() -> None:
            await trio.sleep(1)
            ran.append("second")

        fetch.in_parallel(first)
        await trio.sleep(1.5)
        assert not fetch.done and ran == ["first"]
        await trio.sleep(1)
        assert fetch.done and ran == ["first", "second"]
        assert fetch.task_count() == 0
        with pytest.raises(RuntimeError, match="background fetch 1"):
            fetch.in_parallel(second)
        root.close()


async def test_an_idle_owner_with_nothing_to_run_is_done_at_once():
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        fetch = root.child("background fetch 2", until="idle")
        await trio.testing.wait_all_tasks_blocked()
        assert fetch.done
        root.close()


async def test_in_parallel_on_a_closed_owner_raises_naming_it():
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        window = root.child("window https://example.test/", until="closed")
        await trio.testing.wait_all_tasks_blocked()
        window.close()
        with pytest.raises(RuntimeError, match="window https://example.test/"):
            window.in_parallel(returns_at_once)
        with pytest.raises(RuntimeError, match="window https://example.test/"):
            window.child("its background fetch", until="idle")
        await trio.testing.wait_all_tasks_blocked()
        assert window.done
        root.close()
        with pytest.raises(RuntimeError, match="user agent"):
            root.in_parallel(returns_at_once)


async def test_close_cancels_the_owners_children_transitively():
    ended: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        window = root.child("window", until="closed")
        fetch = window.child("fetch", until="idle")
        grandchild = fetch.child("fetch's queue owner", until="closed")
        for owner in (window, fetch, grandchild):
            owner.in_parallel(sleep_forever_noting, ended, owner.name)
        root.in_parallel(sleep_forever_noting, ended, "user agent's own")
        await trio.testing.wait_all_tasks_blocked()

        window.close()
        await trio.testing.wait_all_tasks_blocked()
        assert sorted(ended) == ["fetch", "fetch's queue owner", "window"]
        assert window.done and fetch.done and grandchild.done
        assert window.task_count() == 0
        assert root.task_count() == 1  # its own task lives on
        root.close()
    assert "user agent's own" in ended


async def test_work_given_before_the_childs_nursery_opened_still_runs():
    ran: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        fetch = root.child("fetch", until="idle")

        async def note(what: str) -> None:
            ran.append(what)

        # The child's nursery opens when its task first runs, at the next checkpoint.
        fetch.in_parallel(note, "a")
        fetch.in_parallel(note, "b")
        assert ran == [] and fetch.task_count() == 0
        await trio.testing.wait_all_tasks_blocked()
        assert sorted(ran) == ["a", "b"] and fetch.done
        root.close()


async def test_an_owner_closed_before_its_nursery_opened_runs_nothing():
    ran: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        window = root.child("window", until="closed")

        async def note() -> None:
            ran.append("ran")

        window.in_parallel(note)
        window.close()
        await trio.testing.wait_all_tasks_blocked()
        assert ran == [] and window.done
        root.close()


async def test_task_count_counts_nested_tasks():
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        fetch = root.child("fetch", until="idle")

        async def with_two_subtasks() -> None:
            async with trio.open_nursery() as inner:
                inner.start_soon(trio.sleep_forever)
                inner.start_soon(trio.sleep_forever)

        fetch.in_parallel(with_two_subtasks)
        fetch.in_parallel(trio.sleep_forever)
        await trio.testing.wait_all_tasks_blocked()
        assert fetch.task_count() == 4  # two tasks of its own, two nested in one of them
        # The parent counts the child's tasks, and the child's own task (its nursery's).
        assert root.task_count() == fetch.task_count() + 1
        root.close()
    assert fetch.task_count() == root.task_count() == 0


async def test_nothing_outlives_the_root_nursery():
    ended: list[str] = []
    with trio.CancelScope() as outer:
        async with trio.open_nursery() as nursery:
            root = TaskOwner.root("user agent", nursery)
            window = root.child("window", until="closed")
            fetch = window.child("fetch", until="idle")
            for owner in (root, window, fetch):
                owner.in_parallel(sleep_forever_noting, ended, owner.name)
            await trio.testing.wait_all_tasks_blocked()
            outer.cancel()  # the nursery ends without anyone closing the owners
    assert sorted(ended) == ["fetch", "user agent", "window"]
    assert window.done and fetch.done
    assert root.task_count() == window.task_count() == fetch.task_count() == 0


# -- ParallelQueue -----------------------------------------------------------------------------


async def test_a_parallel_queue_runs_steps_one_at_a_time_in_order(autojump_clock):
    log: list[str] = []

    def sync_step(name: str) -> Callable[[], None]:
        return lambda: log.append(name)

    def async_step(name: str) -> Callable[[], Awaitable[None]]:
        async def steps() -> None:
            log.append(f"{name} begins")
            await trio.sleep(1)
            log.append(f"{name} ends")

        return steps

    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        queue = ParallelQueue("queue")
        queue.start(root)
        queue.enqueue(async_step("A"))
        queue.enqueue(sync_step("b"))
        queue.enqueue(async_step("C"))
        queue.enqueue(sync_step("d"))
        await queue.wait_idle()
        root.close()
    assert log == ["A begins", "A ends", "b", "C begins", "C ends", "d"]
    assert trio.current_time() == pytest.approx(2)


async def test_a_closed_queue_runs_what_is_queued_then_its_task_ends(autojump_clock):
    log: list[str] = []

    async def slow(name: str) -> None:
        await trio.sleep(1)
        log.append(name)

    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        owner = root.child("fetch", until="idle")  # ends once the queue's task ends
        queue = ParallelQueue("progress queue")
        queue.start(owner)
        queue.enqueue(lambda: slow("first"))
        queue.enqueue(lambda: slow("second"))
        queue.close()
        assert queue.closed
        with pytest.raises(RuntimeError, match="progress queue"):
            queue.enqueue(lambda: slow("too late"))
        await trio.sleep(1.5)
        assert log == ["first"] and not owner.done
        await trio.sleep(1)
        assert log == ["first", "second"] and owner.done  # its one task, the queue's, ended
        root.close()


async def test_wait_idle_waits_for_every_step_enqueued_so_far(autojump_clock):
    log: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        queue = ParallelQueue("queue")
        queue.start(root)

        async def slow() -> None:
            await trio.sleep(3)
            log.append("slow")

        queue.enqueue(slow)
        queue.enqueue(lambda: log.append("quick"))
        await queue.wait_idle()
        assert log == ["slow", "quick"] and trio.current_time() == pytest.approx(3)
        root.close()


async def test_a_queue_drains_its_steps_without_yielding_after_each_yet_starves_no_one():
    """What is queued runs without a trip through the scheduler after every step; a
    checkpoint every DRAIN_LIMIT steps lets other tasks run meanwhile."""
    log: list[str] = []
    count = 3 * ParallelQueue.DRAIN_LIMIT
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        queue = ParallelQueue("queue")
        queue.start(root)
        await trio.testing.wait_all_tasks_blocked()
        for i in range(count):
            queue.enqueue(lambda i=i: log.append(f"step {i}"))

        async def other() -> None:
            while len(log) < count + 3:
                log.append("other")
                await trio.lowlevel.checkpoint()

        nursery.start_soon(other)
        await queue.wait_idle()
        steps_between = [i for i, entry in enumerate(log) if entry == "other"]
        assert [entry for entry in log if entry != "other"] == [f"step {i}" for i in range(count)]
        # Others ran while the queue drained, but only between batches of steps.
        assert 2 <= len([i for i in steps_between if i < log.index(f"step {count - 1}")]) <= 4
        assert log[: ParallelQueue.DRAIN_LIMIT].count("other") <= 1
        root.close()


async def test_a_queue_does_not_keep_the_objects_of_steps_it_has_run():
    class Payload:
        pass

    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        queue = ParallelQueue("queue")
        queue.start(root)

        def enqueue_holding(payload: Payload, asynchronous: bool) -> None:
            if asynchronous:

                async def steps() -> None:
                    await trio.lowlevel.checkpoint()
                    assert payload is not None

                queue.enqueue(steps)
            else:
                queue.enqueue(lambda: payload)

        refs = []
        for asynchronous in (False, True):
            payload = Payload()
            refs.append(weakref.ref(payload))
            enqueue_holding(payload, asynchronous)
            del payload
        await queue.wait_idle()
        await trio.testing.wait_all_tasks_blocked()  # the queue's task waits for more
        gc.collect()
        assert [ref() for ref in refs] == [None, None]
        root.close()


# -- EventLoop -----------------------------------------------------------------------------


async def test_a_closed_loop_drops_its_tasks_queued_before_or_after_silently():
    # HTML: a discarded document's tasks are removed from its event loop.
    ran: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        loop = EventLoop("window's event loop")
        loop.start(root)
        loop.queue_task(lambda: ran.append("ran"))
        await trio.testing.wait_all_tasks_blocked()
        loop.queue_task(lambda: ran.append("before close"))
        loop.close()
        loop.queue_task(lambda: ran.append("after close"))  # no error
        await trio.testing.wait_all_tasks_blocked()
        root.close()
    assert ran == ["ran"]


async def test_run_task_waits_for_the_task_or_returns_false_once_it_is_dropped():
    ran: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        loop = EventLoop("window's event loop")
        loop.start(root)
        assert await loop.run_task(lambda: ran.append("one")) is True
        answers: list[bool] = []

        async def wait() -> None:
            answers.append(await loop.run_task(lambda: ran.append("two")))

        loop.queue_task(loop.close)  # closes the loop before "two" runs
        nursery.start_soon(wait)
        await trio.testing.wait_all_tasks_blocked()
        assert answers == [False]
        assert await loop.run_task(lambda: ran.append("three")) is False  # at once
        root.close()
    assert ran == ["one"]


async def test_call_listener_runs_a_plain_listener_now_and_starts_async_ones_as_tasks():
    log: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        environment = root.child("window", until="closed")
        loop = EventLoop("window's event loop")
        loop.start(environment)

        def plain(event: str) -> None:
            log.append(f"plain {event}")

        async def coroutine_function(event: str) -> None:
            log.append(f"async {event}")

        async def then() -> None:
            log.append("awaitable returned by sync")

        def sync_returning_an_awaitable(event: str) -> Awaitable[None]:
            log.append(f"sync part {event}")
            return then()

        loop.call_listener(plain, "e1")
        loop.call_listener(coroutine_function, "e2")
        loop.call_listener(sync_returning_an_awaitable, "e3")
        # Plain callables (and the synchronous part) ran during call_listener.
        assert log == ["plain e1", "sync part e3"]
        await trio.testing.wait_all_tasks_blocked()
        assert sorted(log) == sorted(
            ["plain e1", "sync part e3", "async e2", "awaitable returned by sync"]
        )
        root.close()


async def test_an_async_listener_ends_with_its_environment():
    ended: list[str] = []
    async with trio.open_nursery() as nursery:
        root = TaskOwner.root("user agent", nursery)
        environment = root.child("window", until="closed")
        loop = EventLoop("window's event loop")
        loop.start(environment)
        loop.call_listener(sleep_forever_noting, ended, "listener")
        await trio.testing.wait_all_tasks_blocked()
        environment.close()
        await trio.testing.wait_all_tasks_blocked()
        assert ended == ["listener"] and environment.done
        root.close()


async def test_spawn_on_a_loop_not_started_fails_naming_it():
    loop = EventLoop("unstarted loop")
    with pytest.raises(AssertionError, match="unstarted loop"):
        loop.spawn(returns_at_once)
