"""A virtual network: in-memory connections to in-process origin servers, on trio's clock.

Tests and the simulator need networks that are slow, flaky or offline on demand,
and deterministic under ``trio.testing.MockClock``.  :class:`VirtualNetwork` is a
:class:`bgfetch.net.base.Transport` whose "sockets" are pairs of in-memory
streams, and whose hosts are objects with ``async def serve_stream(stream)``
(such as :class:`bgfetch.testing.OriginServer`).

The model, simple on purpose:

* **Hosts.**  :meth:`VirtualNetwork.serve` binds a server to a tuple origin.  An
  origin nothing serves fails to connect, as a DNS failure would.  There is no
  TLS: ``https`` is only a name here.
* **Connecting** costs one round trip (``2 * latency``); then the server's
  ``serve_stream`` runs on the server end, in the nursery given to
  :meth:`VirtualNetwork.open_stream`.  The server end is closed when it returns.
* **Latency** is one-way: bytes written at time *t* can be read at *t + latency*.
* **Bandwidth** is per origin and per direction, shared by all connections to
  that origin, like one access link.  A sender occupies the link for
  ``len / bandwidth`` seconds per slice (slices of at most ``bandwidth / 20``
  bytes, so progress is visible); ``send_all`` returns when its last slice has
  left, and each slice arrives ``latency`` after it left.  Concurrent senders
  interleave slices, so they share the link about fairly.
* **Flow control.**  A writer blocks while the reader has more than
  :data:`RECEIVE_WINDOW` bytes that arrived but were not read yet, like a full
  TCP receive buffer; bytes still in flight do not count, so latency never caps
  throughput.
* **Closing** an end (``aclose`` or ``send_eof``) queues an end-of-file after the
  bytes already sent, as a TCP FIN: the peer reads them, then ``b""``.  Writing
  to a peer that has closed raises ``trio.BrokenResourceError`` (a reset).
* **Stalls.**  A user agent opened on the network cuts an exchange that waits
  ``stall_timeout`` simulated seconds for a byte (300 by default, bgfetch.resume's
  policy; ``VirtualNetwork(stall_timeout=None)`` waits for ever).
* **Offline.**  ``set_online(False)`` breaks every open connection: pending and
  later reads and writes on either end raise ``trio.BrokenResourceError``, and
  new connections fail with :class:`~bgfetch.errors.NetworkError` until
  ``set_online(True)``.  Connections broken this way stay broken.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from typing import Protocol

import attrs
import trio

from bgfetch.errors import NetworkError
from bgfetch.infra import Condition
from bgfetch.net.base import OnlineSwitch
from bgfetch.resume import STALL_TIMEOUT
from bgfetch.url import Origin, parse_url

RECEIVE_WINDOW = 256 * 1024
"""Bytes that may wait unread at a receiver before its peer's writes block."""

DEFAULT_RECEIVE_SIZE = 64 * 1024
"""What ``receive_some()`` returns at most when given no ``max_bytes``."""

SLICE_SECONDS = 0.05
"""With a bandwidth limit, bytes go out in slices of this many seconds' worth."""

UNLIMITED_SLICE = 64 * 1024
"""Without a bandwidth limit, bytes go out in slices of this size."""


class StreamServer(Protocol):
    """What a virtual host runs: one call per connection, given the server end."""

    async def serve_stream(self, stream: trio.abc.Stream) -> None: ...


@attrs.define
class _Link:
    """One direction of an origin's access link: its latency, bandwidth, and when it is free."""

    latency: float
    bandwidth: float | None
    free_at: float = -math.inf


@attrs.define
class _Host:
    server: StreamServer
    up: _Link  # client -> server
    down: _Link  # server -> client


@attrs.define
class _Pipe:
    """One direction of one connection: chunks in flight or waiting to be read.

    A chunk is ``(arrival time, data)``; ``data`` None is the end-of-file.
    """

    chunks: deque[tuple[float, bytes | None]] = attrs.field(factory=deque)
    eof_queued: bool = False
    reader_closed: bool = False

    def last_arrival(self) -> float:
        return self.chunks[-1][0] if self.chunks else -math.inf

    def arrived_unread(self, now: float) -> int:
        total = 0
        for arrival, data in self.chunks:
            if arrival > now or data is None:
                break
            total += len(data)
        return total


