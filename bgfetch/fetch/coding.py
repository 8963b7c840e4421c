"""Content codings: what `Accept-Encoding` offers, and Fetch's "handle content codings"
(#handle-content-codings) applied to a response body as its bytes arrive.

gzip (and x-gzip), deflate (zlib-wrapped, or raw as some servers send it) and, when
the ``brotli`` package is installed, br.  A body whose codings include one this
module does not support passes through undecoded, as Fetch says; a body that fails
to decode errors (a network error mid-body).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Protocol

from bgfetch.errors import NetworkError
from bgfetch.fetch.headers import ExtractFailure, HeaderList, extract_token_list_values

try:  # br needs Google's brotli bindings; without them br is an unsupported coding.
    import brotli as _brotli
except ImportError:  # pragma: no cover - brotli is a dependency
    _brotli = None

DECODING_ERRORS: tuple[type[Exception], ...] = (zlib.error, ValueError) + (
    (_brotli.error,) if _brotli else ()
)
SUPPORTED_CODINGS = ("gzip", "x-gzip", "deflate", "identity") + (("br",) if _brotli else ())
ACCEPT_ENCODING = "gzip, deflate, br" if _brotli else "gzip, deflate"
"""The `Accept-Encoding` value the user agent sends with a request that has no `Range`."""


class _Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


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

    def decode(self, data: bytes) -> bytes:
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return b""
            data, self._pending = self._pending, b""
            self._zlib = self._new(data)
        out = bytearray()
        while data:
            if self._zlib.eof:
                if not self._gzip or not data.lstrip(b"\0"):
                    break  # trailing garbage after a deflate stream, or gzip padding
                self._zlib = self._new(data)  # another gzip member
            out += self._zlib.decompress(data)
            data = self._zlib.unused_data
        return bytes(out)

    def finish(self) -> bytes:
        if self._zlib is None and self._pending:
            self._zlib = self._new(self._pending)
            return self._zlib.decompress(self._pending) + self._finish_checked()
        if self._zlib is None:
            raise zlib.error("empty stream")
        return self._finish_checked()

    def _finish_checked(self) -> bytes:
        assert self._zlib is not None
        tail: bytes = self._zlib.flush()
        if not self._zlib.eof:
            raise zlib.error("the stream ends early")
        return tail


class _BrotliDecoder:
    def __init__(self) -> None:
        assert _brotli is not None
        self._brotli = _brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data))

    def finish(self) -> bytes:
        if not self._brotli.is_finished():
            raise ValueError("the stream ends early")
        return b""


def content_codings(header_list: HeaderList) -> list[str] | None:
    """The response's codings, in the order applied (lowercased); None if it has none
    or its `Content-Encoding` does not parse (both mean: do not decode)."""
    try:
        codings = extract_token_list_values("Content-Encoding", header_list)
    except ExtractFailure:
        return None
    return [c.lower() for c in codings] if codings else None


def codings_supported(codings: list[str]) -> bool:
    return all(coding in SUPPORTED_CODINGS for coding in codings)


def _decoder(coding: str) -> _Decoder | None:
    if coding == "identity":
        return None
    if coding == "br":
        return _BrotliDecoder()
    return _ZlibDecoder(coding)


async def decode_body(
    codings: list[str] | None, body: AsyncIterator[bytes], *, url: str
) -> AsyncGenerator[bytes, None]:
    """Fetch's "handle content codings" over *body*: decoded bytes as they arrive.

    Unsupported codings pass the bytes through; a decoding error raises NetworkError.
    Neither *body* nor this generator closes the other: the HTTP exchange that made
    both closes both when it ends (bgfetch.fetch.fetching).
    """
    if not codings or not codings_supported(codings):
        async for chunk in body:
            yield chunk
        return
    # Codings are listed in the order they were applied: undo them last first.
    decoders = [d for d in (_decoder(c) for c in reversed(codings)) if d is not None]

    def through(data: bytes) -> bytes:
        for decoder in decoders:
            data = decoder.decode(data)
        return data

    try:
        async for chunk in body:
            decoded = through(chunk)
            if decoded:
                yield decoded
        # The body ended: flush each decoder in turn through the ones after it.
        tail = b""
        for decoder in decoders:
            tail = (decoder.decode(tail) if tail else b"") + decoder.finish()
        if tail:
            yield tail
    except DECODING_ERRORS as error:
        raise NetworkError(
            f"{url}: decoding the body's content coding ({', '.join(codings)}) failed: {error}"
        ) from error
