"""HTML's structured clone (#structuredserializeinternal), for plain Python data.

What postMessage() carries between realms: StructuredSerialize then
StructuredDeserialize, in one step (:func:`structured_clone`), since both realms live in
one process.  The values JavaScript serializes map onto Python's as:

==========================  ==========================================================
None, bool, int, float,     primitives (Undefined/Null, Boolean, Number/BigInt,
str                         String): as they are
bytes, bytearray,           ArrayBuffer: a copy of the bytes (memoryview: as bytes)
memoryview
list, tuple                 Array: a new list (tuple) of clones
dict                        Object, or Map where keys are not str: a new dict of clones
set, frozenset              Set: a new set (frozenset) of clones
datetime, date, time,       Date: as they are (immutable)
timedelta
==========================  ==========================================================

A value seen twice (shared, or a cycle) is cloned once, as the memory map of
StructuredSerializeInternal does.  Anything else -- a function, a coroutine, a Request,
a class instance, a subclass of the types above (an IntEnum, a named tuple) -- is a
DataCloneError naming it and where it is (platform objects and functions are not
serializable in HTML either).
"""

from __future__ import annotations

import datetime
from typing import Any

from bgfetch.errors import DataCloneError

_IMMUTABLE = (type(None), bool, int, float, str, datetime.datetime, datetime.date)
_ALSO_IMMUTABLE = (datetime.time, datetime.timedelta)


def structured_clone(value: Any) -> Any:
    """StructuredSerialize *value*, then StructuredDeserialize it: a deep copy of what HTML
    can serialize; DataCloneError for anything else."""
    return _clone(value, {}, "the message")


def _clone(value: Any, memory: dict[int, Any], where: str) -> Any:
    kind = type(value)
    if kind in _IMMUTABLE or kind in _ALSO_IMMUTABLE:
        return value
    # 1-2. If memory[value] exists, return it (shared values and cycles stay so).
    if id(value) in memory:
        found = memory[id(value)]
        if isinstance(found, _InProgress):
            raise DataCloneError(
                f"{where} cannot be cloned: it is a cycle through the tuple at {found.where} "
                "(JavaScript has no tuples; use a list)"
            )
        return found
    if kind is bytes or kind is memoryview:
        return bytes(value)
    if kind is bytearray:
        copy_bytes = bytearray(value)
        memory[id(value)] = copy_bytes
        return copy_bytes
    if kind is list:
        copy_list: list[Any] = []
        memory[id(value)] = copy_list
        copy_list.extend(_clone(item, memory, f"{where}[{i}]") for i, item in enumerate(value))
        return copy_list
    if kind is tuple:
        memory[id(value)] = _InProgress(where)
        copy_tuple = tuple(_clone(item, memory, f"{where}[{i}]") for i, item in enumerate(value))
        memory[id(value)] = copy_tuple
        return copy_tuple
    if kind is dict:
        copy_dict: dict[Any, Any] = {}
        memory[id(value)] = copy_dict
        for key, item in value.items():
            copy_key = _clone(key, memory, f"a key of {where}")
            copy_dict[copy_key] = _clone(item, memory, f"{where}[{key!r}]")
        return copy_dict
    if kind is set or kind is frozenset:
        items = [_clone(item, memory, f"an item of {where}") for item in value]
        copy_set = set(items) if kind is set else frozenset(items)
        memory[id(value)] = copy_set
        return copy_set
    raise DataCloneError(f"{where} cannot be cloned: {_describe(value)} is not serializable")


class _InProgress:
    """A tuple being cloned: meeting it again is a cycle through a tuple."""

    def __init__(self, where: str) -> None:
        self.where = where


def _describe(value: Any) -> str:
    kind = type(value)
    for base in (bool, int, float, str, bytes, list, tuple, dict, set, frozenset):
        if isinstance(value, base):
            return (
                f"{kind.__qualname__} (a subclass of {base.__name__}; convert it to a plain "
                f"{base.__name__})"
            )
    if callable(value):
        return f"a function or callable ({value!r:.60})"
    return f"a {kind.__qualname__} object ({value!r:.60})"
