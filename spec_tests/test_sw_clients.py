"""Clients, WindowClient and messages (Service Workers #clients-interface,
#client-interface, #service-worker-postmessage-options, #client-postmessage-options),
with HTML's structured clone (bgfetch/sw/clone.py)."""

from __future__ import annotations

import datetime

import pytest
import trio

import bgfetch
from bgfetch import DataCloneError, InvalidAccessError
from bgfetch.sw.clone import structured_clone
from bgfetch.testing import open_window_with_worker

ORIGIN = "https://example.test"
EDITIONS = ["current", "2017-10-12"]
SUCCESS = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}


# -- structured clone ------------------------------------------------------------------


def test_structured_clone_copies_plain_data_deeply_keeping_shared_parts_shared():
    shared = [1, 2]
    value = {
        "n": None,
        "b": True,
        "i": 2**70,
        "f": 1.5,
        "s": "é",
        "bytes": b"\x00\xff",
        "buffer": bytearray(b"ab"),
        "list": [shared, shared],
        "tuple": (1, "two"),
        "set": {1, 2},
        "frozen": frozenset({"x"}),
        (1, 2): "a Map key",
        "when": datetime.datetime(2026, 12, 1, 12, 0),
    }
    value["self"] = value
    clone = structured_clone(value)
    assert clone == {k: v for k, v in clone.items()}  # a dict
    assert clone is not value and clone["self"] is clone
    assert clone["list"][0] is clone["list"][1] and clone["list"][0] is not shared
    assert clone["buffer"] == bytearray(b"ab") and clone["buffer"] is not value["buffer"]
    assert clone[(1, 2)] == "a Map key"
    assert {k: clone[k] for k in ("n", "b", "i", "f", "s", "tuple", "set", "when")} == {
        k: value[k] for k in ("n", "b", "i", "f", "s", "tuple", "set", "when")
    }


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (lambda: None, "function"),
        ({"cb": print}, "function"),
        ([object()], "object object"),
        ({"request": bgfetch.Request("https://example.test/")}, "Request"),
        (type("Point", (tuple,), {})((1, 2)), "subclass of tuple"),
    ],
)
def test_what_html_cannot_serialize_is_a_data_clone_error_naming_it(value, named):
    with pytest.raises(DataCloneError, match=named) as error:
        structured_clone(value)
    assert error.value.name == "DataCloneError"


def test_a_cycle_through_a_tuple_is_a_data_clone_error():
    inner: list[object] = []
    value = (inner,)
    inner.append(value)
    with pytest.raises(DataCloneError, match="tuple"):
        structured_clone(value)


# -- messages, both ways ---------------------------------------------------------------


async def test_page_to_worker_and_back(user_agent, origin_server):
    worker = bgfetch.ServiceWorker()
    heard = []

    @worker.on("message")
    async def on_message(event):
        heard.append(event)
        event.source.post_message({"echo": event.data})

    window, registration = await open_window_with_worker(user_agent, worker)
    replies = []
    window.navigator.service_worker.add_event_listener("message", replies.append)
    data = {"ask": [1, 2]}
    registration.active.post_message(data)
    data["ask"].append(3)  # cloned at the call: the worker never sees this
    while not replies:
        await trio.sleep(0.1)
    (event,) = heard
    assert event.data == {"ask": [1, 2]} and event.origin == ORIGIN
    assert event.source.type == "window" and event.source.id == window.id
    assert event.source.url == f"{ORIGIN}/"
    (reply,) = replies
    assert reply.data == {"echo": {"ask": [1, 2]}}
    assert reply.origin == ORIGIN and reply.is_trusted
    assert reply.source is registration.active  # the worker's object in the page's realm


async def test_post_message_rejects_what_cannot_be_cloned_at_the_call(user_agent, origin_server):
    window, registration = await open_window_with_worker(user_agent, bgfetch.ServiceWorker())
    with pytest.raises(DataCloneError):
        registration.active.post_message({"f": lambda: 1})


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_the_worker_tells_every_window_through_clients(
    user_agent, origin_server, bgfetch_edition
):
    origin_server.add("/ep.mp3", b"ep")
    worker = bgfetch.ServiceWorker()

    @worker.on(SUCCESS[bgfetch_edition])
    async def on_success(event):
        for client in await worker.clients.match_all(include_uncontrolled=True):
            client.post_message({"downloaded": "ep"})

    first, registration = await open_window_with_worker(user_agent, worker)
    second = await user_agent.open_window(f"{ORIGIN}/player")  # controlled: opened after
    elsewhere = await user_agent.open_window("https://other.test/")
    got: dict[str, list[object]] = {"first": [], "second": [], "elsewhere": []}
    first.navigator.service_worker.add_event_listener("message", got["first"].append)
    second.navigator.service_worker.onmessage = got["second"].append
    elsewhere.navigator.service_worker.add_event_listener("message", got["elsewhere"].append)
    await registration.background_fetch.fetch("ep", "/ep.mp3")
    while not (got["first"] and got["second"]):
        await trio.sleep(1)
    assert [e.data for e in got["first"]] == [{"downloaded": "ep"}]
    assert [e.data for e in got["second"]] == [{"downloaded": "ep"}]
    assert got["elsewhere"] == []


