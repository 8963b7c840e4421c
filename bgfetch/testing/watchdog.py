"""A watchdog that fails a test which can make no progress, instead of letting it hang.

On trio's MockClock with autojump, a test that waits for something that never comes
(``service_worker.ready`` after a forgotten ``register()``) would hang for ever, and
spin: the clock has no deadline to jump to.  :func:`fail_when_stuck` (the ``user_agent``
fixture runs it) gives the clock one, and at each wake asks trio whether any task could
still run: none runnable and no deadline pending means nothing ever will, on the
virtual network.  Stuck for *after* simulated seconds, it raises :class:`Stuck`, naming
what bgfetch's waits are waiting for (bgfetch.waits) and where each task waits.

Real I/O (a thread, a socket) still gets real time to answer: while nothing is
scheduled, the clock jumps only after *grace* real seconds without progress.
"""

from __future__ import annotations

import linecache
import math
import os
from typing import NoReturn

import trio
import trio.testing

from bgfetch.waits import current_waits

AFTER = 600.0
"""Simulated seconds of no possible progress after which a test fails."""

_SKIPPED = tuple(
    os.path.dirname(module.__file__ or "") + os.sep for module in (trio, __import__("bgfetch"))
)


class Stuck(AssertionError):
    """No task can make progress: what the test waits for will never come."""


async def fail_when_stuck(
    *, after: float = AFTER, every: float = 60.0, grace: float = 0.05
) -> NoReturn:
    """Raise :class:`Stuck` once no task of this trio run has been able to make progress
    for *after* simulated seconds (checked every *every* simulated seconds).  Of several
    watchdogs running at once, the one started last speaks."""
    clock = trio.lowlevel.current_clock()
    mock = clock if isinstance(clock, trio.testing.MockClock) else None
    threshold = mock.autojump_threshold if mock is not None else 0.0
    stuck_since: float | None = None
    watchdogs = _watchdogs()
    me = trio.Event()  # set when this watchdog ends
    watchdogs.append(me)
    try:
        while True:
            if watchdogs[-1] is not me:  # one watchdog at a time, or each sees the other's
                await watchdogs[watchdogs.index(me) + 1].wait()  # deadline as progress
                stuck_since = None
                continue
            await trio.sleep(every)
            statistics = trio.lowlevel.current_statistics()
            idle = (
                statistics.seconds_to_next_deadline == math.inf
                and statistics.tasks_runnable == 0
                and statistics.run_sync_soon_queue_size == 0
            )
            now = trio.current_time()
            if not idle:
                stuck_since = None
                if mock is not None:
                    mock.autojump_threshold = threshold
            elif stuck_since is None:
                stuck_since = now
                if mock is not None:
                    mock.autojump_threshold = max(threshold, grace)
            elif now - stuck_since >= after:
                raise Stuck(describe_stuck(now - stuck_since))
    finally:
        watchdogs.remove(me)
        me.set()
        if mock is not None:
            mock.autojump_threshold = threshold


_WATCHDOGS: trio.lowlevel.RunVar[list[trio.Event]] = trio.lowlevel.RunVar("bgfetch watchdogs")


def _watchdogs() -> list[trio.Event]:
    try:
        return _WATCHDOGS.get()
    except LookupError:
        watchdogs: list[trio.Event] = []
        _WATCHDOGS.set(watchdogs)
        return watchdogs


def describe_stuck(stuck_for: float) -> str:
    """What a stuck run waits for: bgfetch's waits, then where each task of user code
    waits."""
    lines = [
        f"no progress for {stuck_for:g} simulated seconds: no task can run and nothing is "
        "scheduled (no timer, no network exchange), so what the test waits for never comes"
    ]
    waits = current_waits()
    if waits:
        lines.append("waiting for:")
        lines += [f"  {wait}" for wait in waits]
    where = where_tasks_wait()
    if where:
        lines.append("where:")
        lines += [f"  {line}" for line in where]
    return "\n".join(lines)


def where_tasks_wait() -> list[str]:
    """For each task whose awaits pass through code that is not trio's nor bgfetch's
    (a test, a handler), the innermost such line it waits at."""
    found: list[str] = []
    tasks = [trio.lowlevel.current_root_task()]
    while tasks:
        task = tasks.pop(0)
        if task is None:
            continue
        for nursery in task.child_nurseries:
            tasks.extend(nursery.child_tasks)
        line = _innermost_user_line(task)
        if line is not None and line not in found:
            found.append(line)
    return found


def _innermost_user_line(task: trio.lowlevel.Task) -> str | None:
    innermost = None
    for frame, lineno in task.iter_await_frames():
        filename = frame.f_code.co_filename
        if filename.startswith(_SKIPPED) or "site-packages" in filename:
            continue
        source = linecache.getline(filename, lineno).strip()
        innermost = f"{os.path.basename(filename)}:{lineno} in {frame.f_code.co_name}: {source}"
    return innermost
