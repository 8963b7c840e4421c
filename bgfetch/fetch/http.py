"""An HTTP/1.1 client on h11 over any trio Stream, with a keep-alive pool.

The protocol is h11's; this module is the thin I/O loop around it: open a
stream through the transport, send one request, hand back the response head and
an iterator over body bytes as they arrive.  Every failure below HTTP (refused,
reset, cut mid-body, malformed) surfaces as :class:`bgfetch.errors.NetworkError`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager

import attrs
import h11
import trio

from bgfetch.errors import NetworkError
from bgfetch.net.base import Transport
from bgfetch.url import Origin

MAX_CONNECTIONS_PER_ORIGIN = 6  # as browsers do
RECEIVE_SIZE = 64 * 1024
SEND_CHUNK = 64 * 1024
STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError, OSError)


@attrs.define
class ResponseHead:
    status: int
    reason: str
    headers: list[tuple[str, str]]


class Connection:
    """One HTTP/1.1 connection: a stream and h11's state machine for it."""

    def __init__(self, origin: Origin, stream: trio.abc.Stream) -> None:
        self.origin = origin
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.exchanges = 0  # requests begun on this connection
        self.received = 0  # bytes received during the current exchange

    async def send(self, event: h11.Event) -> None:
        data = self.h11.send(event)
        if data:
            await self.stream.send_all(data)

    async def next_event(self) -> h11.Event:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            data = bytes(await self.stream.receive_some(RECEIVE_SIZE))
            self.received += len(data)
            self.h11.receive_data(data)

    @property
    def reusable(self) -> bool:
        return self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE

    async def close(self) -> None:
        await trio.aclose_forcefully(self.stream)


class ConnectionPool:
    """Keep-alive connections per origin, at most six in use per origin at once."""

    def __init__(self, transport: Transport, nursery: trio.Nursery) -> None:
        self.transport = transport
        self._nursery = nursery
        self._idle: dict[Origin, list[Connection]] = {}
        self._limits: dict[Origin, trio.Semaphore] = {}

    def _limit(self, origin: Origin) -> trio.Semaphore:
        if origin not in self._limits:
            self._limits[origin] = trio.Semaphore(MAX_CONNECTIONS_PER_ORIGIN)
        return self._limits[origin]

    async def _checkout(self, origin: Origin) -> Connection:
        idle = self._idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if connection.h11.our_state is h11.IDLE:
                return connection
            await connection.close()
        return await self._checkout_fresh(origin)

    async def _checkout_fresh(self, origin: Origin) -> Connection:
        stream = await self.transport.open_stream(origin, nursery=self._nursery)
        return Connection(origin, stream)

    def _checkin(self, connection: Connection) -> None:
        connection.h11.start_next_cycle()
        self._idle.setdefault(connection.origin, []).append(connection)

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                await connection.close()
        self._idle.clear()

    @asynccontextmanager
    async def request(
        self,
        origin: Origin,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        on_body_sent: Callable[[int], None] | None = None,
    ) -> AsyncIterator[tuple[ResponseHead, AsyncIterator[bytes]]]:
        """Send one request; yield the response head and its body's bytes as they arrive.

        Leaving the block before the body ends closes the connection ("terminate");
        a connection whose exchange completed cleanly goes back to the pool.  The body
        iterator is this block's: it is closed when the block ends, however it ends.
        """
        report = _monotonic(on_body_sent)
        request_head = _request_head(origin, method, target, headers)
        async with self._limit(origin):
            connection = await self._open(origin)
            try:
                head = await self._exchange(connection, request_head, body, report)
            except (*STREAM_ERRORS, NetworkError) as error:
                await connection.close()
                if not _stale(connection):
                    raise _network_error(origin, error) from error
                # A kept-alive connection the server had closed before it read this
                # request (nothing came back): retry once on a fresh connection, as
                # RFC 9112, 9.3.1 allows.  Upload progress never goes backwards.
                connection = await self._open(origin, fresh=True)
                try:
                    head = await self._exchange(connection, request_head, body, report)
                except (*STREAM_ERRORS, NetworkError) as retry_error:
                    await connection.close()
                    raise _network_error(origin, retry_error) from retry_error
                except BaseException:
                    await connection.close()
                    raise
            except BaseException:
                await connection.close()
                raise
            async with aclosing(self._body(connection)) as response_body:
                try:
                    yield head, response_body
                except STREAM_ERRORS as error:
                    await connection.close()
                    raise NetworkError(
                        f"{origin}: connection failed: {_describe(error)}"
                    ) from error
                except BaseException:
                    await connection.close()
                    raise
            if connection.reusable:
                self._checkin(connection)
            else:
                await connection.close()

    async def _open(self, origin: Origin, *, fresh: bool = False) -> Connection:
        try:
            if fresh:
                return await self._checkout_fresh(origin)
            return await self._checkout(origin)
        except STREAM_ERRORS as error:
            raise NetworkError(f"{origin}: cannot connect: {_describe(error)}") from error

    async def _exchange(
        self,
        connection: Connection,
        request_head: h11.Request,
        body: bytes | None,
        on_body_sent: Callable[[int], None] | None,
    ) -> ResponseHead:
        connection.exchanges += 1
        connection.received = 0
        await connection.send(request_head)
        sent = 0
        view = memoryview(body or b"")
        while sent < len(view):
            chunk = bytes(view[sent : sent + SEND_CHUNK])
            await connection.send(h11.Data(data=chunk))
            sent += len(chunk)
            if on_body_sent is not None:
                on_body_sent(sent)
        await connection.send(h11.EndOfMessage())
        while True:
            event = await connection.next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                return ResponseHead(
                    status=event.status_code,
                    reason=event.reason.decode("latin-1"),
                    headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers],
                )
            raise NetworkError(f"{connection.origin}: unexpected {type(event).__name__}")

    async def _body(self, connection: Connection) -> AsyncGenerator[bytes, None]:
        while True:
            try:
                event = await connection.next_event()
            except STREAM_ERRORS as error:
                raise NetworkError(f"{connection.origin}: body cut: {_describe(error)}") from error
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            elif isinstance(event, h11.ConnectionClosed):
                raise NetworkError(f"{connection.origin}: connection closed mid-body")


def _request_head(
    origin: Origin, method: str, target: str, headers: list[tuple[str, str]]
) -> h11.Request:
    """The request's head as h11 sends it: every str a byte sequence, one byte per
    character (Latin-1), so header values keep the bytes 0x80-0xFF (obs-text) they were
    received with (SPEC-NOTES.md SN-fetch-7).  A character that is not a byte, or a field
    h11 refuses, is a network error here, before any connection is used."""
    try:
        return h11.Request(
            method=method.encode("latin-1"),
            target=target.encode("latin-1"),
            headers=[(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        )
    except (UnicodeEncodeError, h11.LocalProtocolError) as error:
        raise NetworkError(f"{origin}: the request cannot be sent: {_describe(error)}") from error


def _stale(connection: Connection) -> bool:
    """Whether a failed exchange met a kept-alive connection the server had closed."""
    return connection.exchanges > 1 and connection.received == 0


def _network_error(origin: Origin, error: BaseException) -> NetworkError:
    if isinstance(error, NetworkError):
        return error
    return NetworkError(f"{origin}: connection failed: {_describe(error)}")


def _monotonic(on_body_sent: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """*on_body_sent*, called only when the total sent exceeds what it was told before."""
    if on_body_sent is None:
        return None
    reported = 0

    def sent(total: int) -> None:
        nonlocal reported
        if total > reported:
            reported = total
            on_body_sent(total)

    return sent


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
