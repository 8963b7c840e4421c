"""The user agent's background-services log: Chromium's DevToolsBackgroundServicesContext.

Per service, a recording state that lapses three days after recording started, on
the user agent's clock; events are logged only while their service records, each
under its storage key, and kept in the user agent's store (``kind`` "devtools")
when it has one, so the log and the recording state survive a restart.  Observers
(one per CDP session that observes a service) hear every logged event and every
change of recording state.

The clock: seconds since the epoch, advancing with trio's clock (simulated time
under a MockClock), and never behind an event already logged (a restarted user
agent's MockClock starts at 0 again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import trio

from bgfetch.devtools.protocol import BackgroundServiceEvent, EventMetadata, ServiceName
from bgfetch.store.base import Store

KIND = "devtools"
RECORDING_DURATION = 3 * 24 * 3600.0  # seconds: recording lapses after three days


class Observer(Protocol):
    def on_event_received(self, event: BackgroundServiceEvent) -> None: ...

    def on_recording_state_changed(self, is_recording: bool, service: ServiceName) -> None: ...


def storage_key_of(origin: str) -> str:
    """A first-party storage key, serialized as Chromium does: the origin and "/"."""
    return origin.rstrip("/") + "/"


class BackgroundServicesContext:
    """Recording states, the logged events, and who observes them."""

    def __init__(self, store: Store, *, clock: Callable[[], float] | None = None) -> None:
        self._store = store
        self._observers: list[Observer] = []
        saved = store.load(KIND)
        self._expirations: dict[ServiceName, float] = {}
        self._registration_ids: dict[str, str] = {}
        self._events: dict[str, BackgroundServiceEvent] = {}
        for key, value in saved.items():
            kind, _, name = key.partition(":")
            if kind == "recording":
                self._expirations[ServiceName(name)] = float(value["expires"])
            elif kind == "registration":
                self._registration_ids[name] = str(value["id"])
            elif kind == "event":
                self._events[key] = BackgroundServiceEvent.from_json(value)
        self._next = 1 + max((int(k.partition(":")[2]) for k in self._events), default=0)
        if clock is None:
            latest = max((e.timestamp for e in self._events.values()), default=0.0)
            epoch = max(time.time(), latest) - trio.current_time()

            def clock() -> float:
                return epoch + trio.current_time()

        self.clock: Callable[[], float] = clock
        # A recording state found lapsed on opening is forgotten, as Chromium does.
        for service in list(self._expirations):
            if self.is_recording_expired(service):
                self._set_expiration(service, None)

    # -- observers ------------------------------------------------------------------------

    def add_observer(self, observer: Observer) -> None:
        self._observers.append(observer)

    def remove_observer(self, observer: Observer) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    # -- recording ------------------------------------------------------------------------

    def start_recording(self, service: ServiceName) -> None:
        """Record *service* for three days from now, and tell every observer."""
        self._set_expiration(service, self.clock() + RECORDING_DURATION)
        for observer in list(self._observers):
            observer.on_recording_state_changed(True, service)

    def stop_recording(self, service: ServiceName) -> None:
        self._set_expiration(service, None)
        for observer in list(self._observers):
            observer.on_recording_state_changed(False, service)

    def is_recording(self, service: ServiceName) -> bool:
        """Whether *service* records; a lapsed recording is found out (and stopped) only
        when the next event would be logged, as in Chromium."""
        return service in self._expirations

    def is_recording_expired(self, service: ServiceName) -> bool:
        expires = self._expirations.get(service)
        return expires is not None and expires < self.clock()

    def recording_expires(self, service: ServiceName) -> float | None:
        return self._expirations.get(service)

    def _set_expiration(self, service: ServiceName, expires: float | None) -> None:
        key = f"recording:{service.value}"
        if expires is None:
            self._expirations.pop(service, None)
            self._store.delete(KIND, key)
        else:
            self._expirations[service] = expires
            self._store.save(KIND, key, {"expires": expires})

    # -- the log --------------------------------------------------------------------------

    def registration_id(self, scope: str) -> str:
        """The service worker registration id DevTools shows for the registration at
        *scope*: a number, given in order of first sight and kept in the store."""
        if scope not in self._registration_ids:
            id = str(len(self._registration_ids))
            self._registration_ids[scope] = id
            self._store.save(KIND, f"registration:{scope}", {"id": id})
        return self._registration_ids[scope]

    def log(
        self,
        *,
        service: ServiceName,
        scope: str,
        origin: str,
        event_name: str,
        instance_id: str,
        metadata: Mapping[str, str],
    ) -> BackgroundServiceEvent | None:
        """Log an event of *service* (LogBackgroundServiceEvent): only while it records;
        a lapsed recording is stopped instead (observers hear it).  Returns the event
        logged, if one was."""
        if not self.is_recording(service):
            return None
        if self.is_recording_expired(service):
            self.stop_recording(service)
            return None
        event = BackgroundServiceEvent(
            timestamp=self.clock(),
            origin=storage_key_of(origin),
            service_worker_registration_id=self.registration_id(scope),
            service=service,
            event_name=event_name,
            instance_id=instance_id,
            event_metadata=tuple(EventMetadata(k, metadata[k]) for k in sorted(metadata)),
            storage_key=storage_key_of(origin),
        )
        key = f"event:{self._next:012d}"
        self._next += 1
        self._events[key] = event
        self._store.save(KIND, key, event.to_json())
        for observer in list(self._observers):
            observer.on_event_received(event)
        return event

    def events(
        self, service: ServiceName, *, storage_key: str | None = None
    ) -> list[BackgroundServiceEvent]:
        """The logged events of *service* (of one storage key, if given), oldest first."""
        events = [
            e
            for e in self._events.values()
            if e.service is service and (storage_key is None or e.storage_key == storage_key)
        ]
        return sorted(events, key=lambda e: e.timestamp)  # stable: same-time events stay

    def clear(self, service: ServiceName) -> None:
        """Forget every logged event of *service*, of every storage key."""
        for key, event in list(self._events.items()):
            if event.service is service:
                del self._events[key]
                self._store.delete(KIND, key)


def load_saved_events(saved: Mapping[str, Mapping[str, Any]]) -> list[BackgroundServiceEvent]:
    """The events among a store's saved "devtools" values, oldest first."""
    events = [
        BackgroundServiceEvent.from_json(value)
        for key, value in saved.items()
        if key.startswith("event:")
    ]
    return sorted(events, key=lambda e: e.timestamp)
