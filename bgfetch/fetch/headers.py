"""Fetch's header list and the Headers object over it.

Names and values are ``str`` holding Latin-1 (byte) text, as HTTP/1.1 carries
them; names compare case-insensitively, as Fetch's "byte-case-insensitive".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal

from bgfetch.idl import byte_string, sequence

HeaderPairs = Iterable[tuple[str, str]]


class HeaderList:
    """Fetch's header list: an ordered list of (name, value), names kept as given."""

    def __init__(self, pairs: HeaderPairs = ()) -> None:
        self._pairs: list[tuple[str, str]] = []
        for name, value in pairs:
            self.append(name, value)

    def copy(self) -> HeaderList:
        copied = HeaderList()
        copied._pairs = list(self._pairs)  # checked when they were appended
        return copied

    def contains(self, name: str) -> bool:
        lower = name.lower()
        return any(n.lower() == lower for n, _ in self._pairs)

    def get(self, name: str) -> str | None:
        """Fetch's "get": the combined value (values joined with ", "), or None."""
        lower = name.lower()
        values = [v for n, v in self._pairs if n.lower() == lower]
        return ", ".join(values) if values else None

    def first(self, name: str) -> str | None:
        """The value of the first header with this name (the spec's "first header")."""
        lower = name.lower()
        return next((v for n, v in self._pairs if n.lower() == lower), None)

    def append(self, name: str, value: str) -> None:
        _check_header(name, value)
        self._pairs.append((name, value))

    def set(self, name: str, value: str) -> None:
        """Fetch's "set": replace the first, remove the rest, or append."""
        _check_header(name, value)
        lower = name.lower()
        replaced = False
        pairs: list[tuple[str, str]] = []
        for n, v in self._pairs:
            if n.lower() != lower:
                pairs.append((n, v))
            elif not replaced:
                pairs.append((n, value))
                replaced = True
        if not replaced:
            pairs.append((name, value))
        self._pairs = pairs

    def delete(self, name: str) -> None:
        lower = name.lower()
        self._pairs = [(n, v) for n, v in self._pairs if n.lower() != lower]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"HeaderList({self._pairs!r})"


TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def is_token(value: str) -> bool:
    """RFC 9110's ``token``: one or more tchar."""
    return bool(value) and all(c in TOKEN_CHARS for c in value)


class ExtractFailure(ValueError):
    """Fetch's "failure" from extracting header list values: a value breaks its ABNF."""


def extract_token_list_values(name: str, header_list: HeaderList) -> list[str] | None:
    """Fetch's "extract header list values" for a header whose ABNF is ``#token``
    (Access-Control-Allow-Methods, -Allow-Headers, -Expose-Headers, Content-Encoding).

    None when the header is absent; raises :class:`ExtractFailure` when an element is
    not a token.  Empty list elements are ignored, as RFC 9110's ``#rule`` says.
    """
    if not header_list.contains(name):
        return None
    values: list[str] = []
    lower = name.lower()
    for header_name, value in header_list:
        if header_name.lower() != lower:
            continue
        for element in value.split(","):
            element = element.strip(" \t")
            if not element:
                continue
            if not is_token(element):
                raise ExtractFailure(f"{name}: {element!r} is not a token")
            values.append(element)
    return values


_NOT_IN_A_NAME = re.compile("[ \t\r\n:]")
_NOT_IN_A_VALUE = re.compile("[\r\n\0]")


def _check_header(name: str, value: str) -> None:
    if not name or not name.isascii() or _NOT_IN_A_NAME.search(name):
        raise TypeError(f"{name!r} is not a valid header name")
    if _NOT_IN_A_VALUE.search(value):
        raise TypeError(f"the value of header {name!r} contains a forbidden character: {value!r}")


Guard = Literal["immutable", "request", "request-no-cors", "response", "none"]

# Fetch #forbidden-request-header, step 1: names a page may never set.
FORBIDDEN_REQUEST_HEADER_NAMES = frozenset(
    name.lower()
    for name in (
        "Accept-Charset",
        "Accept-Encoding",
        "Access-Control-Request-Headers",
        "Access-Control-Request-Method",
        "Connection",
        "Content-Length",
        "Cookie",
        "Cookie2",
        "Date",
        "DNT",
        "Expect",
        "Host",
        "Keep-Alive",
        "Origin",
        "Referer",
        "Set-Cookie",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Via",
    )
)
# Fetch #forbidden-request-header, step 3: the method-override headers.
METHOD_OVERRIDE_HEADER_NAMES = frozenset(
    ("x-http-method", "x-http-method-override", "x-method-override")
)
# Fetch #forbidden-response-header-name.
FORBIDDEN_RESPONSE_HEADER_NAMES = frozenset(("set-cookie", "set-cookie2"))
# Fetch #privileged-no-cors-request-header-name.
PRIVILEGED_NO_CORS_REQUEST_HEADER_NAMES = frozenset(("range",))
HTTP_WHITESPACE = " \t\r\n"


