"""The spec's concurrency vocabulary, mapped onto trio once, here.

The specs speak of "in parallel", parallel queues, event loops that run queued
tasks, promises, and "wait for <condition>".  Python has no such primitives, so
each is given one meaning in this module and nowhere else:

* **In parallel** means a task of a :class:`TaskOwner`, the narrowest object the
  steps belong to: the user agent (service worker registration), an environment
  (a window's listeners, a service worker's handlers, record objects' streams),
  or a background fetch (its algorithm, its queues).  Each owner's tasks run in
  a nursery of its own, inside its parent's; nothing runs after its owner ends.
* **Run these steps, but abort when <condition>** is :func:`abort_when`.
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
from collections.abc import Awaitable, Callable, Generator
from typing import Any, ClassVar, Generic, Literal, TypeVar

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

    def __await__(self) -> Generator[Any, None, T]:
        return self.wait().__await__()


class Condition:
    """'Wait for <condition>': waiters sleep until notified, then re-check."""

    def __init__(self) -> None:
        self._changed = trio.Event()
        self._watchers: list[Callable[[], None]] = []

    def notify(self) -> None:
        """Say that state some waiter may read has changed."""
        for watcher in list(self._watchers):
            watcher()
        self._changed.set()
        self._changed = trio.Event()

    async def wait(self, deadline: float = math.inf) -> None:
        """Sleep until notified or until *deadline* (trio time); callers re-check."""
        with trio.move_on_at(deadline):
            await self._changed.wait()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Sleep until *predicate* holds.  Like every wait, a checkpoint (it yields, and
        raises Cancelled if cancelled) even when *predicate* already holds."""
        if predicate():
            await trio.lowlevel.checkpoint()
        while not predicate():
            await self._changed.wait()


class Watched:
    """The base of concept classes: assigning a field wakes whoever waits on the
    object's ``changed`` Condition, and tells its ``saver`` (a stored user agent's,
    if any) to remember the new state, so a spec step reads as a plain assignment:
    ``response_data.result = "success"``.  (Appending bytes is not an assignment:
    stored bytes keep their own length, see :mod:`bgfetch.store`.)  A field whose name
    starts with ``_`` is bgfetch's bookkeeping, not the spec's state: assigning it
    wakes and saves nothing.  A field in the class's ``QUIET`` is saved but wakes no
    one: a counter that changes at every chunk and that nothing waits for (a background
    fetch's ``uploaded``), which would otherwise wake each of its records' waiters at
    every chunk of every record."""

    __slots__ = ()
    QUIET: ClassVar[frozenset[str]] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in ("changed", "saver") or name.startswith("_"):
            return
        changed: Condition | None = getattr(self, "changed", None)  # unset during __init__
        if changed is not None and name not in self.QUIET:
            changed.notify()
        saver: Callable[[], None] | None = getattr(self, "saver", None)
        if saver is not None:
            saver()


async def abort_when(
    steps: Callable[[], Awaitable[None]], changed: Condition, condition: Callable[[], bool]
) -> bool:
    """Run *steps*, but abort when *condition* holds (Infra #abort-when); *changed* is
    notified whenever what *condition* reads changes.  Returns whether the steps were
    aborted ("if aborted"): aborting cancels them at their next checkpoint.

    If *condition* already holds when this is called, the steps are aborted at once:
    they run up to their first checkpoint and are cancelled there, and this returns
    True (even if they return before reaching a checkpoint).  Otherwise *condition* is
    re-checked at each notification while the steps run, and the steps count as aborted
    only if they were cancelled: steps that return before their next checkpoint ran to
    the end.  (The steps run in the calling task, with no task of their own: a record's
    fetch is one of these, so this is on every record's path.)"""
    with trio.CancelScope() as scope:

        def check() -> None:
            if condition():
                scope.cancel()

        aborted_at_once = condition()
        if aborted_at_once:
            scope.cancel()
        changed._watchers.append(check)
        try:
            await steps()
        finally:
            changed._watchers.remove(check)
    await trio.lowlevel.checkpoint()  # a checkpoint even if the steps were not
    return aborted_at_once or scope.cancelled_caught


