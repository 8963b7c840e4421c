"""An HTTP/1.1 origin server on h11 with scripted misbehaviour, for tests and the simulator.

:class:`OriginServer` serves any ``trio.abc.Stream`` (a virtual-network
connection, a loopback TCP or TLS socket), one connection per
:meth:`OriginServer.serve_stream` call, keeping the connection alive across
requests.  Each path is a :class:`Resource` whose settings are the knobs
background-fetch tests need: slow heads, throttled bodies, connections cut
mid-body, byte ranges with validators for resuming, CORS, and the three ways an
HTTP/1.1 body can be framed.  Every request is recorded in
:attr:`OriginServer.requests`.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import re
import ssl
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import attrs
import h11
import trio

Framing = Literal["content-length", "chunked", "close"]
ResourceKind = Literal["static", "redirect", "echo"]
Encoding = Literal["gzip", "deflate", "br"]
_Framer = Callable[[bytes], bytes | None]

SEND_SLICE = 16 * 1024
"""Unthrottled bodies are written in slices of this size (chunked: one chunk each)."""

NO_BODY_STATUSES = frozenset({204, 304})

REASONS = {
    200: "OK",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    404: "Not Found",
    416: "Range Not Satisfiable",
}


def _to_bytes(body: bytes | str) -> bytes:
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    raise TypeError(f"OriginServer: body={body!r:.60}: a body is bytes or a str")


def _to_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(headers, str | bytes) or not isinstance(headers, Iterable):
        raise TypeError(f"OriginServer: headers={headers!r}: headers are (name, value) pairs")
    return [tuple(field) if isinstance(field, list) else field for field in headers]


# -- checking every option where it is given (add(), or a test changing a resource) ------

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _option(
    expected: str, kind: type | tuple[type, ...], valid: Callable[[Any], bool] | None = None
) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: *kind* (TypeError otherwise) and *valid* (ValueError), each
    naming the resource, the option, its value and what it must be."""

    def check(resource: Any, attribute: Any, value: Any) -> None:
        wrong_kind = not isinstance(value, kind) or (
            isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
        )
        if wrong_kind or (valid is not None and not valid(value)):
            error = TypeError if wrong_kind else ValueError
            raise error(
                f"OriginServer resource {getattr(resource, 'path', '?')!r}: "
                f"{attribute.name}={value!r}: {attribute.name} must be {expected}"
            )

    return check


def _is_field_value(value: str) -> bool:
    """What h11 sends as a header value: one byte per character, no CR, LF or NUL."""
    return all(ord(c) < 256 for c in value) and not any(c in value for c in "\r\n\0")


def _are_fields(headers: list[Any]) -> bool:
    return all(
        isinstance(field, tuple)
        and len(field) == 2
        and isinstance(field[0], str)
        and isinstance(field[1], str)
        and _TOKEN.fullmatch(field[0]) is not None
        and _is_field_value(field[1])
        for field in headers
    )


def _header(what: str) -> Callable[[Any, Any, Any], None]:
    return _option(
        f"None or a str, {what}: a header value (Latin-1, no CR, LF or NUL)",
        (str, type(None)),
        lambda v: v is None or _is_field_value(v),
    )


_FLAG = _option("True or False", bool)
_SECONDS = _option(
    "a finite number of seconds, 0 or more", (int, float), lambda v: math.isfinite(v) and v >= 0
)


