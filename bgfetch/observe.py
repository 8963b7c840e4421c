"""The one place where algorithm steps can be observed.

Algorithms call :meth:`Observers.step` at the steps worth seeing (a record's
fetch starting, a response arriving, an event firing).  Subscribers (a test, the
demo's printer, later the DevTools BackgroundService log) receive each
:class:`Step`.  Observing never steers: a subscriber's return value is ignored, and
an exception it raises is reported (``ua.reported_errors``, source ``"observer"``) and
goes no further: the algorithm and the other subscribers carry on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import trio


@attrs.frozen
class Step:
    algorithm: str  # the spec section's anchor, e.g. "#complete-a-record-algorithm"
    step: str  # the step number as the spec numbers it, e.g. "14" or "5.3"
    what: str  # a short phrase: what happened
    id: str = ""  # the background fetch's id, where there is one
    details: dict[str, Any] = attrs.field(factory=dict)
    time: float = 0.0  # trio.current_time() when it happened


Subscriber = Callable[[Step], object]
Report = Callable[[Step, Subscriber, Exception], None]


def _raise(step: Step, subscriber: Subscriber, error: Exception) -> None:
    raise error


class Observers:
    def __init__(self, *, report: Report = _raise) -> None:
        """*report* is told of an exception a subscriber raised (the user agent's
        ``report_exception``); by default it is raised again."""
        self._subscribers: list[Subscriber] = []
        self._report = report

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every step from now on; call the returned function to stop."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def step(self, algorithm: str, step: str, what: str, *, id: str = "", **details: Any) -> None:
        if not self._subscribers:
            return
        event = Step(algorithm, step, what, id, details, trio.current_time())
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception as error:  # a subscriber's bug never steers the algorithm
                self._report(event, subscriber, error)
