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

The algorithms follow the standard's layering: :meth:`Fetcher._main_fetch` (the
request rules, the CORS decision, response filtering), ``_http_fetch`` (the
CORS-preflight, the CORS check, redirects), ``_http_redirect_fetch``,
``_http_network_or_cache_fetch`` (the headers the user agent adds; there is no
HTTP cache) and ``_http_network_fetch`` (the HTTP/1.1 exchange and content
decoding).  Not modelled: service workers' fetch events (Background Fetch sets
the service-workers mode to "none"), cookies and HTTP authentication, the HTTP
cache and the CORS-preflight cache, Referer and integrity metadata.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import attrs

from bgfetch.errors import NetworkError
from bgfetch.fetch import cors
from bgfetch.fetch.checks import block_reason
from bgfetch.fetch.coding import ACCEPT_ENCODING, content_codings, decode_body
from bgfetch.fetch.headers import HeaderList
from bgfetch.fetch.http import ConnectionPool
from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import (
    REDIRECT_STATUSES,
    InternalResponse,
    basic_filtered_response,
    cors_filtered_response,
    opaque_filtered_response,
    opaque_redirect_filtered_response,
)
from bgfetch.url import URL, parse_url

MAX_REDIRECTS = 20
USER_AGENT = "bgfetch/0.1"
NULL_BODY_STATUSES = frozenset({101, 103, 204, 205, 304})
# Fetch #request-body-header-name.
REQUEST_BODY_HEADER_NAMES = (
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Content-Type",
)


async def _no_body() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _nothing() -> None:
    return None


@attrs.define
class Fetched:
    """A response and its body's bytes as they arrive.

    ``body`` is None for a network error.  ``discard`` ends the exchange the body
    comes from (the connection closes unless it is reusable).  The body is the fetch's
    to close: ending the exchange (``discard``, or leaving the fetch's block) closes it,
    so a reader may stop reading it at any point.
    """

    response: InternalResponse
    body: AsyncIterator[bytes] | None = None
    discard: Callable[[], Awaitable[None]] = attrs.field(default=_nothing, repr=False)
    raw: AsyncIterator[bytes] | None = attrs.field(default=None, repr=False)
    """The body's bytes as received, before content decoding: what a body nobody reads
    (a preflight's, a HEAD's) is drained from, so that none of it is ever decoded."""

    @classmethod
    def network_error(
        cls, why: str, *, aborted: bool = False, cors_failure: bool = False
    ) -> Fetched:
        return cls(InternalResponse.network_error(why, aborted=aborted, cors_failure=cors_failure))


@attrs.define
class _FetchParams:
    """Fetch's fetch params, the parts used here."""

    request: InternalRequest
    process_request_body: Callable[[], None] | None
    exchanges: AsyncExitStack  # every exchange opened, closed when the fetch ends


