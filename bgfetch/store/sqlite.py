"""The stored user agent's store: state in SQLite, each response body in a file.

A store is a directory::

    state.sqlite3    SQLite (WAL): what the user agent must remember across restarts
    bodies/<n>       the bytes of stored byte sequence number n
    lock             held by the one user agent that has the store open (its pid)

Body files are named by internal numbers only, never by a background fetch's id or
a URL, so no id a page chooses (``../../x``, one with NUL) reaches the file system.

Durability.  :meth:`FileBytes.append` writes the bytes to the body file and then
commits the new length, so the length the state records is never more than the file
holds, and a byte counted in ``downloaded`` (which reads that length) is in the file:
it survives the process being killed.  Body files are fsync'd when a record's state
is saved as complete and every :data:`SYNC_INTERVAL` bytes, so after a power loss
too a file holds a prefix of the response; on open, a file longer than its recorded
length is cut to it, and a shorter one lowers the recorded length.

The state tables hold a generic ``state`` map (kind, key) -> JSON, which each spec
edition fills with its own concepts (``editions/*/persist.py``), plus the stored
byte sequences and the per-origin usage.  A store remembers the bgfetch schema
version and the edition that wrote it, and refuses to be read by another.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from bgfetch.store.base import check_quota
from bgfetch.url import Origin, parse_url

SCHEMA_VERSION = 1
SYNC_INTERVAL = 64 * 2**20  # bytes appended to a body file between fsyncs
# (What a power cut can cost: that much is fetched again.  At 8 MiB the fsyncs took a
# tenth of a 1 GiB download to disk; bench/results.md.)
DISK_SHARE = 0.5  # the default quota: this share of the disk's free space, as Chromium does

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS usage (origin TEXT PRIMARY KEY, bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stored_bytes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    length INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS state (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
"""


class StoreError(Exception):
    """A store directory that cannot be used: another version or edition, or damaged."""


def default_quota(directory: Path) -> int:
    """The quota of a stored user agent given none: a share of the disk's free space."""
    return int(shutil.disk_usage(directory).free * DISK_SHARE)


