"""Fetch's request concept, body, and the Request interface (its constructor).

``InternalRequest`` is Fetch's *request* (the concept the algorithms hold);
``Request`` is the API object a user builds and a BackgroundFetchRecord exposes.
"""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable
from typing import Any

import attrs

from bgfetch.fetch.csp import PolicyContainer
from bgfetch.fetch.formdata import FormData, multipart_form_data
from bgfetch.fetch.headers import (
    HeaderList,
    Headers,
    HeadersInit,
    is_forbidden_method,
    is_token,
)
from bgfetch.idl import byte_string, dom_string
from bgfetch.url import URL, parse_url

NORMALIZED_METHODS = {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"}
MODES = {"same-origin", "no-cors", "cors", "navigate"}
CREDENTIALS_MODES = {"omit", "same-origin", "include"}


@attrs.define
class Body:
    """Fetch's body: its bytes once held in full, or a stream still to be read.

    A stream is an async iterable of bytes; "wait for the body" reads it into
    ``source``.  ``transmitted_bytes`` counts what the HTTP client has sent.
    """

    source: bytes | None = None
    stream: AsyncIterable[bytes] | None = None
    transmitted_bytes: int = 0
    # Fetch's "disturbed" (of the body's stream): read, or handed on to another Request
    # (whose body is a proxy of this one).  A Request whose body is disturbed is unusable:
    # it cannot be read, used to construct a Request, or fetched again.
    disturbed: bool = False

    @property
    def length(self) -> int | None:
        return None if self.source is None else len(self.source)

    async def wait(self, on_chunk: Callable[[int], None] | None = None) -> bytes:
        """Fetch's "wait for body": read the stream, if any, into ``source``.  The body
        owns its stream: an async generator is closed even if the read ends early (a
        chunk that is not bytes, a cancellation).

        A chunk must be bytes-like, as a ReadableStream's must be a Uint8Array: anything
        else (an int, a str) errors the read with a TypeError.  *on_chunk*, if given, is
        told each chunk's size before the chunk is kept, and may raise to end the read
        there (a quota: BackgroundFetchManager.fetch())."""
        if self.source is None:
            buffer = bytearray()
            assert self.stream is not None
            chunks = aiter(self.stream)
            try:
                async for chunk in chunks:
                    if not isinstance(chunk, bytes | bytearray | memoryview):
                        raise TypeError(
                            "a request body stream must yield bytes, not "
                            f"{type(chunk).__name__} {chunk!r:.40}"
                        )
                    if on_chunk is not None:
                        on_chunk(memoryview(chunk).nbytes)
                    buffer += chunk
            finally:
                if isinstance(chunks, AsyncGenerator):
                    await chunks.aclose()
            self.source = bytes(buffer)
            self.stream = None
        return self.source

    def clone(self) -> Body:
        return Body(source=self.source, stream=self.stream)


BodyInit = (
    bytes
    | bytearray
    | memoryview
    | str
    | dict[str, str]
    | FormData
    | io.IOBase
    | AsyncIterable[bytes]
)


def extract_body(obj: Any) -> tuple[Body, str | None]:
    """Fetch's "extract a body": the body and the Content-Type it implies.

    Python stands in for JavaScript's BodyInit: str (text), bytes-like
    (ArrayBuffer/typed arrays/DataView), a binary file object (Blob/File), a dict
    of form fields (URLSearchParams), a FormData (multipart/form-data), or an async
    iterable of bytes (ReadableStream).
    """
    if isinstance(obj, str):
        return Body(obj.encode()), "text/plain;charset=UTF-8"
    if isinstance(obj, bytes | bytearray | memoryview):
        return Body(bytes(obj)), None
    if isinstance(obj, dict):
        encoded = urllib.parse.urlencode(obj).encode()
        return Body(encoded), "application/x-www-form-urlencoded;charset=UTF-8"
    if isinstance(obj, FormData):
        data, boundary = multipart_form_data(obj)
        return Body(data), f"multipart/form-data; boundary={boundary}"
    if isinstance(obj, io.IOBase) or hasattr(obj, "read"):
        data = obj.read()
        if isinstance(data, str):
            data = data.encode()
        return Body(bytes(data)), None
    if isinstance(obj, AsyncIterable):
        return Body(stream=obj), None
    raise TypeError(f"{type(obj).__name__} cannot be a request body")


@attrs.define
class InternalRequest:
    """Fetch's request concept: the slice of it Background Fetch uses."""

    url: URL
    method: str = "GET"
    header_list: HeaderList = attrs.field(factory=HeaderList)
    body: Body | None = None
    mode: str = "cors"
    credentials_mode: str = "same-origin"
    client: Any = None  # an environment, or null
    keepalive: bool = False
    service_workers_mode: str = "all"
    destination: str = ""
    redirect_mode: str = "follow"
    origin: Any = None  # a tuple Origin, or None ("client")
    url_list: list[URL] = attrs.field(factory=list)
    # Fetch's policy container; None stands for "client" (see populate_from_client).
    policy_container: PolicyContainer | None = None
    # Set by the Request constructor (and fetch(), XHR): CORS preflights follow the
    # method and headers the caller chose.
    unsafe_request: bool = False
    use_cors_preflight: bool = False
    # Bookkeeping of the fetch algorithm.
    response_tainting: str = "basic"  # "basic", "cors" or "opaque"
    redirect_count: int = 0
    # Not Fetch's: the validator HTTP-network-or-cache fetch sends as `If-Range` with
    # this request's `Range` header, to resume a download.  Like the HTTP cache's
    # conditional headers it is added below CORS, so it never needs a preflight.
    if_range: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.url_list:
            self.url_list = [self.url]

    @property
    def current_url(self) -> URL:
        return self.url_list[-1]

    def copy(self) -> InternalRequest:
        """A copy, sharing no mutable state with this one (the body is cloned)."""
        return attrs.evolve(
            self,
            header_list=self.header_list.copy(),
            body=self.body.clone() if self.body is not None else None,
            url_list=list(self.url_list),
        )

    def add_range_header(
        self, start: int, end: int | None = None, *, if_range: str | None = None
    ) -> None:
        """Fetch's "add a range header" to request, with range start and end.

        *if_range* (not Fetch's): a validator of the representation the earlier bytes
        came from; the network layer sends it as `If-Range`, so a server whose
        representation changed answers 200 with all of it instead of a mismatched 206.
        """
        # 1. Assert: last is not given, or first is less than or equal to last.
        assert end is None or start <= end
        # 2-5. Let rangeValue be `bytes=` first `-` [last].
        value = f"bytes={start}-" + ("" if end is None else str(end))
        # 6. Append (`Range`, rangeValue) to request's header list.
        self.header_list.append("Range", value)
        self.if_range = if_range


def _parse_request_url(input: str, base_url: str | URL | None) -> URL:
    """Request()'s URL: a relative one without a base (a Request made outside any
    realm) is a TypeError that says how to make it."""
    try:
        return parse_url(input, base_url)
    except TypeError:
        if base_url is not None or not _is_relative(input):
            raise
        raise TypeError(
            f"{input!r} is a relative URL, and this Request has no base URL to resolve it "
            f"against: make it for the page, window.Request({input!r}, ...), as the page's "
            "own new Request() would be, or give an absolute URL"
        ) from None


def _is_relative(input: str) -> bool:
    try:
        parse_url(input, "https://base.invalid/")
    except TypeError:
        return False
    return True


class Request:
    """The Request interface (Fetch).  ``Request(input, *, method=..., ...)``.

    *input* is a URL string (parsed against *base_url*: a window's URL when an
    API calls it) or another Request.
    """

    request: InternalRequest
    headers: Headers

    def __init__(
        self,
        input: str | Request,
        *,
        method: str | None = None,
        headers: HeadersInit | None = None,
        body: BodyInit | None = None,
        mode: str | None = None,
        credentials: str | None = None,
        base_url: str | URL | None = None,
    ) -> None:
        # Fetch, "new Request(input, init)", the steps that apply outside a browser.  Each
        # argument is checked for its IDL type first, so a bad one is a TypeError naming
        # it here, never an error later (idl.py).
        # Let inputBody be input's request's body if input is a Request object; otherwise
        # null.
        input_body: Body | None = None
        if isinstance(input, Request):
            input_body = input.request.body
            request = input.request.copy()
        else:
            input = dom_string(input, "a request (its URL)")
            # Not in Fetch (whatwg/fetch#546): Chromium refuses URLs with dangling markup,
            # and the (removed) WPT dangling-markup test wants fetch() to reject with a
            # TypeError; the constructor is where Background Fetch's fetch() rejects
            # (SPEC-NOTES.md SN-fetch-3).
            if _has_dangling_markup(input):
                raise TypeError(
                    f"{input!r}: the URL contains dangling markup (a newline or tab "
                    "together with '<'), which is refused"
                )
            # 5.1-5.2. Let parsedURL be the result of parsing input with baseURL; throw a
            # TypeError on failure (parse_url's message names the URL).
            parsed = _parse_request_url(input, base_url)
            # 5.3. If parsedURL includes credentials, then throw a TypeError.
            if parsed.includes_credentials:
                raise TypeError(
                    f"{parsed.redacted()}: a request URL must not include credentials "
                    "(Fetch, new Request() step 5.3)"
                )
            request = InternalRequest(url=parsed)
        # 12. ... unsafe-request flag: set.
        request.unsafe_request = True
        if mode is not None:
            if not isinstance(mode, str) or mode not in MODES:
                raise TypeError(f"{mode!r} is not a valid request mode (RequestMode)")
            if mode == "navigate":
                raise TypeError("a Request cannot be constructed with mode 'navigate'")
            request.mode = mode
        if credentials is not None:
            if not isinstance(credentials, str) or credentials not in CREDENTIALS_MODES:
                raise TypeError(
                    f"{credentials!r} is not a valid credentials mode (RequestCredentials)"
                )
            request.credentials_mode = credentials
        # 25. If init["method"] exists, then:
        if method is not None:
            # 25.1. Let method be init["method"].  (A ByteString.)
            method = byte_string(method, "a request method")
            # 25.2. If method is not a method or method is a forbidden method, then throw a
            # TypeError.
            if not is_token(method):
                raise TypeError(f"{method!r} is not a valid request method (it must be a token)")
            if is_forbidden_method(method):
                raise TypeError(f"{method!r} is a forbidden method")
            # 25.3. Normalize method.  (Byte-uppercase it if it is one of the six.)
            upper = method.upper()
            # 25.4. Set request's method to method.
            request.method = upper if upper in NORMALIZED_METHODS else method
        # 30. Set this's headers to a new Headers object with this's relevant realm, whose
        # header list is request's header list and guard is "request".
        self.request = request
        self.headers = Headers.over(request.header_list, guard="request")
        # 31. If this's request's mode is "no-cors", then:
        if request.mode == "no-cors":
            # 31.1. If this's request's method is not a CORS-safelisted method, then throw
            # a TypeError.
            if request.method not in ("GET", "HEAD", "POST"):
                raise TypeError(
                    f"{request.method!r} is not allowed in a no-cors request "
                    "(only GET, HEAD and POST are)"
                )
            # 31.2. Set this's headers's guard to "request-no-cors".
            self.headers.guard = "request-no-cors"
        # 32. If init is not empty (here: init["headers"] exists), then:
        if headers is not None:
            # 32.1-32.2. Let headers be init["headers"]; empty this's headers's header list.
            request.header_list = HeaderList()
            self.headers.header_list = request.header_list
            # 32.3-32.4. If headers is a Headers object, append each of its headers to
            # this's headers; otherwise, fill this's headers with headers.
            self.headers.fill(headers)
        # If either init["body"] exists and is non-null or inputBody is non-null, and
        # request's method is `GET` or `HEAD`, then throw a TypeError.
        if (body is not None or input_body is not None) and request.method in ("GET", "HEAD"):
            raise TypeError(f"a {request.method} request cannot have a body")
        # If init["body"] exists and is non-null, then: extract it (initBody), and append
        # `Content-Type` with its type if this's headers does not contain one.
        if body is not None:
            request.body, content_type = extract_body(body)
            if content_type and not request.header_list.contains("Content-Type"):
                self.headers.append("Content-Type", content_type)
        # If initBody is null and inputBody is non-null, then:
        elif input_body is not None:
            # 1. If input is unusable, then throw a TypeError.
            if input_body.disturbed:
                raise TypeError(
                    f"{input!r}: its body was already used (read, or given to another "
                    "Request or fetch()): a body can be used once"
                )
            # 2. Set finalBody to the result of creating a proxy for inputBody: the proxy
            # reads inputBody's stream, so input's body is disturbed from now on, whether it
            # holds bytes or a stream.
            input_body.disturbed = True
            assert request.body is not None
            request.body.disturbed = False

    @classmethod
    def from_internal(cls, request: InternalRequest) -> Request:
        """A new Request object whose request is *request*."""
        obj = cls.__new__(cls)
        obj.request = request
        obj.headers = Headers.over(request.header_list)
        return obj

    @property
    def url(self) -> str:
        return self.request.url.href

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def mode(self) -> str:
        return self.request.mode

    @property
    def credentials(self) -> str:
        return self.request.credentials_mode

    @property
    def body_used(self) -> bool:
        """Fetch's ``bodyUsed``: the body is non-null and disturbed."""
        return self.request.body is not None and self.request.body.disturbed

    async def bytes(self) -> bytes:
        """The request body's bytes (b"" where there is none).  Fetch's "consume body":
        an unusable Request (its body used) is a TypeError; reading disturbs the body."""
        body = self.request.body
        if body is None:
            return b""
        if body.disturbed:
            raise TypeError(f"{self!r}: its body was already used: a body can be read once")
        body.disturbed = True
        return await body.wait()

    async def text(self) -> str:
        return (await self.bytes()).decode()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


def _has_dangling_markup(url: str) -> bool:
    """Chromium's "potentially dangling markup": the URL parser would strip a newline or
    tab from *url*, and *url* contains `<`."""
    return "<" in url and any(c in url for c in "\n\r\t")


RequestInfo = str | Request
RequestInfos = RequestInfo | Iterable[RequestInfo]
