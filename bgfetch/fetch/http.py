"""An HTTP/1.1 client on h11 over any trio Stream, with a keep-alive pool.

The protocol is h11's; this module is the thin I/O loop around it: open a
stream through the transport, send one request, hand back the response head and
an iterator over body bytes as they arrive.  Every failure below HTTP (refused,
reset, cut mid-body, malformed) surfaces as :class:`bgfetch.errors.NetworkError`.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager

import attrs
import h11
import trio

from bgfetch.errors import NetworkError
from bgfetch.net.base import Transport
from bgfetch.resume import stall_timeout
from bgfetch.url import Origin

MAX_CONNECTIONS_PER_ORIGIN = 6  # as browsers do
RECEIVE_SIZE = 1024 * 1024
"""Bytes one read asks of the stream: what a body chunk may be.  Large, for the cost of a
chunk (h11 events, the body's layers, the record's steps) is per chunk, not per byte."""
SEND_CHUNK = 64 * 1024
MAX_HEAD_SIZE = 256 * 1024
"""Bytes the response heads of one exchange (interim 1xx ones and the final one) may
take, status lines to blank lines: Chromium's limit (SPEC-NOTES.md SN-fetch-10)."""
STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError, OSError)


class HeadTooLarge(NetworkError):
    """The response head did not end within :data:`MAX_HEAD_SIZE` bytes."""


class Stalled(NetworkError):
    """No byte came (or could be sent) for the stall timeout, or the response head did
    not end within it (bgfetch.resume's stall policy; SPEC-NOTES.md SN-fetch-11)."""


@attrs.define
class ResponseHead:
    status: int
    reason: str
    headers: list[tuple[str, str]]


@attrs.define(eq=False)
class _Watch:
    """An idle connection's watch: a task waiting for anything at all to arrive."""

    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    done: trio.Event = attrs.field(factory=trio.Event)
    woke: bool = False  # something arrived (bytes, end of file, an error): unusable


class Connection:
    """One HTTP/1.1 connection: a stream and h11's state machine for it.

    Bytes are given to h11 as they arrive, except while a response head is awaited:
    then h11 gets no more than :data:`MAX_HEAD_SIZE` bytes in all, so a head above the
    limit fails however its bytes arrive (SPEC-NOTES.md SN-fetch-10).
    """

    def __init__(
        self, origin: Origin, stream: trio.abc.Stream, *, watchdog: _StallWatchdog | None = None
    ) -> None:
        self.origin = origin
        self.stream = stream
        self.watchdog = watchdog
        self.head_deadline = math.inf  # while a head is awaited: when it is late
        self.waiting_since: float | None = None  # while a send or a receive waits
        self.stalled = ""  # why the watchdog cut the connection
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_SIZE)
        self.exchanges = 0  # requests begun on this connection
        self.received = 0  # bytes received during the current exchange
        self.head_budget: int | None = None  # while a head is awaited: bytes h11 may get
        self._unfed = bytearray()  # received, not yet given to h11
        self.watch: _Watch | None = None  # while idle in the pool
        self.closed = False

    async def send(self, event: h11.Event) -> None:
        data = self.h11.send(event)
        if data:
            self._waiting()
            try:
                await self.stream.send_all(data)
            except STREAM_ERRORS as error:
                self._raise_if_stalled(error)
                raise
            finally:
                self.waiting_since = None

    async def _receive(self) -> bytes:
        self._waiting()
        try:
            data = await self.stream.receive_some(RECEIVE_SIZE)
            return data if isinstance(data, bytes) else bytes(data)
        except STREAM_ERRORS as error:
            self._raise_if_stalled(error)
            raise
        finally:
            self.waiting_since = None

    def _waiting(self) -> None:
        self.waiting_since = trio.current_time()
        if self.watchdog is not None:
            self.watchdog.changed(self)

    def stall_at(self, timeout: float) -> float:
        """When this connection has stalled, given the stall timeout: once a send or a
        receive waited *timeout* seconds, or a head is awaited past its deadline."""
        waiting = math.inf if self.waiting_since is None else self.waiting_since + timeout
        return min(waiting, self.head_deadline)

    def _raise_if_stalled(self, error: BaseException) -> None:
        if self.stalled:
            raise Stalled(f"{self.origin}: {self.stalled}") from error

    async def next_event(self) -> h11.Event:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            await self._feed()

    async def _feed(self) -> None:
        """Give h11 more bytes: those received and not yet given, else the next ones.

        Bytes go to h11 as received, without a copy of ours, unless a head's budget
        holds some back (those wait in ``_unfed``)."""
        if self._unfed:
            data, self._unfed = bytes(self._unfed), bytearray()
        else:
            data = await self._receive()
            self.received += len(data)
            if not data:
                self.h11.receive_data(b"")  # the end of the stream
                return
        if self.head_budget is not None:
            if self.head_budget == 0:
                self._unfed = bytearray(data)
                raise HeadTooLarge(
                    f"{self.origin}: the response head is larger than {MAX_HEAD_SIZE} bytes"
                )
            if len(data) > self.head_budget:
                self._unfed = bytearray(data[self.head_budget :])
                data = data[: self.head_budget]
            self.head_budget -= len(data)
        self.h11.receive_data(data)

    @property
    def reusable(self) -> bool:
        """Whether the exchange ended cleanly, both sides willing to go on, and nothing
        came after the response's end (bytes past its `Content-Length` would be read
        as the next response)."""
        return (
            self.h11.our_state is h11.DONE
            and self.h11.their_state is h11.DONE
            and not self._unfed
            and not self.h11.trailing_data[0]
        )

    async def stop_watching(self) -> bool:
        """End the idle watch; whether the connection may still be used."""
        watch, self.watch = self.watch, None
        if watch is not None:
            watch.scope.cancel()
            await watch.done.wait()
            if watch.woke:
                return False
        return not self.closed

    async def close(self) -> None:
        self.closed = True
        if self.watch is not None:
            self.watch.scope.cancel()
        if self.watchdog is not None:
            self.watchdog.active.discard(self)
        await trio.aclose_forcefully(self.stream)


