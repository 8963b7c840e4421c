"""The in-memory store: bytes kept as the chunks they were appended in.

A chunk of at least :data:`WHOLE_CHUNK` bytes is kept as appended (bytes are not
copied again); smaller ones are gathered into one bytearray until it is that large,
so a body that trickles in a byte at a time costs no object per byte.  A read from the
start of a kept chunk returns that chunk alone, the chunk itself if asked for at
least its length: a body read in the pieces it was stored in is never copied.

It remembers nothing across a restart (``persistent`` is false: the editions save no
state into it).  A byte sequence's memory goes when nothing can read it any more:
its record and every Response over it are gone.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any

from bgfetch.store.base import DEFAULT_QUOTA, check_quota
from bgfetch.url import Origin

WHOLE_CHUNK = 64 * 1024
"""Appends at least this large are kept as they are; smaller ones are gathered."""


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
        self._chunks: list[bytes | bytearray] = []
        self._starts: list[int] = []  # each chunk's offset
        self._length = 0
        self._released = False

    def __len__(self) -> int:
        return self._length

    @property
    def file(self) -> None:
        return None  # in memory

    def append(self, data: bytes | bytearray | memoryview) -> None:
        if self._released:
            raise ValueError("cannot append to stored bytes whose space was released")
        self._store.reserve(self._origin, len(data))
        if not data:
            return
        last = self._chunks[-1] if self._chunks else None
        if len(data) >= WHOLE_CHUNK:
            self._add(data if type(data) is bytes else bytes(data))
        elif isinstance(last, bytearray) and len(last) < WHOLE_CHUNK:
            last += data
        else:
            self._add(bytearray(data))
        self._length += len(data)

    def _add(self, chunk: bytes | bytearray) -> None:
        self._starts.append(self._length)
        self._chunks.append(chunk)

    def read(self, offset: int, size: int) -> bytes:
        if offset >= self._length or size <= 0:
            return b""
        index = bisect.bisect_right(self._starts, offset) - 1
        chunk, start = self._chunks[index], self._starts[index]
        if offset == start and type(chunk) is bytes:  # a kept chunk, from its start
            return chunk if len(chunk) <= size else chunk[:size]
        pieces: list[bytes] = []
        wanted = size
        while wanted > 0 and index < len(self._chunks):
            chunk, start = self._chunks[index], self._starts[index]
            piece = chunk[offset - start : offset - start + wanted]
            pieces.append(piece if type(piece) is bytes else bytes(piece))
            wanted -= len(piece)
            offset += len(piece)
            index += 1
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def discard(self) -> None:
        self.release()
        self._chunks, self._starts, self._length = [], [], 0

    def sync(self) -> None:
        pass  # memory is as durable as it gets

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._store.release(self._origin, self._length)