def is_forbidden_method(method: str) -> bool:
    """Fetch #forbidden-method: `CONNECT`, `TRACE` or `TRACK`, byte-case-insensitively."""
    return method.lower() in ("connect", "trace", "track")


def get_decode_and_split(value: str) -> list[str]:
    """Fetch #header-value-get-decode-and-split, of one value (the header list's values
    for a name, combined): split on commas outside quoted strings, each part stripped of
    HTTP tab or space."""
    values: list[str] = []
    temporary = ""
    position = 0
    while True:
        # Collect a sequence of code points that are not U+0022 (") or U+002C (,).
        while position < len(value) and value[position] not in '",':
            temporary += value[position]
            position += 1
        if position < len(value) and value[position] == '"':
            # Collect an HTTP quoted string, with its quotes, into temporary.
            end = position + 1
            while end < len(value) and value[end] != '"':
                end += 2 if value[end] == "\\" else 1
            temporary += value[position : end + 1]
            position = end + 1
            if position < len(value):
                continue
        values.append(temporary.strip(" \t"))
        temporary = ""
        if position >= len(value):
            return values
        position += 1  # past the comma


def is_forbidden_request_header(name: str, value: str) -> bool:
    """Fetch #forbidden-request-header: a header the user agent keeps in full control of."""
    lower = name.lower()
    # 1. If name is a byte-case-insensitive match for one of ..., then return true.
    if lower in FORBIDDEN_REQUEST_HEADER_NAMES:
        return True
    # 2. If name when byte-lowercased starts with `proxy-` or `sec-`, then return true.
    if lower.startswith(("proxy-", "sec-")):
        return True
    # 3. If name is `X-HTTP-Method`, `X-HTTP-Method-Override` or `X-Method-Override`:
    if lower in METHOD_OVERRIDE_HEADER_NAMES:
        # 3.1. Let parsedValues be the result of getting, decoding, and splitting value.
        # 3.2. For each method of parsedValues: if the isomorphic encoding of method is a
        # forbidden method, then return true.
        if any(is_forbidden_method(method) for method in get_decode_and_split(value)):
            return True
    # 4. Return false.
    return False


def normalize_header_value(value: str) -> str:
    """Fetch #concept-header-value-normalize: strip leading and trailing HTTP whitespace."""
    return value.strip(HTTP_WHITESPACE)


def is_header_value(value: str) -> bool:
    """Fetch #header-value: no leading or trailing HTTP tab or space, no NUL, CR or LF."""
    return value == value.strip(" \t") and not any(c in value for c in "\0\r\n")


