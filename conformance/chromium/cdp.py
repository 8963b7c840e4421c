"""A small typed client of the Chrome DevTools Protocol over trio-websocket.

Only what the Chromium backend uses: the browser connection, flattened page
sessions (``Target.attachToTarget {flatten: true}``), ``Runtime.evaluate`` with
``awaitPromise``, ``Runtime.addBinding`` (the page's messages, pushed), and the
BackgroundService domain, whose types and commands are bgfetch's own
(:mod:`bgfetch.devtools.protocol`, the same wire form its DevTools endpoint serves).

One reader task per connection hands each reply to the command waiting for its
id and each event to the subscriptions that asked for its method; it runs in the
connection's nursery, so closing the connection ends it.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio
import trio_websocket

from bgfetch.devtools import protocol

JSON = dict[str, Any]
MAX_MESSAGE = 256 * 2**20  # a record's body may come back as a string


class CDPError(Exception):
    """A command's error reply ``{"code", "message", "data"?}``, naming the command."""

    def __init__(self, method: str, code: int, message: str, data: str | None = None) -> None:
        super().__init__(f"{method}: {message}" + (f" ({data})" if data else ""))
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class ConnectionLost(Exception):
    """The browser closed the DevTools connection (or crashed) while a command waited."""


class JavaScriptError(Exception):
    """A script's exception, as ``Runtime.evaluate`` reports it: ``name`` is the
    exception's class (``TypeError``, ``InvalidStateError``...), ``message`` its message."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message)
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> JavaScriptError:
        """From ``exceptionDetails``: a thrown Error (or DOMException) has a ``description``
        ``"Name: message\\n    at ..."``; anything else thrown is its own value."""
        exception = details.get("exception") or {}
        description = exception.get("description")
        if exception.get("subtype") == "error" and isinstance(description, str):
            head = description.split("\n    at ", 1)[0]
            name, sep, message = head.partition(": ")
            if sep and name.isidentifier():
                return cls(name, message)
            return cls(exception.get("className", "Error"), head)
        if "value" in exception:
            return cls("thrown", json.dumps(exception["value"]))
        return cls("thrown", str(details.get("text", "an exception")))


@attrs.frozen
class Event:
    """A CDP event: its method, params, and the session it came from (None: the browser)."""

    method: str
    params: JSON
    session_id: str | None


@attrs.define(eq=False)
class Subscription:
    """Events of some methods (and one session, if given), in the order they came."""

    methods: frozenset[str]
    session_id: str | None
    _send: trio.MemorySendChannel[Event]
    receive: trio.MemoryReceiveChannel[Event]

    def wants(self, event: Event) -> bool:
        return event.method in self.methods and (
            self.session_id is None or event.session_id == self.session_id
        )

    async def next(self) -> Event:
        try:
            return await self.receive.receive()
        except trio.EndOfChannel:
            raise ConnectionLost("the DevTools connection closed") from None


class Connection:
    """A DevTools WebSocket connection (the browser's: ``/devtools/browser/<id>``)."""

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, trio.MemorySendChannel[JSON]] = {}
        self._subscriptions: list[Subscription] = []
        self.closed = False

    async def send(
        self, method: str, params: Mapping[str, Any] | None = None, session_id: str | None = None
    ) -> JSON:
        """Run one command; its result, or CDPError."""
        if self.closed:
            raise ConnectionLost(f"{method}: the DevTools connection is closed")
        command_id = next(self._ids)
        message: JSON = {"id": command_id, "method": method, "params": dict(params or {})}
        if session_id is not None:
            message["sessionId"] = session_id
        send, receive = trio.open_memory_channel[JSON](1)
        self._waiting[command_id] = send
        try:
            await self._ws.send_message(json.dumps(message))
            try:
                reply = await receive.receive()
            except trio.EndOfChannel:
                raise ConnectionLost(f"{method}: the DevTools connection closed") from None
        except trio_websocket.ConnectionClosed:
            raise ConnectionLost(f"{method}: the DevTools connection closed") from None
        finally:
            self._waiting.pop(command_id, None)
        if "error" in reply:
            error = reply["error"]
            raise CDPError(
                method, error.get("code", 0), error.get("message", ""), error.get("data")
            )
        result: JSON = reply.get("result", {})
        return result

    def subscribe(self, *methods: str, session_id: str | None = None) -> Subscription:
        """Keep every later event of *methods* (of *session_id*'s session, if given)."""
        send, receive = trio.open_memory_channel[Event](math.inf)
        subscription = Subscription(frozenset(methods), session_id, send, receive)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.remove(subscription)
        subscription._send.close()

    async def _read(self) -> None:
        """Hand out replies and events until the connection closes."""
        try:
            while True:
                message = json.loads(await self._ws.get_message())
                if "id" in message:
                    waiting = self._waiting.pop(message["id"], None)
                    if waiting is not None:
                        waiting.send_nowait(message)
                    continue
                event = Event(
                    message["method"], message.get("params", {}), message.get("sessionId")
                )
                for subscription in self._subscriptions:
                    if subscription.wants(event):
                        subscription._send.send_nowait(event)
        except trio_websocket.ConnectionClosed:
            pass
        finally:
            self.closed = True
            for waiting in self._waiting.values():
                waiting.close()
            for subscription in self._subscriptions:
                subscription._send.close()


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[Connection]:
    """A connection to the DevTools WebSocket at *url*, closed (reader and socket) on exit."""
    async with trio_websocket.open_websocket_url(url, max_message_size=MAX_MESSAGE) as ws:
        async with open_connection(ws) as connection:
            yield connection