class Fetcher:
    """The user agent's fetch: request rules, CORS, redirects, and HTTP over the pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def fetch(
        self,
        request: InternalRequest,
        *,
        process_request_body: Callable[[], None] | None = None,
    ) -> AsyncIterator[Fetched]:
        """Fetch (#fetching) *request*; yield the response once its head is in."""
        populate_request_from_client(request)
        async with AsyncExitStack() as exchanges:
            params = _FetchParams(request, process_request_body, exchanges)
            yield await self._main_fetch(params)

    # -- main fetch ----------------------------------------------------------------

    async def _main_fetch(self, params: _FetchParams, *, recursive: bool = False) -> Fetched:
        """Fetch #main-fetch."""
        # 1. Let request be fetchParams's request.  2. Let response be null.
        request = params.request
        fetched: Fetched | None = None
        # 7. If should request be blocked due to a bad port, as mixed content, or by
        # Content Security Policy, then set response to a network error.
        reason = block_reason(request)
        if reason is not None:
            fetched = Fetched.network_error(reason)
        # 12. If response is null, set it to the result of the first matching statement:
        if fetched is None:
            fetched = await self._main_fetch_switch(params)
        # 13. If recursive is true, then return response.
        if recursive:
            return fetched
        response = fetched.response
        # 14. If response is not a network error and not a filtered response, then:
        if not response.is_network_error and response.internal_response is None:
            # 14.1. If request's response tainting is "cors", set the response's CORS-
            # exposed header-name list from `Access-Control-Expose-Headers`.
            if request.response_tainting == "cors":
                cors.set_cors_exposed_header_names(request, response)
            # 14.2. Set response to the filtered response for request's response tainting.
            if request.response_tainting == "basic":
                fetched.response = basic_filtered_response(response)
            elif request.response_tainting == "cors":
                fetched.response = cors_filtered_response(response)
            else:
                fetched.response = opaque_filtered_response(response)
                # An opaque filtered response's body is null.
                await fetched.discard()
                fetched.body = _no_body()
        # 16. If internalResponse's URL list is empty, set it to a clone of request's.
        internal = fetched.response.unfiltered
        if not fetched.response.is_network_error and not internal.url_list:
            internal.url_list = list(request.url_list)
        # 21. For a `HEAD` request or a null body status, the body is null.
        if not fetched.response.is_network_error and (
            request.method in ("HEAD", "CONNECT") or internal.status in NULL_BODY_STATUSES
        ):
            await _drain(fetched)
            fetched.body = _no_body()
        # 23. Run fetch response handover (the caller gets response and body).
        return fetched

    async def _main_fetch_switch(self, params: _FetchParams) -> Fetched:
        """Main fetch step 12: how the request goes out, and whether it is a CORS request."""
        request = params.request
        url = request.current_url
        same_origin = url.origin is not None and url.origin == request.origin
        # A same-origin request with "basic" tainting (or a data: URL): scheme fetch.
        if (same_origin and request.response_tainting == "basic") or url.scheme == "data":
            request.response_tainting = "basic"
            return await self._scheme_fetch(params)
        # mode "same-origin": return a network error.
        if request.mode == "same-origin":
            return Fetched.network_error(
                f"{url.href}: a cross-origin request from {request.origin} in mode "
                "same-origin is a network error (Fetch, #main-fetch)"
            )
        # mode "no-cors": an opaque response, redirects followed.
        if request.mode == "no-cors":
            if request.redirect_mode != "follow":
                return Fetched.network_error(
                    f"{url.href}: a no-cors request must follow redirects (Fetch, #main-fetch)"
                )
            request.response_tainting = "opaque"
            return await self._scheme_fetch(params)
        # request's current URL's scheme is not an HTTP(S) scheme: a network error.
        if url.scheme not in ("http", "https"):
            return Fetched.network_error(
                f"{url.href}: a cross-origin request for a {url.scheme}: URL is a network "
                "error (Fetch, #main-fetch: not an HTTP(S) scheme)"
            )
        # A CORS request; with a preflight when the method or headers are not safelisted.
        request.response_tainting = "cors"
        return await self._http_fetch(
            params, make_cors_preflight=cors.needs_cors_preflight(request)
        )

    async def _scheme_fetch(self, params: _FetchParams) -> Fetched:
        """Fetch #scheme-fetch.

        bgfetch's Fetch fetches HTTP(S) URLs only.  Fetch answers a network error for
        file: (in doubt), unknown schemes, and about: URLs other than about:blank;
        for about:blank, blob: and data: URLs it would build a response, which
        bgfetch does not: they are a network error here (SPEC-NOTES.md SN-fetch-2:
        Background Fetch and its tests want them to fail).
        """
        url = params.request.current_url
        if url.scheme in ("http", "https"):
            return await self._http_fetch(params)
        return Fetched.network_error(
            f"{url.href}: bgfetch fetches only http: and https: URLs, not {url.scheme}: "
            "(Fetch, #scheme-fetch)"
        )

    # -- HTTP fetch ----------------------------------------------------------------

    async def _http_fetch(
        self, params: _FetchParams, *, make_cors_preflight: bool = False
    ) -> Fetched:
        """Fetch #http-fetch (without service workers: Background Fetch's requests skip them)."""
        request = params.request
        # 4.1. If makeCORSPreflight is true (and there is no CORS-preflight cache to
        # consult), run a CORS-preflight fetch; if it is a network error, return it.
        if make_cors_preflight:
            preflight_error = await self._cors_preflight_fetch(request)
            if preflight_error is not None:
                return preflight_error
        # 4.2. If request's redirect mode is "follow", set its service-workers mode to "none".
        if request.redirect_mode == "follow":
            request.service_workers_mode = "none"
        # 4.3. Set response to the result of running HTTP-network-or-cache fetch.
        fetched = await self._http_network_or_cache_fetch(params)
        response = fetched.response
        if response.is_network_error:
            return fetched
        # 4.4. If request's response tainting is "cors" and a CORS check for request and
        # response returns failure, then return a network error (its body never read).
        if request.response_tainting == "cors":
            failure = cors.cors_check(request, response)
            if failure is not None:
                await fetched.discard()
                return Fetched.network_error(failure, cors_failure=True)
        # 6. If internalResponse's status is a redirect status:
        if response.status in REDIRECT_STATUSES:
            if request.redirect_mode == "error":
                await fetched.discard()
                return Fetched.network_error(
                    f"{request.current_url.href}: redirected, and the request's redirect "
                    "mode is error (Fetch, #http-fetch)"
                )
            if request.redirect_mode == "manual":
                await fetched.discard()
                return Fetched(opaque_redirect_filtered_response(response), _no_body())
            return await self._http_redirect_fetch(params, fetched)
        # 7. Return response.
        return fetched

    async def _http_redirect_fetch(self, params: _FetchParams, fetched: Fetched) -> Fetched:
        """Fetch #http-redirect-fetch."""
        request = params.request
        current = request.current_url
        response = fetched.response
        # 3. Let locationURL be internalResponse's location URL given the current fragment.
        location = response.header_list.get("Location")
        # 4. If locationURL is null, then return response.
        if location is None:
            return fetched
        # The redirect's own body is not wanted.
        await fetched.discard()
        # 5. If locationURL is failure, then return a network error.
        try:
            location_url = parse_url(location, current)
        except TypeError:
            return Fetched.network_error(
                f"{current.href} redirected to {location!r}, which is not a valid URL "
                "(Fetch, #http-redirect-fetch)"
            )
        if not location_url.hash and current.hash:
            location_url = parse_url(location_url.href + current.hash)
        # 6. If locationURL's scheme is not an HTTP(S) scheme, return a network error.
        if location_url.scheme not in ("http", "https"):
            return Fetched.network_error(
                f"{current.href} redirected to {location_url.href}, which is not an HTTP(S) "
                "URL (Fetch, #http-redirect-fetch)"
            )
        # 7. If request's redirect count is 20, then return a network error.
        if request.redirect_count == MAX_REDIRECTS:
            return Fetched.network_error(
                f"{request.url.href}: more than {MAX_REDIRECTS} redirects "
                "(Fetch, #http-redirect-fetch)"
            )
        # 8. Increase request's redirect count by 1.
        request.redirect_count += 1
        # 9-10. A redirect to a URL with credentials fails a CORS request (unless it stays
        # same-origin with the request's origin and tainting is not cors).
        if location_url.includes_credentials and (
            (request.mode == "cors" and request.origin != location_url.origin)
            or request.response_tainting == "cors"
        ):
            return Fetched.network_error(
                f"{current.href} redirected to {location_url.href}, a URL with credentials, "
                "in a CORS request (Fetch, #http-redirect-fetch)"
            )
        # 11. A body that cannot be re-sent (no source) fails, unless the status is 303.
        if response.status != 303 and request.body is not None and request.body.source is None:
            return Fetched.network_error(
                f"{current.href}: redirected with status {response.status}, and the request "
                "body cannot be sent again (Fetch, #http-redirect-fetch)"
            )
        # 12. 301/302 turn POST into GET; 303 turns all but GET and HEAD into GET.
        if (response.status in (301, 302) and request.method == "POST") or (
            response.status == 303 and request.method not in ("GET", "HEAD")
        ):
            request.method = "GET"
            request.body = None
            for name in REQUEST_BODY_HEADER_NAMES:
                request.header_list.delete(name)
        # 13. Leaving the origin drops `Authorization`.
        if current.origin != location_url.origin:
            request.header_list.delete("Authorization")
        # 14. (The body is re-sent from its source.)
        if request.body is not None:
            request.body.transmitted_bytes = 0
        # 18. Append locationURL to request's URL list.
        request.url_list.append(location_url)
        # 20-22. Return the result of running main fetch given fetchParams and true.
        return await self._main_fetch(params, recursive=True)

    async def _cors_preflight_fetch(self, request: InternalRequest) -> Fetched | None:
        """Fetch #cors-preflight-fetch: None when the preflight allows *request*, else the
        network error."""
        # 1-5. The OPTIONS request, with Access-Control-Request-Method and -Headers.
        preflight = cors.make_preflight_request(request)
        # 6. Let response be the result of running HTTP-network-or-cache fetch.
        async with AsyncExitStack() as exchanges:
            fetched = await self._http_network_or_cache_fetch(
                _FetchParams(preflight, None, exchanges)
            )
            if fetched.response.is_network_error:
                return Fetched.network_error(
                    f"{request.current_url.href}: CORS preflight failed: {fetched.response.error}",
                    cors_failure=True,
                )
            await _drain(fetched)
            # 7-8. The CORS check and the allowed methods and headers.
            failure = cors.check_preflight_response(request, fetched.response)
        return None if failure is None else Fetched.network_error(failure, cors_failure=True)

    # -- HTTP-network-or-cache fetch and HTTP-network fetch -------------------------

    async def _http_network_or_cache_fetch(self, params: _FetchParams) -> Fetched:
        """Fetch #http-network-or-cache-fetch, without a cache: the request's headers."""
        request = params.request
        # 8.2.1. Let httpRequest be a clone of request (its header list, here).
        headers = request.header_list.copy()
        # Fetch step 11 ("fetch"): `Accept: */*` unless the request has one.
        if not headers.contains("Accept"):
            headers.append("Accept", "*/*")
        # 8.12. Append a request `Origin` header for httpRequest.
        cors.append_request_origin_header(request, headers)
        # 8.15. `User-Agent`, unless the header list has one.
        if not headers.contains("User-Agent"):
            headers.append("User-Agent", USER_AGENT)
        if headers.contains("Range"):
            # 8.19. If httpRequest's header list contains `Range`, append
            # (`Accept-Encoding`, `identity`).
            if not headers.contains("Accept-Encoding"):
                headers.append("Accept-Encoding", "identity")
            # Not Fetch's: the validator of the earlier bytes, for a resumed download.
            if request.if_range is not None and not headers.contains("If-Range"):
                headers.append("If-Range", request.if_range)
        elif not headers.contains("Accept-Encoding"):
            # 8.20. "Modify httpRequest's header list per HTTP": the codings we decode.
            headers.append("Accept-Encoding", ACCEPT_ENCODING)
        # 10.2. Let forwardResponse be the result of running HTTP-network fetch.
        fetched = await self._http_network_fetch(params, headers)
        # 11. Set response's URL list to a clone of httpRequest's URL list.
        if not fetched.response.is_network_error:
            fetched.response.url_list = list(request.url_list)
        return fetched

    async def _http_network_fetch(self, params: _FetchParams, headers: HeaderList) -> Fetched:
        """Fetch #http-network-fetch over the pool: one HTTP/1.1 exchange.

        The exchange stays open in *params*' exchanges until the fetch ends or the
        response is discarded; the body is decoded as its bytes arrive (17.1.1.9).  The
        decoded body is the exchange's: ending the exchange closes it, read or not.
        """
        request = params.request
        url = request.current_url
        origin = url.origin
        assert origin is not None  # an HTTP(S) URL
        body = request.body.source if request.body is not None else None
        wire_headers = _wire_headers(request, url, headers, body)
        process_request_body = params.process_request_body

        def sent(total: int) -> None:
            assert request.body is not None
            request.body.transmitted_bytes = total
            if process_request_body is not None:
                process_request_body()

        exchange = AsyncExitStack()
        try:
            head, raw_body = await exchange.enter_async_context(
                self.pool.request(origin, request.method, url.target, wire_headers, body, sent)
            )
        except NetworkError as error:
            await exchange.aclose()
            return Fetched.network_error(f"{url.href}: network error: {error}")
        params.exchanges.push_async_exit(exchange)
        response = InternalResponse(
            status=head.status,
            status_message=head.reason,
            header_list=HeaderList(head.headers),
            url_list=list(request.url_list),
        )
        decoded = decode_body(content_codings(response.header_list), raw_body, url=url.href)
        exchange.push_async_callback(decoded.aclose)
        return Fetched(response, decoded, exchange.aclose, raw=raw_body)


def populate_request_from_client(request: InternalRequest) -> None:
    """Fetch #populate-request-from-client, for a request whose client is null.

    A request with origin "client" (None) and no client has no origin to take:
    bgfetch then treats it as made by its URL's own origin (the fetch is same-origin).
    Background Fetch sets the origin itself (SPEC-NOTES.md SN-fetch-1).
    """
    if request.origin is None:
        request.origin = request.url.origin


def _wire_headers(
    request: InternalRequest, url: URL, headers: HeaderList, body: bytes | None
) -> list[tuple[str, str]]:
    """The header fields on the wire: `Host`, then the request's, then the framing."""
    host = url.hostname if url.port is None else f"{url.hostname}:{url.port}"
    wire = [("Host", host)]
    for name, value in headers:
        if name.lower() not in ("host", "content-length", "connection", "transfer-encoding"):
            wire.append((name, value))
    # 8.5-8.9. `Content-Length`: the body's length, or 0 for a POST or PUT without one.
    if body is not None:
        wire.append(("Content-Length", str(len(body))))
    elif request.method not in ("GET", "HEAD"):
        wire.append(("Content-Length", "0"))
    return wire


async def _drain(fetched: Fetched, limit: int = 64 * 1024) -> None:
    """Read and drop a small body nobody reads (a preflight's, a HEAD's), so its connection
    can be reused: its bytes as received, never decoded (SPEC-NOTES.md SN-fetch-9).  A
    longer body ends the exchange (and its connection)."""
    body = fetched.raw if fetched.raw is not None else fetched.body
    if body is None:
        return
    read = 0
    try:
        async for chunk in body:
            read += len(chunk)
            if read > limit:
                break
    except NetworkError:
        pass
    await fetched.discard()
