"""The DOM's events (DOM Standard #events): Event, EventTarget, dispatch, and HTML's event
handlers (``onprogress``).  Every event in bgfetch is an :class:`Event`; every object
events are fired at is an :class:`EventTarget`.

bgfetch's targets are not in a tree (a BackgroundFetchRegistration, a global scope), so
an event's path is its target alone (DOM "get the parent" returns null for every one of
them): the capturing pass runs the target's capturing listeners and the bubbling pass
its others, both "at target", as DOM dispatch does for a target with no parent.

How a listener is called is its target's (:meth:`EventTarget.call_listener`): a page's
objects call theirs on their realm's event loop, where a coroutine function is started
as a task (bgfetch.infra) and so runs after the dispatch is over: it sees
``current_target`` null and ``event_phase`` NONE, as JavaScript code after an ``await``
would, and its ``stop_immediate_propagation()`` comes too late to stop the listeners
after it (SPEC-NOTES.md SN-current-27).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, overload

import attrs
import trio

from bgfetch.errors import InvalidStateError
from bgfetch.idl import dom_string

Listener = Callable[[Any], Any]
E = TypeVar("E", bound="Event")


def _coarse_now() -> float:
    """The coarsened shared monotonic clock, in milliseconds (High Resolution Time: 100
    microseconds, a context that is not cross-origin isolated).  bgfetch has one time
    origin, the start of trio's clock: 0 on a MockClock (SPEC-NOTES.md SN-current-27).  An
    event made outside ``trio.run`` has no clock to read: 0."""
    try:
        now = trio.current_time() * 1000
    except RuntimeError:
        return 0.0
    return math.floor(now * 10) / 10


class Event:
    """DOM's Event interface (#interface-event): ``Event(type, bubbles=..., cancelable=...,
    composed=...)``, the EventInit members as keywords.

    Made by its constructor, an event is not trusted (``is_trusted`` false); the user
    agent's own events are made by :func:`create_an_event`, which trusts them."""

    NONE: ClassVar[int] = 0
    CAPTURING_PHASE: ClassVar[int] = 1
    AT_TARGET: ClassVar[int] = 2
    BUBBLING_PHASE: ClassVar[int] = 3

    def __init__(
        self, type: str, *, bubbles: bool = False, cancelable: bool = False, composed: bool = False
    ) -> None:
        # The constructor's "inner event creation steps": initialized, a time stamp, and
        # each EventInit member; isTrusted false.
        self._type = dom_string(type, f"{self.__class__.__name__}(): type")
        self._bubbles = bool(bubbles)
        self._cancelable = bool(cancelable)
        self._composed = bool(composed)
        self._is_trusted = False
        self._time_stamp = _coarse_now()
        self._target: EventTarget | None = None
        self._current_target: EventTarget | None = None
        self._event_phase = Event.NONE
        self._path: list[EventTarget] = []
        # The flags (DOM #stop-propagation-flag and the rest).
        self._stop_propagation = False
        self._stop_immediate_propagation = False
        self._canceled = False
        self._in_passive_listener = False
        self._initialized = True
        # The dispatch flag (Service Workers' "active" reads it: ExtendableEvent).
        self.dispatching = False

    type = property(lambda self: self._type, doc="The event's type.")
    target = property(lambda self: self._target, doc="The object it was dispatched to.")
    src_element = property(lambda self: self._target, doc="Legacy alias of ``target``.")
    current_target = property(
        lambda self: self._current_target,
        doc="The object whose listener is being called; null outside a dispatch.",
    )
    event_phase = property(lambda self: self._event_phase)
    bubbles = property(lambda self: self._bubbles)
    cancelable = property(lambda self: self._cancelable)
    composed = property(lambda self: self._composed)
    is_trusted = property(
        lambda self: self._is_trusted, doc="True only for the user agent's own events."
    )
    time_stamp = property(lambda self: self._time_stamp, doc="Milliseconds: when it was made.")

    def composed_path(self) -> list[EventTarget]:
        """#dom-event-composedpath: the targets of its path while it is dispatched (here
        its current target alone), else empty."""
        return [self._current_target] if self._current_target is not None else []

    def stop_propagation(self) -> None:
        """#dom-event-stoppropagation: set the stop propagation flag."""
        self._stop_propagation = True

    @property
    def cancel_bubble(self) -> bool:
        """Legacy: true if the stop propagation flag is set; setting it true sets it."""
        return self._stop_propagation

    @cancel_bubble.setter
    def cancel_bubble(self, value: bool) -> None:
        if value:
            self._stop_propagation = True

    def stop_immediate_propagation(self) -> None:
        """#dom-event-stopimmediatepropagation: set the stop propagation and the stop
        immediate propagation flags."""
        self._stop_propagation = True
        self._stop_immediate_propagation = True

    def prevent_default(self) -> None:
        """#dom-event-preventdefault: set the canceled flag (DOM #set-the-canceled-flag)."""
        self._set_the_canceled_flag()

    def _set_the_canceled_flag(self) -> None:
        # If event's cancelable is true and its in passive listener flag is unset, set its
        # canceled flag.
        if self._cancelable and not self._in_passive_listener:
            self._canceled = True

    @property
    def return_value(self) -> bool:
        """Legacy: false if the canceled flag is set; setting it false sets the flag."""
        return not self._canceled

    @return_value.setter
    def return_value(self, value: bool) -> None:
        if not value:
            self._set_the_canceled_flag()

    @property
    def default_prevented(self) -> bool:
        """#dom-event-defaultprevented: true if the canceled flag is set."""
        return self._canceled

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._type!r}>"


