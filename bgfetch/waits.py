"""What is being waited for, so that a wait that can never end says why.

An awaitable of bgfetch's that may wait for ever when the caller made a mistake
(``service_worker.ready`` with no registration for the page, ``settled()`` of a
fetch whose worker is gone) runs ``with waiting_for(describe):``, where *describe* says,
when asked, what it waits for and why it has not come.  A test's watchdog (the
``user_agent`` fixture's: bgfetch.testing.watchdog) asks every wait of the run when
nothing can make progress any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import trio

Describe = Callable[[], str]

_WAITS: trio.lowlevel.RunVar[dict[int, Describe]] = trio.lowlevel.RunVar("bgfetch waits")


def _waits() -> dict[int, Describe]:
    try:
        return _WAITS.get()
    except LookupError:
        waits: dict[int, Describe] = {}
        _WAITS.set(waits)
        return waits


@contextmanager
def waiting_for(describe: Describe) -> Iterator[None]:
    """Say, for the block's duration, what the current task waits for (*describe*)."""
    waits = _waits()
    key = id(describe)
    waits[key] = describe
    try:
        yield
    finally:
        waits.pop(key, None)


def current_waits() -> list[str]:
    """What every wait of this trio run is waiting for, in the order they began."""
    described = []
    for describe in list(_waits().values()):
        try:
            described.append(describe())
        except Exception as error:  # a description's bug never hides the others
            described.append(f"(a wait whose description failed: {error!r})")
    return described
