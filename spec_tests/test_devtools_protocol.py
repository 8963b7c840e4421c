"""The BackgroundService domain without I/O (bgfetch.devtools.protocol, .cdp): the wire
form, CDP's errors, and Chromium's protocol behaviour (chromium-observed.md: startObserving
first says whether it records, then replays the log; clearEvents empties it)."""

from __future__ import annotations

import json

import pytest

from bgfetch.devtools.cdp import Browser
from bgfetch.devtools.protocol import (
    BackgroundServiceEvent,
    BackgroundServiceEventReceived,
    ClearEvents,
    EventMetadata,
    ProtocolError,
    RecordingStateChanged,
    ServiceName,
    SetRecording,
    StartObserving,
    parse_command,
    parse_event,
)
from bgfetch.devtools.recorder import SERVICE

WIRE = {
    "timestamp": 1700000000.25,
    "origin": "https://example.test/",
    "serviceWorkerRegistrationId": "0",
    "service": "backgroundFetch",
    "eventName": "Background Fetch registered",
    "instanceId": "ep",
    "eventMetadata": [
        {"key": "Start Paused", "value": "No"},
        {"key": "Total Requests", "value": "2"},
    ],
    "storageKey": "https://example.test/",
}


def test_an_event_round_trips_in_camel_case():
    event = BackgroundServiceEvent.from_json(WIRE)
    assert event.service_worker_registration_id == "0"
    assert event.event_metadata[1] == EventMetadata("Total Requests", "2")
    assert event.metadata() == {"Start Paused": "No", "Total Requests": "2"}
    assert event.to_json() == WIRE
    received = BackgroundServiceEventReceived(event).to_json()
    assert received == {
        "method": "BackgroundService.backgroundServiceEventReceived",
        "params": {"backgroundServiceEvent": WIRE},
    }
    assert parse_event(json.loads(json.dumps(received))) == BackgroundServiceEventReceived(event)
    changed = RecordingStateChanged(True, ServiceName.BACKGROUND_FETCH)
    assert changed.to_json()["params"] == {"isRecording": True, "service": "backgroundFetch"}
    assert parse_event(changed.to_json()) == changed


def test_commands_parse_and_serialize():
    assert [s.value for s in ServiceName] == [
        "backgroundFetch",
        "backgroundSync",
        "pushMessaging",
        "notifications",
        "paymentHandler",
        "periodicBackgroundSync",
    ]
    command = parse_command(
        "BackgroundService.setRecording", {"shouldRecord": True, "service": "backgroundFetch"}
    )
    assert command == SetRecording(True, ServiceName.BACKGROUND_FETCH)
    assert command.to_json() == {
        "method": "BackgroundService.setRecording",
        "params": {"shouldRecord": True, "service": "backgroundFetch"},
    }
    for cls in (StartObserving, ClearEvents):
        made = cls(ServiceName.PUSH_MESSAGING)
        assert parse_command(made.METHOD, made.to_json()["params"]) == made


@pytest.mark.parametrize(
    ("method", "params", "error"),
    [
        (
            "BackgroundService.startObserving",
            {"service": "carrierPigeons"},
            {"code": -32602, "message": "Invalid service name"},
        ),
        (
            "BackgroundService.startObserving",
            {},
            {
                "code": -32602,
                "message": "Invalid parameters",
                "data": "Failed to deserialize params.service - BINDINGS: mandatory field missing",
            },
        ),
        (
            "BackgroundService.setRecording",
            {"shouldRecord": 1, "service": "backgroundFetch"},
            {
                "code": -32602,
                "message": "Invalid parameters",
                "data": "Failed to deserialize params.shouldRecord - BINDINGS: boolean value "
                "expected",
            },
        ),
        (
            "BackgroundService.enable",
            {},
            {"code": -32601, "message": "'BackgroundService.enable' wasn't found"},
        ),
    ],
)
def test_bad_commands_get_cdp_errors(method, params, error):
    with pytest.raises(ProtocolError) as raised:
        parse_command(method, params)
    assert raised.value.to_json() == error


def test_a_bad_event_is_invalid_params():
    with pytest.raises(ProtocolError) as raised:
        BackgroundServiceEvent.from_json({**WIRE, "timestamp": "soon"})
    assert raised.value.code == -32602


class Client:
    """One CDP connection to *user_agent*'s page, as data."""

    def __init__(self, browser: Browser, path: str | None = None) -> None:
        self.received: list[dict] = []
        if path is None:
            path = f"/devtools/page/{browser.page_id(browser.windows()[0])}"
        connection = browser.connect(path, lambda text: self.received.append(json.loads(text)))
        assert connection is not None
        self.connection = connection
        self.next_id = 0

    def send(self, method: str, params: dict | None = None, **extra) -> list[dict]:
        """Send a command; what came back, up to and including its response."""
        self.next_id += 1
        self.received.clear()
        self.connection.receive(json.dumps({"id": self.next_id, "method": method,
                                            "params": params or {}, **extra}))
        assert self.received[-1]["id"] == self.next_id
        return list(self.received)