def create_an_event(event: E) -> E:
    """DOM #concept-event-create, for an event the user agent makes (to fire or dispatch
    it): *event* as its interface's constructor made it, initialized as the user agent's
    own: "Initialize event's isTrusted attribute to true"."""
    event._is_trusted = True
    return event


@attrs.define(eq=False)
class EventListener:
    """An event listener (DOM #concept-event-listener)."""

    type: str
    callback: Listener
    capture: bool = False
    passive: bool = False
    once: bool = False
    removed: bool = False


@attrs.define(eq=False)
class EventHandlerState:
    """An event handler (HTML #event-handlers): its value and its listener."""

    value: Listener | None = None
    listener: EventListener | None = None


class EventTarget:
    """DOM's EventTarget (#interface-eventtarget): an event listener list, and (HTML) an
    event handler map for the ``on...`` attributes its class declares with
    :class:`EventHandler`."""

    def __init__(self) -> None:
        self._event_listener_list: list[EventListener] = []
        self._event_handler_map: dict[str, EventHandlerState] = {}

    def add_event_listener(
        self,
        type: str,
        callback: Listener | None,
        *,
        capture: bool = False,
        once: bool = False,
        passive: bool = False,
    ) -> None:
        """#dom-eventtarget-addeventlistener (the options as keywords)."""
        dom_string(type, "addEventListener(): type")
        if callback is not None and not callable(callback):
            raise TypeError(f"addEventListener(): callback must be callable, not {callback!r}")
        # 1-2. (flatten more) If listener's callback is null, then return.
        if callback is None:
            return
        # 3. Add an event listener with this and an event listener whose type is type,
        # callback is callback, capture, passive and once are the options'.
        self._add_an_event_listener(EventListener(type, callback, capture, passive, once))

    def _add_an_event_listener(self, listener: EventListener) -> None:
        """DOM #add-an-event-listener."""
        # If eventTarget's event listener list does not contain an event listener whose
        # type is listener's type, callback is listener's callback, and capture is
        # listener's capture, then append listener to eventTarget's event listener list.
        for existing in self._event_listener_list:
            if (existing.type, existing.callback, existing.capture) == (
                listener.type,
                listener.callback,
                listener.capture,
            ):
                return
        self._event_listener_list.append(listener)

    def remove_event_listener(
        self, type: str, callback: Listener | None, *, capture: bool = False
    ) -> None:
        """#dom-eventtarget-removeeventlistener."""
        for listener in self._event_listener_list:
            if (listener.type, listener.callback, listener.capture) == (type, callback, capture):
                self._remove_an_event_listener(listener)
                return

    def _remove_an_event_listener(self, listener: EventListener) -> None:
        """DOM #remove-an-event-listener: set listener's removed to true and remove it."""
        listener.removed = True
        self._event_listener_list.remove(listener)

    def listeners(self, type: str) -> list[Listener]:
        """The callbacks of this target's listeners for *type*, in order (a copy)."""
        return [each.callback for each in self._event_listener_list if each.type == type]

    def has_listeners(self, type: str) -> bool:
        """Whether a dispatch of a *type* event would call anything."""
        return any(each.type == type for each in self._event_listener_list)

    def dispatch_event(self, event: Event) -> bool:
        """#dom-eventtarget-dispatchevent: an author dispatching *event*."""
        # 1. If event's dispatch flag is set, or if its initialized flag is not set, then
        # throw an "InvalidStateError" DOMException.
        if event.dispatching or not event._initialized:
            raise InvalidStateError(f"dispatchEvent(): {event!r} is being dispatched already")
        # 2. Initialize event's isTrusted attribute to false.
        event._is_trusted = False
        # 3. Return the result of dispatching event to this.
        return dispatch(event, self)

    def call_listener(self, callback: Listener, event: Event) -> None:
        """Call a listener's callback with *event* (Web IDL "call a user object's
        operation"): here, at once.  A page's objects call it on their realm's event loop
        instead, which reports what it raises (bgfetch.infra EventLoop.call_listener)."""
        callback(event)

    # -- HTML's event handlers ----------------------------------------------------------------

    def _event_handler(self, name: str) -> EventHandlerState:
        return self._event_handler_map.setdefault(name, EventHandlerState())

    def _activate_an_event_handler(self, name: str, type: str) -> None:
        """HTML #activate-an-event-handler."""
        # 1. Let eventHandler be eventTarget's event handler map[name].
        event_handler = self._event_handler(name)
        # 2. If eventHandler's listener is not null, then return.
        if event_handler.listener is not None:
            return

        # 3. Let callback be the result of creating a Web IDL EventListener instance
        # representing a reference to a function of one argument that executes the steps
        # of the event handler processing algorithm, given eventTarget, name, and its
        # argument.
        def callback(event: Event) -> Any:
            return self._event_handler_processing(name, event)

        # 4. Let listener be a new event listener whose type is the event handler event
        # type corresponding to eventHandler and callback is callback.
        listener = EventListener(type, callback)
        # 5. Add an event listener with eventTarget and listener.
        self._add_an_event_listener(listener)
        # 6. Set eventHandler's listener to listener.
        event_handler.listener = listener

    def _deactivate_an_event_handler(self, name: str) -> None:
        """HTML #deactivate-an-event-handler."""
        # 1-2. Let eventHandler be eventTarget's event handler map[name]; set its value to
        # null.
        event_handler = self._event_handler(name)
        event_handler.value = None
        # 3. Let listener be eventHandler's listener.  4. If listener is not null, then
        # remove an event listener with eventTarget and listener.  5. Set eventHandler's
        # listener to null.
        if event_handler.listener is not None:
            self._remove_an_event_listener(event_handler.listener)
        event_handler.listener = None

    def _event_handler_processing(self, name: str, event: Event) -> Any:
        """HTML #the-event-handler-processing-algorithm (not an error or beforeunload
        event).  Returns what the handler returned, so that a coroutine is awaited."""
        # 1-2. Let callback be the result of getting the current value of the event handler
        # given eventTarget and name; if callback is null, then return.
        callback = self._event_handler(name).value
        if callback is None:
            return None
        # 4. Let return value be the result of invoking callback with event.
        return_value = callback(event)
        # 5. Process return value: if return value is false, then set event's canceled flag.
        if return_value is False:
            event._canceled = True
        return return_value


