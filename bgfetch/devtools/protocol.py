"""The Chrome DevTools Protocol's BackgroundService domain, as data: no I/O.

Types, commands and events in CDP's camelCase wire form and back (``to_json`` /
``from_json``), and CDP's error shape.  Like h11 for HTTP, this module only turns
messages into objects and objects into messages; :mod:`bgfetch.devtools.cdp` answers
them and :mod:`bgfetch.devtools.server` carries them over a WebSocket.

The domain is experimental in CDP; these are its types as Chromium 1xx serves them
(``storageKey`` included), with Chromium's error messages.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

JSON = dict[str, Any]

# JSON-RPC error codes CDP uses.
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000


class ProtocolError(Exception):
    """A CDP error response's ``error``: ``{"code": ..., "message": ..., "data"?: ...}``."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> JSON:
        error: JSON = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    @classmethod
    def method_not_found(cls, method: str) -> ProtocolError:
        """Chromium's answer to a method it does not have."""
        return cls(METHOD_NOT_FOUND, f"'{method}' wasn't found")

    @classmethod
    def invalid_params(cls, field: str, problem: str) -> ProtocolError:
        """Chromium's answer to params that do not deserialize."""
        return cls(
            INVALID_PARAMS,
            "Invalid parameters",
            f"Failed to deserialize params.{field} - BINDINGS: {problem}",
        )


class ServiceName(enum.Enum):
    """BackgroundService.ServiceName: the background service of a command or event."""

    BACKGROUND_FETCH = "backgroundFetch"
    BACKGROUND_SYNC = "backgroundSync"
    PUSH_MESSAGING = "pushMessaging"
    NOTIFICATIONS = "notifications"
    PAYMENT_HANDLER = "paymentHandler"
    PERIODIC_BACKGROUND_SYNC = "periodicBackgroundSync"

    def to_json(self) -> str:
        return self.value

    @classmethod
    def from_json(cls, value: object) -> ServiceName:
        """The service named *value*: a string that is not one is Chromium's "Invalid
        service name"; anything else is invalid params."""
        if not isinstance(value, str):
            raise ProtocolError.invalid_params("service", "string value expected")
        try:
            return cls(value)
        except ValueError:
            raise ProtocolError(INVALID_PARAMS, "Invalid service name") from None


