"""The real network: trio TCP (IPv4 and IPv6) and TLS through the ssl module."""

from __future__ import annotations

import ssl

import trio

from bgfetch.errors import NetworkError
from bgfetch.url import Origin


class RealNetwork:
    """Sockets to real hosts.  ``ssl_context`` defaults to the system trust store;
    ``trust(ca_pem)`` adds a CA (tests use trustme's)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._online = True
        self._back_online = trio.Event()

    def trust(self, ca_pem: bytes | str) -> None:
        self.ssl_context.load_verify_locations(
            cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem
        )

    def is_online(self) -> bool:
        return self._online

    def set_online(self, online: bool) -> None:
        """Simulate going offline (new connections fail) and back."""
        self._online = online
        if online:
            self._back_online.set()
            self._back_online = trio.Event()

    async def wait_until_online(self) -> None:
        while not self._online:
            await self._back_online.wait()

    async def open_stream(self, origin: Origin, *, nursery: trio.Nursery) -> trio.abc.Stream:
        if not self._online:
            raise NetworkError(f"{origin}: the user agent is offline")
        host = origin.host.strip("[]")
        try:
            stream: trio.abc.Stream = await trio.open_tcp_stream(host, origin.port)
        except OSError as error:
            raise NetworkError(f"{origin}: cannot connect: {error}") from error
        if origin.scheme != "https":
            return stream
        tls = trio.SSLStream(stream, self.ssl_context, server_hostname=host)
        try:
            await tls.do_handshake()
        except (trio.BrokenResourceError, ssl.SSLError) as error:
            await trio.aclose_forcefully(tls)
            raise NetworkError(f"{origin}: TLS handshake failed: {error}") from error
        return tls