class EventHandler:
    """An event handler IDL attribute (HTML #event-handler-idl-attributes), declared on an
    EventTarget class: ``onprogress = EventHandler("progress")``.  Setting it to a callable
    the first time adds its listener where the listeners then end; setting it again keeps
    that place; setting it to None removes the listener (a later value goes last)."""

    def __init__(self, type: str) -> None:
        self.type = type
        self.name = "on" + type

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, target: None, owner: type) -> EventHandler: ...
    @overload
    def __get__(self, target: EventTarget, owner: type) -> Listener | None: ...
    def __get__(self, target: EventTarget | None, owner: type) -> EventHandler | Listener | None:
        # The getter: the current value of the event handler.
        if target is None:
            return self
        return target._event_handler(self.name).value

    def __set__(self, target: EventTarget, value: Listener | None) -> None:
        # The setter: if the given value is null, deactivate the event handler; otherwise
        # set its value to the given value, and activate it.
        if value is None:
            target._deactivate_an_event_handler(self.name)
            return
        if not callable(value):
            raise TypeError(f"{self.name} must be callable or None, not {value!r}")
        target._event_handler(self.name).value = value
        target._activate_an_event_handler(self.name, self.type)


def dispatch(event: Event, target: EventTarget) -> bool:
    """DOM #concept-event-dispatch, for a target with no parent (no tree, no shadow roots,
    no activation behaviour): returns false if the event was canceled."""
    # 1. Set event's dispatch flag.
    event.dispatching = True
    # 4. Set event's relatedTarget to the retargeted relatedTarget (none here).  5. Append
    # to an event path with event, target, ...: the path is target alone (its parent is
    # null).
    event._path = [target]
    # 5.14. For each struct in event's path, in reverse order: at target, set eventPhase to
    # AT_TARGET and invoke with struct, event, "capturing".
    _invoke(target, event, "capturing")
    # 5.15. For each struct in event's path: at target, set eventPhase to AT_TARGET and
    # invoke with struct, event, "bubbling".
    _invoke(target, event, "bubbling")
    # 6. Set event's eventPhase to NONE.  7. Set event's currentTarget to null.  8. Set
    # event's path to the empty list.  9. Unset the dispatch flag, the stop propagation
    # flag, and the stop immediate propagation flag.
    event._event_phase = Event.NONE
    event._current_target = None
    event._path = []
    event.dispatching = False
    event._stop_propagation = False
    event._stop_immediate_propagation = False
    # 12. Return false if event's canceled flag is set; otherwise true.
    return not event._canceled