FETCH = {"service": "backgroundFetch"}


async def test_start_observing_says_if_it_records_then_replays_then_answers(user_agent):
    await user_agent.open_window("https://example.test/")
    browser = Browser(user_agent)
    user_agent.devtools.set_recording(True)
    user_agent.devtools.recorder.context.log(
        service=SERVICE,
        scope="https://example.test/",
        origin="https://example.test",
        event_name="Background Fetch started",
        instance_id="ep",
        metadata={},
    )
    client = Client(browser)
    replies = client.send("BackgroundService.startObserving", FETCH)
    assert [m.get("method", "response") for m in replies] == [
        "BackgroundService.recordingStateChanged",
        "BackgroundService.backgroundServiceEventReceived",
        "response",
    ]
    assert replies[0]["params"] == {"isRecording": True, "service": "backgroundFetch"}
    assert replies[1]["params"]["backgroundServiceEvent"]["eventName"] == "Background Fetch started"
    assert replies[2] == {"id": 1, "result": {}}
    # Observing again changes nothing.
    assert client.send("BackgroundService.startObserving", FETCH) == [{"id": 2, "result": {}}]

    other = Client(browser)
    other.send("BackgroundService.startObserving", FETCH)
    replies = client.send("BackgroundService.setRecording", {"shouldRecord": False, **FETCH})
    assert replies[0]["params"] == {"isRecording": False, "service": "backgroundFetch"}
    assert other.received[-1]["params"] == {"isRecording": False, "service": "backgroundFetch"}

    assert client.send("BackgroundService.clearEvents", FETCH) == [{"id": 4, "result": {}}]
    client.send("BackgroundService.stopObserving", FETCH)
    replies = client.send("BackgroundService.startObserving", FETCH)
    assert [m.get("method", "response") for m in replies] == [
        "BackgroundService.recordingStateChanged",
        "response",
    ]  # no replay after clearEvents
    client.connection.close()
    other.connection.close()
    assert user_agent.devtools.context._observers == []


async def test_the_target_domain_attaches_flat_sessions(user_agent):
    window = await user_agent.open_window("https://example.test/page")
    browser = Browser(user_agent)
    client = Client(browser, f"/devtools/browser/{browser.id}")
    replies = client.send("Target.setDiscoverTargets", {"discover": True})
    assert replies[0]["method"] == "Target.targetCreated"
    info = replies[0]["params"]["targetInfo"]
    assert info["targetId"] == browser.page_id(window)
    assert (info["type"], info["url"], info["attached"]) == ("page", window.url.href, False)

    replies = client.send("Target.attachToTarget", {"targetId": info["targetId"], "flatten": True})
    attached, response = replies
    session = response["result"]["sessionId"]
    assert attached["method"] == "Target.attachedToTarget"
    assert attached["params"]["sessionId"] == session
    assert attached["params"]["targetInfo"]["attached"] is True

    replies = client.send("BackgroundService.startObserving", FETCH, sessionId=session)
    assert [m.get("sessionId") for m in replies] == [session, session]
    # The browser session has no BackgroundService domain.
    assert client.send("BackgroundService.startObserving", FETCH)[-1]["error"]["code"] == -32601
    assert client.send("Target.getTargets")[-1]["result"]["targetInfos"][0]["attached"] is True

    client.send("Target.detachFromTarget", {"sessionId": session})
    error = client.send("BackgroundService.clearEvents", FETCH, sessionId=session)[-1]["error"]
    assert error["code"] == -32001


async def test_anything_else_is_method_not_found_and_the_connection_goes_on(user_agent):
    await user_agent.open_window("https://example.test/")
    browser = Browser(user_agent)
    client = Client(browser)
    assert client.send("Page.navigate", {"url": "https://example.test/"}) == [
        {"id": 1, "error": {"code": -32601, "message": "'Page.navigate' wasn't found"}}
    ]
    client.connection.receive("{not json")
    assert client.received[-1]["error"]["code"] == -32700
    client.connection.receive(json.dumps({"method": "Browser.getVersion"}))
    assert client.received[-1]["error"]["code"] == -32600
    version = client.send("Browser.getVersion")[-1]["result"]
    assert version["protocolVersion"] == "1.3"
    assert browser.connect("/devtools/page/NOSUCHPAGE", lambda text: None) is None
