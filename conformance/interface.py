"""The backend interface: what a conformance test can do to a user agent, and see.

A test opens a :class:`Page` from a :class:`Backend` (``async with backend.open_page(
setup) as page``): a window at an origin whose servers hold WPT's shared fixtures, with a
service worker of a *named behaviour* (:data:`BEHAVIOURS`) registered and, unless the
setup says otherwise, activated and past WPT's 'ready' handshake.  The test then calls
the manager and registration methods through the page, reads attributes, records,
bodies and progress events, waits for the messages the worker posts, and reads the
servers' request logs.

Everything a page method takes or returns is a value that crosses a JSON boundary
(strings, numbers, booleans, lists, objects; bodies as base64), so a backend driving
JavaScript over the DevTools Protocol implements each method as one evaluated snippet.
Page-side objects (BackgroundFetchRegistration, BackgroundFetchRecord) cross as
*handles*: small integers, one per distinct object, so that two calls answering the
same object answer the same handle (``get()`` identity).  A rejected promise crosses as
:class:`Rejected` (the exception's ``name`` and ``message``).

The origin servers are bgfetch's :class:`~bgfetch.testing.OriginServer` in this
process for every backend (the reference backend puts them on its network, a browser
backend serves them on loopback): tests configure resources and read
``server.requests`` the same way whatever runs the page.  README.md describes the
interface and the behaviours for implementers.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol, TypeAlias

import attrs

from bgfetch.testing import OriginServer

JSON: TypeAlias = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]

Edition = Literal["current", "2017-10-12"]
EDITIONS: tuple[Edition, ...] = ("current", "2017-10-12")

OriginName = Literal["main", "remote", "http"]
"""The origins a page knows: ``main`` (https, the page's own), ``remote`` (https, another
host: cross-origin), ``http`` (the page's host over plain http: mixed content)."""

Network = Literal["virtual", "loopback"]
"""What carries the requests: the reference backend's virtual network (in simulated
time), or real sockets on loopback (every browser backend; the reference backend for
the tests whose point is a network rule)."""

BEHAVIOURS: dict[str, str] = {
    "sw.js": "WPT's sw.js: reports each completion event's registration and records",
    "sw-abort.js": "WPT's sw-abort.js: reports how each record's responseReady settles",
    "sw-update-ui.js": "WPT's sw-update-ui.js: calls updateUI() by the registration's id",
    "sw-cors.js": "Chromium's sw-cors.js: sw.js plus each response's type and secret header",
    "sw-settled-match.js": "the removed settled-event-match(all) workers (2017-10-12)",
    "sw-idl.js": "answers a message 'interfaces' with the IDL members of its global",
}
"""The service-worker behaviours a backend implements (README.md gives each exactly)."""


class Rejected(Exception):
    """A promise the page awaited rejected (or a call threw): the exception's name
    ("TypeError", "AbortError", "InvalidStateError", "QuotaExceededError", ...), its
    message, and a QuotaExceededError's ``quota`` and ``requested`` (null unless known)."""

    def __init__(
        self,
        name: str,
        message: str = "",
        *,
        quota: float | None = None,
        requested: float | None = None,
    ) -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name = name
        self.message = message
        self.quota = quota
        self.requested = requested

    def to_json(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "message": self.message,
            "quota": self.quota,
            "requested": self.requested,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Rejected:
        """From ``{name, message, quota?, requested?}``."""
        return cls(
            str(value["name"]),
            str(value.get("message", "")),
            quota=value.get("quota"),
            requested=value.get("requested"),
        )


# -- what a test sends --------------------------------------------------------------

BodyKind = Literal[
    "string", "arraybuffer", "typedarray", "dataview", "blob", "file", "urlsearchparams", "formdata"
]


@attrs.frozen
class Body:
    """A request body: *text* as a JavaScript BodyInit of *kind* (``string``: a
    string; ``arraybuffer``/``typedarray``/``dataview``: its UTF-8 bytes in an
    ArrayBuffer, a Uint8Array, a DataView; ``blob``/``file``: a Blob, a File named
    "body.txt", both without a type; ``urlsearchparams``: ``new URLSearchParams(text)``;
    ``formdata``: a FormData of one entry, ``append("text", text)``)."""

    text: str
    kind: BodyKind = "string"

    def to_json(self) -> dict[str, JSON]:
        return {"kind": self.kind, "text": self.text}


@attrs.frozen
class Req:
    """A request a test hands to fetch() or match(): ``new Request(url, init)``.

    *headers* are sent in order; *body* a :class:`Body` or a string (kind "string").
    A plain URL string may be given wherever a Req is (JavaScript's RequestInfo)."""

    url: str
    method: str | None = None
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=tuple)
    body: Body | str | None = None
    mode: str | None = None
    credentials: str | None = None

    def to_json(self) -> dict[str, JSON]:
        init: dict[str, JSON] = {}
        if self.method is not None:
            init["method"] = self.method
        if self.headers:
            init["headers"] = [[name, value] for name, value in self.headers]
        if self.body is not None:
            body = Body(self.body) if isinstance(self.body, str) else self.body
            init["body"] = body.to_json()
        if self.mode is not None:
            init["mode"] = self.mode
        if self.credentials is not None:
            init["credentials"] = self.credentials
        return {"url": self.url, "init": init}


RequestSpec: TypeAlias = str | Req


def requests_to_json(requests: RequestSpec | Sequence[RequestSpec]) -> JSON:
    """A RequestInfo or a sequence of them, as JSON: a string, ``{url, init}``, or a list."""
    if isinstance(requests, str):
        return requests
    if isinstance(requests, Req):
        return requests.to_json()
    return [r if isinstance(r, str) else r.to_json() for r in requests]


@attrs.frozen
class FetchOptions:
    """BackgroundFetchOptions."""

    download_total: int | None = None
    title: str | None = None
    icons: tuple[Mapping[str, JSON], ...] | None = None

    def to_json(self) -> dict[str, JSON]:
        options: dict[str, JSON] = {}
        if self.download_total is not None:
            options["downloadTotal"] = self.download_total
        if self.title is not None:
            options["title"] = self.title
        if self.icons is not None:
            options["icons"] = [dict(icon) for icon in self.icons]
        return options


@attrs.frozen
class MatchOptions:
    """CacheQueryOptions for match() / matchAll()."""

    ignore_search: bool = False
    ignore_method: bool = False
    ignore_vary: bool = False

    def to_json(self) -> dict[str, JSON]:
        return {
            "ignoreSearch": self.ignore_search,
            "ignoreMethod": self.ignore_method,
            "ignoreVary": self.ignore_vary,
        }


@attrs.frozen
class Call:
    """One fetch() call of :meth:`Page.fetch_together`."""

    id: str
    requests: RequestSpec | tuple[RequestSpec, ...]
    options: FetchOptions | None = None

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "requests": requests_to_json(self.requests),
            "options": (self.options or FetchOptions()).to_json(),
        }


