"""A service worker's lifecycle (Service Workers, Appendix A): Install and Activate with
wait_until, the installing -> waiting -> active states, an update waiting for the old
worker's clients (or skip_waiting()), Fire Functional Event waiting for "activated",
unregister() and Clear Registration; the global scope's handler attributes."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.testing import open_window_with_worker

ORIGIN = "https://example.test"
EDITIONS = ["current", "2017-10-12"]
SUCCESS = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}


async def states_until(registration, predicate, seen):
    """Note each (installing, waiting, active) state seen until *predicate* holds."""
    while True:
        now = tuple(
            None if w is None else w.state
            for w in (registration.installing, registration.waiting, registration.active)
        )
        if not seen or seen[-1] != now:
            seen.append(now)
        if predicate():
            return
        await trio.sleep(0.5)


async def test_install_and_activate_wait_for_their_extensions(user_agent, origin_server):
    worker = bgfetch.ServiceWorker()
    calls = []

    @worker.on("install")
    def on_install(event):
        calls.append(("install", event.type, event.is_trusted))
        event.wait_until(trio.sleep(10))

    @worker.on("activate")
    async def on_activate(event):
        calls.append(("activate", worker.registration.active.state))
        await trio.sleep(10)

    window = await user_agent.open_window(f"{ORIGIN}/")
    registration = await window.navigator.service_worker.register(worker)
    seen = []
    await states_until(
        registration,
        lambda: registration.active and registration.active.state == "activated",
        seen,
    )
    assert seen[0] == ("installing", None, None)
    assert ("activating" in {s[2] for s in seen}) and seen[-1] == (None, None, "activated")
    assert calls == [("install", "install", True), ("activate", "activating")]
    assert trio.current_time() >= 20


async def test_a_failed_install_makes_the_worker_redundant(user_agent, origin_server):
    worker = bgfetch.ServiceWorker()

    async def fail():
        raise RuntimeError("the caches could not be filled")

    worker.oninstall = lambda event: event.wait_until(fail())
    window = await user_agent.open_window(f"{ORIGIN}/")
    registration = await window.navigator.service_worker.register(worker)
    installing = registration.installing
    await user_agent.registrations_changed.wait_for(lambda: installing.state == "redundant")
    assert registration.installing is None and registration.active is None
    assert await window.navigator.service_worker.get_registration() is None  # 12.3: removed


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_completion_events_wait_until_the_worker_is_activated(
    user_agent, origin_server, bgfetch_edition
):
    origin_server.add("/ep.mp3", b"ep")
    worker = bgfetch.ServiceWorker()
    seen = []

    @worker.on("activate")
    async def on_activate(event):
        await trio.sleep(100)  # long: the fetch settles meanwhile

    @worker.on(SUCCESS[bgfetch_edition])
    def on_success(event):
        seen.append(worker.registration.active.state)

    window = await user_agent.open_window(f"{ORIGIN}/")
    registration = await window.navigator.service_worker.register(worker)
    await user_agent.registrations_changed.wait_for(lambda: registration.active is not None)
    assert registration.active.state == "activating"
    await registration.background_fetch.fetch("ep", "/ep.mp3")  # active worker: allowed
    await trio.sleep(50)
    assert seen == []  # Fire Functional Event step 4: wait for "activated"
    while not seen:
        await trio.sleep(10)
    assert seen == ["activated"]
    assert trio.current_time() >= 100


async def test_an_update_waits_until_no_window_uses_the_old_worker(user_agent, origin_server):
    old, new = bgfetch.ServiceWorker("old"), bgfetch.ServiceWorker("new")
    first, registration = await open_window_with_worker(user_agent, old)
    controlled = await user_agent.open_window(f"{ORIGIN}/player")  # uses the registration
    assert controlled.navigator.service_worker.controller.script is old
    again = await first.navigator.service_worker.register(old)  # the same script: no update
    assert again is registration and registration.installing is None
    await first.navigator.service_worker.register(new)
    await user_agent.registrations_changed.wait_for(lambda: registration.waiting is not None)
    await trio.sleep(60)
    assert registration.waiting.script is new and registration.waiting.state == "installed"
    assert registration.active.script is old
    await controlled.close()  # Handle Service Worker Client Unload: Try Activate
    await user_agent.registrations_changed.wait_for(
        lambda: registration.active.script is new and registration.active.state == "activated"
    )
    assert registration.waiting is None


async def test_skip_waiting_activates_an_update_at_once(user_agent, origin_server):
    old, new = bgfetch.ServiceWorker("old"), bgfetch.ServiceWorker("new")

    @new.on("install")
    def on_install(event):
        event.wait_until(new.skip_waiting())

    first, registration = await open_window_with_worker(user_agent, old)
    controlled = await user_agent.open_window(f"{ORIGIN}/player")
    old_worker = registration.active.worker
    changes = []
    controlled.navigator.service_worker.oncontrollerchange = changes.append
    await first.navigator.service_worker.register(new)
    await user_agent.registrations_changed.wait_for(
        lambda: registration.active.script is new and registration.active.state == "activated"
    )
    assert old_worker.state == "redundant"
    await trio.sleep(1)
    assert len(changes) == 1  # Activate step 8: the window now uses the new worker
    assert controlled.navigator.service_worker.controller.script is new


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_a_fetch_that_settles_after_an_update_fires_at_the_new_worker(
    user_agent, origin_server, bgfetch_edition
):
    origin_server.add("/ep.mp3", b"e" * 100_000, throttle=1000)  # 100 s
    old, new = bgfetch.ServiceWorker("old"), bgfetch.ServiceWorker("new")
    heard = []
    old.add_event_listener(SUCCESS[bgfetch_edition], lambda event: heard.append("old"))
    new.add_event_listener(SUCCESS[bgfetch_edition], lambda event: heard.append("new"))
    new.oninstall = lambda event: event.wait_until(new.skip_waiting())
    window, registration = await open_window_with_worker(user_agent, old)
    await registration.background_fetch.fetch("ep", "/ep.mp3")
    await trio.sleep(10)
    await window.navigator.service_worker.register(new)
    while not heard:
        await trio.sleep(10)
    assert heard == ["new"]


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_unregister_clears_the_registration_once_no_window_uses_it(
    user_agent, origin_server, bgfetch_edition
):
    worker = bgfetch.ServiceWorker()
    first, registration = await open_window_with_worker(user_agent, worker)
    controlled = await user_agent.open_window(f"{ORIGIN}/player")
    active = registration.active
    await user_agent.registrations_changed.wait_for(lambda: active.state == "activated")
    assert await registration.unregister() is True
    assert await registration.unregister() is False  # no registration at the scope any more
    assert await first.navigator.service_worker.get_registration() is None
    assert active.state == "activated"  # Try Clear Registration: a window still uses it
    await controlled.close()
    assert active.state == "redundant" and registration.active is None


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_unregister_clears_the_registrations_background_fetches(
    user_agent, origin_server, bgfetch_edition
):
    origin_server.add("/ep.mp3", b"e" * 100_000, throttle=1000)  # 100 s
    worker = bgfetch.ServiceWorker()
    heard = []
    for name in user_agent.edition.EVENTS:
        worker.add_event_listener(name, lambda event: heard.append(event.type))
    window, registration = await open_window_with_worker(user_agent, worker)
    await registration.background_fetch.fetch("ep", "/ep.mp3")
    await trio.sleep(10)
    requests = len(origin_server.requests)
    assert await registration.unregister() is True  # no window uses it: cleared at once
    assert registration.active is None
    display = user_agent.ui.find("ep")
    while not display.bg_fetch.tasks.done:
        await trio.sleep(10)
    assert heard == []  # aborted without an event: the registration has no worker any more
    assert trio.current_time() < 100 and len(origin_server.requests) == requests
    assert user_agent.store.usage(window.origin) == 0


async def test_event_handler_attributes_take_their_place_in_the_listener_list():
    worker = bgfetch.ServiceWorker()
    order = []
    worker.add_event_listener("message", lambda e: order.append("first listener"))
    worker.onmessage = lambda e: order.append("handler")
    worker.add_event_listener("message", lambda e: order.append("last listener"))
    assert worker.onmessage is not None
    for handler in worker.handlers("message"):
        handler(None)
    assert order == ["first listener", "handler", "last listener"]
    worker.onmessage = lambda e: order.append("handler, changed")
    order.clear()
    for handler in worker.handlers("message"):
        handler(None)
    assert order == ["first listener", "handler, changed", "last listener"]
    worker.onmessage = None
    assert len(worker.handlers("message")) == 2
    with pytest.raises(TypeError, match="onmessage"):
        worker.onmessage = "not a function"


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_the_editions_completion_handler_attribute(
    user_agent, origin_server, bgfetch_edition
):
    origin_server.add("/ep.mp3", b"ep")
    worker = bgfetch.ServiceWorker()
    seen = []
    setattr(worker, f"on{SUCCESS[bgfetch_edition]}", lambda event: seen.append(event.type))
    window, registration = await open_window_with_worker(user_agent, worker)
    await registration.background_fetch.fetch("ep", "/ep.mp3")
    while not seen:
        await trio.sleep(1)
    assert seen == [SUCCESS[bgfetch_edition]]


async def test_the_global_scope_of_another_worker_is_not_this_ones(user_agent, origin_server):
    mine, other = bgfetch.ServiceWorker("mine"), bgfetch.ServiceWorker("other")
    errors = []

    @mine.on("message")
    def on_message(event):
        try:
            other.caches  # noqa: B018
        except RuntimeError as error:
            errors.append(error)

    window, registration = await open_window_with_worker(user_agent, mine)
    registration.active.post_message(None)
    while not errors:
        await trio.sleep(0.1)
    assert "<ServiceWorker other>" in str(errors[0]) and "<ServiceWorker mine>" in str(errors[0])
    with pytest.raises(RuntimeError, match="skip_waiting"):
        mine.skip_waiting()


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_an_other_editions_handler_attribute_is_refused_at_register(
    user_agent, bgfetch_edition
):
    other = {"current": "backgroundfetched", "2017-10-12": "backgroundfetchsuccess"}
    worker = bgfetch.ServiceWorker()
    setattr(worker, f"on{other[bgfetch_edition]}", lambda event: None)
    window = await user_agent.open_window(f"{ORIGIN}/")
    with pytest.raises(ValueError, match=other[bgfetch_edition]):
        await window.navigator.service_worker.register(worker)
    setattr(worker, f"on{other[bgfetch_edition]}", None)  # it listens for nothing then
    assert worker.event_types() == []
    await window.navigator.service_worker.register(worker)


async def test_one_worker_in_two_user_agents_sees_each_realm(virtual_network, origin_server):
    worker = bgfetch.ServiceWorker()
    seen = []

    @worker.on("message")
    async def on_message(event):
        await trio.sleep(1)  # the realm is still this handler's after an await
        seen.append((event.data, worker.registration.environment.user_agent))

    async with (
        bgfetch.open_user_agent(network=virtual_network) as one,
        bgfetch.open_user_agent(network=virtual_network) as two,
    ):
        _, reg_one = await open_window_with_worker(one, worker)
        _, reg_two = await open_window_with_worker(two, worker)
        reg_one.active.post_message("one")
        reg_two.active.post_message("two")
        while len(seen) < 2:
            await trio.sleep(1)
    assert sorted(seen, key=lambda s: s[0]) == [("one", one), ("two", two)]
