"""An origin whose partial responses end short, for tests of resuming (both editions)
and docs/editions.md: :class:`PartialServer`."""

from __future__ import annotations

import h11
import trio


class PartialServer:
    """An origin whose partial responses end short: it answers every request with a
    ``206`` of at most *piece* bytes of *body*, from where the request's ``Range: bytes=N-``
    asks (0 without one; *piece* 0: none, under a range of one byte), and
    ``Content-Range: bytes N-M/<length>`` (``*`` with
    ``unknown_length``); a ``416 bytes */<length>`` past the end.  With ``first_status=200``
    a request without a range is answered whole, with ``Content-Length``.  An ``If-Range``
    that is not the current *etag* is answered whole with ``200`` (RFC 7233), unless
    ``honour_if_range`` is false.  ``requests`` keeps each request's header fields."""

    def __init__(
        self,
        body: bytes,
        piece: int,
        *,
        etag: str | None = '"v1"',
        first_status: int = 206,
        unknown_length: bool = False,
        honour_if_range: bool = True,
    ) -> None:
        self.body, self.piece, self.etag = body, piece, etag
        self.first_status, self.unknown_length = first_status, unknown_length
        self.honour_if_range = honour_if_range
        self.requests: list[dict[str, str]] = []

    def ranges(self) -> list[str | None]:
        return [r.get("range") for r in self.requests]

    def answer(self, headers: dict[str, str]) -> tuple[str, list[str], bytes]:
        length = len(self.body)
        range_ = headers.get("range", "")
        start = int(range_[len("bytes=") : -1]) if range_.startswith("bytes=") else 0
        if_range = headers.get("if-range")
        changed = if_range is not None and if_range != self.etag and self.honour_if_range
        if (not range_ and self.first_status == 200) or changed:
            return "200 OK", [], self.body
        if start >= length:
            return "416 Range Not Satisfiable", [f"Content-Range: bytes */{length}"], b""
        part = self.body[start : start + self.piece]
        total = "*" if self.unknown_length else str(length)
        last = start + max(len(part), 1) - 1  # piece 0: a range of one byte, sent empty
        fields = [f"Content-Range: bytes {start}-{last}/{total}"]
        return "206 Partial Content", fields, part

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        connection = h11.Connection(h11.SERVER)
        try:
            event = connection.next_event()
            while event is h11.NEED_DATA:
                connection.receive_data(bytes(await stream.receive_some()))
                event = connection.next_event()
            if not isinstance(event, h11.Request) or len(self.requests) >= 100:
                return  # nothing asked, or a user agent that would ask for ever
            headers = {n.decode().lower(): v.decode("latin-1") for n, v in event.headers}
            self.requests.append(headers)
            status, fields, body = self.answer(headers)
            fields += [f"Content-Length: {len(body)}", "Connection: close"]
            fields.append("Access-Control-Allow-Origin: *")  # served at another origin too
            if self.etag is not None:
                fields.append(f"ETag: {self.etag}")
            head = "\r\n".join([f"HTTP/1.1 {status}", *fields]) + "\r\n\r\n"
            await stream.send_all(head.encode("latin-1") + body)
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError):
            return
        finally:
            await stream.aclose()
