"""Fetch's header list and the Headers object over it.

Names and values are ``str`` holding Latin-1 (byte) text, as HTTP/1.1 carries
them; names compare case-insensitively, as Fetch's "byte-case-insensitive".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

HeaderPairs = Iterable[tuple[str, str]]


class HeaderList:
    """Fetch's header list: an ordered list of (name, value), names kept as given."""

    def __init__(self, pairs: HeaderPairs = ()) -> None:
        self._pairs: list[tuple[str, str]] = []
        for name, value in pairs:
            self.append(name, value)

    def copy(self) -> HeaderList:
        return HeaderList(self._pairs)

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


def _check_header(name: str, value: str) -> None:
    if not name or any(c in name for c in " \t\r\n:") or not name.isascii():
        raise TypeError(f"{name!r} is not a valid header name")
    if "\r" in value or "\n" in value or "\0" in value:
        raise TypeError(f"the value of header {name!r} contains a forbidden character: {value!r}")


class Headers:
    """The Headers interface (Fetch), over a header list it may share with a Request or Response."""

    def __init__(self, init: HeaderPairs | dict[str, str] | Headers | None = None) -> None:
        self.header_list = HeaderList()
        if isinstance(init, Headers):
            init = list(init.header_list)
        elif isinstance(init, dict):
            init = list(init.items())
        for name, value in init or ():
            self.header_list.append(name, value.strip(" \t"))

    @classmethod
    def over(cls, header_list: HeaderList) -> Headers:
        """A Headers object associated with an existing header list."""
        headers = cls()
        headers.header_list = header_list
        return headers

    def get(self, name: str) -> str | None:
        return self.header_list.get(name)

    def has(self, name: str) -> bool:
        return self.header_list.contains(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.has(name)

    def items(self) -> list[tuple[str, str]]:
        """Sorted, lower-cased, combined pairs: what iterating a JavaScript Headers gives."""
        names = sorted({n.lower() for n, _ in self.header_list})
        return [(n, self.header_list.get(n) or "") for n in names]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"
