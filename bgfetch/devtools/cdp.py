"""A Chrome DevTools Protocol connection to a user agent, without I/O.

A :class:`Browser` is what a CDP client sees of one user agent: the browser target
and a page target per window.  A :class:`Connection` is one client's WebSocket,
as data: :meth:`Connection.receive` takes each text message the client sent, and
every message for the client (responses, events) goes to the ``send`` callable it
was made with, in order.  :mod:`bgfetch.devtools.server` does the I/O.

What a connection answers, as Chromium does:

* the Target domain's flat sessions: ``Target.setDiscoverTargets`` (a
  ``targetCreated`` per target), ``getTargets``, ``getTargetInfo``, ``attachToTarget``
  with ``flatten`` (``attachedToTarget``, then the session id; the session's messages
  carry its ``sessionId``), ``attachToBrowserTarget``, ``detachFromTarget``,
  ``setAutoAttach`` (nothing to attach to); ``Browser.getVersion``;
* on a page session (or a connection to ``/devtools/page/<id>``): the BackgroundService
  domain (Chromium's BackgroundServiceHandler: ``startObserving`` first sends
  ``recordingStateChanged``, then every logged event, then its response), and what
  DevTools' front end asks of a page to know its origin and storage key
  (``Page.getResourceTree``, ``getFrameTree``, ``getNavigationHistory``,
  ``Storage.getStorageKeyForFrame``);
* anything else: CDP's "method not found" (-32601), and an error for a message it
  cannot read; never a dropped connection.
"""

from __future__ import annotations

import json
import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bgfetch import __version__
from bgfetch.devtools.context import BackgroundServicesContext, storage_key_of
from bgfetch.devtools.protocol import (
    JSON,
    SERVER_ERROR,
    BackgroundServiceEvent,
    BackgroundServiceEventReceived,
    ClearEvents,
    ProtocolError,
    RecordingStateChanged,
    ServiceName,
    SetRecording,
    StartObserving,
    StopObserving,
    parse_command,
)
from bgfetch.sw.environment import Window

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent

PROTOCOL_VERSION = "1.3"
PRODUCT = f"bgfetch/{__version__}"
USER_AGENT = f"Mozilla/5.0 (X11; Linux x86_64) bgfetch/{__version__} (Background Fetch simulator)"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
SESSION_NOT_FOUND = -32001


def _target_id() -> str:
    return uuid.uuid4().hex.upper()  # as Chromium's: 32 upper-case hex digits


class Browser:
    """What CDP clients see of *user_agent*: the browser target and a page per window."""

    def __init__(self, user_agent: UserAgent) -> None:
        self.user_agent = user_agent
        self.context: BackgroundServicesContext = user_agent.devtools.context
        self.id = str(uuid.uuid4())
        self.browser_context_id = _target_id()
        self._page_ids: weakref.WeakKeyDictionary[Window, str] = weakref.WeakKeyDictionary()
        self._attached: dict[str, int] = {}  # target id -> sessions attached to it

    def windows(self) -> list[Window]:
        return [e for e in self.user_agent.environments if isinstance(e, Window)]

    def page_id(self, window: Window) -> str:
        if window not in self._page_ids:
            self._page_ids[window] = _target_id()
        return self._page_ids[window]

    def window(self, target_id: str) -> Window | None:
        for window in self.windows():
            if self.page_id(window) == target_id:
                return window
        return None

    def target_info(self, window: Window) -> JSON:
        """Target.TargetInfo of *window*'s page."""
        target_id = self.page_id(window)
        return {
            "targetId": target_id,
            "type": "page",
            "title": window.url.href,  # (a page without a <title> shows its URL)
            "url": window.url.href,
            "attached": self._attached.get(target_id, 0) > 0,
            "canAccessOpener": False,
            "browserContextId": self.browser_context_id,
        }

    def target_infos(self) -> list[JSON]:
        return [self.target_info(window) for window in self.windows()]

    def version(self, host: str) -> JSON:
        """GET /json/version."""
        return {
            "Browser": PRODUCT,
            "Protocol-Version": PROTOCOL_VERSION,
            "User-Agent": USER_AGENT,
            "V8-Version": "",
            "WebKit-Version": "",
            "webSocketDebuggerUrl": f"ws://{host}/devtools/browser/{self.id}",
        }

    def list(self, host: str) -> list[JSON]:
        """GET /json/list: a page target per window."""
        return [
            {
                "description": "",
                "devtoolsFrontendUrl": (
                    f"/devtools/inspector.html?ws={host}/devtools/page/{info['targetId']}"
                ),
                "id": info["targetId"],
                "title": info["title"],
                "type": "page",
                "url": info["url"],
                "webSocketDebuggerUrl": f"ws://{host}/devtools/page/{info['targetId']}",
            }
            for info in self.target_infos()
        ]

    def connect(self, path: str, send: Callable[[str], None]) -> Connection | None:
        """A connection for a WebSocket at *path* (``/devtools/browser/<id>`` or
        ``/devtools/page/<id>``); None if there is no such target."""
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["devtools", "browser"] and parts[2] == self.id:
            return Connection(self, send)
        if len(parts) == 3 and parts[:2] == ["devtools", "page"]:
            if self.window(parts[2]) is not None:
                return Connection(self, send, page=parts[2])
        return None


