"""The CORS protocol (Fetch #http-cors-protocol): which requests need a preflight, the
CORS check, the CORS-preflight request and the checks on its response, and what a
CORS response exposes.

Each check returns None when it passes and, when it fails, a message naming the
URL and the rule, which becomes the network error's reason.
"""

from __future__ import annotations

import re

from bgfetch.fetch.headers import ExtractFailure, HeaderList, extract_token_list_values, is_token
from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse

# Fetch #cors-safelisted-method.
CORS_SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})

# Fetch #cors-unsafe-request-header-byte (besides bytes below 0x20 other than HT).
_CORS_UNSAFE_BYTES = frozenset('"():<>?@[\\]{}\x7f')
_LANGUAGE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz *,-.;=")
_SAFELISTED_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
_SINGLE_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")


def is_cors_safelisted_method(method: str) -> bool:
    return method in CORS_SAFELISTED_METHODS


def _has_cors_unsafe_byte(value: str) -> bool:
    return any((ord(c) < 0x20 and c != "\t") or c in _CORS_UNSAFE_BYTES for c in value)


def _mime_essence(value: str) -> str | None:
    """MIME Sniffing's "parse a MIME type", reduced to its essence; None for failure."""
    text = value.strip(" \t\r\n")
    type_, slash, rest = text.partition("/")
    subtype = rest.split(";", 1)[0].rstrip(" \t\r\n")
    if not slash or not is_token(type_) or not is_token(subtype):
        return None
    return f"{type_}/{subtype}".lower()


def parse_single_range_header_value(value: str) -> tuple[int | None, int | None] | None:
    """Fetch #simple-range-header-value with allowWhitespace false; None for failure."""
    match = _SINGLE_RANGE.fullmatch(value)
    if match is None or not (match[1] or match[2]):
        return None
    start = int(match[1]) if match[1] else None
    end = int(match[2]) if match[2] else None
    if start is not None and end is not None and start > end:
        return None
    return start, end


def is_cors_safelisted_request_header(name: str, value: str) -> bool:
    """Fetch #cors-safelisted-request-header."""
    # 1. If value's length is greater than 128, then return false.
    if len(value) > 128:
        return False
    # 2. Byte-lowercase name and switch on the result:
    lower = name.lower()
    if lower == "accept":
        return not _has_cors_unsafe_byte(value)
    if lower in ("accept-language", "content-language"):
        return all(c in _LANGUAGE_CHARS for c in value)
    if lower == "content-type":
        if _has_cors_unsafe_byte(value):
            return False
        return _mime_essence(value) in _SAFELISTED_CONTENT_TYPES
    if lower == "range":
        parsed = parse_single_range_header_value(value)
        # A suffix range (`bytes=-500`) is not safelisted.
        return parsed is not None and parsed[0] is not None
    return False


def cors_unsafe_request_header_names(headers: HeaderList) -> list[str]:
    """Fetch #cors-unsafe-request-header-names: sorted, lowercased, without duplicates."""
    unsafe_names: list[str] = []
    potentially_unsafe_names: list[str] = []
    safelist_value_size = 0
    for name, value in headers:
        if not is_cors_safelisted_request_header(name, value):
            unsafe_names.append(name)
        else:
            potentially_unsafe_names.append(name)
            safelist_value_size += len(value)
    # 5. Past 1024 bytes of safelisted values, all of them count as unsafe.
    if safelist_value_size > 1024:
        unsafe_names += potentially_unsafe_names
    return sorted({name.lower() for name in unsafe_names})


def needs_cors_preflight(request: InternalRequest) -> bool:
    """Main fetch's condition for a CORS request with a preflight (step 12)."""
    return request.use_cors_preflight or (
        request.unsafe_request
        and (
            not is_cors_safelisted_method(request.method)
            or bool(cors_unsafe_request_header_names(request.header_list))
        )
    )


