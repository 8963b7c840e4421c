"""What a transport offers the HTTP client: streams to origins, and the online state.

The HTTP client (bgfetch.fetch.http) speaks h11 over whatever
``trio.abc.Stream`` a transport opens; it never knows whether the bytes go
through the virtual network or a real socket.
"""

from __future__ import annotations

from typing import Protocol

import trio

from bgfetch.infra import Condition
from bgfetch.url import Origin


class OnlineSwitch:
    """The online state every transport has: a switch, and a way to wait for it.

    Going offline calls :meth:`break_connections`, which a transport overrides to
    break its open connections.
    """

    def __init__(self) -> None:
        self._online = True
        self._online_changed = Condition()

    def is_online(self) -> bool:
        return self._online

    def set_online(self, online: bool) -> None:
        """Go offline (every open connection breaks, new ones fail) or back online."""
        if online == self._online:
            return
        self._online = online
        self._online_changed.notify()
        if not online:
            self.break_connections()

    def break_connections(self) -> None:
        """Break every open connection (going offline)."""

    async def wait_until_online(self) -> None:
        await self._online_changed.wait_for(lambda: self._online)
        await trio.lowlevel.checkpoint()


class Transport(Protocol):
    def is_online(self) -> bool:
        """False while the user agent is offline: resources are "temporarily unavailable"."""
        ...

    async def wait_until_online(self) -> None:
        """Return once :meth:`is_online` is true."""
        ...

    async def open_stream(self, origin: Origin, *, nursery: trio.Nursery) -> trio.abc.Stream:
        """Open a byte stream to *origin* (a tuple origin: scheme, host, port).

        Raises :class:`bgfetch.errors.NetworkError` naming the origin when no
        connection can be made.  *nursery* owns any task the transport needs for
        the connection (the virtual network runs the server side there).
        """
        ...
