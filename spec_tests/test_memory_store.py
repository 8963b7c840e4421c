"""The in-memory store's bytes: kept as the chunks they were appended in, read back
without copies where a read starts at a kept chunk, small appends gathered."""

from __future__ import annotations

import random

import pytest

from bgfetch.store.base import StorageFull
from bgfetch.store.memory import WHOLE_CHUNK, MemoryStore
from bgfetch.url import parse_url

ORIGIN = parse_url("https://example.test/").origin


def test_a_read_from_a_kept_chunks_start_returns_that_chunk_itself():
    stored = MemoryStore().new_bytes(ORIGIN)
    first, second = b"a" * WHOLE_CHUNK, b"b" * (2 * WHOLE_CHUNK)
    stored.append(first)
    stored.append(second)
    assert stored.read(0, 10 * WHOLE_CHUNK) is first  # one chunk, even when more is asked
    assert stored.read(len(first), 10 * WHOLE_CHUNK) is second
    assert stored.read(len(first), 5) == b"bbbbb"
    assert stored.read(len(first) - 2, 4) == b"aabb"  # across chunks, from within one


def test_small_appends_are_gathered_into_few_chunks():
    stored = MemoryStore().new_bytes(ORIGIN)
    for _ in range(3 * WHOLE_CHUNK):
        stored.append(b"x")
    assert len(stored) == 3 * WHOLE_CHUNK
    assert len(stored._chunks) == 3  # not one object per byte
    assert stored.read(0, 4 * WHOLE_CHUNK) == b"x" * 3 * WHOLE_CHUNK
    assert type(stored.read(0, 1)) is bytes


def test_reads_give_back_what_was_appended_whatever_the_pieces():
    random_ = random.Random(14)
    stored = MemoryStore().new_bytes(ORIGIN)
    expected = bytearray()
    for _ in range(200):
        data = random_.randbytes(random_.choice([1, 100, WHOLE_CHUNK - 1, WHOLE_CHUNK, 70_000]))
        stored.append(data if random_.random() < 0.5 else bytearray(data))
        expected += data
    for _ in range(300):
        offset = random_.randrange(len(expected) + 10)
        size = random_.randrange(3 * WHOLE_CHUNK)
        assert stored.read(offset, size) == bytes(expected[offset : offset + size])
    offset, read = 0, bytearray()
    while chunk := stored.read(offset, WHOLE_CHUNK):  # as a record's stream reads
        read += chunk
        offset += len(chunk)
    assert read == expected


def test_an_append_past_the_quota_stores_nothing():
    store = MemoryStore(quota=10)
    stored = store.new_bytes(ORIGIN)
    stored.append(b"12345")
    with pytest.raises(StorageFull):
        stored.append(b"123456")
    assert len(stored) == 5 and stored.read(0, 100) == b"12345"
    stored.discard()
    assert len(stored) == 0 and store.usage(ORIGIN) == 0