async def test_match_all_lists_controlled_windows_unless_asked_for_all(user_agent, origin_server):
    worker = bgfetch.ServiceWorker()
    window, registration = await open_window_with_worker(user_agent, worker)
    later = await user_agent.open_window(f"{ORIGIN}/later")
    assert window.navigator.service_worker.controller is None
    controller = later.navigator.service_worker.controller
    assert controller is not None and controller.worker is registration.active.worker
    answers = {}

    @worker.on("message")
    async def on_message(event):
        answers["controlled"] = [c.url for c in await worker.clients.match_all()]
        answers["all"] = [c.url for c in await worker.clients.match_all(include_uncontrolled=True)]
        answers["workers"] = await worker.clients.match_all(type="worker")
        answers["get"] = (await worker.clients.get(later.id)).url
        answers["none"] = await worker.clients.get("no such id")
        with pytest.raises(TypeError, match="ClientType"):
            await worker.clients.match_all(type="windows")

    registration.active.post_message("go")
    while "none" not in answers:
        await trio.sleep(0.1)
    assert answers["controlled"] == [f"{ORIGIN}/later"]
    assert answers["all"] == [f"{ORIGIN}/", f"{ORIGIN}/later"]
    assert answers["workers"] == []
    assert answers["get"] == f"{ORIGIN}/later"
    assert answers["none"] is None


async def test_claim_takes_control_of_the_windows_in_scope(user_agent, origin_server):
    worker = bgfetch.ServiceWorker()

    @worker.on("activate")
    async def on_activate(event):
        await worker.clients.claim()

    window = await user_agent.open_window(f"{ORIGIN}/")
    changes = []
    window.navigator.service_worker.add_event_listener("controllerchange", changes.append)
    await window.navigator.service_worker.register(worker)
    registration = await window.navigator.service_worker.ready
    while not changes:
        await trio.sleep(0.1)
    assert window.navigator.service_worker.controller is registration.active


async def test_open_window_and_focus_need_a_click(user_agent, origin_server):
    origin_server.add("/ep.mp3", b"ep")
    worker = bgfetch.ServiceWorker()
    outcome = {}

    @worker.on("backgroundfetchsuccess")
    async def on_success(event):
        try:
            await worker.clients.open_window("/player")
        except InvalidAccessError as error:
            outcome["success"] = error

    @worker.on("backgroundfetchclick")
    async def on_click(event):
        opened = await worker.clients.open_window("/player?ep=1")
        outcome["opened"] = opened
        (first, *_) = await worker.clients.match_all(include_uncontrolled=True)
        outcome["first"] = first
        outcome["focused"] = await (
            await worker.clients.get(window.id)
        ).focus()  # a click lets the worker focus a window too
        outcome["cross"] = await worker.clients.open_window("https://other.test/")

    window, registration = await open_window_with_worker(user_agent, worker)
    await registration.background_fetch.fetch("ep", "/ep.mp3")
    while "success" not in outcome:
        await trio.sleep(1)
    assert outcome["success"].name == "InvalidAccessError"
    user_agent.ui.find("ep").click()
    while "cross" not in outcome:
        await trio.sleep(1)
    opened = outcome["opened"]
    assert opened.url == f"{ORIGIN}/player?ep=1" and opened.focused
    assert opened.type == "window" and opened.frame_type == "top-level"
    assert opened.visibility_state == "visible"
    assert outcome["first"].url == f"{ORIGIN}/player?ep=1"  # most recently focused first
    assert outcome["focused"].focused and outcome["focused"].id == window.id
    assert outcome["cross"] is None  # opened (and focused), but not of the worker's origin
    windows = [w for w in user_agent.environments if isinstance(w, bgfetch.sw.Window)]
    assert windows[-1].url.href == "https://other.test/" and windows[-1].focused
    assert not window.focused


async def test_open_window_checks_its_url_first(user_agent, origin_server):
    worker = bgfetch.ServiceWorker()
    outcome = {}

    @worker.on("message")
    async def on_message(event):
        for url in ("about:blank", "https://exa mple.test/"):
            try:
                await worker.clients.open_window(url)
            except TypeError as error:
                outcome[url] = error

    window, registration = await open_window_with_worker(user_agent, worker)
    registration.active.post_message(None)
    while len(outcome) < 2:
        await trio.sleep(0.1)
    assert "about:blank" in str(outcome["about:blank"])
