"""bgfetch.dom: the DOM's Event and EventTarget, HTML's event handlers, and the events
both editions fire being DOM events (issue 10: progress events, constructed events,
listener order)."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.dom import Event, EventHandler, EventTarget, create_an_event, dispatch
from bgfetch.infra import Promise
from bgfetch.sw.events import ExtendableEvent
from bgfetch.testing import WorkerRecorder, open_window_with_worker

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
ORIGIN = "https://example.test"


class Target(EventTarget):
    onping = EventHandler("ping")


def recorder(calls: list[str], name: str):
    def listener(event: Event) -> None:
        calls.append(name)

    return listener


# -- EventTarget's listener list ---------------------------------------------------------


def test_listeners_are_added_once_removed_and_listed_in_order():
    target = EventTarget()

    def first(event: object) -> None: ...

    def second(event: object) -> None: ...

    target.add_event_listener("progress", first)
    target.add_event_listener("progress", second)
    target.add_event_listener("progress", first)  # already there: not added again
    target.add_event_listener("progress", first, capture=True)  # another capture: added
    target.add_event_listener("progress", None)  # a null callback: nothing
    assert target.listeners("progress") == [first, second, first]
    assert target.listeners("other") == []

    listed = target.listeners("progress")
    listed.clear()  # a copy: the target's list is untouched
    assert target.listeners("progress") == [first, second, first]

    target.remove_event_listener("progress", first, capture=True)
    target.remove_event_listener("progress", first)
    target.remove_event_listener("progress", first)  # not there: no error
    target.remove_event_listener("nothing", first)
    assert target.listeners("progress") == [second]


def test_bad_arguments_are_type_errors():
    target = Target()
    with pytest.raises(TypeError, match="callback must be callable"):
        target.add_event_listener("ping", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="type must be a string"):
        target.add_event_listener(5, print)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="onping must be callable or None"):
        target.onping = "alert(1)"  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"Event\(\): type must be a string"):
        Event(None)  # type: ignore[arg-type]


# -- Event -------------------------------------------------------------------------------


async def test_a_constructed_event_is_untrusted_and_initialized_from_its_init(virtual_network):
    await trio.sleep(2.5)  # (MockClock: 2500 ms since the clock's start)
    event = Event("ping", cancelable=True)
    assert event.time_stamp == 2500.0
    assert (event.type, event.bubbles, event.cancelable, event.composed) == (
        "ping",
        False,
        True,
        False,
    )
    assert not event.is_trusted
    assert (event.target, event.current_target, event.event_phase) == (None, None, Event.NONE)
    assert event.composed_path() == [] and not event.default_prevented
    assert create_an_event(event) is event and event.is_trusted  # the user agent's own
    with pytest.raises(AttributeError):
        event.is_trusted = False  # type: ignore[misc]


def test_dispatch_sets_target_current_target_and_phase_while_listeners_run():
    target = Target()
    seen: list[tuple[object, object, int, bool, list[object]]] = []
    target.add_event_listener(
        "ping",
        lambda event: seen.append(
            (
                event.target,
                event.current_target,
                event.event_phase,
                event.dispatching,
                event.composed_path(),
            )
        ),
    )
    event = create_an_event(Event("ping"))
    assert dispatch(event, target) is True
    assert seen == [(target, target, Event.AT_TARGET, True, [target])]
    # After the dispatch: the target stays, the rest is reset.
    assert (event.target, event.current_target, event.event_phase) == (target, None, Event.NONE)
    assert not event.dispatching and event.is_trusted


def test_prevent_default_cancels_only_a_cancelable_event_outside_passive_listeners():
    target = Target()
    target.add_event_listener("ping", lambda event: event.prevent_default())
    plain, cancelable = Event("ping"), Event("ping", cancelable=True)
    assert target.dispatch_event(plain) is True and not plain.default_prevented
    assert target.dispatch_event(cancelable) is False and cancelable.default_prevented
    assert not cancelable.return_value

    passive = Target()
    passive.add_event_listener("ping", lambda event: event.prevent_default(), passive=True)
    event = Event("ping", cancelable=True)
    assert passive.dispatch_event(event) is True and not event.default_prevented


def test_stop_immediate_propagation_stops_the_next_listeners_and_stop_propagation_the_next_pass():
    calls: list[str] = []
    target = Target()
    target.add_event_listener("ping", recorder(calls, "a"))
    target.add_event_listener("ping", lambda event: event.stop_immediate_propagation())
    target.add_event_listener("ping", recorder(calls, "never"))
    target.dispatch_event(Event("ping"))
    assert calls == ["a"]

    # At the target, capturing listeners run in a pass of their own, first: stopping
    # propagation there leaves the others (the bubbling pass) out; the same pass goes on.
    calls.clear()
    target = Target()
    target.add_event_listener("ping", recorder(calls, "bubbling"))
    target.add_event_listener("ping", lambda event: event.stop_propagation(), capture=True)
    target.add_event_listener("ping", recorder(calls, "capturing"), capture=True)
    event = Event("ping")
    target.dispatch_event(event)
    assert calls == ["capturing"]
    assert not event.cancel_bubble  # the flags are unset after the dispatch


def test_once_listeners_and_listeners_added_or_removed_during_a_dispatch():
    calls: list[str] = []
    target = Target()
    late = recorder(calls, "late")
    removed = recorder(calls, "removed")

    def first(event: Event) -> None:
        calls.append("first")
        target.add_event_listener("ping", late)  # not in this dispatch's clone
        target.remove_event_listener("ping", removed)  # skipped: its removed is true

    target.add_event_listener("ping", first, once=True)
    target.add_event_listener("ping", removed)
    target.dispatch_event(Event("ping"))
    assert calls == ["first"]
    target.dispatch_event(Event("ping"))
    assert calls == ["first", "late"]


def test_dispatch_event_of_an_event_being_dispatched_is_an_invalid_state_error():
    target = Target()
    errors: list[BaseException] = []

    def again(event: Event) -> None:
        try:
            target.dispatch_event(event)
        except bgfetch.InvalidStateError as error:
            errors.append(error)

    target.add_event_listener("ping", again)
    target.dispatch_event(Event("ping"))
    assert len(errors) == 1


def test_an_author_dispatching_a_trusted_event_makes_it_untrusted():
    target = Target()
    heard: list[bool] = []
    target.add_event_listener("ping", lambda event: heard.append(event.is_trusted))
    event = create_an_event(Event("ping"))
    dispatch(event, target)
    target.dispatch_event(event)
    assert heard == [True, False] and not event.is_trusted


# -- HTML event handlers -----------------------------------------------------------------


def test_an_event_handler_takes_its_place_where_it_was_first_set():
    calls: list[str] = []
    target = Target()
    target.add_event_listener("ping", recorder(calls, "a"))
    target.onping = recorder(calls, "h1")
    target.add_event_listener("ping", recorder(calls, "b"))
    target.dispatch_event(Event("ping"))
    assert calls == ["a", "h1", "b"]

    calls.clear()
    target.onping = recorder(calls, "h2")  # a new value keeps the listener's place
    target.dispatch_event(Event("ping"))
    assert calls == ["a", "h2", "b"]

    calls.clear()
    target.onping = None  # deactivated: its listener is removed...
    assert target.onping is None
    target.dispatch_event(Event("ping"))
    assert calls == ["a", "b"]

    calls.clear()
    handler = recorder(calls, "h3")
    target.onping = handler  # ... and the next value goes last
    assert target.onping is handler
    target.dispatch_event(Event("ping"))
    assert calls == ["a", "b", "h3"]


def test_an_event_handler_returning_false_cancels_the_event():
    target = Target()
    target.onping = lambda event: False
    event = Event("ping", cancelable=True)
    assert target.dispatch_event(event) is False and event.default_prevented


# -- ExtendableEvent ---------------------------------------------------------------------


def test_a_constructed_extendable_event_is_untrusted_and_cannot_be_extended():
    event = ExtendableEvent("install")
    assert isinstance(event, Event) and not event.is_trusted
    with pytest.raises(bgfetch.InvalidStateError, match="untrusted"):
        event.wait_until(Promise())


# -- the events of both editions ---------------------------------------------------------


async def page(user_agent, origin_server):
    origin_server.add("/big.bin", b"x" * 3000, throttle=1000)
    worker = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, worker)
    return worker, registration.background_fetch


@EDITIONS
@pytest.mark.step("#background-fetch-registration-events")
async def test_progress_events_are_trusted_dom_events_at_the_registration(
    user_agent, origin_server
):
    # WPT's listeners read event.target.downloaded.
    worker, manager = await page(user_agent, origin_server)
    bg = await manager.fetch("dom", "/big.bin")
    seen: list[tuple] = []
    events: list[Event] = []

    def on_progress(event: Event) -> None:
        events.append(event)
        seen.append(
            (
                event.type,
                event.target,
                event.current_target,
                event.event_phase,
                event.is_trusted,
                event.bubbles,
                event.cancelable,
                event.default_prevented,
            )
        )
        assert event.time_stamp == pytest.approx(trio.current_time() * 1000, abs=0.1)
        assert event.target.downloaded == bg.downloaded

    bg.add_event_listener("progress", on_progress)
    await worker.settled("dom")
    await trio.sleep(1)
    assert len(seen) >= 3
    assert set(seen) == {("progress", bg, bg, Event.AT_TARGET, True, False, False, False)}
    stamps = [event.time_stamp for event in events]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]
    assert all(event.current_target is None and event.target is bg for event in events)
    assert user_agent.reported_errors == []


@EDITIONS
@pytest.mark.step("#background-fetch-registration-events")
async def test_onprogress_runs_in_the_order_it_was_set_among_the_listeners(
    user_agent, origin_server
):
    worker, manager = await page(user_agent, origin_server)
    bg = await manager.fetch("order", "/big.bin")
    calls: list[str] = []
    bg.add_event_listener("progress", recorder(calls, "first"))
    bg.onprogress = recorder(calls, "onprogress")
    bg.add_event_listener("progress", recorder(calls, "last"))
    await worker.settled("order")
    await trio.sleep(1)
    assert len(calls) >= 3 and calls == ["first", "onprogress", "last"] * (len(calls) // 3)


@EDITIONS
@pytest.mark.step("#background-fetch-registration-events")
async def test_a_page_dispatching_its_own_progress_event_is_untrusted(user_agent, origin_server):
    worker, manager = await page(user_agent, origin_server)
    bg = await manager.fetch("forged", "/big.bin")
    heard: list[tuple[bool, object]] = []
    bg.add_event_listener("progress", lambda event: heard.append((event.is_trusted, event.target)))
    assert bg.dispatch_event(Event("progress")) is True
    assert heard == [(False, bg)]  # at once, as dispatchEvent() is synchronous
    await worker.settled("forged")
    await trio.sleep(1)
    assert heard[1:] and all(trusted for trusted, _ in heard[1:])


@EDITIONS
@pytest.mark.step("#background-fetch-event")
async def test_events_the_user_agent_fires_are_trusted_and_constructed_ones_are_not(
    user_agent, origin_server
):
    worker, manager = await page(user_agent, origin_server)
    bg = await manager.fetch("trust", "/big.bin")
    fired = await worker.settled("trust")
    assert fired.event.is_trusted and isinstance(fired.event, Event)
    events = user_agent.edition
    if user_agent.edition.NAME == "current":
        made = events.BackgroundFetchEvent("backgroundfetchclick", registration=bg)
    else:
        made = events.BackgroundFetchEvent("backgroundfetchclick", {"id": "trust"})
    assert not made.is_trusted and made.event_phase == Event.NONE
    with pytest.raises(bgfetch.InvalidStateError, match="untrusted"):
        made.wait_until(Promise())
