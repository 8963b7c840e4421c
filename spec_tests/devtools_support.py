"""Helpers of the DevTools endpoint tests: a raw HTTP GET, and a CDP client that runs the
`chrome-devtools-protocol` package's commands (module ``cdp``) as it runs them against
Chrome."""

from __future__ import annotations

import json

import cdp.util
import h11
import trio
import trio_websocket
from cdp import background_service as bs

FETCH = bs.ServiceName.BACKGROUND_FETCH


async def http_get(port: int, path: str) -> tuple[int, object]:
    """GET *path* on 127.0.0.1:*port*: the status and the body (JSON when 200)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        client = h11.Connection(h11.CLIENT)
        request = h11.Request(method="GET", target=path, headers=[("Host", f"127.0.0.1:{port}")])
        await stream.send_all(client.send(request) + client.send(h11.EndOfMessage()))
        status, body = 0, b""
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                client.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
    return status, json.loads(body) if status == 200 else body


class CDPClient:
    """How the `cdp` package's commands are run against Chrome (as trio-chrome-devtools-
    protocol does): send the generator's request with an id (and the session id), give it
    the response's result; events that arrive meanwhile are kept, parsed."""

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[object] = []

    async def execute(self, command, session_id=None):
        request = next(command)
        self.next_id += 1
        request["id"] = self.next_id
        if session_id is not None:
            request["sessionId"] = session_id
        await self.ws.send_message(json.dumps(request))
        while True:
            message = json.loads(await self.ws.get_message())
            if "id" not in message:
                self.events.append(cdp.util.parse_json_event(message))
                continue
            assert message["id"] == self.next_id
            if "error" in message:
                raise RuntimeError(message["error"])
            try:
                command.send(message["result"])
            except StopIteration as done:
                return done.value
            raise AssertionError("the command wanted more than one response")

    async def raw(self, method: str, session_id=None) -> dict:
        self.next_id += 1
        await self.ws.send_message(
            json.dumps({"id": self.next_id, "method": method, "sessionId": session_id})
        )
        while True:
            message = json.loads(await self.ws.get_message())
            if message.get("id") == self.next_id:
                return message

    async def event(self):
        return cdp.util.parse_json_event(json.loads(await self.ws.get_message()))