def _invoke(target: EventTarget, event: Event, phase: str) -> None:
    """DOM #concept-event-listener-invoke, at the target."""
    # 1. Set event's target to the shadow-adjusted target (the target).
    event._target = target
    event._event_phase = Event.AT_TARGET
    # 3. If event's stop propagation flag is set, then return.
    if event._stop_propagation:
        return
    # 4. Initialize event's currentTarget attribute to struct's invocation target.
    event._current_target = target
    # 5. Let listeners be a clone of event's currentTarget's event listener list (so that
    # listeners added during the dispatch are not run; those removed are skipped).
    listeners = list(target._event_listener_list)
    # 6. Let found be the result of running inner invoke with event, listeners, phase.
    _inner_invoke(target, event, listeners, phase)


def _inner_invoke(
    target: EventTarget, event: Event, listeners: list[EventListener], phase: str
) -> bool:
    """DOM #concept-event-listener-inner-invoke."""
    # 1. Let found be false.
    found = False
    # 2. For each listener of listeners, whose removed is false:
    for listener in listeners:
        if listener.removed:
            continue
        # 2.1. If event's type attribute value is not listener's type, then continue.
        if event._type != listener.type:
            continue
        # 2.2. Set found to true.
        found = True
        # 2.3. If phase is "capturing" and listener's capture is false, then continue.
        # 2.4. If phase is "bubbling" and listener's capture is true, then continue.
        if (phase == "capturing") != listener.capture:
            continue
        # 2.5. If listener's once is true, then remove an event listener given event's
        # currentTarget attribute value and listener.
        if listener.once:
            target._remove_an_event_listener(listener)
        # 2.8. If listener's passive is true, then set event's in passive listener flag.
        if listener.passive:
            event._in_passive_listener = True
        # 2.10. Call a user object's operation with listener's callback, "handleEvent",
        # « event », and event's currentTarget attribute value (an exception is reported).
        target.call_listener(listener.callback, event)
        # 2.12. Unset event's in passive listener flag.
        event._in_passive_listener = False
        # 2.14. If event's stop immediate propagation flag is set, then break.
        if event._stop_immediate_propagation:
            break
    # 3. Return found.
    return found


def fire_an_event(type: str, target: EventTarget) -> bool:
    """DOM #concept-event-fire, with Event: create an event (trusted), initialize its type,
    and dispatch it to *target*."""
    return dispatch(create_an_event(Event(type)), target)
