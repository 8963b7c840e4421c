"""A user agent's CDP endpoint: :mod:`bgfetch.devtools.cdp` over WebSocket and HTTP.

``await ua.serve_devtools(port=9222)`` listens on 127.0.0.1 (by default) as Chromium's
``--remote-debugging-port`` does: ``GET /json/version`` and ``GET /json/list`` (also
``/json``) answer in JSON, and a WebSocket at ``/devtools/browser/<id>`` or
``/devtools/page/<id>`` is a CDP connection (trio-websocket).  The server is a task of
the user agent (``ua.tasks``): it stops, and its connections close, with the user agent.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import attrs
import h11
import trio
import trio_websocket

from bgfetch.devtools.cdp import Browser

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent

MAX_HEAD = 64 * 1024  # bytes of a request's head


@attrs.define(eq=False)
class DevToolsServer:
    """A running endpoint: where it listens, and the Browser it serves."""

    browser: Browser
    host: str
    port: int
    _cancel: trio.CancelScope = attrs.field(factory=trio.CancelScope, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def browser_url(self) -> str:
        """The browser target's WebSocket URL, as Chromium prints it at start."""
        return f"ws://{self.address}/devtools/browser/{self.browser.id}"

    def close(self) -> None:
        """Stop listening and close every connection (the user agent goes on)."""
        self._cancel.cancel()

    async def _run(self, listeners: list[trio.SocketListener]) -> None:
        with self._cancel:
            await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        try:
            head = await _read_head(stream)
            if head is None:
                return
            connection = h11.Connection(h11.SERVER)
            connection.receive_data(head)
            request = connection.next_event()
            if not isinstance(request, h11.Request):
                await _respond(stream, connection, 400, "text/plain", b"Bad request")
                return
            headers = {k.lower(): v for k, v in request.headers}
            host = headers.get(b"host", self.address.encode()).decode("latin-1")
            if b"websocket" in headers.get(b"upgrade", b"").lower():
                await self._websocket(_Replay(stream, head))
                return
            status, kind, body = self._http(request.target.decode("latin-1"), host)
            await _respond(stream, connection, status, kind, body)
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    def _http(self, target: str, host: str) -> tuple[int, str, bytes]:
        path = target.split("?")[0].rstrip("/")
        value: Any
        if path == "/json/version":
            value = self.browser.version(host)
        elif path in ("/json", "/json/list"):
            value = self.browser.list(host)
        else:
            return 404, "text/plain", f"Unknown url: {target}".encode()
        return 200, "application/json; charset=UTF-8", json.dumps(value, indent=3).encode()

    async def _websocket(self, stream: trio.abc.Stream) -> None:
        send, receive = trio.open_memory_channel[str](math.inf)
        async with trio.open_nursery() as nursery:
            request = await trio_websocket.wrap_server_stream(nursery, stream)
            connection = self.browser.connect(request.path, send.send_nowait)
            if connection is None:
                await request.reject(404, body=b"No such target id: " + request.path.encode())
                return
            ws = await request.accept()

            async def sender() -> None:
                async for text in receive:
                    await ws.send_message(text)

            nursery.start_soon(sender)
            try:
                while True:
                    message = await ws.get_message()
                    if isinstance(message, bytes):
                        message = message.decode("utf-8", errors="replace")
                    connection.receive(message)
            except trio_websocket.ConnectionClosed:
                pass
            finally:
                connection.close()
                nursery.cancel_scope.cancel()


async def serve(user_agent: UserAgent, *, host: str = "127.0.0.1", port: int = 0) -> DevToolsServer:
    """Listen on *host*:*port* (0: a free port) and serve *user_agent*, as its task."""
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    server = DevToolsServer(Browser(user_agent), host, bound)
    user_agent.tasks.in_parallel(server._run, listeners)
    return server


async def _read_head(stream: trio.abc.ReceiveStream) -> bytes | None:
    """The bytes received up to the end of a request head (and any after it); None if
    the client closed first or sent too much."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            return None
        chunk = await stream.receive_some(65536)
        if not chunk:
            return None
        data += chunk
    return data


async def _respond(
    stream: trio.abc.SendStream, connection: h11.Connection, status: int, kind: str, body: bytes
) -> None:
    headers = [
        ("Content-Type", kind),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    data = connection.send(h11.Response(status_code=status, headers=headers))
    data = (data or b"") + (connection.send(h11.Data(data=body)) or b"")
    data += connection.send(h11.EndOfMessage()) or b""
    await stream.send_all(data)


class _Replay(trio.abc.Stream):
    """*stream*, with the bytes already read from it (*prefix*) received again first."""

    def __init__(self, stream: trio.abc.Stream, prefix: bytes) -> None:
        self._stream = stream
        self._prefix = prefix

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._prefix:
            size = len(self._prefix) if max_bytes is None else max_bytes
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            await trio.lowlevel.checkpoint()
            return data
        return bytes(await self._stream.receive_some(max_bytes))

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._stream.aclose()
