"""Fetch (the standard's #fetching), the slice Background Fetch relies on.

``Fetcher.fetch(request)`` is an async context manager yielding :class:`Fetched`:
the response (maybe a network error) and its body's bytes as they arrive.  The
spec's fetch callbacks map as:

* *process request body* -> the ``process_request_body`` callback, after each
  chunk of the request body is sent (``request.body.transmitted_bytes`` grows);
* *process response* -> the context manager yielding;
* bytes transmitted from the body stream -> iterating ``Fetched.body``;
* the stream erroring -> that iteration raising :class:`NetworkError`;
* *terminate* the ongoing fetch -> leaving the block early (or cancelling it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import attrs

from bgfetch.errors import NetworkError
from bgfetch.fetch.checks import block_reason
from bgfetch.fetch.headers import HeaderList
from bgfetch.fetch.http import ConnectionPool, ResponseHead
from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import REDIRECT_STATUSES, InternalResponse
from bgfetch.url import parse_url

MAX_REDIRECTS = 20
USER_AGENT = "bgfetch/0.1"


@attrs.define
class Fetched:
    response: InternalResponse
    body: AsyncIterator[bytes] | None = None  # None for a network error


async def _no_body() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


class Fetcher:
    """The user agent's fetch: request checks, redirects, and HTTP over the pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def fetch(
        self,
        request: InternalRequest,
        *,
        process_request_body: Callable[[], None] | None = None,
    ) -> AsyncIterator[Fetched]:
        # Main fetch: a request the rules block is a network error before any byte is sent.
        reason = block_reason(request)
        if reason is not None:
            yield Fetched(InternalResponse.network_error(reason))
            return
        async with AsyncExitStack() as stack:
            redirects = 0
            while True:
                try:
                    head, body = await stack.enter_async_context(
                        self._http_network_fetch(request, process_request_body)
                    )
                except NetworkError as error:
                    yield Fetched(InternalResponse.network_error(str(error)))
                    return
                location = _header(head.headers, "Location")
                if head.status in REDIRECT_STATUSES and location is not None:
                    # HTTP-redirect fetch (#http-redirect-fetch).
                    await stack.aclose()  # the redirect's own body is not wanted
                    redirects += 1
                    refused = _follow_redirect(request, head.status, location, redirects)
                    if refused is not None:
                        yield Fetched(InternalResponse.network_error(refused))
                        return
                    continue
                response = InternalResponse(
                    type=_response_type(request),
                    status=head.status,
                    status_message=head.reason,
                    header_list=HeaderList(head.headers),
                    url_list=list(request.url_list),
                )
                yield Fetched(response, body)
                return

    @asynccontextmanager
    async def _http_network_fetch(
        self, request: InternalRequest, process_request_body: Callable[[], None] | None
    ) -> AsyncIterator[tuple[ResponseHead, AsyncIterator[bytes]]]:
        url = request.current_url
        origin = url.origin
        assert origin is not None  # block_reason lets only http(s) URLs through
        body = request.body.source if request.body is not None else None
        headers = _request_headers(request, url.hostname, url.port, body)

        def sent(total: int) -> None:
            assert request.body is not None
            request.body.transmitted_bytes = total
            if process_request_body is not None:
                process_request_body()

        async with self.pool.request(
            origin, request.method, url.target, headers, body, sent
        ) as exchange:
            yield exchange


def _request_headers(
    request: InternalRequest, hostname: str, port: int | None, body: bytes | None
) -> list[tuple[str, str]]:
    headers = [("Host", hostname if port is None else f"{hostname}:{port}")]
    for name, value in request.header_list:
        if name.lower() not in ("host", "content-length", "connection", "transfer-encoding"):
            headers.append((name, value))
    defaults = {"user-agent": USER_AGENT, "accept": "*/*", "accept-encoding": "identity"}
    present = {name.lower() for name, _ in headers}
    headers += [(name, value) for name, value in defaults.items() if name not in present]
    if body is not None:
        headers.append(("Content-Length", str(len(body))))
    elif request.method not in ("GET", "HEAD"):
        headers.append(("Content-Length", "0"))
    return headers


def _follow_redirect(
    request: InternalRequest, status: int, location: str, count: int
) -> str | None:
    """Update *request* to follow a redirect; return why it can't be followed, or None."""
    current = request.current_url
    if request.redirect_mode != "follow":
        return f"redirect from {current} not followed (redirect mode {request.redirect_mode})"
    if count > MAX_REDIRECTS:
        return f"too many redirects (more than {MAX_REDIRECTS}) fetching {request.url}"
    try:
        location_url = parse_url(location, current)
    except TypeError:
        return f"{current} redirected to an invalid URL {location!r}"
    if location_url.scheme not in ("http", "https"):
        return f"{current} redirected to {location_url}, which is not an HTTP(S) URL"
    # Fetch: 301/302 turn POST into GET, 303 turns all but HEAD into GET.
    if (status in (301, 302) and request.method == "POST") or (
        status == 303 and request.method not in ("GET", "HEAD")
    ):
        request.method = "GET"
        request.body = None
        for name in ("Content-Type", "Content-Encoding", "Content-Language", "Content-Location"):
            request.header_list.delete(name)
    request.url_list.append(location_url)
    return None


def _response_type(request: InternalRequest) -> str:
    """Basic for a same-origin response, cors for a cross-origin one."""
    origin = request.origin
    if origin is None or request.current_url.origin == origin:
        return "basic"
    return "cors"


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lower = name.lower()
    return next((v for n, v in headers if n.lower() == lower), None)