def has_redirect_tainted_origin(request: InternalRequest) -> bool:
    """Whether Fetch's redirect-taint of *request* is not "same-origin" (#concept-request-
    tainted-origin): some redirect left an origin that was not the request's own for
    another one."""
    last_url = None
    for url in request.url_list:
        if last_url is None:
            last_url = url
            continue
        if url.origin != last_url.origin and request.origin != last_url.origin:
            return True
        last_url = url
    return False


def serialize_request_origin(request: InternalRequest) -> str:
    """Fetch #serializing-a-request-origin."""
    assert request.origin is not None
    # 2. If request's redirect-taint is not "same-origin", then return "null".
    if has_redirect_tainted_origin(request):
        return "null"
    # 3. Return request's origin, serialized.
    return str(request.origin.serialize())


def append_request_origin_header(request: InternalRequest, header_list: HeaderList) -> None:
    """Fetch #append-a-request-origin-header, to *header_list* (httpRequest's)."""
    if request.origin is None:
        return
    # 2. Let serializedOrigin be the result of byte-serializing a request origin.
    serialized_origin = serialize_request_origin(request)
    # 3. If request's response tainting is "cors", append (`Origin`, serializedOrigin).
    if request.response_tainting == "cors":
        header_list.append("Origin", serialized_origin)
    # 4. Otherwise, if request's method is neither `GET` nor `HEAD`:
    elif request.method not in ("GET", "HEAD"):
        # 4.1-4.2. The default referrer policy, "strict-origin-when-cross-origin": an https
        # origin sending to a non-https URL sends `null`.
        if request.origin.scheme == "https" and request.current_url.scheme != "https":
            serialized_origin = "null"
        # 4.3. Append (`Origin`, serializedOrigin).
        header_list.append("Origin", serialized_origin)


def cors_check(request: InternalRequest, response: InternalResponse) -> str | None:
    """Fetch #concept-cors-check: None for success, else why it failed."""
    url = request.current_url.href
    # 1. Let origin be the result of getting `Access-Control-Allow-Origin`.
    origin = response.header_list.get("Access-Control-Allow-Origin")
    # 2. If origin is null, then return failure.
    if origin is None:
        return f"{url}: CORS check failed: the response has no Access-Control-Allow-Origin header"
    # 3. If request's credentials mode is not "include" and origin is `*`, return success.
    if request.credentials_mode != "include" and origin == "*":
        return None
    # 4. If the byte-serialized request origin is not origin, then return failure.
    serialized = serialize_request_origin(request)
    if serialized != origin:
        if origin == "*":
            return (
                f"{url}: CORS check failed: Access-Control-Allow-Origin is * and the "
                "request's credentials mode is include"
            )
        return (
            f"{url}: CORS check failed: Access-Control-Allow-Origin {origin!r} is not the "
            f"request's origin {serialized!r}"
        )
    # 5. If request's credentials mode is not "include", then return success.
    if request.credentials_mode != "include":
        return None
    # 6-7. If `Access-Control-Allow-Credentials` is `true`, then return success.
    if response.header_list.get("Access-Control-Allow-Credentials") == "true":
        return None
    # 8. Return failure.
    return (
        f"{url}: CORS check failed: the request's credentials mode is include and "
        "Access-Control-Allow-Credentials is not true"
    )


def make_preflight_request(request: InternalRequest) -> InternalRequest:
    """CORS-preflight fetch, steps 1-5: the `OPTIONS` request."""
    # 1. A new request: method `OPTIONS`, a clone of request's URL list, its origin,
    # destination and mode "cors", response tainting "cors".
    preflight = InternalRequest(
        url=request.url,
        method="OPTIONS",
        url_list=list(request.url_list),
        origin=request.origin,
        destination=request.destination,
        mode="cors",
        credentials_mode=request.credentials_mode,
        service_workers_mode="none",
        response_tainting="cors",
    )
    # 2. Append (`Accept`, `*/*`).
    preflight.header_list.append("Accept", "*/*")
    # 3. Append (`Access-Control-Request-Method`, request's method).
    preflight.header_list.append("Access-Control-Request-Method", request.method)
    # 4-5. If the CORS-unsafe request-header names are not empty, append them joined by
    # `,` as `Access-Control-Request-Headers`.
    headers = cors_unsafe_request_header_names(request.header_list)
    if headers:
        preflight.header_list.append("Access-Control-Request-Headers", ",".join(headers))
    return preflight


