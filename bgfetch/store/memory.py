"""The in-memory store: bytes in bytearrays (appends are amortised linear).

It remembers nothing across a restart (``persistent`` is false: the editions save no
state into it).  A byte sequence's memory goes when nothing can read it any more:
its record and every Response over it are gone.
"""

from __future__ import annotations

import itertools
from typing import Any

from bgfetch.store.base import DEFAULT_QUOTA, check_quota
from bgfetch.url import Origin


class MemoryStore:
    """Keeps every origin's bytes in memory, within a per-origin quota (None: no limit)."""

    def __init__(self, quota: int | None = DEFAULT_QUOTA) -> None:
        if quota is not None and quota < 0:
            raise ValueError(f"quota must be a non-negative number of bytes, not {quota!r}")
        self.quota = quota
        self.persistent = False
        self._usage: dict[Origin, int] = {}
        self._ids = itertools.count(1)

    def usage(self, origin: Origin) -> int:
        return self._usage.get(origin, 0)

    def reserve(self, origin: Origin, size: int) -> None:
        self._usage[origin] = check_quota(origin, self.usage(origin), size, self.quota)

    def release(self, origin: Origin, size: int) -> None:
        self._usage[origin] = max(0, self.usage(origin) - size)

    def new_bytes(self, origin: Origin) -> MemoryBytes:
        return MemoryBytes(self, origin, next(self._ids))

    def bytes_by_id(self, id: int) -> MemoryBytes:
        raise KeyError(f"the in-memory store keeps no bytes across a restart (asked for {id})")

    # Nothing is remembered across a restart.
    def save(self, kind: str, key: str, value: dict[str, Any]) -> None:
        pass

    def delete(self, kind: str, key: str) -> None:
        pass

    def load(self, kind: str) -> dict[str, dict[str, Any]]:
        return {}

    def close(self) -> None:
        pass


class MemoryBytes:
    def __init__(self, store: MemoryStore, origin: Origin, id: int) -> None:
        self.id = id
        self._store = store
        self._origin = origin
        self._data = bytearray()
        self._released = False

    def __len__(self) -> int:
        return len(self._data)

    def append(self, data: bytes) -> None:
        if self._released:
            raise ValueError("cannot append to stored bytes whose space was released")
        self._store.reserve(self._origin, len(data))
        self._data += data

    def read(self, offset: int, size: int) -> bytes:
        return bytes(self._data[offset : offset + size])

    def discard(self) -> None:
        self.release()
        self._data = bytearray()

    def sync(self) -> None:
        pass  # memory is as durable as it gets

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._store.release(self._origin, len(self._data))
