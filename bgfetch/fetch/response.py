"""Fetch's response concept and the Response interface."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import attrs

from bgfetch.fetch.headers import HeaderList, Headers
from bgfetch.url import URL

OK_STATUSES = range(200, 300)
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@attrs.define
class InternalResponse:
    """Fetch's response concept, without its body (Background Fetch stores bodies itself).

    A network error is ``InternalResponse.network_error()``: type "error", status 0;
    ``aborted`` marks Fetch's *aborted network error*.  A *filtered response*
    (types "basic", "cors", "opaque", "opaqueredirect") has its ``internal_response``;
    its own fields are the view the caller may see (Fetch, #concept-filtered-response).
    """

    type: str = "default"  # "basic", "cors", "default", "error", "opaque", ...
    status: int = 200
    status_message: str = ""
    header_list: HeaderList = attrs.field(factory=HeaderList)
    url_list: list[URL] = attrs.field(factory=list)
    aborted: bool = False
    error: str = ""  # why a network error happened: for messages and DevTools
    # A network error from a failed CORS check or CORS-preflight (the 2017 draft's
    # "failed due to a failed CORS check"; Fetch itself does not expose it, whatwg/fetch#605).
    cors_failure: bool = False
    internal_response: InternalResponse | None = None
    cors_exposed_header_names: list[str] = attrs.field(factory=list)

    @classmethod
    def network_error(
        cls, why: str, *, aborted: bool = False, cors_failure: bool = False
    ) -> InternalResponse:
        return cls(type="error", status=0, aborted=aborted, error=why, cors_failure=cors_failure)

    @property
    def is_network_error(self) -> bool:
        return self.type == "error"

    @property
    def url(self) -> URL | None:
        return self.url_list[-1] if self.url_list else None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def unfiltered(self) -> InternalResponse:
        """The internal response of a filtered response; the response itself otherwise."""
        return self.internal_response if self.internal_response is not None else self

    def copy(self) -> InternalResponse:
        """Fetch's "clone a response", without the body: a filtered response keeps a
        filtered view over a copy of its internal response."""
        return attrs.evolve(
            self,
            header_list=self.header_list.copy(),
            url_list=list(self.url_list),
            internal_response=(
                self.internal_response.copy() if self.internal_response is not None else None
            ),
            cors_exposed_header_names=list(self.cors_exposed_header_names),
        )


# Fetch, #forbidden-response-header-name.
FORBIDDEN_RESPONSE_HEADER_NAMES = frozenset({"set-cookie", "set-cookie2"})

# Fetch, #cors-safelisted-response-header-name (without the list's additions).
CORS_SAFELISTED_RESPONSE_HEADER_NAMES = frozenset(
    {
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    }
)


def is_cors_safelisted_response_header_name(name: str, exposed: list[str]) -> bool:
    """Fetch's "CORS-safelisted response-header name, given a list of header names"."""
    lower = name.lower()
    if lower in CORS_SAFELISTED_RESPONSE_HEADER_NAMES:
        return True
    return any(
        item.lower() == lower and item.lower() not in FORBIDDEN_RESPONSE_HEADER_NAMES
        for item in exposed
    )


def basic_filtered_response(internal: InternalResponse) -> InternalResponse:
    """Fetch's basic filtered response: every header but Set-Cookie and Set-Cookie2."""
    headers = HeaderList(
        (n, v) for n, v in internal.header_list if n.lower() not in FORBIDDEN_RESPONSE_HEADER_NAMES
    )
    return attrs.evolve(internal, type="basic", header_list=headers, internal_response=internal)


def cors_filtered_response(internal: InternalResponse) -> InternalResponse:
    """Fetch's CORS filtered response: only the CORS-safelisted response headers, given
    the internal response's CORS-exposed header-name list."""
    exposed = internal.cors_exposed_header_names
    headers = HeaderList(
        (n, v)
        for n, v in internal.header_list
        if is_cors_safelisted_response_header_name(n, exposed)
    )
    return attrs.evolve(internal, type="cors", header_list=headers, internal_response=internal)


def opaque_filtered_response(internal: InternalResponse) -> InternalResponse:
    """Fetch's opaque filtered response: status 0, no headers, no URL list, no body."""
    return InternalResponse(type="opaque", status=0, internal_response=internal)


def opaque_redirect_filtered_response(internal: InternalResponse) -> InternalResponse:
    """Fetch's opaque-redirect filtered response: status 0, no headers, no body."""
    return InternalResponse(
        type="opaqueredirect",
        status=0,
        url_list=list(internal.url_list),
        internal_response=internal,
    )


def strong_validator(response: InternalResponse | None) -> str | None:
    """What an ``If-Range`` request header may carry for a later range of *response*:
    its strong entity tag, else its Last-Modified date (RFC 9110, 13.1.5); None if neither.
    (RFC 9110 wants the date to be a strong validator, 8.8.2.2; like Chromium's download
    layer, bgfetch does not second-guess it: a server that changes a resource within a
    second of the first response is not what resuming guards against.)

    Read from the internal response: a CORS filter hides ETag, yet resuming a download
    is the user agent's business, below the filter.
    """
    if response is None:
        return None
    headers = response.unfiltered.header_list
    # Stripped of HTTP's whitespace only (SP, HTAB): the bytes 0x80-0xFF a value may hold
    # (0x85, 0xA0 are str whitespace) are sent back as received (SPEC-NOTES.md SN-fetch-7).
    etag = headers.first("ETag")
    if etag is not None and not etag.strip(" \t").startswith("W/"):
        return etag.strip(" \t")
    last_modified = headers.first("Last-Modified")
    return last_modified.strip(" \t") if last_modified is not None else None


class Response:
    """The Response interface: status, headers and a body read once.

    The body is an async iterator of byte chunks (the ReadableStream); read it with
    ``await response.bytes()``, ``await response.text()``, ``await response.json()``,
    or ``async for chunk in response``.  The Response owns its stream: when the
    iteration over it ends, read to the end or left early, the stream is closed.  (A
    reader that may stop early closes the iteration at once with
    ``async with contextlib.aclosing(aiter(response)) as chunks``; after a bare
    ``break``, trio closes it once it is garbage collected.)
    """

    def __init__(
        self, response: InternalResponse, stream: AsyncGenerator[bytes, None] | None
    ) -> None:
        self.response = response
        self.headers = Headers.over(response.header_list)
        self._stream = stream
        self.body_used = False

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def ok(self) -> bool:
        return self.response.ok

    @property
    def status_text(self) -> str:
        return self.response.status_message

    @property
    def type(self) -> str:
        return self.response.type

    @property
    def url(self) -> str:
        url = self.response.url
        return url.without_fragment() if url is not None else ""

    def __aiter__(self) -> AsyncGenerator[bytes, None]:
        if self.body_used:
            raise TypeError(f"the body of the response for {self.url} was already read")
        self.body_used = True
        return self._chunks()

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        if self._stream is None:
            return
        async with aclosing(self._stream) as stream:
            async for chunk in stream:
                yield chunk

    async def bytes(self) -> bytes:
        """The whole body: its chunks, joined once (a body in one chunk is that chunk)."""
        pieces: list[bytes] = []
        async with aclosing(aiter(self)) as chunks:
            async for chunk in chunks:
                pieces.append(chunk)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    async def json(self) -> Any:
        return json.loads(await self.bytes())

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.url}>"