class _Connection:
    """Both directions of one virtual connection, and whether the network broke it."""

    def __init__(self, network: VirtualNetwork, origin: Origin, host: _Host) -> None:
        self.network = network
        self.broken = False
        self.wakeup = Condition()
        to_server, to_client = _Pipe(), _Pipe()
        self.client_end = VirtualStream(self, incoming=to_client, outgoing=to_server, link=host.up)
        self.server_end = VirtualStream(
            self, incoming=to_server, outgoing=to_client, link=host.down
        )
        self.origin = origin

    def break_(self) -> None:
        self.broken = True
        self.wakeup.notify()

    def end_closed(self) -> None:
        if self.client_end.closed and self.server_end.closed:
            self.network._connections.discard(self)


class VirtualStream(trio.abc.HalfCloseableStream):
    """One end of a virtual connection (see the module docstring for its timing)."""

    def __init__(self, conn: _Connection, *, incoming: _Pipe, outgoing: _Pipe, link: _Link):
        self._conn = conn
        self._incoming = incoming
        self._outgoing = outgoing
        self._link = link
        self.closed = False
        self._sending = False
        self._receiving = False

    # -- sending ---------------------------------------------------------------

    def _can_send(self) -> bool:
        closed = self.closed or self._outgoing.eof_queued
        return not (closed or self._conn.broken or self._outgoing.reader_closed)

    def _window_full(self) -> bool:
        return self._outgoing.arrived_unread(trio.current_time()) >= RECEIVE_WINDOW

    def _check_can_send(self) -> None:
        if self.closed or self._outgoing.eof_queued:
            raise trio.ClosedResourceError("this end of the connection is closed")
        if self._conn.broken or self._outgoing.reader_closed:
            raise trio.BrokenResourceError("connection reset")

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._sending:
            raise trio.BusyResourceError("another task is sending on this stream")
        self._sending = True
        try:
            await trio.lowlevel.checkpoint_if_cancelled()
            self._check_can_send()
            remaining = bytes(data)
            bandwidth = self._link.bandwidth
            if bandwidth is None:
                step = UNLIMITED_SLICE  # Slices only so that flow control can step in.
            else:
                step = max(1, int(bandwidth * SLICE_SECONDS))
            while remaining:
                piece, remaining = remaining[:step], remaining[step:]
                await self._send_slice(piece)
            await trio.lowlevel.cancel_shielded_checkpoint()
        finally:
            self._sending = False

    async def _send_slice(self, piece: bytes) -> None:
        pipe, link, conn = self._outgoing, self._link, self._conn
        # Flow control: wait while the reader has a full buffer of unread bytes.
        while self._window_full():
            await conn.wakeup.wait()
            self._check_can_send()
        # Occupy the link for the slice's transmission time, then put it in flight.
        if link.bandwidth is not None:
            start = max(trio.current_time(), link.free_at)
            link.free_at = done = start + len(piece) / link.bandwidth
            while trio.current_time() < done:
                await conn.wakeup.wait(done)
                self._check_can_send()
        arrival = max(trio.current_time() + link.latency, pipe.last_arrival())
        pipe.chunks.append((arrival, piece))
        conn.wakeup.notify()

    async def wait_send_all_might_not_block(self) -> None:
        """Return once the reader's buffer has room (or sending would fail at once)."""
        if self._sending:
            raise trio.BusyResourceError("another task is sending on this stream")
        self._sending = True
        try:
            await trio.lowlevel.checkpoint()
            while self._can_send() and self._window_full():
                await self._conn.wakeup.wait()
            self._check_can_send()
        finally:
            self._sending = False

    def _queue_eof(self) -> None:
        pipe = self._outgoing
        if not pipe.eof_queued:
            pipe.eof_queued = True
            arrival = max(trio.current_time() + self._link.latency, pipe.last_arrival())
            pipe.chunks.append((arrival, None))
            self._conn.wakeup.notify()

    async def send_eof(self) -> None:
        if self._sending:
            raise trio.BusyResourceError("another task is sending on this stream")
        await trio.lowlevel.checkpoint()
        if self.closed:
            raise trio.ClosedResourceError("this end of the connection is closed")
        if self._conn.broken:
            raise trio.BrokenResourceError("connection reset")
        self._queue_eof()

    # -- receiving -------------------------------------------------------------

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        max_bytes = DEFAULT_RECEIVE_SIZE if max_bytes is None else operator.index(max_bytes)
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if self._receiving:
            raise trio.BusyResourceError("another task is receiving on this stream")
        self._receiving = True
        try:
            await trio.lowlevel.checkpoint()
            pipe, conn = self._incoming, self._conn
            while True:
                if self.closed:
                    raise trio.ClosedResourceError("this end of the connection is closed")
                if conn.broken:
                    raise trio.BrokenResourceError("connection reset")
                now = trio.current_time()
                if pipe.chunks and pipe.chunks[0][0] <= now:
                    return self._take_arrived(now, max_bytes)
                await conn.wakeup.wait(pipe.chunks[0][0] if pipe.chunks else math.inf)
        finally:
            self._receiving = False

    def _take_arrived(self, now: float, max_bytes: int) -> bytes:
        """Up to *max_bytes* of the bytes that have arrived; b"" once only the EOF is left."""
        pipe = self._incoming
        out = bytearray()
        while pipe.chunks and len(out) < max_bytes:
            arrival, data = pipe.chunks[0]
            if arrival > now or data is None:
                break  # The EOF stays queued, so every later read sees it too.
            room = max_bytes - len(out)
            out += data[:room]
            if len(data) > room:
                pipe.chunks[0] = (arrival, data[room:])
            else:
                pipe.chunks.popleft()
        if out:
            self._conn.wakeup.notify()  # A writer may be waiting for buffer room.
        return bytes(out)

    # -- closing ---------------------------------------------------------------

    async def aclose(self) -> None:
        """Close this end: the peer reads what was sent, then EOF.  Never blocks."""
        if not self.closed:
            self._queue_eof()
            self.closed = True
            self._incoming.reader_closed = True
            self._incoming.chunks.clear()
            self._conn.wakeup.notify()
            self._conn.end_closed()
        await trio.lowlevel.checkpoint()


