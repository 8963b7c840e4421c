"""Where a user agent keeps background fetch bytes: the one small interface.

The algorithms see a response's *bytes* as a :class:`StoredBytes`: append, length,
read a slice.  The store accounts every byte against its origin's quota, so
"append fails due to exceeding a quota limit" is :class:`StorageFull`.  The
in-memory store is :mod:`bgfetch.store.memory`; a persistent store implements the
same two protocols.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from bgfetch.url import Origin

DEFAULT_QUOTA = 64 * 2**30  # bytes per origin, when the user agent is given none


class StorageFull(Exception):
    """Storing would exceed the origin's quota.  Internal: the algorithms turn it
    into "quota-exceeded" or a QuotaExceededError."""


def check_quota(origin: Origin, used: int, size: int, quota: int | None) -> int:
    """The usage after storing *size* more bytes where *used* are: StorageFull, naming
    the origin and the numbers, when that passes *quota* (None: no limit)."""
    if quota is not None and used + size > quota:
        raise StorageFull(
            f"{origin}: storing {size} more bytes would use {used + size} of a "
            f"{quota}-byte quota"
        )
    return used + size


class StoredBytes(Protocol):
    """A byte sequence that only grows, readable while it grows."""

    @property
    def id(self) -> int:
        """Its number in its store (a body file's name in a stored user agent)."""
        ...

    def __len__(self) -> int: ...

    @property
    def file(self) -> Path | None:
        """The file holding exactly these bytes (a stored user agent's body file), or
        None (in memory)."""
        ...

    def append(self, data: bytes) -> None:
        """Append *data*; raise :class:`StorageFull` (storing nothing) past the quota."""
        ...

    def read(self, offset: int, size: int) -> bytes:
        """Up to *size* bytes starting at *offset*."""
        ...

    def discard(self) -> None:
        """Drop the bytes and give their space back to the origin's quota."""
        ...

    def release(self) -> None:
        """Give the bytes' space back to the origin's quota, once; readers that hold
        them may still read what is stored (nothing can be appended any more)."""
        ...

    def sync(self) -> None:
        """Make what is stored so far durable (a stored user agent fsyncs its file)."""
        ...


class Store(Protocol):
    """Where a user agent keeps bytes and, if it is ``persistent``, its state."""

    quota: int | None
    persistent: bool

    def usage(self, origin: Origin) -> int: ...

    def reserve(self, origin: Origin, size: int) -> None:
        """Account *size* more bytes to *origin*; raise :class:`StorageFull` past its quota."""
        ...

    def release(self, origin: Origin, size: int) -> None: ...

    def new_bytes(self, origin: Origin) -> StoredBytes: ...

    def bytes_by_id(self, id: int) -> StoredBytes:
        """The stored bytes number *id* (restoring a record)."""
        ...

    def save(self, kind: str, key: str, value: dict[str, Any]) -> None:
        """Remember *value* for (*kind*, *key*), in one transaction."""
        ...

    def delete(self, kind: str, key: str) -> None: ...

    def load(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every key -> value remembered for *kind*, oldest first."""
        ...

    def close(self) -> None: ...
