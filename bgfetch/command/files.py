"""File names for saved bodies: from the URL, sanitised, unique, never outside ``--out``.

The name is the URL's last path segment, percent-decoded, with every ``/``, ``\\``,
NUL and other control character replaced by ``_`` and leading dots and spaces removed
(no hidden files, no ``..``); "index" when nothing is left.  A name already taken gets
a number: ``ep.mp3``, ``ep (1).mp3``, ``ep (2).mp3``.  Files are created exclusively
(never over an existing file or through a symlink) and written as the body streams in.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import attrs

FALLBACK_NAME = "index"
MAX_NAME_BYTES = 200  # well under every common file system's 255


def file_name_for(url: str) -> str:
    """The file name for a body fetched from *url*."""
    segment = urlsplit(url).path.rsplit("/", 1)[-1]
    return sanitise(unquote(segment, errors="replace"))


def sanitise(name: str) -> str:
    """*name* as a plain file name: no separators, control characters or leading dots."""
    cleaned = "".join("_" if c in "/\\" or ord(c) < 32 or ord(c) == 127 else c for c in name)
    cleaned = cleaned.strip().lstrip(". ").strip()
    cleaned = _shorten(cleaned)
    return cleaned or FALLBACK_NAME


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, suffix = _split(name)
    if len(suffix.encode()) > 16:
        stem, suffix = name, ""
    while stem and len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip() + suffix) if stem else ""


def _split(name: str) -> tuple[str, str]:
    """ "ep.mp3" -> ("ep", ".mp3"); "archive.tar.gz" -> ("archive.tar", ".gz")."""
    dot = name.rfind(".")
    return (name[:dot], name[dot:]) if dot > 0 else (name, "")


def numbered(name: str, number: int) -> str:
    """The *number*-th alternative to *name*: ``ep (1).mp3``."""
    if number == 0:
        return name
    stem, suffix = _split(name)
    return f"{stem} ({number}){suffix}"


def unique_path(directory: Path, name: str, create: Callable[[Path], None]) -> Path:
    """Make a new file in *directory* with *create* (which raises FileExistsError where
    a file is), named *name* or the first free numbered alternative; its path."""
    directory = directory.resolve()
    name = sanitise(name)
    number = 0
    while True:
        path = directory / numbered(name, number)
        if path.parent != directory:  # cannot happen after sanitise(); never write elsewhere
            raise ValueError(f"refusing to write {path}: it is not in {directory}")
        try:
            create(path)
        except FileExistsError:
            number += 1
            continue
        return path


def create_unique(directory: Path, name: str) -> tuple[Path, BinaryIO]:
    """Create a new file in *directory* named *name*, or the first free numbered
    alternative; return its path and the file, open for writing."""
    opened: list[int] = []

    def create(path: Path) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        opened.append(os.open(path, flags, 0o666))

    path = unique_path(directory, name, create)
    return path, os.fdopen(opened[0], "wb")


@attrs.frozen
class SavedFile:
    path: Path
    size: int
    sha256: str | None  # None: not asked for


def save_file(source: Path, directory: Path, url: str, *, sha256: bool = False) -> SavedFile:
    """Save the complete body file *source* (a stored user agent's, whose bytes will not
    change any more) as a new file in *directory* named after *url*: a second name for
    it (a hard link), so its bytes are neither read nor written again; a copy where the
    file system cannot link (another device, no hard links).  The store then forgets its
    own name for the file, which leaves the saved one."""
    name = file_name_for(url)
    try:
        path = unique_path(directory, name, lambda path: os.link(source, path))
    except OSError:  # cannot link there: copy
        path, file = create_unique(directory, name)
        try:
            with file, open(source, "rb") as body:
                shutil.copyfileobj(body, file, 1024 * 1024)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    digest = None
    if sha256:
        with open(path, "rb") as saved:
            digest = hashlib.file_digest(saved, "sha256").hexdigest()
    return SavedFile(path, path.stat().st_size, digest)


async def save_stream(
    chunks: AsyncIterable[bytes], directory: Path, url: str, *, sha256: bool = False
) -> SavedFile:
    """Write *chunks* (a Response: ``async for chunk in response``) to a new file in
    *directory* named after *url*, one chunk at a time, hashing them if *sha256*; remove
    the file if reading or writing fails, or is cancelled.

    Each chunk (up to 1 MiB) is written where it arrives, in the trio thread, as the
    store writes its body files: a write to the page cache takes far less time than a
    hop to a worker thread and back would add per chunk."""
    path, file = create_unique(directory, file_name_for(url))
    digest = hashlib.sha256() if sha256 else None
    size = 0
    try:
        with file:
            async for chunk in chunks:
                if digest is not None:
                    digest.update(chunk)
                size += len(chunk)
                file.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return SavedFile(path, size, None if digest is None else digest.hexdigest())
