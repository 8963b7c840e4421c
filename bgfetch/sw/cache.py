"""Cache matching (Service Workers, Caches): what BackgroundFetchRegistration's match()
and matchAll() (and the 2017 draft's fetches' match()) use to pick records."""

from __future__ import annotations

from typing import Literal, overload

from bgfetch.fetch.request import InternalRequest, Request, RequestInfo
from bgfetch.fetch.response import InternalResponse
from bgfetch.url import URL


@overload
def query_request(
    request: RequestInfo, base_url: URL, *, ignore_method: bool
) -> InternalRequest | Literal[False]: ...
@overload
def query_request(request: None, base_url: URL, *, ignore_method: bool) -> None: ...
def query_request(
    request: RequestInfo | None, base_url: URL, *, ignore_method: bool
) -> InternalRequest | None | Literal[False]:
    """Service Workers #cache-matchall steps 1-2: the query a Cache's matchAll() and keys()
    make of their request argument (None: every item; False: a non-GET Request without
    ignoreMethod, which matches nothing).  BackgroundFetchRegistration's match() makes its
    query the same way."""
    # 1. Let r be null.  2. If the optional argument request is not omitted, then:
    if request is None:
        return None
    # 2.1. If request is a Request object, then:
    if isinstance(request, Request):
        # 2.1.1. Set r to request's request.
        r = request.request
        # 2.1.2. If r's method is not `GET` and ignoreMethod is false, match nothing.
        if r.method != "GET" and not ignore_method:
            return False
        return r
    # 2.2. Else: set r to the request of a new Request with request (which may throw).
    return Request(request, base_url=base_url).request


def request_matches_cached_item(
    request_query: InternalRequest,
    request: InternalRequest,
    response: InternalResponse | None,
    *,
    ignore_search: bool = False,
    ignore_method: bool = False,
    ignore_vary: bool = False,
) -> bool:
    """Service Workers #request-matches-cached-item-algorithm"""
    # 1. If options["ignoreMethod"] is false and request's method is not `GET`, return false.
    if not ignore_method and request.method != "GET":
        return False
    # 2. Let queryURL be requestQuery's url.
    query_url = request_query.url
    # 3. Let cachedURL be request's url.
    cached_url = request.url
    # 4. If options["ignoreSearch"] is true, then:
    if ignore_search:
        # 4.1. Set cachedURL's query to the empty string.
        cached_url = cached_url.with_search("")
        # 4.2. Set queryURL's query to the empty string.
        query_url = query_url.with_search("")
    # 5. If queryURL does not equal cachedURL with exclude fragments set, return false.
    if query_url.without_fragment() != cached_url.without_fragment():
        return False
    # 6. If response is null, options["ignoreVary"] is true, or response's header list does
    # not contain `Vary`, then return true.
    if response is None or ignore_vary or not response.header_list.contains("Vary"):
        return True
    # 7. Let fieldValues be the list of the field-values of the `Vary` header's value.
    field_values = [v.strip() for v in (response.header_list.get("Vary") or "").split(",")]
    # 8. For each fieldValue in fieldValues:
    for field_value in field_values:
        # 8.1. If fieldValue matches "*", or the combined value of fieldValue in request's
        # header list does not match the one in requestQuery's, return false.
        if field_value == "*" or request.header_list.get(
            field_value
        ) != request_query.header_list.get(field_value):
            return False
    # 9. Return true.
    return True
