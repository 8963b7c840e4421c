"""The real network: trio TCP (IPv4 and IPv6) and TLS through the ``ssl`` module.

``RealNetwork()`` trusts the system's certificate store; ``ca_certs`` (or
:meth:`RealNetwork.trust`) adds CA certificates in PEM, as tests do with trustme's.
Every failure to connect (refused, unreachable, no such host, TLS handshake or
certificate failure) raises :class:`~bgfetch.errors.NetworkError` naming the
origin, which the Fetch layer turns into a network error; resets and cuts later
on surface through the stream, as for any transport.

Names: "localhost" and names under ".localhost" resolve to the loopback
addresses without asking DNS (Secure Contexts' "let localhost be localhost",
which is why bgfetch may treat them as potentially trustworthy); ``hosts`` maps
other names to addresses, like an /etc/hosts of the user agent's own.  With
``loopback_only=True`` the network refuses, without resolving anything, every
host that is not a loopback address, a localhost name, or mapped to a loopback
address: what tests use so that no byte ever leaves the machine.

Online state: ``set_online(False)`` breaks every open connection and makes new
ones fail until ``set_online(True)``, as the virtual network's switch does; the
Background Fetch algorithms then see the resource as "temporarily unavailable".
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable, Mapping

import trio

from bgfetch.errors import NetworkError
from bgfetch.net.base import OnlineSwitch
from bgfetch.resume import STALL_TIMEOUT
from bgfetch.url import Origin, is_localhost_name, is_loopback_ip

LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
CONNECT_TIMEOUT = 30.0
"""Seconds a connection (TCP and TLS handshake) may take before it is a network error."""


class RealNetwork(OnlineSwitch):
    """A :class:`~bgfetch.net.base.Transport` over real sockets."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        *,
        ca_certs: Iterable[bytes | str] = (),
        hosts: Mapping[str, str] | None = None,
        loopback_only: bool = False,
        connect_timeout: float = CONNECT_TIMEOUT,
        stall_timeout: float | None = STALL_TIMEOUT,
    ) -> None:
        self.ssl_context = ssl_context or ssl.create_default_context()
        for pem in ca_certs:
            self.trust(pem)
        self.hosts = {name.lower(): address for name, address in (hosts or {}).items()}
        self.loopback_only = loopback_only
        self.connect_timeout = connect_timeout
        self.stall_timeout = stall_timeout
        """Seconds a user agent opened on this network lets an exchange wait for a byte
        (bgfetch.resume.STALL_TIMEOUT); None: for ever."""
        super().__init__()
        self._open: set[_TrackedStream] = set()
        self.connections_opened = 0

    def trust(self, ca_pem: bytes | str) -> None:
        """Trust the CA certificate(s) in *ca_pem* (PEM) for https, besides the system's."""
        self.ssl_context.load_verify_locations(
            cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem
        )

    # -- online state ----------------------------------------------------------

    def break_connections(self) -> None:
        for stream in list(self._open):
            stream.break_()

    @property
    def open_connections(self) -> int:
        """Connections opened and not yet closed."""
        return len(self._open)

    # -- connections -----------------------------------------------------------

    def addresses(self, host: str) -> list[str]:
        """The addresses to try for *host* (a URL host: IPv6 in brackets), in order.

        Raises NetworkError for a host ``loopback_only`` forbids.
        """
        name = host.strip("[]").lower()
        if name in self.hosts:
            candidates = [self.hosts[name]]
        elif is_localhost_name(name):
            candidates = list(LOOPBACK_ADDRESSES)
        else:
            candidates = [name]
        if self.loopback_only and not all(is_loopback_ip(a) for a in candidates):
            raise NetworkError(
                f"cannot connect to {host}: this network is loopback-only and {host} is "
                "not a loopback address"
            )
        return candidates

    async def open_stream(self, origin: Origin, *, nursery: trio.Nursery) -> trio.abc.Stream:
        """Connect to *origin*: TCP to its host and port, then TLS for https."""
        if not self._online:
            raise NetworkError(f"cannot connect to {origin}: the network is offline")
        with trio.move_on_after(self.connect_timeout) as timeout:
            stream = await self._connect(origin)
        if timeout.cancelled_caught:
            raise NetworkError(f"cannot connect to {origin}: timed out")
        if not self._online:  # went offline while connecting
            await trio.aclose_forcefully(stream)
            raise NetworkError(f"cannot connect to {origin}: the network is offline")
        return stream

    async def _connect(self, origin: Origin) -> trio.abc.Stream:
        errors: list[str] = []
        tcp: trio.SocketStream | None = None
        for address in self.addresses(origin.host):
            try:
                tcp = await trio.open_tcp_stream(address, origin.port)
                break
            except OSError as error:
                errors.append(f"{address}: {_connect_failure(error)}")
        if tcp is None:
            raise NetworkError(f"cannot connect to {origin}: {'; '.join(errors)}")
        tracked = _TrackedStream(self, tcp)
        self.connections_opened += 1
        if origin.scheme != "https":
            return tracked
        server_hostname = origin.host.strip("[]")
        tls = trio.SSLStream(
            tracked, self.ssl_context, server_hostname=server_hostname, https_compatible=True
        )
        try:
            await tls.do_handshake()
        except (trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError) as error:
            await trio.aclose_forcefully(tls)
            raise NetworkError(
                f"cannot connect to {origin}: TLS handshake failed: {_tls_failure(error)}"
            ) from error
        except BaseException:
            # Interrupted (abort(), a pause, the connect timeout, the user agent closing:
            # a cancellation): the socket is closed at once, never left open.
            await trio.aclose_forcefully(tls)
            raise
        return tls


def _connect_failure(error: OSError) -> str:
    """Why a TCP connection could not be made, as a console says it: the resolver's
    answer for an unknown host, each attempt's reason (refused, unreachable) otherwise."""
    if isinstance(error, socket.gaierror):
        return f"unknown host (DNS: {error.strerror or error})"
    cause = error.__cause__
    if isinstance(cause, ExceptionGroup):
        reasons = dict.fromkeys(
            e.strerror or str(e) for e in cause.exceptions if isinstance(e, OSError)
        )
        if reasons:
            return "; ".join(reasons)
    return str(error.strerror or error)


def _tls_failure(error: BaseException) -> str:
    """What went wrong in a handshake, from the ssl error trio wraps."""
    cause = error.__cause__ if error.__cause__ is not None else error
    verify_message = getattr(cause, "verify_message", None)
    if verify_message:
        return f"certificate verify failed: {verify_message}"
    return str(getattr(cause, "reason", None) or cause or type(cause).__name__)


class _TrackedStream(trio.abc.HalfCloseableStream):
    """A TCP stream the network can break when it goes offline."""

    def __init__(self, network: RealNetwork, stream: trio.SocketStream) -> None:
        self._network = network
        self._stream = stream
        network._open.add(self)

    def break_(self) -> None:
        """Close the socket under any task using it: their calls raise at once."""
        self._stream.socket.close()
        self._network._open.discard(self)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return bytes(await self._stream.receive_some(max_bytes))

    async def aclose(self) -> None:
        self._network._open.discard(self)
        await self._stream.aclose()