@attrs.define(eq=False)
class TaskOwner:
    """Who owns work started "in parallel": the user agent, an environment, a background fetch.

    Its tasks run in a nursery of its own, opened inside its parent's, so nothing it
    started outlives it.  :meth:`in_parallel` is the one way to run steps in parallel.
    An owner made with ``until="closed"`` (the user agent, a window, a service
    worker's global scope) lives until :meth:`close`, which cancels its tasks; one
    made with ``until="idle"`` (a background fetch) ends by itself once its last task
    has returned, and is then *done*: nothing may be started in it any more.
    """

    name: str
    until: Literal["closed", "idle"] = "closed"
    done: bool = attrs.field(default=False, init=False)
    _nursery: trio.Nursery | None = attrs.field(default=None, init=False, repr=False)
    _waiting: list[tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]] = attrs.field(
        factory=list, init=False, repr=False
    )
    _close_requested: trio.Event = attrs.field(factory=trio.Event, init=False, repr=False)

    @classmethod
    def root(cls, name: str, nursery: trio.Nursery) -> TaskOwner:
        """The owner at the top (the user agent), over a nursery its caller opened."""
        owner = cls(name)
        owner._nursery = nursery
        return owner

    def child(self, name: str, *, until: Literal["closed", "idle"]) -> TaskOwner:
        """A new owner whose nursery is one of this owner's tasks."""
        child = TaskOwner(name, until)
        self.in_parallel(child._run)
        return child

    def in_parallel(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run *fn(*args)* in parallel, as a task of this owner."""
        if self.done or self._close_requested.is_set():
            raise RuntimeError(f"{self.name} is over: nothing more may run in parallel in it")
        if self._nursery is None:
            self._waiting.append((fn, args))  # the owner's nursery opens at the next checkpoint
            return
        try:
            self._nursery.start_soon(fn, *args)
        except RuntimeError:
            # The owner's nursery closed as it was torn down (its tasks cancelled: the user
            # agent closing) before this owner knew it was over.  A caller cancelled with
            # it starts nothing; anyone else has a bug.
            if trio.current_effective_deadline() != -math.inf:
                raise

    def task_count(self) -> int:
        """How many tasks this owner runs now, its children's included."""
        if self._nursery is None:
            return 0

        def count(nursery: trio.Nursery) -> int:
            return sum(
                1 + sum(count(child) for child in task.child_nurseries)
                for task in nursery.child_tasks
            )

        return count(self._nursery)

    def close(self) -> None:
        """End this owner: cancel its tasks (and its children's)."""
        self._close_requested.set()
        self._waiting.clear()
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    async def _run(self) -> None:
        try:
            if self._close_requested.is_set():
                return
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for fn, args in self._waiting:
                    nursery.start_soon(fn, *args)
                self._waiting.clear()
                if self.until == "closed":
                    await self._close_requested.wait()
                    nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            self.done = True


@attrs.define(eq=False)
class ParallelQueue:
    """A parallel queue (HTML): runs enqueued steps one at a time, in order.

    "Starting a new parallel queue" is constructing one and :meth:`start`-ing it
    as a task of its owner.  :meth:`close` ends it once nothing will enqueue any
    more: its task runs what is queued, then returns.  The task runs every step
    queued before it sleeps again, without a trip through trio's scheduler after each
    (nothing in a queue's steps asks for one; steps that await still yield there), and
    checkpoints every :data:`DRAIN_LIMIT` steps so that a busy queue starves no one.
    """

    DRAIN_LIMIT: ClassVar[int] = 64

    name: str
    closed: bool = attrs.field(default=False, init=False)
    _send: trio.MemorySendChannel[Steps] = attrs.field(init=False, repr=False)
    _receive: trio.MemoryReceiveChannel[Steps] = attrs.field(init=False, repr=False)
    _idle: Condition = attrs.field(factory=Condition, init=False, repr=False)
    _pending: int = attrs.field(default=0, init=False, repr=False)
    _not_begun: set[object] = attrs.field(factory=set, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[Steps](math.inf)

    def start(self, owner: TaskOwner) -> None:
        owner.in_parallel(self._run)

    def enqueue(self, steps: Steps) -> None:
        """Enqueue the following steps."""
        try:
            self._send.send_nowait(steps)
        except trio.ClosedResourceError:
            raise RuntimeError(f"{self.name} is closed: nothing may be enqueued") from None
        self._pending += 1

    def enqueue_coalesced(self, key: object, steps: Steps) -> None:
        """Enqueue *steps*, unless steps enqueued with the same *key* have not begun yet:
        then those stand for these.  Only for steps that read the state they report when
        they begin (so the earlier steps report what these would have, or later), and
        that nothing waits for one by one: a progress update (SPEC-NOTES.md
        SN-current-34, SN-2017-27)."""
        if key in self._not_begun:
            return

        def begin() -> Any:
            self._not_begun.discard(key)
            return steps()

        self.enqueue(begin)
        self._not_begun.add(key)

    def close(self) -> None:
        """No more steps: the queue's task ends after running those already queued."""
        self.closed = True
        self._send.close()

    async def _run(self) -> None:
        ran = 0
        while True:
            try:
                if ran >= self.DRAIN_LIMIT:
                    ran = 0
                    await trio.lowlevel.checkpoint()
                try:
                    steps = self._receive.receive_nowait()
                except trio.WouldBlock:
                    ran = 0
                    steps = await self._receive.receive()
            except trio.EndOfChannel:
                return
            ran += 1
            try:
                await run_steps(steps)
            finally:
                self._pending -= 1
                if self._pending == 0:  # for wait_idle (run_task's tasks notify themselves)
                    self._idle.notify()
            del steps  # what the steps hold must not stay alive while the queue waits

    async def wait_idle(self) -> None:
        """Wait until every step enqueued so far has run."""
        await self._idle.wait_for(lambda: self._pending == 0)


@attrs.define(eq=False, slots=False)  # not slotted: a test may wrap queue_task to count tasks
class EventLoop(ParallelQueue):
    """An environment's event loop: queued tasks run in order on one task.

    A task's steps are plain callables; a listener or handler that is a coroutine
    function is started as a task of the loop's owner, the environment (see
    :meth:`spawn`), and ends when the environment closes.
    """

    _owner: TaskOwner | None = attrs.field(default=None, init=False, repr=False)
    # DOM's "report the exception", for an exception a listener raises: told the error,
    # the listener and its arguments' first (the event).  Its owner sets it (the user
    # agent's report_exception); unset, the exception is raised again.
    report: Callable[[Exception, Callable[..., Any], Any], None] | None = attrs.field(
        default=None, init=False, repr=False
    )

    def start(self, owner: TaskOwner) -> None:
        self._owner = owner
        super().start(owner)

    def queue_task(self, steps: Steps) -> None:
        """Queue a task on this event loop.  Once the loop is closed (its window closed),
        tasks are dropped, as HTML drops the tasks of a discarded document: those queued
        from then on, and those queued before that have not run yet."""
        if self.closed:
            return

        def task() -> Any:
            if self.closed:
                return None  # dropped with its document
            return steps()

        self.enqueue(task)

    async def run_task(self, steps: Callable[[], None]) -> bool:
        """Queue a task and "wait for it to complete": True once it has run; False as soon
        as it is dropped instead (the loop closed before it ran, or was closed already),
        for a dropped task never completes and whoever waits for it must not wait for
        ever."""
        done = False

        def task() -> None:
            nonlocal done
            try:
                steps()
            finally:
                done = True
                self._idle.notify()

        self.queue_task(task)
        await self._idle.wait_for(lambda: done or self.closed)
        return done

    def close(self) -> None:
        super().close()
        self._idle.notify()  # those waiting in run_task: their tasks are dropped

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Start *fn(*args)* as a task owned by this loop's environment."""
        assert self._owner is not None, f"event loop {self.name} is not running"
        self._owner.in_parallel(fn, *args)

    def call_listener(self, listener: Callable[..., Any], *args: Any) -> None:
        """Invoke a listener: a plain callable runs now, a coroutine function as a task.

        An exception the listener raises (now, or later in its task) is reported (DOM's
        "inner invoke": "report the exception") and goes no further, so the next
        listener is called and the event loop runs on."""
        if inspect.iscoroutinefunction(listener):
            self.spawn(self._await_listener, listener, None, args)
            return
        try:
            result = listener(*args)
        except Exception as error:
            self._report(error, listener, args)
            return
        if inspect.isawaitable(result):
            self.spawn(self._await_listener, listener, result, args)

    async def _await_listener(
        self,
        listener: Callable[..., Any],
        awaitable: Awaitable[Any] | None,
        args: tuple[Any, ...],
    ) -> None:
        """Await what *listener* returned (*awaitable*), or call it (a coroutine function)
        and await its coroutine."""
        try:
            await (listener(*args) if awaitable is None else awaitable)
        except Exception as error:
            self._report(error, listener, args)

    def _report(
        self, error: Exception, listener: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        if self.report is None:
            raise error
        self.report(error, listener, args[0] if args else None)


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
