"""The Chromium backend's CDP client (cdp.py) against a fake DevTools endpoint: a
WebSocket over an in-memory stream pair whose server side a test scripts, on trio's
MockClock. No browser needed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
import trio_websocket

from bgfetch.devtools import protocol
from conformance.chromium import cdp

Reply = Callable[[dict[str, Any]], list[dict[str, Any]]]


class FakeEndpoint:
    """The browser's side: answers each command with what *reply* returns for it (its
    messages are sent in order; an empty list sends nothing), records every command."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.commands: list[dict[str, Any]] = []
        self.ws: trio_websocket.WebSocketConnection | None = None

    async def serve(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        try:
            while True:
                command = json.loads(await ws.get_message())
                self.commands.append(command)
                for message in self.reply(command):
                    await ws.send_message(json.dumps(message))
        except trio_websocket.ConnectionClosed:
            pass

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_message(json.dumps(message))


@asynccontextmanager
async def connected(endpoint: FakeEndpoint) -> AsyncIterator[cdp.Connection]:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:

        async def serve() -> None:
            request = await trio_websocket.wrap_server_stream(nursery, server_stream)
            await endpoint.serve(await request.accept())

        nursery.start_soon(serve)
        # (Typed for sockets; any trio Stream does.)
        stream: Any = client_stream
        ws = await trio_websocket.wrap_client_stream(
            nursery, stream, "127.0.0.1", "/devtools/browser/fake"
        )
        async with cdp.open_connection(ws) as connection:
            yield connection
        await ws.aclose()
        nursery.cancel_scope.cancel()


def result(command: dict[str, Any], value: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": command["id"], "result": value}]


async def test_a_command_gets_its_own_reply_whatever_the_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    held: list[dict[str, Any]] = []

    def reply(command: dict[str, Any]) -> list[dict[str, Any]]:
        held.append(command)
        if len(held) < 2:
            return []
        # Both answered at the second command, the second one first.
        return [{"id": c["id"], "result": {"method": c["method"]}} for c in reversed(held)]

    endpoint = FakeEndpoint(reply)
    answers: dict[str, Any] = {}
    async with connected(endpoint) as connection:

        async def run(method: str) -> None:
            answers[method] = await connection.send(method, {"x": 1})

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run, "A.first")
            await trio.sleep(1)
            nursery.start_soon(run, "B.second")
    assert answers == {"A.first": {"method": "A.first"}, "B.second": {"method": "B.second"}}
    assert [(c["method"], c["params"]) for c in endpoint.commands] == [
        ("A.first", {"x": 1}),
        ("B.second", {"x": 1}),
    ]
    assert len({c["id"] for c in endpoint.commands}) == 2


async def test_an_error_reply_is_a_cdp_error_naming_the_command(
    autojump_clock: trio.testing.MockClock,
) -> None:
    endpoint = FakeEndpoint(
        lambda c: [
            {
                "id": c["id"],
                "error": {"code": -32602, "message": "Invalid parameters", "data": "url"},
            }
        ]
    )
    async with connected(endpoint) as connection:
        with pytest.raises(cdp.CDPError) as raised:
            await connection.send("Target.createTarget", {})
    error = raised.value
    assert (error.method, error.code, error.message, error.data) == (
        "Target.createTarget",
        -32602,
        "Invalid parameters",
        "url",
    )
    assert str(error) == "Target.createTarget: Invalid parameters (url)"


async def test_events_go_to_the_subscriptions_of_their_method_and_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    endpoint = FakeEndpoint(lambda c: result(c, {}))
    async with connected(endpoint) as connection:
        everywhere = connection.subscribe("Runtime.bindingCalled")
        session = cdp.Session(connection, "target-1", "session-1")
        mine = session.subscribe("Runtime.bindingCalled", "Page.loadEventFired")
        await endpoint.send(
            {"method": "Runtime.bindingCalled", "params": {"n": 1}, "sessionId": "session-2"}
        )
        await endpoint.send(
            {"method": "Page.loadEventFired", "params": {"n": 2}, "sessionId": "session-1"}
        )
        await endpoint.send(
            {"method": "Runtime.consoleAPICalled", "params": {"n": 3}, "sessionId": "session-1"}
        )
        await endpoint.send(
            {"method": "Runtime.bindingCalled", "params": {"n": 4}, "sessionId": "session-1"}
        )
        first, second = await mine.next(), await mine.next()
        assert [(e.method, e.params["n"], e.session_id) for e in (first, second)] == [
            ("Page.loadEventFired", 2, "session-1"),
            ("Runtime.bindingCalled", 4, "session-1"),
        ]
        assert [(await everywhere.next()).params["n"] for _ in range(2)] == [1, 4]
        connection.unsubscribe(mine)
        await endpoint.send(
            {"method": "Page.loadEventFired", "params": {"n": 5}, "sessionId": "session-1"}
        )
        await connection.send("Runtime.enable")  # the event was read before this reply
        with pytest.raises(cdp.ConnectionLost):
            await mine.next()  # closed when unsubscribed: nothing more comes


async def test_the_browser_going_away_ends_waiting_commands_and_subscriptions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    endpoint = FakeEndpoint(lambda c: [])  # never answers
    async with connected(endpoint) as connection:
        events = connection.subscribe("Target.targetCrashed")

        async def close_soon() -> None:
            await trio.sleep(5)
            assert endpoint.ws is not None
            await endpoint.ws.aclose()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(close_soon)
            with pytest.raises(cdp.ConnectionLost, match="Browser.getVersion"):
                await connection.send("Browser.getVersion")
        with pytest.raises(cdp.ConnectionLost):
            await events.next()
        assert connection.closed
        with pytest.raises(cdp.ConnectionLost, match="closed"):
            await connection.send("Browser.getVersion")


async def test_closing_the_connection_stops_its_reader(
    autojump_clock: trio.testing.MockClock,
) -> None:
    endpoint = FakeEndpoint(lambda c: result(c, {"product": "Chrome/0"}))
    async with connected(endpoint) as connection:
        events = connection.subscribe("Target.targetCrashed")
        assert await connection.send("Browser.getVersion") == {"product": "Chrome/0"}
        assert not connection.closed
    assert connection.closed  # the reader ended (its finally ran), and with it
    with pytest.raises(cdp.ConnectionLost):  # every subscription
        await events.next()


def evaluate_reply(outcome: dict[str, Any]) -> Reply:
    return lambda c: result(c, outcome)


async def test_evaluate_awaits_the_promise_and_returns_its_value(
    autojump_clock: trio.testing.MockClock,
) -> None:
    endpoint = FakeEndpoint(evaluate_reply({"result": {"type": "object", "value": {"a": [1]}}}))
    async with connected(endpoint) as connection:
        session = cdp.Session(connection, "t", "s")
        assert await session.evaluate("f()") == {"a": [1]}
    (command,) = endpoint.commands
    assert command["method"] == "Runtime.evaluate"
    assert command["sessionId"] == "s"
    assert command["params"] == {"expression": "f()", "awaitPromise": True, "returnByValue": True}


@pytest.mark.parametrize(
    ("exception", "name", "message"),
    [
        (
            {
                "type": "object",
                "subtype": "error",
                "className": "TypeError",
                "description": "TypeError: Failed to execute 'fetch' on 'BackgroundFetchManager': "
                "At least one request must be given.\n    at <anonymous>:1:5",
            },
            "TypeError",
            "Failed to execute 'fetch' on 'BackgroundFetchManager': "
            "At least one request must be given.",
        ),
        (
            {
                "type": "object",
                "subtype": "error",
                "className": "DOMException",
                "description": "InvalidStateError: updateUI may only be called once.",
            },
            "InvalidStateError",
            "updateUI may only be called once.",
        ),
        (
            {"type": "object", "subtype": "error", "className": "Error", "description": "oops"},
            "Error",
            "oops",
        ),
        ({"type": "number", "value": 42, "description": "42"}, "thrown", "42"),
    ],
)
async def test_an_exception_is_a_javascript_error_with_its_name(
    autojump_clock: trio.testing.MockClock, exception: dict[str, Any], name: str, message: str
) -> None:
    details = {"exceptionId": 1, "text": "Uncaught", "exception": exception}
    endpoint = FakeEndpoint(
        evaluate_reply({"result": {"type": "object"}, "exceptionDetails": details})
    )
    async with connected(endpoint) as connection:
        with pytest.raises(cdp.JavaScriptError) as raised:
            await cdp.Session(connection, "t", "s").evaluate("f()")
    assert (raised.value.name, raised.value.message) == (name, message)


async def test_open_page_creates_attaches_and_enables_runtime(
    autojump_clock: trio.testing.MockClock,
) -> None:
    answers: dict[str, dict[str, Any]] = {
        "Target.createTarget": {"targetId": "T1"},
        "Target.attachToTarget": {"sessionId": "S1"},
        "Runtime.enable": {},
        "Target.closeTarget": {"success": True},
    }
    endpoint = FakeEndpoint(lambda c: result(c, answers[c["method"]]))
    async with connected(endpoint) as connection:
        session = await cdp.open_page(connection, "about:blank", "CONTEXT")
        await cdp.close_page(session)
    assert (session.target_id, session.session_id) == ("T1", "S1")
    assert [(c["method"], c["params"], c.get("sessionId")) for c in endpoint.commands] == [
        ("Target.createTarget", {"url": "about:blank", "browserContextId": "CONTEXT"}, None),
        ("Target.attachToTarget", {"targetId": "T1", "flatten": True}, None),
        ("Runtime.enable", {}, "S1"),
        ("Target.closeTarget", {"targetId": "T1"}, None),
    ]


async def test_background_service_commands_and_events_in_bgfetchs_types(
    autojump_clock: trio.testing.MockClock,
) -> None:
    endpoint = FakeEndpoint(lambda c: result(c, {}))
    fetch = protocol.ServiceName.BACKGROUND_FETCH
    event = {
        "timestamp": 1796122151.746,
        "origin": "https://web-platform.test/",
        "serviceWorkerRegistrationId": "0",
        "service": "backgroundFetch",
        "eventName": "Background Fetch registered",
        "instanceId": "id0",
        "eventMetadata": [{"key": "Total Requests", "value": "1"}],
        "storageKey": "https://web-platform.test/",
    }
    async with connected(endpoint) as connection:
        session = cdp.Session(connection, "t", "s")
        log = session.subscribe(protocol.BackgroundServiceEventReceived.METHOD)
        await session.background_service(protocol.StartObserving(fetch))
        await session.background_service(protocol.SetRecording(True, fetch))
        await endpoint.send(
            {
                "method": "BackgroundService.backgroundServiceEventReceived",
                "params": {"backgroundServiceEvent": event},
                "sessionId": "s",
            }
        )
        received = cdp.background_service_event(await log.next())
    assert [(c["method"], c["params"]) for c in endpoint.commands] == [
        ("BackgroundService.startObserving", {"service": "backgroundFetch"}),
        ("BackgroundService.setRecording", {"shouldRecord": True, "service": "backgroundFetch"}),
    ]
    assert isinstance(received, protocol.BackgroundServiceEventReceived)
    logged = received.background_service_event
    assert (logged.event_name, logged.instance_id, logged.metadata()) == (
        "Background Fetch registered",
        "id0",
        {"Total Requests": "1"},
    )