# -- what a test reads --------------------------------------------------------------


@attrs.frozen
class Attributes:
    """A BackgroundFetchRegistration's attributes, read at once.  The 2017-10-12 draft
    has no result, failureReason or recordsAvailable: None there."""

    id: str
    upload_total: int
    uploaded: int
    download_total: int
    downloaded: int
    result: str | None = None
    failure_reason: str | None = None
    records_available: bool | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Attributes:
        """From ``{id, uploadTotal, uploaded, downloadTotal, downloaded, result?,
        failureReason?, recordsAvailable?}`` (the IDL's names)."""
        return cls(
            id=str(value["id"]),
            upload_total=int(value["uploadTotal"]),
            uploaded=int(value["uploaded"]),
            download_total=int(value["downloadTotal"]),
            downloaded=int(value["downloaded"]),
            result=value.get("result"),
            failure_reason=value.get("failureReason"),
            records_available=value.get("recordsAvailable"),
        )


@attrs.frozen
class Progress:
    """One progress event as a listener saw it: whether ``event.target`` was the
    registration listened to, the event's ``type`` and ``isTrusted``, and the
    attributes of ``event.target`` read inside the listener."""

    target_is_registration: bool
    type: str
    is_trusted: bool | None
    attributes: Attributes
    time: float
    """Seconds since the page opened, on the backend's clock, when the listener ran."""

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Progress:
        """From ``{targetIsRegistration, type, isTrusted, target: {attributes}, time}``."""
        return cls(
            target_is_registration=bool(value["targetIsRegistration"]),
            type=str(value["type"]),
            is_trusted=value.get("isTrusted"),
            attributes=Attributes.from_json(value["target"]),
            time=float(value["time"]),
        )


def _b64(data: str | None) -> bytes:
    return base64.b64decode(data) if data else b""


@attrs.frozen
class RequestSnapshot:
    """A record's ``request``: its URL, method, headers and body bytes (read with
    ``arrayBuffer()``; ``body_error`` names the exception if that rejected)."""

    url: str
    method: str
    mode: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_error: str | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RequestSnapshot:
        """From ``{url, method, mode, headers: [[name, value]], bodyBase64, bodyError}``."""
        return cls(
            url=str(value["url"]),
            method=str(value["method"]),
            mode=str(value["mode"]),
            headers=tuple((str(n), str(v)) for n, v in value["headers"]),
            body=_b64(value.get("bodyBase64")),
            body_error=value.get("bodyError"),
        )


@attrs.frozen
class ResponseSnapshot:
    """A record's response once ``responseReady`` resolved: URL, status, type, headers
    and the body bytes (``body_error`` names the exception if reading it failed)."""

    url: str
    status: int
    type: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_error: str | None = None

    @property
    def text(self) -> str:
        """The body as ``Response.text()`` decodes it."""
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for n, v in self.headers if n.lower() == name), None)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> ResponseSnapshot:
        """From ``{url, status, type, headers: [[name, value]], bodyBase64, bodyError}``."""
        return cls(
            url=str(value["url"]),
            status=int(value["status"]),
            type=str(value["type"]),
            headers=tuple((str(n), str(v)) for n, v in value["headers"]),
            body=_b64(value.get("bodyBase64")),
            body_error=value.get("bodyError"),
        )