class Connection:
    """One client's CDP connection: its sessions, and what it was sent, as messages."""

    def __init__(self, browser: Browser, send: Callable[[str], None], *, page: str | None = None):
        self.browser = browser
        self._send = send
        self.closed = False
        # The session of messages without a sessionId: the browser's, or the page's for a
        # connection to a page; then one per attachToTarget.
        self.default = Session(self, None, page)
        self.sessions: dict[str, Session] = {}
        if page is not None:
            browser._attached[page] = browser._attached.get(page, 0) + 1

    def receive(self, text: str) -> None:
        """Handle one message from the client."""
        if self.closed:
            return
        try:
            message = json.loads(text)
        except ValueError:
            self.send({"error": {"code": PARSE_ERROR, "message": "Message must be valid JSON"}})
            return
        if not isinstance(message, dict) or not isinstance(message.get("id"), int):
            self.send(
                {
                    "error": {
                        "code": INVALID_REQUEST,
                        "message": "Message must have integer 'id' property",
                    }
                }
            )
            return
        id: int = message["id"]
        session_id = message.get("sessionId")
        reply: JSON = {"id": id}
        if session_id is not None:
            reply["sessionId"] = session_id
        method = message.get("method")
        if not isinstance(method, str):
            reply["error"] = {
                "code": INVALID_REQUEST,
                "message": "Message must have string 'method' property",
            }
            self.send(reply)
            return
        session = self.default if session_id is None else self.sessions.get(str(session_id))
        if session is None:
            reply["error"] = {
                "code": SESSION_NOT_FOUND,
                "message": f"Session with given id not found: {session_id}",
            }
            self.send(reply)
            return
        try:
            reply["result"] = session.handle(method, message.get("params"))
        except ProtocolError as error:
            reply["error"] = error.to_json()
        self.send(reply)

    def send(self, message: JSON) -> None:
        if not self.closed:
            self._send(json.dumps(message))

    def attach(self, target_id: str) -> Session:
        session = Session(self, _target_id(), target_id)
        assert session.id is not None
        self.sessions[session.id] = session
        if target_id != "browser":
            attached = self.browser._attached
            attached[target_id] = attached.get(target_id, 0) + 1
        return session

    def detach(self, session: Session) -> None:
        assert session.id is not None
        self.sessions.pop(session.id, None)
        session.close()
        target = session.target_id
        if target is not None and target in self.browser._attached:
            self.browser._attached[target] -= 1

    def close(self) -> None:
        """The client went away: stop observing, forget the sessions."""
        for session in list(self.sessions.values()):
            self.detach(session)
        self.default.close()
        page = self.default.target_id
        if page is not None and page in self.browser._attached:
            self.browser._attached[page] -= 1
        self.closed = True


class Session:
    """A CDP session: the browser's (target None) or a page's (its target id)."""

    def __init__(self, connection: Connection, id: str | None, target_id: str | None) -> None:
        self.connection = connection
        self.id = id
        self.target_id = None if target_id == "browser" else target_id
        self.background_service = (
            BackgroundServiceHandler(connection.browser.context, self.emit)
            if self.target_id is not None
            else None
        )

    def emit(self, message: JSON) -> None:
        """Send an event of this session."""
        if self.id is not None:
            message = {**message, "sessionId": self.id}
        self.connection.send(message)

    def close(self) -> None:
        if self.background_service is not None:
            self.background_service.disable()

    def handle(self, method: str, params: object) -> JSON:
        domain = method.partition(".")[0]
        if domain == "BackgroundService" and self.background_service is not None:
            return self.background_service.handle(method, params)
        if domain == "Target":
            return self._target(method, _mapping(params))
        if self.target_id is not None and method in PAGE_METHODS:
            window = self.connection.browser.window(self.target_id)
            if window is not None:
                return PAGE_METHODS[method](self.target_id, window)
        if method == "Browser.getVersion":
            return {
                "protocolVersion": PROTOCOL_VERSION,
                "product": PRODUCT,
                "revision": "",
                "userAgent": USER_AGENT,
                "jsVersion": "",
            }
        raise ProtocolError.method_not_found(method)

    def _target(self, method: str, params: Mapping[str, Any]) -> JSON:
        browser = self.connection.browser
        if method == "Target.setDiscoverTargets":
            discover = _param(params, "discover", bool)
            if discover:
                for info in browser.target_infos():
                    self.emit({"method": "Target.targetCreated", "params": {"targetInfo": info}})
            return {}
        if method == "Target.getTargets":
            return {"targetInfos": browser.target_infos()}
        if method == "Target.getTargetInfo":
            target_id = params.get("targetId", self.target_id)
            window = browser.window(target_id) if isinstance(target_id, str) else None
            if window is None:
                raise ProtocolError(SERVER_ERROR, "No target with given id found")
            return {"targetInfo": browser.target_info(window)}
        if method == "Target.attachToTarget":
            target_id = _param(params, "targetId", str)
            window = browser.window(target_id)
            if window is None:
                raise ProtocolError(SERVER_ERROR, f"No target with given id {target_id} found")
            if params.get("flatten") is not True:
                raise ProtocolError(
                    SERVER_ERROR, "bgfetch serves flat sessions only: attach with flatten: true"
                )
            session = self.connection.attach(target_id)
            self.emit(
                {
                    "method": "Target.attachedToTarget",
                    "params": {
                        "sessionId": session.id,
                        "targetInfo": browser.target_info(window),
                        "waitingForDebugger": False,
                    },
                }
            )
            return {"sessionId": session.id}
        if method == "Target.attachToBrowserTarget":
            session = self.connection.attach("browser")
            return {"sessionId": session.id}
        if method == "Target.detachFromTarget":
            session_id = params.get("sessionId")
            found = self.connection.sessions.get(str(session_id))
            if found is None:
                raise ProtocolError(SERVER_ERROR, "No session with given id")
            self.connection.detach(found)
            self.emit(
                {
                    "method": "Target.detachedFromTarget",
                    "params": {"sessionId": found.id, "targetId": found.target_id or ""},
                }
            )
            return {}
        if method in ("Target.setAutoAttach", "Target.setRemoteLocations"):
            return {}
        raise ProtocolError.method_not_found(method)


