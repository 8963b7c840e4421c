"""Web IDL's argument conversions, as this Python binding does them.

JavaScript converts an argument to its IDL type (``ToString`` for a DOMString, a
number for an ``unsigned long long``) and throws a TypeError where it cannot.
Python has no such conversions: bgfetch checks each argument's type instead, once,
at the call, and raises a TypeError naming the argument, so that a bad argument never
gets further (into an edit queue, or h11) to fail there.  Where IDL does convert a
value of the right Python type (a DOMString to a ByteString), these functions do the
same conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

UNSIGNED_LONG_LONG_MAX = 2**64 - 1


def _kind(value: object) -> str:
    """*value* as an error message shows it: its repr (if short) and its type."""
    text = repr(value)
    return f"{text} ({type(value).__name__})" if len(text) <= 40 else f"a {type(value).__name__}"


def dom_string(value: object, what: str) -> str:
    """A DOMString (or USVString) argument: a ``str``."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {_kind(value)}")
    return value


def byte_string(value: object, what: str) -> str:
    """A ByteString argument: a ``str`` whose every character is at most U+00FF, kept as
    that ``str`` (one character per byte, as bgfetch's headers hold them; SPEC-NOTES.md
    SN-fetch-7)."""
    text = dom_string(value, what)
    for character in text:
        if ord(character) > 0xFF:
            raise TypeError(
                f"{what} {text!r} is not a ByteString: {character!r} (U+{ord(character):04X}) "
                "is above U+00FF"
            )
    return text


def unsigned_long_long(value: object, what: str) -> int:
    """An ``unsigned long long`` argument: an ``int`` (not a ``bool``) from 0 to 2**64 - 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a non-negative integer, not {_kind(value)}")
    if not 0 <= value <= UNSIGNED_LONG_LONG_MAX:
        raise TypeError(f"{what} must be a non-negative integer below 2**64, not {value}")
    return value


def sequence(value: object, what: str) -> list[Any]:
    """A ``sequence<T>`` argument: any iterable but a string or a mapping (in JavaScript a
    string is not an object, and a sequence is read from an object's iterator)."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a sequence (a list), not {_kind(value)}")
    return list(value)


def dictionaries(
    value: object,
    what: str,
    *,
    name: str,
    members: Mapping[str, str | None],
    required: tuple[str, ...] = (),
) -> list[dict[str, str]]:
    """A ``sequence<D>`` of a dictionary type *name* whose *members* are all DOMStrings,
    each with its default (None: none): each item a mapping, which becomes a new dict of
    the members it has and of the defaults of those it lacks, in *members*' order
    (entries IDL does not know are dropped, as a dictionary conversion does)."""
    converted: list[dict[str, str]] = []
    for index, item in enumerate(sequence(value, what)):
        where = f"{what}[{index}]"
        if not isinstance(item, Mapping):
            raise TypeError(f"{where} must be a {name} (a dict), not {_kind(item)}")
        for member in required:
            if member not in item:
                raise TypeError(f"{where}: a {name} requires {member!r}")
        dictionary: dict[str, str] = {}
        for member, default in members.items():
            if member in item:
                dictionary[member] = dom_string(item[member], f"{where}[{member!r}]")
            elif default is not None:
                dictionary[member] = default
        converted.append(dictionary)
    return converted


def image_resources(value: object, what: str) -> list[dict[str, str]]:
    """A ``sequence<ImageResource>`` (Image Resource, #dom-imageresource): a required
    ``src``, and optional ``sizes``, ``type`` and ``label``."""
    members = {"src": None, "sizes": None, "type": None, "label": None}
    return dictionaries(value, what, name="ImageResource", members=members, required=("src",))