@attrs.frozen
class PageSetup:
    """How to open a page: which WPT file's page, which behaviour, which edition."""

    edition: Edition = "current"
    worker: str = "sw.js"
    """A name in :data:`BEHAVIOURS`."""
    page: str = "/background-fetch/fetch.https.window.html"
    """The page's path on the main origin (WPT's ``location.pathname``)."""
    activate: bool = True
    """False: register the worker at ``service_workers/`` + the page's path and return
    at once, keeping it from activating (its install event extended until the page
    closes): the registration has no active worker for the whole test.  True (WPT's
    backgroundFetchTest): register at ``service_workers/scope`` + the page's path, wait
    until activated, then the 'ready' handshake."""
    csp: str | None = None
    """The page's Content-Security-Policy header."""
    network: Network = "virtual"
    """What the test needs: "loopback" for the network-rule cases; a backend that only
    has loopback runs every test there."""


Handle: TypeAlias = int
"""A page-side object (a BackgroundFetchRegistration or a BackgroundFetchRecord)."""


class Page(Protocol):
    """A window with a service worker of a named behaviour.  Timeouts are seconds on the
    backend's clock (simulated for the reference backend on its virtual network)."""

    @property
    def edition(self) -> Edition: ...

    def origin(self, name: OriginName = "main") -> str:
        """The origin *name* serializes to here, e.g. "https://web-platform.test"."""
        ...

    def server(self, name: OriginName = "main") -> OriginServer:
        """The server of origin *name* (resources; ``requests``, the request log).  The
        http origin is served by the main origin's server."""
        ...

    async def registration_state(self) -> dict[str, bool]:
        """``{"installing", "waiting", "active"}``: whether the page's
        ServiceWorkerRegistration has each worker."""
        ...

    async def fetch(
        self,
        id: str,
        requests: RequestSpec | Sequence[RequestSpec],
        options: FetchOptions | None = None,
    ) -> Handle:
        """``registration.backgroundFetch.fetch(id, requests, options)``; Rejected if it
        rejects."""
        ...

    async def fetch_together(self, calls: Sequence[Call]) -> list[Handle | Rejected]:
        """Several fetch() calls made in the same turn, each call's outcome."""
        ...

    async def get(self, id: str | None) -> Handle | None:
        """``backgroundFetch.get(id)`` (None: ``get()`` without an argument)."""
        ...

    async def get_ids(self) -> list[str]: ...

    async def attributes(self, registration: Handle) -> Attributes:
        """The registration's attributes, read now."""
        ...

    async def abort(self, registration: Handle) -> bool: ...

    async def match(
        self,
        registration: Handle,
        request: RequestSpec | None = None,
        options: MatchOptions | None = None,
    ) -> Handle | None:
        """``registration.match(request, options)`` (current edition); a record handle."""
        ...

    async def match_all(
        self,
        registration: Handle,
        request: RequestSpec | None = None,
        options: MatchOptions | None = None,
    ) -> list[Handle]:
        """``registration.matchAll(request, options)`` (current edition)."""
        ...

    async def record_request(self, record: Handle) -> RequestSnapshot: ...

    async def record_response(self, record: Handle, *, timeout: float = 60) -> ResponseSnapshot:
        """Await the record's ``responseReady`` and read the body; Rejected with the
        rejection's name if responseReady rejects."""
        ...

    async def listen_progress(
        self, registration: Handle, *, via: Literal["onprogress", "listener"] = "listener"
    ) -> None:
        """Start recording the registration's progress events (``onprogress = ...``, or
        ``addEventListener('progress', ...)``)."""
        ...

    async def progress(
        self, registration: Handle, *, at_least: int = 0, timeout: float = 60
    ) -> list[Progress]:
        """The progress events recorded so far, once there are *at_least* (or
        *timeout* passed: then what there is)."""
        ...

    async def next_message(self, *, timeout: float = 60) -> JSON:
        """WPT's getMessageFromServiceWorker(): add a 'message' listener to
        ``navigator.serviceWorker`` now and return the data of the next message the
        worker posts (TimeoutError after *timeout*).  A message posted while no
        listener waits is lost, as in a browser."""
        ...

    async def post_to_worker(self, message: JSON) -> None:
        """``registration.active.postMessage(message)``."""
        ...

    async def interfaces(self) -> dict[str, list[str]]:
        """The Background Fetch interfaces exposed to the page's global, each with its
        IDL members (``{"BackgroundFetchManager": ["fetch", "get", "getIds"], ...}``;
        ``ServiceWorkerRegistration``: just ``backgroundFetch`` if present)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let *seconds* pass on the backend's clock."""
        ...


class Backend(Protocol):
    """Something that opens pages: bgfetch itself, or a real browser."""

    name: str

    def skip_reason(self, setup: PageSetup) -> str | None:
        """Why this backend cannot run pages of *setup* here (not installed, the
        edition is not its own), or None."""
        ...

    def open_page(self, setup: PageSetup) -> AbstractAsyncContextManager[Page]:
        """Open a page; leaving the block closes it and everything it started."""
        ...
