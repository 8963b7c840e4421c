"""The events postMessage() delivers: MessageEvent (HTML), at a page's
``navigator.service_worker``, and ExtendableMessageEvent (Service Workers
#extendablemessageevent-interface), at a service worker's global scope."""

from __future__ import annotations

from typing import Any

from bgfetch.dom import Event
from bgfetch.sw.events import ExtendableEvent
from bgfetch.url import Origin


class _MessageAttributes:
    """What both message events carry: ``data``, ``last_event_id``, ``source``, ``ports``
    (HTML's MessageEventInit, Service Workers' ExtendableMessageEventInit)."""

    def _initialize(self, data: Any, last_event_id: str, source: Any) -> None:
        self.data = data
        self.last_event_id = last_event_id
        self.source = source
        self.ports: list[Any] = []  # bgfetch transfers no MessagePorts


class MessageEvent(Event, _MessageAttributes):
    """HTML's MessageEvent: ``data``, ``origin``, ``last_event_id``, ``source``, ``ports``.
    (Constructed, untrusted; the user agent's are made with ``bgfetch.dom.create_an_event``.)"""

    def __init__(
        self,
        type: str,
        *,
        data: Any = None,
        origin: str = "",
        last_event_id: str = "",
        source: Any = None,
    ) -> None:
        super().__init__(type)
        self._initialize(data, last_event_id, source)
        self.origin = origin


class ExtendableMessageEvent(ExtendableEvent, _MessageAttributes):
    """ExtendableMessageEvent (Service Workers #extendablemessageevent-interface)."""

    def __init__(
        self,
        type: str,
        *,
        data: Any = None,
        origin: Origin | str | None = None,
        last_event_id: str = "",
        source: Any = None,
    ) -> None:
        super().__init__(type)
        self._initialize(data, last_event_id, source)
        self._origin = origin

    @property
    def origin(self) -> str:
        """Service Workers #extendablemessage-event-origin"""
        # 1. If this's origin is an origin, return its serialization.
        if isinstance(self._origin, Origin):
            return self._origin.serialize()
        # 2. If this's origin is null, return the empty string.  3. Return this's origin.
        return self._origin or ""
