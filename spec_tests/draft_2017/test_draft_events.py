"""The events (#background-fetch-event and the interfaces after it), 2017-10-12 edition:
the constructors (TODO in the draft), fetches, updateUI() (TODO: filled from b8ba6f9)."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.editions.draft_2017 import (
    BackgroundFetchClickEvent,
    BackgroundFetchEvent,
    BackgroundFetchSettledEvent,
    BackgroundFetchSettledFetches,
    BackgroundFetchUpdateEvent,
)

from .support import FEATURE, ORIGIN, page


def empty_fetches(realm) -> BackgroundFetchSettledFetches:
    return BackgroundFetchSettledFetches([], realm)


@pytest.mark.step("#dom-backgroundfetchevent-backgroundfetchevent")
async def test_background_fetch_event_constructor_initializes_id(draft_user_agent):
    event = BackgroundFetchEvent("backgroundfetchclick", {"id": "x"})
    assert (event.type, event.id, event.is_trusted) == ("backgroundfetchclick", "x", False)
    with pytest.raises(TypeError, match="required member 'id'"):
        BackgroundFetchEvent("backgroundfetchclick", {})


@pytest.mark.step("#dom-backgroundfetchsettledevent-backgroundfetchsettledevent")
async def test_settled_event_constructor_requires_fetches(draft_user_agent):
    window = await draft_user_agent.open_window(f"{ORIGIN}/")
    fetches = empty_fetches(window)
    event = BackgroundFetchSettledEvent("backgroundfetchabort", {"id": "x", "fetches": fetches})
    assert event.fetches is fetches and event.id == "x"
    assert await event.fetches.values() == []
    with pytest.raises(TypeError, match="required member 'fetches'"):
        BackgroundFetchSettledEvent("backgroundfetchabort", {"id": "x"})
    with pytest.raises(TypeError, match="BackgroundFetchSettledFetches"):
        BackgroundFetchSettledEvent("backgroundfetchabort", {"id": "x", "fetches": []})


@pytest.mark.step("#background-fetch-click-event")
async def test_click_event_constructor_takes_a_background_fetch_state(draft_user_agent):
    for state in ("pending", "succeeded", "failed"):
        assert BackgroundFetchClickEvent("c", {"id": "x", "state": state}).state == state
    with pytest.raises(TypeError, match="BackgroundFetchState"):
        BackgroundFetchClickEvent("c", {"id": "x", "state": "success"})
    with pytest.raises(TypeError, match="required member 'state'"):
        BackgroundFetchClickEvent("c", {"id": "x"})


@pytest.mark.step("#dom-backgroundfetchupdateevent-updateui")
async def test_update_ui_on_a_constructed_event_rejects(draft_user_agent):
    window = await draft_user_agent.open_window(f"{ORIGIN}/")
    event = BackgroundFetchUpdateEvent("x", {"id": "x", "fetches": empty_fetches(window)})
    with pytest.raises(bgfetch.InvalidStateError, match="untrusted"):
        await event.update_ui("title")


class UpdatingWorker:
    """Calls updateUI() in backgroundfetched as each test asks, and keeps what happened."""

    def __init__(self, behaviour) -> None:
        self.worker = bgfetch.ServiceWorker()
        self.outcomes: list[object] = []
        self.done = trio.Event()
        self.worker.add_event_listener("backgroundfetched", self._on)
        self.behaviour = behaviour

    async def _on(self, event) -> None:
        await self.behaviour(event, self.outcomes)
        self.done.set()


async def _outcome(promise) -> object:
    try:
        return await promise
    except Exception as error:
        return error


@pytest.mark.step("#dom-backgroundfetchupdateevent-updateui")
async def test_update_ui_sets_the_title_once(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)

    async def twice(event, outcomes) -> None:
        outcomes.append(await _outcome(event.update_ui("Title1")))
        outcomes.append(await _outcome(event.update_ui("Title2")))

    worker = UpdatingWorker(twice)
    registration = await page(draft_user_agent, worker.worker)
    await registration.background_fetch.fetch("ui", "/feature-name.txt", title="Title0")
    await worker.done.wait()
    assert worker.outcomes[0] is None
    assert isinstance(worker.outcomes[1], bgfetch.InvalidStateError)
    assert draft_user_agent.ui.find("ui").title == "Title1"


@pytest.mark.step("#dom-backgroundfetchupdateevent-updateui")
async def test_update_ui_after_the_event_is_inactive_rejects(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    kept: list[object] = []
    worker = bgfetch.ServiceWorker()
    handled = trio.Event()

    @worker.on("backgroundfetched")
    def keep(event) -> None:  # returns at once, with no waitUntil
        kept.append(event)
        handled.set()

    registration = await page(draft_user_agent, worker)
    await registration.background_fetch.fetch("late-ui", "/feature-name.txt")
    await handled.wait()
    await trio.sleep(1)
    with pytest.raises(bgfetch.InvalidStateError, match="no longer active"):
        await kept[0].update_ui("too late")
