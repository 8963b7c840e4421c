"""Content codings: what `Accept-Encoding` offers, and Fetch's "handle content codings"
(#handle-content-codings) applied to a response body as its bytes arrive.

gzip (and x-gzip), deflate (zlib-wrapped, or raw as some servers send it) and, when
the ``brotli`` package is installed, br.  A body whose codings include one this
module does not support (or more than :data:`MAX_CODINGS` of them) passes through
undecoded, as Fetch says; a body that fails to decode errors with
:class:`DecodingError` (a network error mid-body that fetching again cannot fix).

Decoding is incremental and bounded: each step of each decoder gives at most about
:data:`DECODE_STEP` bytes (brotli may give up to half as much again), so a few KiB of
nested gzip that decode to gigabytes reach the reader as a stream of small chunks, each
counted against the download total and the quota before the next one is decoded, and
nothing is decoded that nobody reads (SPEC-NOTES.md SN-fetch-9).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import Protocol

import trio

from bgfetch.errors import NetworkError
from bgfetch.fetch.headers import ExtractFailure, HeaderList, extract_token_list_values

try:  # br needs Google's brotli bindings; without them br is an unsupported coding.
    import brotli as _brotli
except ImportError:  # pragma: no cover - brotli is a dependency
    _brotli = None
if _brotli is not None and not hasattr(_brotli.Decompressor, "can_accept_more_data"):
    _brotli = None  # pragma: no cover - brotli < 1.2 cannot bound its output: unsupported

DECODING_ERRORS: tuple[type[Exception], ...] = (zlib.error, ValueError) + (
    (_brotli.error,) if _brotli else ()
)
SUPPORTED_CODINGS = ("gzip", "x-gzip", "deflate", "identity") + (("br",) if _brotli else ())
ACCEPT_ENCODING = "gzip, deflate, br" if _brotli else "gzip, deflate"
"""The `Accept-Encoding` value the user agent sends with a request that has no `Range`."""

DECODE_STEP = 64 * 1024
"""Bytes a decoder gives per step, at most (about, for brotli)."""

MAX_CODINGS = 8
"""More codings than this in one `Content-Encoding` are not supported (each decoder holds
a window of up to 32 KiB, or 16 MiB for brotli): the body passes through undecoded."""


class DecodingError(NetworkError):
    """A body that does not decode: the same bytes would fail the same way, so resuming
    cannot fix it (bgfetch.resume; SPEC-NOTES.md SN-fetch-9)."""


class _Decoder(Protocol):
    def decode(self, data: bytes) -> Iterator[bytes]: ...
    def finish(self) -> Iterator[bytes]: ...


class _ZlibDecoder:
    """gzip (possibly several members) or deflate (zlib-wrapped or raw)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._gzip = coding in ("gzip", "x-gzip")
        self._zlib: zlib._Decompress | None = None
        self._pending = b""  # deflate: bytes held until the wrapping is known

    def _new(self, first: bytes) -> zlib._Decompress:
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # RFC 9110's "deflate" is zlib-wrapped; some servers send a raw deflate stream.
        wrapped = (
            len(first) >= 2 and (first[0] & 0x0F) == 8 and (first[0] * 256 + first[1]) % 31 == 0
        )
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return
            data, self._pending = self._pending, b""
            self._zlib = self._new(data)
        while data:
            if self._zlib.eof:
                if not self._gzip or not data.lstrip(b"\0"):
                    return  # trailing garbage after a deflate stream, or gzip padding
                self._zlib = self._new(data)  # another gzip member
            yield from self._bounded(data)
            data = self._zlib.unused_data

    def _bounded(self, data: bytes) -> Iterator[bytes]:
        """Decompress *data* at most DECODE_STEP bytes at a time, until it is all used and
        nothing is left pending."""
        assert self._zlib is not None
        while True:
            out = self._zlib.decompress(data, DECODE_STEP)
            if out:
                yield out
            data = self._zlib.unconsumed_tail
            if not data and len(out) < DECODE_STEP:
                return

    def finish(self) -> Iterator[bytes]:
        if self._zlib is None and self._pending:
            self._zlib = self._new(self._pending)
            yield from self._bounded(self._pending)
        if self._zlib is None:
            raise zlib.error("empty stream")
        tail: bytes = self._zlib.flush()
        if tail:
            yield tail
        if not self._zlib.eof:
            raise zlib.error("the stream ends early")


