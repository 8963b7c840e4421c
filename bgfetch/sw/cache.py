"""Cache matching (Service Workers, Caches): what BackgroundFetchRegistration's match()
and matchAll() (and the 2017 draft's fetches' match()) use to pick records."""

from __future__ import annotations

from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse


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