def _frame(target_id: str, window: Window) -> JSON:
    """Page.Frame of *window*: the page's main frame (its id is the target's)."""
    return {
        "id": target_id,
        "loaderId": target_id,
        "url": window.url.href,
        "domainAndRegistry": window.url.hostname,
        "securityOrigin": window.origin.serialize(),
        "mimeType": "text/html",
        "secureContextType": "Secure",
        "crossOriginIsolatedContextType": "NotIsolated",
        "gatedAPIFeatures": [],
    }


# What a page says of itself, so that DevTools' front end knows the page's origin and
# storage key (its Application panel shows the events of those).
PAGE_METHODS: dict[str, Callable[[str, Window], JSON]] = {
    "Page.getResourceTree": lambda id, window: {
        "frameTree": {"frame": _frame(id, window), "resources": []}
    },
    "Page.getFrameTree": lambda id, window: {"frameTree": {"frame": _frame(id, window)}},
    "Page.getNavigationHistory": lambda id, window: {
        "currentIndex": 0,
        "entries": [
            {
                "id": 0,
                "url": window.url.href,
                "userTypedURL": window.url.href,
                "title": window.url.href,
                "transitionType": "typed",
            }
        ],
    },
    "Storage.getStorageKeyForFrame": lambda id, window: {
        "storageKey": storage_key_of(window.origin.serialize())
    },
    "Storage.getStorageKey": lambda id, window: {
        "storageKey": storage_key_of(window.origin.serialize())
    },
}


def _mapping(params: object) -> Mapping[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ProtocolError(-32602, "Invalid parameters", "params must be an object")
    return params


def _param(params: Mapping[str, Any], name: str, kind: type) -> Any:
    value = params.get(name)
    if not isinstance(value, kind):
        raise ProtocolError.invalid_params(name, "mandatory field missing")
    return value


class BackgroundServiceHandler:
    """The BackgroundService domain of one session (Chromium's BackgroundServiceHandler):
    which services it observes, and the events it sends for them."""

    def __init__(self, context: BackgroundServicesContext, emit: Callable[[JSON], None]) -> None:
        self.context = context
        self._emit = emit
        self.observing: set[ServiceName] = set()

    def handle(self, method: str, params: object) -> JSON:
        command = parse_command(method, params)
        if isinstance(command, StartObserving):
            self.start_observing(command.service)
        elif isinstance(command, StopObserving):
            self.stop_observing(command.service)
        elif isinstance(command, SetRecording):
            if command.should_record:
                self.context.start_recording(command.service)
            else:
                self.context.stop_recording(command.service)
        elif isinstance(command, ClearEvents):
            self.context.clear(command.service)
        return {}

    def start_observing(self, service: ServiceName) -> None:
        if service in self.observing:
            return
        if not self.observing:
            self.context.add_observer(self)
        self.observing.add(service)
        is_recording = self.context.is_recording(service)
        self._emit(RecordingStateChanged(is_recording, service).to_json())
        for event in self.context.events(service):
            self._emit(BackgroundServiceEventReceived(event).to_json())

    def stop_observing(self, service: ServiceName) -> None:
        if service not in self.observing:
            return
        self.observing.discard(service)
        if not self.observing:
            self.context.remove_observer(self)

    def disable(self) -> None:
        self.observing.clear()
        self.context.remove_observer(self)

    # The context's observer:
    def on_event_received(self, event: BackgroundServiceEvent) -> None:
        if event.service in self.observing:
            self._emit(BackgroundServiceEventReceived(event).to_json())

    def on_recording_state_changed(self, is_recording: bool, service: ServiceName) -> None:
        if service in self.observing:
            self._emit(RecordingStateChanged(is_recording, service).to_json())