class _StallWatchdog:
    """The pool's one task that cuts exchanges that stall (bgfetch.resume's policy;
    SPEC-NOTES.md SN-fetch-11).

    It sleeps until the earliest moment one of the exchanges in progress would have
    stalled; there it closes the connections that have, so their pending send or
    receive raises :class:`Stalled`.  One deadline for all exchanges, changed only when
    none was set: no trio deadline per send or receive.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.active: set[Connection] = set()
        self.scope = trio.CancelScope()
        self._target = math.inf
        self._changed = trio.Event()

    def watch(self, connection: Connection) -> None:
        """An exchange begins on *connection*."""
        connection.head_deadline = math.inf
        self.active.add(connection)

    def request_sent(self, connection: Connection) -> None:
        """The request is sent: the response head is due within the timeout."""
        connection.head_deadline = trio.current_time() + self.timeout
        self.changed(connection)

    def changed(self, connection: Connection) -> None:
        if connection in self.active and connection.stall_at(self.timeout) < self._target:
            self._changed.set()

    async def run(self) -> None:
        with self.scope:
            while True:
                self._target = min(
                    (c.stall_at(self.timeout) for c in self.active), default=math.inf
                )
                with trio.move_on_at(self._target):
                    await self._changed.wait()
                    self._changed = trio.Event()
                    continue
                now = trio.current_time()
                for connection in [c for c in self.active if c.stall_at(self.timeout) <= now]:
                    self.active.discard(connection)
                    connection.stalled = (
                        f"the response head did not come within {self.timeout:g} s"
                        if connection.head_deadline <= now
                        else f"no byte came or went for {self.timeout:g} s"
                    )
                    await connection.close()


class ConnectionPool:
    """Keep-alive connections per origin, at most six in use per origin at once.

    An idle connection is watched: anything arriving on it (bytes no response asked
    for, the server closing it) closes it, so no request ever reads them.  Once the
    pool is closed (the user agent closing), a connection whose exchange ends is closed
    rather than kept, and nothing new is opened.
    """

    def __init__(self, transport: Transport, nursery: trio.Nursery) -> None:
        self.transport = transport
        self._nursery = nursery
        timeout = stall_timeout(transport)
        self._watchdog = None if timeout is None else _StallWatchdog(timeout)
        self._idle: dict[Origin, list[Connection]] = {}
        self._limits: dict[Origin, trio.Semaphore] = {}
        self.closed = False
        self._watchdog_started = False

    def _limit(self, origin: Origin) -> trio.Semaphore:
        if origin not in self._limits:
            self._limits[origin] = trio.Semaphore(MAX_CONNECTIONS_PER_ORIGIN)
        return self._limits[origin]

    @property
    def idle_connections(self) -> int:
        return sum(len(connections) for connections in self._idle.values())

    async def _checkout(self, origin: Origin) -> Connection:
        idle = self._idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if await connection.stop_watching() and connection.h11.our_state is h11.IDLE:
                return connection
            await connection.close()
        return await self._checkout_fresh(origin)

    async def _checkout_fresh(self, origin: Origin) -> Connection:
        if self.closed:  # the user agent is closing: its tasks are about to be cancelled
            await trio.sleep_forever()
        stream = await self.transport.open_stream(origin, nursery=self._nursery)
        if self.closed:
            await trio.aclose_forcefully(stream)
            await trio.sleep_forever()
        if self._watchdog is not None and not self._watchdog_started:
            self._watchdog_started = True
            self._nursery.start_soon(self._watchdog.run)
        return Connection(origin, stream, watchdog=self._watchdog)

    def _checkin(self, connection: Connection) -> bool:
        """Keep *connection* for the next request to its origin; False if it is not to
        be kept (the caller closes it)."""
        if connection.watchdog is not None:
            connection.watchdog.active.discard(connection)
        if self.closed or connection.closed or not connection.reusable:
            return False
        connection.h11.start_next_cycle()
        self._idle.setdefault(connection.origin, []).append(connection)
        connection.watch = _Watch()
        self._nursery.start_soon(self._watch, connection, connection.watch)
        return True

    async def _watch(self, connection: Connection, watch: _Watch) -> None:
        try:
            with watch.scope:
                try:
                    await connection.stream.receive_some(1)
                except STREAM_ERRORS:
                    pass
                watch.woke = True
        finally:
            watch.done.set()
        if watch.woke:
            idle = self._idle.get(connection.origin, [])
            if connection in idle:
                idle.remove(connection)
            connection.watch = None
            await connection.close()

    @property
    def stall_timeout(self) -> float | None:
        """Seconds an exchange may wait for a byte (bgfetch.resume); None: for ever."""
        return None if self._watchdog is None else self._watchdog.timeout

    async def close(self) -> None:
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.scope.cancel()
        while self._idle:
            _, connections = self._idle.popitem()
            for connection in connections:
                await connection.close()

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
                if isinstance(error, Stalled) or not _stale(connection):
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
            if not self._checkin(connection):
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
        connection.head_budget = MAX_HEAD_SIZE
        if connection.watchdog is not None:
            connection.watchdog.watch(connection)
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
        if connection.watchdog is not None:
            connection.watchdog.request_sent(connection)
        while True:
            event = await connection.next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                connection.head_budget, connection.head_deadline = None, math.inf
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