class Headers:
    """The Headers interface (Fetch), over a header list it may share with a Request or
    Response, with its guard.

    ``Headers(init)`` takes what HeadersInit is in Python: a dict (``record<ByteString,
    ByteString>``), an iterable of (name, value) pairs (``sequence<sequence<ByteString>>``),
    or another Headers.  Names and values are ByteStrings: ``str`` with characters up to
    U+00FF (idl.py); a name must be a token and a value a header value, or a TypeError
    names it.  Under the guard "request" (a Request's headers), a forbidden
    request-header is dropped without a word, as Fetch says.
    """

    def __init__(self, init: HeadersInit | None = None, *, guard: Guard = "none") -> None:
        self.header_list = HeaderList()
        self.guard: Guard = guard
        # Fetch, new Headers(init): 2. If init is given, then fill this with init.
        if init is not None:
            self.fill(init)

    @classmethod
    def over(cls, header_list: HeaderList, *, guard: Guard = "none") -> Headers:
        """A Headers object associated with an existing header list."""
        headers = cls(guard=guard)
        headers.header_list = header_list
        return headers

    def fill(self, init: HeadersInit) -> None:
        """Fetch #concept-headers-fill."""
        pairs: list[tuple[object, object]] = []
        if isinstance(init, Headers):
            pairs = list(init.header_list)
        elif isinstance(init, Mapping):
            # 2. Otherwise, object is a record: append each (key, value).
            pairs = list(init.items())
        else:
            # 1. If object is a sequence, then for each header of object: if header's size
            # is not 2, then throw a TypeError.
            for index, header in enumerate(sequence(init, "headers")):
                if isinstance(header, str | bytes | bytearray | Mapping) or not isinstance(
                    header, Iterable
                ):
                    raise TypeError(
                        f"headers[{index}] must be a (name, value) pair, not {header!r}"
                    )
                pair = list(header)
                if len(pair) != 2:
                    raise TypeError(
                        f"headers[{index}] must be a (name, value) pair, not {len(pair)} items"
                    )
                pairs.append((pair[0], pair[1]))
        for name, value in pairs:
            self.append(name, value)

    def _validate(self, name: str, value: str) -> bool:
        """Fetch #headers-validate."""
        # 1. If name is not a header name or value is not a header value, throw a TypeError.
        if not is_token(name):
            raise TypeError(f"{name!r} is not a valid header name (it must be a token)")
        if not is_header_value(value):
            raise TypeError(f"the value of header {name!r} is not a valid header value: {value!r}")
        # 2. If headers's guard is "immutable", throw a TypeError.
        if self.guard == "immutable":
            raise TypeError("these headers are immutable")
        # 3. If headers's guard is "request" and (name, value) is a forbidden
        # request-header, return false.
        if self.guard == "request" and is_forbidden_request_header(name, value):
            return False
        # 4. If headers's guard is "response" and name is a forbidden response-header
        # name, return false.
        if self.guard == "response" and name.lower() in FORBIDDEN_RESPONSE_HEADER_NAMES:
            return False
        # 5. Return true.
        return True

    def append(self, name: object, value: object) -> None:
        """Fetch #concept-headers-append (and ``headers.append()``)."""
        name = byte_string(name, "a header name")
        value = byte_string(value, f"the value of header {name!r}")
        # 1. Normalize value.
        value = normalize_header_value(value)
        # 2. If validating (name, value) for headers returns false, then return.
        if not self._validate(name, value):
            return
        # 3. If headers's guard is "request-no-cors":
        if self.guard == "request-no-cors":
            # 3.1-3.3. Let temporaryValue be the result of getting name, with value
            # appended after ", " (or value, if there is none).
            existing = self.header_list.get(name)
            temporary_value = value if existing is None else f"{existing}, {value}"
            # 3.4. If (name, temporaryValue) is not a no-CORS-safelisted request-header,
            # then return.
            if not _is_no_cors_safelisted_request_header(name, temporary_value):
                return
        # 4. Append (name, value) to headers's header list.
        self.header_list.append(name, value)
        # 5. If headers's guard is "request-no-cors", then remove privileged no-CORS
        # request-headers from headers.
        if self.guard == "request-no-cors":
            for privileged in PRIVILEGED_NO_CORS_REQUEST_HEADER_NAMES:
                self.header_list.delete(privileged)

    def set(self, name: object, value: object) -> None:
        """``headers.set(name, value)`` (Fetch #dom-headers-set)."""
        name = byte_string(name, "a header name")
        value = byte_string(value, f"the value of header {name!r}")
        # 1. Normalize value.
        value = normalize_header_value(value)
        # 2. If validating (name, value) for this returns false, then return.
        if not self._validate(name, value):
            return
        # 3. If this's guard is "request-no-cors" and (name, value) is not a
        # no-CORS-safelisted request-header, then return.
        if self.guard == "request-no-cors" and not _is_no_cors_safelisted_request_header(
            name, value
        ):
            return
        # 4. Set (name, value) in this's header list.
        self.header_list.set(name, value)
        # 5. If this's guard is "request-no-cors", remove privileged no-CORS request-headers.
        if self.guard == "request-no-cors":
            for privileged in PRIVILEGED_NO_CORS_REQUEST_HEADER_NAMES:
                self.header_list.delete(privileged)

    def delete(self, name: object) -> None:
        """``headers.delete(name)`` (Fetch #dom-headers-delete)."""
        name = byte_string(name, "a header name")
        # 1. If validating (name, ``) for this returns false, then return.
        if not self._validate(name, ""):
            return
        # 2. If this's guard is "request-no-cors", name is not a no-CORS-safelisted
        # request-header name, and name is not a privileged no-CORS request-header name,
        # then return.
        if (
            self.guard == "request-no-cors"
            and name.lower() not in NO_CORS_SAFELISTED_REQUEST_HEADER_NAMES
            and name.lower() not in PRIVILEGED_NO_CORS_REQUEST_HEADER_NAMES
        ):
            return
        # 3-4. Delete name from this's header list (nothing happens where it is absent).
        self.header_list.delete(name)

    def get(self, name: str) -> str | None:
        return self.header_list.get(byte_string(name, "a header name"))

    def has(self, name: str) -> bool:
        return self.header_list.contains(byte_string(name, "a header name"))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.header_list.contains(name)

    def items(self) -> list[tuple[str, str]]:
        """Sorted, lower-cased, combined pairs: what iterating a JavaScript Headers gives."""
        names = sorted({n.lower() for n, _ in self.header_list})
        return [(n, self.header_list.get(n) or "") for n in names]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"


HeadersInit = Headers | Mapping[str, str] | Iterable[tuple[str, str]]

# Fetch #no-cors-safelisted-request-header-name.
NO_CORS_SAFELISTED_REQUEST_HEADER_NAMES = frozenset(
    ("accept", "accept-language", "content-language", "content-type")
)


def _is_no_cors_safelisted_request_header(name: str, value: str) -> bool:
    """Fetch #no-cors-safelisted-request-header."""
    from bgfetch.fetch.cors import is_cors_safelisted_request_header  # (cors imports this)

    # 1. If name is not a no-CORS-safelisted request-header name, then return false.
    if name.lower() not in NO_CORS_SAFELISTED_REQUEST_HEADER_NAMES:
        return False
    # 2. Return whether (name, value) is a CORS-safelisted request-header.
    return is_cors_safelisted_request_header(name, value)
