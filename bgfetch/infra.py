"""The spec's concurrency vocabulary, mapped onto trio once, here.

The specs speak of "in parallel", parallel queues, event loops that run queued
tasks, promises, and "wait for <condition>".  Python has no such primitives, so
each is given one meaning in this module and nowhere else:

* **In parallel** means a trio task started in a nursery that someone owns: the
  user agent's nursery for work that outlives an API call, a background fetch's
  own nursery for its records.  Nothing runs after its owner closes.
* A **parallel queue** is a task that reads steps from a channel and runs them one
  after another; "enqueue the following steps" sends a step to it.
* An **event loop** is the same shape: each environment (a window, a service
  worker's global scope) has one task that runs its queued tasks in order.
  Listeners that are coroutine functions are started as tasks of that
  environment, as a JavaScript async function runs to its first ``await`` and
  returns: the loop never blocks on them.
* A **promise** is :class:`Promise`: settled once from anywhere, awaited by the
  API method that returned it.
* **Wait for <condition>** is :class:`Condition`: whoever changes the state the
  condition reads calls :meth:`Condition.notify`, and waiters re-check.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import attrs
import trio

T = TypeVar("T")

Steps = Callable[[], Any]
"""Steps to run: a plain callable, or one returning an awaitable that is awaited."""


async def run_steps(steps: Steps) -> None:
    """Run *steps*; if they return an awaitable, await it."""
    result = steps()
    if inspect.isawaitable(result):
        await result


class Promise(Generic[T]):
    """A promise: resolved or rejected once, awaited any number of times."""

    def __init__(self) -> None:
        self._settled = trio.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    @property
    def settled(self) -> bool:
        return self._settled.is_set()

    def resolve(self, value: T) -> None:
        if self._settled.is_set():
            return  # As in JavaScript, settling twice is a no-op.
        self._value = value
        self._settled.set()

    def reject(self, error: BaseException) -> None:
        if self._settled.is_set():
            return
        self._error = error
        self._settled.set()

    @classmethod
    def rejected(cls, error: BaseException) -> Promise[T]:
        """A promise rejected with *error*."""
        promise: Promise[T] = cls()
        promise.reject(error)
        return promise

    async def wait(self) -> T:
        await self._settled.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def __await__(self) -> Any:
        return self.wait().__await__()


class Condition:
    """'Wait for <condition>': waiters sleep until notified, then re-check."""

    def __init__(self) -> None:
        self._changed = trio.Event()

    def notify(self) -> None:
        """Say that state some waiter may read has changed."""
        self._changed.set()
        self._changed = trio.Event()

    async def wait(self, deadline: float = math.inf) -> None:
        """Sleep until notified or until *deadline* (trio time); callers re-check."""
        with trio.move_on_at(deadline):
            await self._changed.wait()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._changed.wait()


class ParallelQueue:
    """A parallel queue (HTML): runs enqueued steps one at a time, in order.

    "Starting a new parallel queue" is constructing one and :meth:`start`-ing it
    in the nursery of its owner.  :meth:`close` ends it once nothing will enqueue
    any more: its task runs what is queued, then returns.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._send, self._receive = trio.open_memory_channel[Steps](float("inf"))
        self._idle = Condition()
        self._pending = 0
        self.closed = False

    def start(self, nursery: trio.Nursery) -> None:
        nursery.start_soon(self._run, name=f"parallel queue: {self.name}")

    def enqueue(self, steps: Steps) -> None:
        """Enqueue the following steps."""
        try:
            self._send.send_nowait(steps)
        except trio.ClosedResourceError:
            raise RuntimeError(f"{self.name} is closed: nothing may be enqueued") from None
        self._pending += 1

    def close(self) -> None:
        """No more steps: the queue's task ends after running those already queued."""
        self.closed = True
        self._send.close()

    async def _run(self) -> None:
        async for steps in self._receive:
            try:
                await run_steps(steps)
            finally:
                self._pending -= 1
                self._idle.notify()

    async def wait_idle(self) -> None:
        """Wait until every step enqueued so far has run."""
        await self._idle.wait_for(lambda: self._pending == 0)


class EventLoop(ParallelQueue):
    """An environment's event loop: queued tasks run in order on one task.

    A task's steps are plain callables; a listener or handler that is a coroutine
    function is started as a task of the loop's owner (see :meth:`spawn`).
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._nursery: trio.Nursery | None = None

    def start(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        super().start(nursery)

    def queue_task(self, steps: Steps) -> None:
        """Queue a task on this event loop.  Once the loop is closed (its window closed),
        tasks are dropped, as HTML drops the tasks of a discarded document."""
        if self.closed:
            return
        self.enqueue(steps)

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Start *fn(*args)* as a task owned by this loop's environment."""
        assert self._nursery is not None, f"event loop {self.name} is not running"
        self._nursery.start_soon(fn, *args)

    def call_listener(self, listener: Callable[..., Any], *args: Any) -> None:
        """Invoke a listener: a plain callable runs now, a coroutine function as a task."""
        if inspect.iscoroutinefunction(listener):
            self.spawn(listener, *args)
        else:
            result = listener(*args)
            if inspect.isawaitable(result):
                self.spawn(_await, result)


async def _await(awaitable: Awaitable[Any]) -> None:
    await awaitable


@attrs.define
class EventTarget:
    """The DOM's EventTarget, the slice the specs use: listeners per type."""

    _listeners: dict[str, list[Callable[..., Any]]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    def add_event_listener(self, type: str, callback: Callable[..., Any]) -> None:
        listeners = self._listeners.setdefault(type, [])
        if callback not in listeners:
            listeners.append(callback)

    def remove_event_listener(self, type: str, callback: Callable[..., Any]) -> None:
        listeners = self._listeners.get(type, [])
        if callback in listeners:
            listeners.remove(callback)

    def listeners(self, type: str) -> list[Callable[..., Any]]:
        return list(self._listeners.get(type, []))