def _field(params: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """params[name], of *kind*: Chromium's "invalid params" if it is missing or not."""
    if name not in params:
        raise ProtocolError.invalid_params(name, "mandatory field missing")
    value = params[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # (A bool is an int in Python, not in JSON.)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = {str: "string", bool: "boolean", float: "double", list: "array"}
        raise ProtocolError.invalid_params(
            name, f"{names.get(kinds[-1], 'object')} value expected"
        )
    return value


def _params(params: object) -> Mapping[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ProtocolError(INVALID_PARAMS, "Invalid parameters", "params must be an object")
    return params


@attrs.frozen
class EventMetadata:
    """BackgroundService.EventMetadata: a key-value pair of an event's information."""

    key: str
    value: str

    def to_json(self) -> JSON:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_json(cls, json: Mapping[str, Any]) -> EventMetadata:
        return cls(key=_field(json, "key", str), value=_field(json, "value", str))


@attrs.frozen
class BackgroundServiceEvent:
    """BackgroundService.BackgroundServiceEvent: one logged event."""

    timestamp: float  # Network.TimeSinceEpoch: seconds
    origin: str
    service_worker_registration_id: str  # ServiceWorker.RegistrationID
    service: ServiceName
    event_name: str
    instance_id: str
    event_metadata: tuple[EventMetadata, ...]
    storage_key: str

    def metadata(self) -> dict[str, str]:
        """The metadata as a mapping (keys are unique; their order is not significant)."""
        return {entry.key: entry.value for entry in self.event_metadata}

    def to_json(self) -> JSON:
        return {
            "timestamp": self.timestamp,
            "origin": self.origin,
            "serviceWorkerRegistrationId": self.service_worker_registration_id,
            "service": self.service.to_json(),
            "eventName": self.event_name,
            "instanceId": self.instance_id,
            "eventMetadata": [entry.to_json() for entry in self.event_metadata],
            "storageKey": self.storage_key,
        }

    @classmethod
    def from_json(cls, json: Mapping[str, Any]) -> BackgroundServiceEvent:
        timestamp = _field(json, "timestamp", (int, float))
        if not math.isfinite(timestamp):
            raise ProtocolError.invalid_params("timestamp", "finite double value expected")
        metadata = _field(json, "eventMetadata", list)
        return cls(
            timestamp=float(timestamp),
            origin=_field(json, "origin", str),
            service_worker_registration_id=_field(json, "serviceWorkerRegistrationId", str),
            service=ServiceName.from_json(_field(json, "service", str)),
            event_name=_field(json, "eventName", str),
            instance_id=_field(json, "instanceId", str),
            event_metadata=tuple(EventMetadata.from_json(_object(m)) for m in metadata),
            storage_key=_field(json, "storageKey", str),
        )


def _object(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProtocolError.invalid_params("eventMetadata", "object value expected")
    return value


# -- commands ----------------------------------------------------------------------------


@attrs.frozen
class StartObserving:
    """BackgroundService.startObserving: enables event updates for the service."""

    METHOD: ClassVar[str] = "BackgroundService.startObserving"
    service: ServiceName

    def to_json(self) -> JSON:
        return {"method": self.METHOD, "params": {"service": self.service.to_json()}}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StartObserving:
        return cls(ServiceName.from_json(_field(params, "service", str)))


@attrs.frozen
class StopObserving:
    """BackgroundService.stopObserving: disables event updates for the service."""

    METHOD: ClassVar[str] = "BackgroundService.stopObserving"
    service: ServiceName

    def to_json(self) -> JSON:
        return {"method": self.METHOD, "params": {"service": self.service.to_json()}}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StopObserving:
        return cls(ServiceName.from_json(_field(params, "service", str)))


@attrs.frozen
class SetRecording:
    """BackgroundService.setRecording: set the recording state for the service."""

    METHOD: ClassVar[str] = "BackgroundService.setRecording"
    should_record: bool
    service: ServiceName

    def to_json(self) -> JSON:
        return {
            "method": self.METHOD,
            "params": {"shouldRecord": self.should_record, "service": self.service.to_json()},
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SetRecording:
        should_record = _field(params, "shouldRecord", bool)
        return cls(should_record, ServiceName.from_json(_field(params, "service", str)))


@attrs.frozen
class ClearEvents:
    """BackgroundService.clearEvents: clears all stored data for the service."""

    METHOD: ClassVar[str] = "BackgroundService.clearEvents"
    service: ServiceName

    def to_json(self) -> JSON:
        return {"method": self.METHOD, "params": {"service": self.service.to_json()}}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ClearEvents:
        return cls(ServiceName.from_json(_field(params, "service", str)))


Command = StartObserving | StopObserving | SetRecording | ClearEvents
COMMANDS: dict[str, type[Command]] = {
    c.METHOD: c for c in (StartObserving, StopObserving, SetRecording, ClearEvents)
}


def parse_command(method: str, params: object) -> Command:
    """The BackgroundService command *method* with *params*; ProtocolError for a method
    the domain does not have (-32601) or params it cannot read (-32602)."""
    command = COMMANDS.get(method)
    if command is None:
        raise ProtocolError.method_not_found(method)
    return command.from_params(_params(params))


# -- events ------------------------------------------------------------------------------


@attrs.frozen
class RecordingStateChanged:
    """BackgroundService.recordingStateChanged."""

    METHOD: ClassVar[str] = "BackgroundService.recordingStateChanged"
    is_recording: bool
    service: ServiceName

    def to_json(self) -> JSON:
        return {
            "method": self.METHOD,
            "params": {"isRecording": self.is_recording, "service": self.service.to_json()},
        }

    @classmethod
    def from_json(cls, params: Mapping[str, Any]) -> RecordingStateChanged:
        return cls(
            _field(params, "isRecording", bool),
            ServiceName.from_json(_field(params, "service", str)),
        )


@attrs.frozen
class BackgroundServiceEventReceived:
    """BackgroundService.backgroundServiceEventReceived: every stored event when observing
    starts, then every new one while recording."""

    METHOD: ClassVar[str] = "BackgroundService.backgroundServiceEventReceived"
    background_service_event: BackgroundServiceEvent

    def to_json(self) -> JSON:
        return {
            "method": self.METHOD,
            "params": {"backgroundServiceEvent": self.background_service_event.to_json()},
        }

    @classmethod
    def from_json(cls, params: Mapping[str, Any]) -> BackgroundServiceEventReceived:
        event = _field(params, "backgroundServiceEvent", Mapping)
        return cls(BackgroundServiceEvent.from_json(event))


Event = RecordingStateChanged | BackgroundServiceEventReceived
EVENTS: dict[str, type[Event]] = {
    e.METHOD: e for e in (RecordingStateChanged, BackgroundServiceEventReceived)
}


def parse_event(message: Mapping[str, Any]) -> Event:
    """A BackgroundService event message ``{"method": ..., "params": ...}`` as an object."""
    method = message.get("method")
    event = EVENTS.get(method) if isinstance(method, str) else None
    if event is None:
        raise ProtocolError.method_not_found(str(method))
    return event.from_json(_params(message.get("params")))
