"""ExtendableEvent (Service Workers #extendableevent-interface), a DOM Event (bgfetch.dom).

Mapping JavaScript's dispatch onto Python handlers: a handler that is an ``async``
function is part of the dispatch until it returns (as if its body were passed to
``wait_until``), so a Python handler may ``await`` freely; an event stays
*active* while it is being dispatched or any promise given to
:meth:`ExtendableEvent.wait_until` is pending.  Holding an event after its
handler returned and every extension settled, it is no longer active, as in
JavaScript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bgfetch.dom import Event
from bgfetch.errors import InvalidStateError
from bgfetch.infra import Condition, TaskOwner


class ExtendableEvent(Event):
    """ExtendableEvent: an event whose lifetime ``wait_until`` extends.  Constructed, it
    is not trusted (and ``wait_until`` throws); the user agent's are made trusted by
    ``bgfetch.dom.create_an_event`` (Service Workers' "fire a functional event" does)."""

    def __init__(
        self, type: str, *, bubbles: bool = False, cancelable: bool = False, composed: bool = False
    ) -> None:
        super().__init__(type, bubbles=bubbles, cancelable=cancelable, composed=composed)
        self.pending_promises = 0
        self._owner: TaskOwner | None = None  # the global scope it is dispatched in
        self._changed = Condition()
        self.errors: list[BaseException] = []
        self._when_inactive: list[Callable[[], None]] = []
        # Set when a handler or extension was cancelled with its global scope (the user
        # agent closing): the event ends, but it was never handled.
        self.interrupted = False

    @property
    def active(self) -> bool:
        """Service Workers: an ExtendableEvent is active while its dispatch flag (DOM's:
        ``dispatching``) is set or its pending promises count is greater than zero."""
        return self.dispatching or self.pending_promises > 0

    def wait_until(self, awaitable: Awaitable[Any]) -> None:
        """``event.waitUntil(f)``: keep the event active until *awaitable* settles."""
        if not self.is_trusted:
            raise InvalidStateError("waitUntil() called on an untrusted event")
        if not self.active or self._owner is None:
            raise InvalidStateError(f"the {self.type} event is no longer active")
        self.pending_promises += 1
        self._owner.in_parallel(self._extend, awaitable)

    async def _extend(self, awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except Exception as error:  # a rejected promise: recorded, the event still ends
            self.errors.append(error)
        except BaseException:
            self.interrupted = True
            raise
        finally:
            self.pending_promises -= 1
            self._notify()

    def _notify(self) -> None:
        self._changed.notify()
        if not self.active and self._when_inactive:
            callbacks, self._when_inactive = self._when_inactive, []
            if self.interrupted:
                return
            for callback in callbacks:
                callback()

    def when_inactive(self, callback: Callable[[], None]) -> None:
        """Call *callback* as soon as this event is not active: in the very step in which
        its last handler or extension ends (or now, if it is not active), where a waiter
        of :meth:`wait_inactive` runs only later, when it is scheduled.  Not if it ended
        because its handlers were cancelled (``interrupted``)."""
        if self.active:
            self._when_inactive.append(callback)
        elif not self.interrupted:
            callback()

    async def wait_inactive(self) -> None:
        """Wait until this event is not active."""
        await self._changed.wait_for(lambda: not self.active)