def check_preflight_response(request: InternalRequest, response: InternalResponse) -> str | None:
    """CORS-preflight fetch, steps 7-8: None when *response* allows *request*, else why not.

    (bgfetch has no CORS-preflight cache: steps 7.8-7.15 store nothing.)
    """
    url = request.current_url.href
    # 7. If a CORS check for request and response returns success and response's status
    # is an ok status:
    failure = cors_check(request, response)
    if failure is not None:
        return f"{url}: CORS preflight failed: {failure.split(': ', 1)[1]}"
    if not response.ok:
        return f"{url}: CORS preflight failed: the OPTIONS response has status {response.status}"
    # 7.1-7.3. Extract Access-Control-Allow-Methods and -Allow-Headers; failure fails.
    try:
        methods = extract_token_list_values("Access-Control-Allow-Methods", response.header_list)
        header_names = extract_token_list_values(
            "Access-Control-Allow-Headers", response.header_list
        )
    except ExtractFailure as error:
        return f"{url}: CORS preflight failed: {error}"
    # 7.4. If methods is null and the use-CORS-preflight flag is set, methods is « method ».
    if methods is None and request.use_cors_preflight:
        methods = [request.method]
    methods = methods or []
    header_names = header_names or []
    allowed_names = {name.lower() for name in header_names}
    credentialed = request.credentials_mode == "include"
    # 7.5. The method must be allowed: listed, safelisted, or `*` without credentials.
    if (
        request.method not in methods
        and not is_cors_safelisted_method(request.method)
        and (credentialed or "*" not in methods)
    ):
        return (
            f"{url}: CORS preflight failed: method {request.method} is not in "
            f"Access-Control-Allow-Methods ({', '.join(methods) or 'none'})"
        )
    # 7.6. `Authorization` must be listed by name (a wildcard does not cover it).
    for name, _ in request.header_list:
        if name.lower() == "authorization" and "authorization" not in allowed_names:
            return (
                f"{url}: CORS preflight failed: Authorization is not in "
                "Access-Control-Allow-Headers"
            )
    # 7.7. Every CORS-unsafe request-header name must be allowed (or `*`, uncredentialed).
    for unsafe_name in cors_unsafe_request_header_names(request.header_list):
        if unsafe_name not in allowed_names and (credentialed or "*" not in header_names):
            return (
                f"{url}: CORS preflight failed: header {unsafe_name} is not in "
                f"Access-Control-Allow-Headers ({', '.join(header_names) or 'none'})"
            )
    return None


def set_cors_exposed_header_names(request: InternalRequest, response: InternalResponse) -> None:
    """Main fetch step 14.1: the CORS-exposed header-name list from
    `Access-Control-Expose-Headers`."""
    # 14.1.1. Let headerNames be the extracted Access-Control-Expose-Headers values.
    try:
        header_names = extract_token_list_values(
            "Access-Control-Expose-Headers", response.header_list
        )
    except ExtractFailure:
        # 14.1.3. "failure" becomes the list, which (being no list of names) exposes none.
        response.cors_exposed_header_names = []
        return
    # 14.1.2. Uncredentialed, `*` exposes every header name in the response.
    if request.credentials_mode != "include" and header_names is not None and "*" in header_names:
        response.cors_exposed_header_names = list(
            dict.fromkeys(name for name, _ in response.header_list)
        )
    # 14.1.3. Otherwise, if headerNames is non-null, it is the list.
    elif header_names is not None:
        response.cors_exposed_header_names = header_names