@attrs.define(eq=False)
class Resource:
    """What the server answers at one path.  Mutable: tests change it between attempts."""

    path: str = attrs.field(
        validator=_option(
            "a str starting with '/' ('*' for a fallback)",
            str,
            lambda v: v.startswith("/") or v == "*",
        )
    )
    body: bytes = attrs.field(default=b"", converter=_to_bytes)
    status: int = attrs.field(
        default=200, validator=_option("an int from 200 to 999", int, lambda v: 200 <= v <= 999)
    )
    headers: list[tuple[str, str]] = attrs.field(
        factory=list,
        converter=_to_headers,
        validator=_option(
            "(name, value) pairs of str: a token and a header value", list, _are_fields
        ),
    )
    content_type: str | None = attrs.field(
        default="text/plain", validator=_header("the Content-Type")
    )
    delay: float = attrs.field(default=0.0, validator=_SECONDS)
    """Seconds to wait before sending the response head."""
    throttle: float | None = attrs.field(
        default=None,
        validator=_option(
            "None or a finite number of bytes per second, more than 0",
            (int, float, type(None)),
            lambda v: v is None or (math.isfinite(v) and v > 0),
        ),
    )
    """Body bytes per second, or None for as fast as the transport goes."""
    cut_after: int | None = attrs.field(
        default=None,
        validator=_option(
            "None or an int of bytes, 0 or more", (int, type(None)), lambda v: v is None or v >= 0
        ),
    )
    """Close the connection after this many body bytes, for the first ``cuts`` responses."""
    cuts: int = attrs.field(
        default=1, validator=_option("an int, 0 or more", int, lambda v: v >= 0)
    )
    ranges: bool = attrs.field(default=True, validator=_FLAG)
    etag: str | None = attrs.field(default=None, validator=_header("the ETag, e.g. '\"v1\"'"))
    last_modified: str | None = attrs.field(default=None, validator=_header("an HTTP date"))
    cors: str | None = attrs.field(
        default=None,
        validator=_header("the Access-Control-Allow-Origin value, e.g. '*' or an origin"),
    )
    """The ``Access-Control-Allow-Origin`` value to send, if any."""
    allow_methods: str | None = attrs.field(default=None, validator=_header("a method list"))
    """A preflight's ``Access-Control-Allow-Methods``; None echoes the method asked for,
    "" sends none."""
    allow_headers: str | None = attrs.field(default=None, validator=_header("a header list"))
    """A preflight's ``Access-Control-Allow-Headers``; None echoes the headers asked for,
    "" sends none."""
    allow_credentials: bool = attrs.field(default=False, validator=_FLAG)
    """Send ``Access-Control-Allow-Credentials: true`` (preflights and responses)."""
    expose_headers: str | None = attrs.field(default=None, validator=_header("a header list"))
    """The ``Access-Control-Expose-Headers`` value to send, if any."""
    encoding: Encoding | None = attrs.field(
        default=None,
        validator=_option(
            "None, 'gzip', 'deflate' or 'br'",
            (str, type(None)),
            lambda v: v in (None, "gzip", "deflate", "br"),
        ),
    )
    """Compress whole (200) responses with this content coding when the request's
    ``Accept-Encoding`` allows it; ranges are always served from the identity bytes."""
    honour_if_range: bool = attrs.field(default=True, validator=_FLAG)
    """False: ignore ``If-Range`` (a non-compliant server, which sends a 206 of whatever
    it has now)."""
    on_cut: Callable[[Resource], None] | None = attrs.field(
        default=None,
        validator=_option(
            "None or a function of the resource", object, lambda v: v is None or callable(v)
        ),
    )
    """Called after a response was cut: a test changes the resource here between attempts."""
    close_after: bool = attrs.field(default=False, validator=_FLAG)
    """Close the connection after the whole response, without announcing it (no
    ``Connection: close``), as a server's idle timeout does to a kept-alive connection."""
    framing: Framing = attrs.field(
        default="content-length",
        validator=_option(
            "'content-length', 'chunked' or 'close'",
            str,
            lambda v: v in ("content-length", "chunked", "close"),
        ),
    )
    kind: ResourceKind = "static"
    location: str | None = attrs.field(default=None, validator=_header("the Location"))
    """A redirect's ``Location``."""
    cuts_made: int = 0
    """Responses to this resource cut so far."""
    responses: int = 0
    """Responses with a body (not to HEAD) begun so far; these are what ``cuts`` counts."""

    def validator(self) -> str | None:
        """What ``If-Range`` must equal for a range to apply: the ETag, else Last-Modified."""
        return self.etag if self.etag is not None else self.last_modified


@attrs.define
class RecordedRequest:
    """A request the server received in full."""

    method: str
    target: str
    headers: list[tuple[str, str]]  # names lowercase, in the order received
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def header(self, name: str) -> str | None:
        """The first value of header *name* (any case), or None."""
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


