"""DevTools' Background Services, for a simulated browser: the CDP BackgroundService
domain, the log behind it, and an endpoint that serves it.

* :mod:`~bgfetch.devtools.protocol`: the domain's types, commands and events in CDP's
  wire form, and CDP's errors; no I/O (like h11).
* :mod:`~bgfetch.devtools.context`: the log (Chromium's
  DevToolsBackgroundServicesContext): recording states that lapse after three days,
  events per storage key, kept in the user agent's store.
* :mod:`~bgfetch.devtools.recorder`: Chromium's Background Fetch events, from the
  algorithm steps ``ua.observers`` delivers (observing, never steering).
* :mod:`~bgfetch.devtools.cdp`: a CDP connection without I/O: targets, the Target
  domain's flat sessions, the BackgroundService domain, "method not found" for the rest.
* :mod:`~bgfetch.devtools.server`: that connection over WebSocket (trio-websocket),
  with ``/json/version`` and ``/json/list``: ``await ua.serve_devtools(port=...)``.

Every user agent has one, ``ua.devtools``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.devtools.context import BackgroundServicesContext
from bgfetch.devtools.protocol import BackgroundServiceEvent, ServiceName
from bgfetch.devtools.recorder import BackgroundFetchRecorder

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent


class DevTools:
    """A user agent's DevTools side: its background-services log, and the recorder that
    fills it from the user agent's observed steps."""

    def __init__(self, user_agent: UserAgent) -> None:
        self.context = BackgroundServicesContext(user_agent.store)
        self.recorder = BackgroundFetchRecorder(self.context, user_agent.edition.NAME)
        user_agent.observers.subscribe(self.recorder)

    def set_recording(
        self, should_record: bool, service: ServiceName = ServiceName.BACKGROUND_FETCH
    ) -> None:
        """Press (or release) Record in DevTools' pane for *service*."""
        if should_record:
            self.context.start_recording(service)
        else:
            self.context.stop_recording(service)

    def events(
        self,
        service: ServiceName = ServiceName.BACKGROUND_FETCH,
        *,
        storage_key: str | None = None,
    ) -> list[BackgroundServiceEvent]:
        """The logged events of *service*, oldest first (of one storage key, if given)."""
        return self.context.events(service, storage_key=storage_key)


__all__ = ["BackgroundServiceEvent", "DevTools", "ServiceName"]