class VirtualNetwork(OnlineSwitch):
    """A :class:`~bgfetch.net.base.Transport` over in-memory connections to served origins."""

    def __init__(self, *, stall_timeout: float | None = STALL_TIMEOUT) -> None:
        self.stall_timeout = stall_timeout
        """Seconds a user agent opened on this network lets an exchange wait for a byte
        (bgfetch.resume.STALL_TIMEOUT, in simulated time); None: for ever."""
        self._hosts: dict[Origin, _Host] = {}
        self._connections: set[_Connection] = set()
        super().__init__()
        self._opened: dict[Origin, int] = {}
        self.connections_opened = 0
        """Connections opened so far, to any origin."""

    @staticmethod
    def _origin(origin: str | Origin) -> Origin:
        if isinstance(origin, Origin):
            return origin
        try:
            parsed = parse_url(origin).origin
        except TypeError:
            parsed = None
        if parsed is None:
            raise ValueError(f"{origin!r} is not a tuple origin (scheme://host[:port])")
        return parsed

    def serve(
        self,
        origin: str | Origin,
        server: StreamServer,
        *,
        latency: float = 0.0,
        bandwidth: float | None = None,
    ) -> None:
        """Make *server* the host of *origin*; latency is one way, bandwidth in bytes/s."""
        if latency < 0:
            raise ValueError(f"latency must not be negative, got {latency}")
        if bandwidth is not None and bandwidth <= 0:
            raise ValueError(f"bandwidth must be positive, got {bandwidth}")
        self._hosts[self._origin(origin)] = _Host(
            server, up=_Link(latency, bandwidth), down=_Link(latency, bandwidth)
        )

    # -- online state ----------------------------------------------------------

    def break_connections(self) -> None:
        for conn in list(self._connections):
            conn.break_()
        self._connections.clear()

    # -- connections -----------------------------------------------------------

    @property
    def open_connections(self) -> int:
        """Connections neither broken by going offline nor closed at both ends."""
        return len(self._connections)

    def connections_opened_to(self, origin: str | Origin) -> int:
        """Connections opened so far to *origin*."""
        return self._opened.get(self._origin(origin), 0)

    def _check_reachable(self, origin: Origin) -> _Host:
        if not self._online:
            raise NetworkError(f"cannot connect to {origin}: the network is offline")
        host = self._hosts.get(origin)
        if host is None:
            raise NetworkError(f"cannot connect to {origin}: no such host")
        return host

    async def open_stream(self, origin: Origin, *, nursery: trio.Nursery) -> trio.abc.Stream:
        """Connect to *origin* (one round trip) and run its server on the other end."""
        host = self._check_reachable(origin)
        await trio.sleep(2 * host.up.latency)
        host = self._check_reachable(origin)  # The network may have gone offline meanwhile.
        conn = _Connection(self, origin, host)
        self._connections.add(conn)
        self.connections_opened += 1
        self._opened[origin] = self._opened.get(origin, 0) + 1
        nursery.start_soon(_run_server, host.server, conn.server_end, name=f"serve {origin}")
        return conn.client_end


async def _run_server(server: StreamServer, stream: VirtualStream) -> None:
    """Run one connection's server side, and close its end when the server is done."""
    try:
        await server.serve_stream(stream)
    finally:
        await stream.aclose()