class SQLiteStore:
    """Keeps state and bytes in *directory*, within a per-origin quota (None: no limit).

    *edition* is the spec edition of the user agent; a store written by another is
    refused, as is one of another schema version.
    """

    persistent = True

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        edition: str,
        quota: int | None | Literal["default"] = "default",
    ) -> None:
        # The byte sequences in use, and what to do once each released one is unreachable.
        self._usage: dict[str, int] = {}
        self._open_bytes: weakref.WeakValueDictionary[int, FileBytes] = (
            weakref.WeakValueDictionary()
        )
        self._released: weakref.WeakSet[FileBytes] = weakref.WeakSet()
        self._unreachable: list[int] = []  # released byte sequences nothing can read
        self._closed = False
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"the store {self.directory} is not a directory")
        self.bodies = self.directory / "bodies"
        self.bodies.mkdir(parents=True, exist_ok=True)
        self._lock = self._take_lock()
        self.edition = edition
        try:
            self._open_state()
            self.quota = default_quota(self.directory) if quota == "default" else quota
            self._usage = dict(self._db.execute("SELECT origin, bytes FROM usage"))
            self._repair_body_files()
        except BaseException:
            os.close(self._lock)
            raise

    def _open_state(self) -> None:
        path = self.directory / "state.sqlite3"
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check_meta()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"the store {path} cannot be read: {error}") from None

    def _take_lock(self) -> int:
        """One user agent at a time: a second one would repair the body files the first
        is writing.  The lock (on ``lock``) goes with the process, however it ends."""
        fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreError(
                f"the store {self.directory} is in use by another user agent (process {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return fd

    # -- meta: who wrote this store -----------------------------------------------------

    def _check_meta(self) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta"))
        if not meta:
            with self._transaction():
                self._db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema", str(SCHEMA_VERSION)), ("edition", self.edition)],
                )
            return
        if meta.get("schema") != str(SCHEMA_VERSION):
            raise StoreError(
                f"the store {self.directory} was written by a bgfetch with store schema "
                f"{meta.get('schema')!r}; this bgfetch reads schema {SCHEMA_VERSION!r}"
            )
        if meta.get("edition") != self.edition:
            raise StoreError(
                f"the store {self.directory} holds the {meta.get('edition')!r} edition's "
                f"state; this user agent runs the {self.edition!r} edition"
            )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._forget_unreachable()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _repair_body_files(self) -> None:
        """A body file longer than its recorded length is cut to it; a shorter one (lost
        in a power cut) lowers the recorded length; files no row names are removed."""
        rows = self._db.execute("SELECT id, length FROM stored_bytes").fetchall()
        known = set()
        for id, length in rows:
            known.add(str(id))
            path = self.bodies / str(id)
            size = path.stat().st_size if path.exists() else 0
            if size > length:
                os.truncate(path, length)
            elif size < length:
                with self._transaction():
                    self._db.execute("UPDATE stored_bytes SET length = ? WHERE id = ?", (size, id))
        for path in self.bodies.iterdir():
            if path.name not in known:
                path.unlink()

    # -- quota ------------------------------------------------------------------------

    def usage(self, origin: Origin) -> int:
        return self._usage.get(origin.serialize(), 0)

    def reserve(self, origin: Origin, size: int) -> None:
        self._set_usage(origin, check_quota(origin, self.usage(origin), size, self.quota))

    def release(self, origin: Origin, size: int) -> None:
        self._set_usage(origin, max(0, self.usage(origin) - size))

    def _set_usage(self, origin: Origin, used: int) -> None:
        key = origin.serialize()
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO usage VALUES (?, ?)", (key, used))
        self._usage[key] = used

    # -- stored bytes -----------------------------------------------------------------

    def new_bytes(self, origin: Origin) -> FileBytes:
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO stored_bytes (origin) VALUES (?)", (origin.serialize(),)
            )
        id = cursor.lastrowid
        assert id is not None
        (self.bodies / str(id)).touch()
        return self._bytes(id, origin, 0)

    def bytes_by_id(self, id: int) -> FileBytes:
        """The stored byte sequence number *id* (for an edition restoring its records)."""
        if id in self._open_bytes:
            return self._open_bytes[id]
        row = self._db.execute(
            "SELECT origin, length FROM stored_bytes WHERE id = ?", (id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"the store {self.directory} has no stored bytes {id}")
        origin = parse_url(row[0]).origin
        assert origin is not None
        return self._bytes(id, origin, row[1])

    def _bytes(self, id: int, origin: Origin, length: int) -> FileBytes:
        stored = FileBytes(self, id, origin, length)
        self._open_bytes[id] = stored
        return stored

    def _forget_when_unreachable(self, stored: FileBytes) -> None:
        """*stored* was released: its row and file go once nothing can read it.  (The
        garbage collector may run at any allocation, inside a transaction too: the
        finalizer only notes the number, and the next transaction forgets it.)"""
        self._released.add(stored)
        weakref.finalize(stored, self._unreachable.append, stored.id)

    def _forget_unreachable(self) -> None:
        while self._unreachable:
            id = self._unreachable.pop()
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM stored_bytes WHERE id = ?", (id,))
            self._db.execute("COMMIT")
            (self.bodies / str(id)).unlink(missing_ok=True)

    def _set_length(
        self, id: int, length: int, origin: Origin | None = None, used: int = 0
    ) -> None:
        """Record stored bytes' new length (and, given *origin*, its new usage)."""
        with self._transaction():
            self._db.execute("UPDATE stored_bytes SET length = ? WHERE id = ?", (length, id))
            if origin is not None:
                key = origin.serialize()
                self._db.execute("INSERT OR REPLACE INTO usage VALUES (?, ?)", (key, used))
        if origin is not None:
            self._usage[origin.serialize()] = used

    # -- state --------------------------------------------------------------------------

    def save(self, kind: str, key: str, value: dict[str, Any]) -> None:
        """Remember *value* for (*kind*, *key*): one transaction."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO state VALUES (?, ?, ?)", (kind, key, json.dumps(value))
            )

    def delete(self, kind: str, key: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM state WHERE kind = ? AND key = ?", (kind, key))

    def load(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every (key -> value) remembered for *kind*, in the order they were first saved."""
        self._forget_unreachable()
        rows = self._db.execute(
            "SELECT key, value FROM state WHERE kind = ? ORDER BY rowid", (kind,)
        )
        try:
            return {key: json.loads(value) for key, value in rows}
        except json.JSONDecodeError as error:
            raise StoreError(f"the store {self.directory} holds damaged state: {error}") from None

    def close(self) -> None:
        """Make every body durable, forget the released ones, and close the state."""
        if self._closed:
            return
        for stored in list(self._open_bytes.values()):
            stored.sync()
        # The user agent is gone: nothing reads the released ones any more.
        self._unreachable.extend(stored.id for stored in self._released)
        self._forget_unreachable()
        self._closed = True
        self._db.close()
        os.close(self._lock)  # releases the lock


class FileBytes:
    """A byte sequence in a body file: appended as it arrives, read in slices."""

    def __init__(self, store: SQLiteStore, id: int, origin: Origin, length: int) -> None:
        self.store = store
        self.id = id
        self._origin = origin
        self._length = length
        self._released = False
        self._unsynced = 0
        self._path = store.bodies / str(id)

    def __len__(self) -> int:
        return self._length

    @property
    def file(self) -> Path:
        return self._path

    def append(self, data: bytes) -> None:
        if self._released:
            raise ValueError("cannot append to stored bytes whose space was released")
        store = self.store
        used = check_quota(self._origin, store.usage(self._origin), len(data), store.quota)
        with open(self._path, "r+b") as file:
            file.seek(self._length)
            file.write(data)
            self._unsynced += len(data)
            if self._unsynced >= SYNC_INTERVAL:
                file.flush()
                os.fsync(file.fileno())
                self._unsynced = 0
        # The new length and the origin's usage, in one transaction: written after the
        # bytes, so a length the state records is always in the file.
        store._set_length(self.id, self._length + len(data), self._origin, used)
        self._length += len(data)

    def read(self, offset: int, size: int) -> bytes:
        with open(self._path, "rb") as file:
            file.seek(offset)
            return file.read(min(size, max(0, self._length - offset)))

    def sync(self) -> None:
        """Make the bytes appended so far durable (fsync)."""
        if self._unsynced and self._path.exists():
            with open(self._path, "rb") as file:
                os.fsync(file.fileno())
        self._unsynced = 0

    def discard(self) -> None:
        self.release()
        os.truncate(self._path, 0)
        self._length = 0
        self.store._set_length(self.id, 0)

    def release(self) -> None:
        """Give the space back to the quota; the file goes once nothing can read it."""
        if not self._released:
            self._released = True
            self.store.release(self._origin, self._length)
            self.store._forget_when_unreachable(self)