@attrs.define
class _Reply:
    """A response decided but not yet sent."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    send_body: bool = True  # False for HEAD and for statuses without a body


class _CutConnection(Exception):
    """The response was cut on purpose: stop serving this connection."""


_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})", re.ASCII)
"""A single byte range; numbers of more than 18 digits make it invalid (ignored)."""


class OriginServer:
    """An HTTP/1.1 server of :class:`Resource` s, for any ``trio.abc.Stream``."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.requests: list[RecordedRequest] = []
        self.fallback: Resource | None = None
        """What a target nothing was added at gets (None: a 9-byte text/plain 404)."""

    # -- configuration ---------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: Sequence[tuple[str, str]] = (),
        content_type: str | None = "text/plain",
        delay: float = 0.0,
        throttle: float | None = None,
        cut_after: int | None = None,
        cuts: int = 1,
        ranges: bool = True,
        etag: str | None = None,
        last_modified: str | None = None,
        cors: str | None = None,
        allow_methods: str | None = None,
        allow_headers: str | None = None,
        allow_credentials: bool = False,
        expose_headers: str | None = None,
        encoding: Encoding | None = None,
        honour_if_range: bool = True,
        on_cut: Callable[[Resource], None] | None = None,
        close_after: bool = False,
        framing: Framing = "content-length",
    ) -> Resource:
        """Serve *body* at *path* ("/a.txt", or "/a.txt?id=3" to match that query only).

        Every option is checked here (and whenever a test changes the resource): a bad
        one is a TypeError or ValueError naming it, never a failure later in h11."""
        resource = Resource(
            path,
            body,
            status=status,
            headers=headers,
            content_type=content_type,
            delay=delay,
            throttle=throttle,
            cut_after=cut_after,
            cuts=cuts,
            ranges=ranges,
            etag=etag,
            last_modified=last_modified,
            cors=cors,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials,
            expose_headers=expose_headers,
            encoding=encoding,
            honour_if_range=honour_if_range,
            on_cut=on_cut,
            close_after=close_after,
            framing=framing,
        )
        self.resources[path] = resource
        return resource

    def add_redirect(
        self, path: str, location: str, *, status: int = 302, cors: str | None = None
    ) -> Resource:
        """Redirect *path* to *location*."""
        resource = Resource(
            path,
            status=status,
            content_type=None,
            ranges=False,
            cors=cors,
            kind="redirect",
            location=location,
        )
        self.resources[path] = resource
        return resource

    def add_echo(self, path: str, *, cors: str | None = None) -> Resource:
        """Answer the request's body with its Content-Type (400 without one), as WPT's upload.py."""
        resource = Resource(path, content_type=None, ranges=False, cors=cors, kind="echo")
        self.resources[path] = resource
        return resource

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """Recorded requests to *path*: its path part, or the exact target if it has a query."""
        if "?" in path:
            return [r for r in self.requests if r.target == path]
        return [r for r in self.requests if r.path == path]

    def lookup(self, target: str) -> Resource | None:
        """The resource for a request-target: an exact match first, then by path, then
        the fallback."""
        return (
            self.resources.get(target)
            or self.resources.get(target.split("?", 1)[0])
            or self.fallback
        )

    # -- serving ---------------------------------------------------------------

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        """Serve requests on *stream* until the client closes it or a response cuts it.

        Never raises for a client's misbehaviour or disappearance; always closes *stream*.
        """
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                try:
                    request = await self._read_request(conn, stream)
                except h11.RemoteProtocolError as exc:
                    await self._send_error(stream, exc.error_status_hint)
                    return
                if request is None:
                    return
                self.requests.append(request)
                await self._respond(conn, stream, request)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return  # Connection: close, or an HTTP/1.0 client.
                conn.start_next_cycle()
        except (trio.BrokenResourceError, trio.ClosedResourceError, _CutConnection):
            return
        except h11.RemoteProtocolError:
            return
        finally:
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await stream.aclose()

    async def serve_tcp(
        self,
        port: int = 0,
        *,
        host: str | Sequence[str] = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
        task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve on real TCP, or TLS with *ssl_context* (https); until cancelled.

        ``listeners = await nursery.start(server.serve_tcp)`` gives the listeners.
        *host* may list several addresses ("127.0.0.1", "::1"): all are bound on the
        same port (the first one's, when *port* is 0).
        """
        hosts = [host] if isinstance(host, str) else list(host)
        listeners: list[trio.SocketListener] = []
        try:
            for address in hosts:
                bound = await trio.open_tcp_listeners(port, host=address)
                listeners += bound
                if port == 0:
                    port = bound[0].socket.getsockname()[1]
        except BaseException:
            for listener in listeners:
                await trio.aclose_forcefully(listener)
            raise

        async def handler(stream: trio.SocketStream) -> None:
            if ssl_context is None:
                await self.serve_stream(stream)
            else:
                tls = trio.SSLStream(stream, ssl_context, server_side=True, https_compatible=True)
                await self.serve_stream(tls)

        await trio.serve_listeners(handler, listeners, task_status=task_status)

    async def _read_request(
        self, conn: h11.Connection, stream: trio.abc.Stream
    ) -> RecordedRequest | None:
        """Read one whole request, or return None if the client closed between requests."""
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if conn.they_are_waiting_for_100_continue:
                    await stream.send_all(
                        conn.send(h11.InformationalResponse(status_code=100, headers=[])) or b""
                    )
                conn.receive_data(bytes(await stream.receive_some(64 * 1024)))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return RecordedRequest(
                    method=head.method.decode("ascii"),
                    target=head.target.decode("latin-1"),
                    headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers],
                    body=bytes(body),
                )
            elif isinstance(event, h11.ConnectionClosed):
                return None
            else:  # PAUSED cannot happen before the response; anything else is unexpected.
                raise h11.RemoteProtocolError(f"unexpected event {event!r}")

    async def _send_error(self, stream: trio.abc.Stream, status: int) -> None:
        """Answer a malformed request (h11 can no longer frame one) and give up."""
        reason = REASONS.get(status, "Error")
        raw = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(reason)}\r\nConnection: close\r\n\r\n{reason}"
        ).encode("latin-1")
        try:
            await stream.send_all(raw)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    # -- responses -------------------------------------------------------------

    async def _respond(
        self, conn: h11.Connection, stream: trio.abc.Stream, request: RecordedRequest
    ) -> None:
        resource = self.lookup(request.target)
        reply = self._reply(request, resource)
        if resource is not None and resource.delay > 0:
            await trio.sleep(resource.delay)
        cut_after: int | None = None
        if resource is not None and reply.send_body:
            resource.responses += 1
            if resource.cut_after is not None and resource.cuts_made < resource.cuts:
                resource.cuts_made += 1
                cut_after = resource.cut_after
        throttle = resource.throttle if resource is not None else None
        body = reply.body if reply.send_body else b""
        if cut_after is not None:
            body = body[:cut_after]

        if resource is not None and resource.framing == "close":
            await stream.send_all(_raw_head(reply))
            await _send_body(stream, body, throttle, lambda piece: piece)
            if cut_after is not None and resource.on_cut is not None:
                resource.on_cut(resource)
            raise _CutConnection  # The end of the connection is the end of the body.

        # Header values are byte text (one character per byte, as bgfetch's): Latin-1.
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in reply.headers]
        await stream.send_all(
            conn.send(h11.Response(status_code=reply.status, headers=headers)) or b""
        )
        await _send_body(stream, body, throttle, lambda piece: conn.send(h11.Data(data=piece)))
        if cut_after is not None:
            if resource is not None and resource.on_cut is not None:
                resource.on_cut(resource)
            raise _CutConnection
        await stream.send_all(conn.send(h11.EndOfMessage()) or b"")
        if resource is not None and resource.close_after:
            raise _CutConnection  # An unannounced close: the client finds out on reuse.

    def _reply(self, request: RecordedRequest, resource: Resource | None) -> _Reply:
        """Decide status, headers and body; nothing is sent yet."""
        head = request.method == "HEAD"
        if resource is None:
            return _Reply(
                404,
                [("Content-Type", "text/plain"), ("Content-Length", "9")],
                b"Not Found",
                send_body=not head,
            )
        preflight_method = request.header("access-control-request-method")
        if request.method == "OPTIONS" and resource.cors is not None and preflight_method:
            return _preflight(request, resource, preflight_method)
        headers: list[tuple[str, str]] = []
        status, body = resource.status, resource.body
        content_type = resource.content_type
        if resource.kind == "redirect":
            assert resource.location is not None
            headers.append(("Location", resource.location))
        elif resource.kind == "echo":
            content_type = request.header("content-type")
            if content_type is None:
                status, body, content_type = 400, b"no Content-Type to echo", "text/plain"
            else:
                status, body = 200, request.body
        elif resource.ranges:
            headers.append(("Accept-Ranges", "bytes"))
            if status == 200 and request.method == "GET":
                status, body, content_range = _apply_range(request, resource)
                if content_range is not None:
                    headers.append(("Content-Range", content_range))
        if resource.encoding is not None and resource.kind == "static":
            headers.append(("Vary", "Accept-Encoding"))
            if status == 200 and _accepts(request.header("accept-encoding"), resource.encoding):
                body = _encode(body, resource.encoding)
                headers.append(("Content-Encoding", resource.encoding))
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if resource.etag is not None:
            headers.append(("ETag", resource.etag))
        if resource.last_modified is not None:
            headers.append(("Last-Modified", resource.last_modified))
        if resource.cors is not None:
            headers.append(("Access-Control-Allow-Origin", resource.cors))
        if resource.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        if resource.expose_headers is not None:
            headers.append(("Access-Control-Expose-Headers", resource.expose_headers))
        headers.extend(resource.headers)
        send_body = not head and status not in NO_BODY_STATUSES
        if resource.framing == "chunked":
            headers.append(("Transfer-Encoding", "chunked"))
        elif resource.framing == "close":
            headers.append(("Connection", "close"))
        elif status not in NO_BODY_STATUSES:
            headers.append(("Content-Length", str(len(body))))
        return _Reply(status, headers, body, send_body=send_body)


def _preflight(request: RecordedRequest, resource: Resource, method: str) -> _Reply:
    """Answer a CORS preflight to a resource that has ``cors`` set: by default allow
    whatever it asks for; ``allow_methods`` / ``allow_headers`` say otherwise."""
    assert resource.cors is not None
    headers = [("Access-Control-Allow-Origin", resource.cors)]
    methods = method if resource.allow_methods is None else resource.allow_methods
    if methods:
        headers.append(("Access-Control-Allow-Methods", methods))
    requested_headers = request.header("access-control-request-headers")
    allowed = requested_headers if resource.allow_headers is None else resource.allow_headers
    if allowed:
        headers.append(("Access-Control-Allow-Headers", allowed))
    if resource.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return _Reply(204, headers, send_body=False)


def _accepts(accept_encoding: str | None, coding: str) -> bool:
    """Whether an `Accept-Encoding` value accepts *coding* (q=0 refuses it)."""
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in (coding, "*"):
            q = params.strip(" \t").lower()
            return not (q.startswith("q=") and re.fullmatch(r"0(\.0{0,3})?", q[2:], re.ASCII))
    return False


def _encode(body: bytes, coding: Encoding) -> bytes:
    if coding == "gzip":
        return gzip.compress(body, mtime=0)
    if coding == "deflate":
        return zlib.compress(body)
    import brotli

    return bytes(brotli.compress(body))


def _apply_range(request: RecordedRequest, resource: Resource) -> tuple[int, bytes, str | None]:
    """Status, body and Content-Range for a GET, honouring Range and If-Range (RFC 9110)."""
    body, total = resource.body, len(resource.body)
    range_header = request.header("range")
    if range_header is None:
        return 200, body, None
    if_range = request.header("if-range")
    if if_range is not None and resource.honour_if_range:
        validator = resource.validator()
        if validator is None or validator.startswith("W/") or if_range != validator:
            return 200, body, None  # The representation changed: send all of it.
    match = _RANGE.fullmatch(range_header.strip(" \t"))
    if match is None or not (match[1] or match[2]):
        return 200, body, None  # Unsupported or invalid ranges are ignored.
    if match[1]:
        first = int(match[1])
        if match[2] and int(match[2]) < first:
            return 200, body, None  # An invalid range-spec: ignore the header.
        last = min(int(match[2]), total - 1) if match[2] else total - 1
    else:  # A suffix range: the last N bytes; "-0" asks for none of them.
        suffix = int(match[2])
        first, last = (max(0, total - suffix) if suffix else total), total - 1
    if first >= total:
        return 416, b"", f"bytes */{total}"
    return 206, body[first : last + 1], f"bytes {first}-{last}/{total}"


def _raw_head(reply: _Reply) -> bytes:
    """A response head written by hand, for close-delimited bodies h11 won't frame."""
    lines = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in reply.headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send_body(
    stream: trio.abc.Stream,
    body: bytes,
    throttle: float | None,
    frame: _Framer,
) -> None:
    """Write *body* framed by *frame*; throttled, in slices with sleeps so progress shows."""
    if throttle is None:
        for start in range(0, len(body), SEND_SLICE):
            await stream.send_all(frame(body[start : start + SEND_SLICE]) or b"")
        return
    step = max(1, int(throttle // 10))
    for start in range(0, len(body), step):
        piece = body[start : start + step]
        await trio.sleep(len(piece) / throttle)
        await stream.send_all(frame(piece) or b"")