class _BrotliDecoder:
    def __init__(self) -> None:
        assert _brotli is not None
        self._brotli = _brotli.Decompressor()

    def _step(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data, output_buffer_limit=DECODE_STEP))

    def decode(self, data: bytes) -> Iterator[bytes]:
        out = self._step(data)
        if out:
            yield out
        while not self._brotli.can_accept_more_data():
            out = self._step(b"")
            if out:
                yield out

    def finish(self) -> Iterator[bytes]:
        while not self._brotli.is_finished():
            out = self._step(b"")
            if not out:
                raise ValueError("the stream ends early")
            yield out


def content_codings(header_list: HeaderList) -> list[str] | None:
    """The response's codings, in the order applied (lowercased); None if it has none
    or its `Content-Encoding` does not parse (both mean: do not decode)."""
    try:
        codings = extract_token_list_values("Content-Encoding", header_list)
    except ExtractFailure:
        return None
    return [c.lower() for c in codings] if codings else None


def codings_supported(codings: list[str]) -> bool:
    return len(codings) <= MAX_CODINGS and all(coding in SUPPORTED_CODINGS for coding in codings)


def _decoder(coding: str) -> _Decoder | None:
    if coding == "identity":
        return None
    if coding == "br":
        return _BrotliDecoder()
    return _ZlibDecoder(coding)


def _through(decoders: list[_Decoder], data: bytes) -> Iterator[bytes]:
    """*data* through every decoder in turn, each giving its output a step at a time."""
    if not decoders:
        yield data
        return
    first, rest = decoders[0], decoders[1:]
    for piece in first.decode(data):
        yield from _through(rest, piece)


def _finish(decoders: list[_Decoder]) -> Iterator[bytes]:
    """The body ended: flush each decoder in turn through the ones after it."""
    for index, decoder in enumerate(decoders):
        for piece in decoder.finish():
            yield from _through(decoders[index + 1 :], piece)


async def decode_body(
    codings: list[str] | None, body: AsyncIterator[bytes], *, url: str
) -> AsyncGenerator[bytes, None]:
    """Fetch's "handle content codings" over *body*: decoded bytes as they arrive, in
    chunks of at most about DECODE_STEP bytes, the next one decoded only once the reader
    asks for it (with a checkpoint between two chunks of one received chunk).

    Unsupported codings pass the bytes through; a decoding error raises DecodingError.
    Neither *body* nor this generator closes the other: the HTTP exchange that made
    both closes both when it ends (bgfetch.fetch.fetching).
    """
    if not codings or not codings_supported(codings):
        async for chunk in body:
            yield chunk
        return
    # Codings are listed in the order they were applied: undo them last first.
    decoders = [d for d in (_decoder(c) for c in reversed(codings)) if d is not None]

    async def bounded(pieces: Iterator[bytes]) -> AsyncGenerator[bytes, None]:
        first = True
        while True:
            try:
                piece = next(pieces)
            except StopIteration:
                return
            except DECODING_ERRORS as error:
                raise DecodingError(
                    f"{url}: decoding the body's content coding ({', '.join(codings)}) "
                    f"failed: {error}"
                ) from error
            if not first:
                await trio.lowlevel.checkpoint()  # a bomb does not hold the event loop
            first = False
            yield piece

    async for chunk in body:
        async with aclosing(bounded(_through(decoders, chunk))) as pieces:
            async for piece in pieces:
                yield piece
    async with aclosing(bounded(_finish(decoders))) as pieces:
        async for piece in pieces:
            yield piece
