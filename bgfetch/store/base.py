"""Where a user agent keeps background fetch bytes: the one small interface.

The algorithms see a response's *bytes* as a :class:`StoredBytes`: append, length,
read a slice.  The store accounts every byte against its origin's quota, so
"append fails due to exceeding a quota limit" is :class:`StorageFull`.  The
in-memory store is :mod:`bgfetch.store.memory`; a persistent store implements the
same two protocols.
"""

from __future__ import annotations

from typing import Protocol

from bgfetch.url import Origin

DEFAULT_QUOTA = 64 * 2**30  # bytes per origin, when the user agent is given none


class StorageFull(Exception):
    """Storing would exceed the origin's quota.  Internal: the algorithms turn it
    into "quota-exceeded" or a QuotaExceededError."""


class StoredBytes(Protocol):
    """A byte sequence that only grows, readable while it grows."""

    def __len__(self) -> int: ...

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


class Store(Protocol):
    quota: int | None

    def usage(self, origin: Origin) -> int: ...

    def reserve(self, origin: Origin, size: int) -> None:
        """Account *size* more bytes to *origin*; raise :class:`StorageFull` past its quota."""
        ...

    def release(self, origin: Origin, size: int) -> None: ...

    def new_bytes(self, origin: Origin) -> StoredBytes: ...