@asynccontextmanager
async def open_connection(ws: trio_websocket.WebSocketConnection) -> AsyncIterator[Connection]:
    """A Connection over an open WebSocket, its reader running until exit."""
    connection = Connection(ws)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection._read)
        try:
            yield connection
        finally:
            nursery.cancel_scope.cancel()


# -- the commands used, typed -------------------------------------------------------------


@attrs.frozen
class Session:
    """A page target's flattened session on a browser connection."""

    connection: Connection
    target_id: str
    session_id: str

    async def send(self, method: str, params: Mapping[str, Any] | None = None) -> JSON:
        return await self.connection.send(method, params, self.session_id)

    def subscribe(self, *methods: str) -> Subscription:
        return self.connection.subscribe(*methods, session_id=self.session_id)

    async def evaluate(self, expression: str) -> Any:
        """``Runtime.evaluate`` with ``awaitPromise``: the value (JSON), or the script's
        exception as JavaScriptError."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise JavaScriptError.from_details(result["exceptionDetails"])
        return result["result"].get("value")

    async def add_binding(self, name: str) -> Subscription:
        """``Runtime.addBinding``: the page's calls of ``window[name](string)``, as
        ``Runtime.bindingCalled`` events (``params["payload"]``)."""
        subscription = self.subscribe("Runtime.bindingCalled")
        await self.send("Runtime.addBinding", {"name": name})
        return subscription

    async def background_service(self, command: protocol.Command) -> None:
        """A BackgroundService command (bgfetch's typed form of the domain)."""
        message = command.to_json()
        await self.send(message["method"], message["params"])


async def create_browser_context(connection: Connection) -> str:
    """``Target.createBrowserContext``: a new context (its own storage and workers)."""
    result = await connection.send("Target.createBrowserContext", {"disposeOnDetach": True})
    return str(result["browserContextId"])


async def open_page(
    connection: Connection, url: str, browser_context_id: str | None = None
) -> Session:
    """``Target.createTarget`` at *url*, attached with ``flatten``, Runtime enabled."""
    params: JSON = {"url": url}
    if browser_context_id is not None:
        params["browserContextId"] = browser_context_id
    target_id = str((await connection.send("Target.createTarget", params))["targetId"])
    attached = await connection.send(
        "Target.attachToTarget", {"targetId": target_id, "flatten": True}
    )
    session = Session(connection, target_id, str(attached["sessionId"]))
    await session.send("Runtime.enable")
    return session


async def close_page(session: Session) -> None:
    await session.connection.send("Target.closeTarget", {"targetId": session.target_id})


def background_service_event(event: Event) -> protocol.Event:
    """A BackgroundService event as bgfetch's protocol object."""
    return protocol.parse_event({"method": event.method, "params": event.params})
