"""What the specs leave to the user agent when a record's fetch breaks off: shared by
both editions.

*Temporarily unavailable.*  The current edition resumes a `GET` whose resource "the
user agent believes may soon become available".  bgfetch believes it while the network
is offline (until it is back; waiting spends nothing) and, for a body cut while online,
for up to :data:`MAX_RESUMES` resumes of one record (Chromium's download layer allows
15 byte-range resumes).  Past that, a cut is a failure (SPEC-NOTES.md SN-current-11).
The 2017-10-12 edition waits only for a network error before the response while
offline, and abandons a cut body (SN-2017-2, SN-2017-3).

*A body that does not decode* (a content coding's error) is not a cut: the same
bytes would fail the same way, so it is a failure at once, whatever the network
(SPEC-NOTES.md SN-fetch-9).

*A server that stalls.*  Neither spec bounds how long a record waits for a server
that never answers, or stops sending: bgfetch cuts an exchange that goes
:data:`STALL_TIMEOUT` seconds without a byte, or whose response head does not end
within that time of the request.  A stalled head is a network error; a stalled body
is a cut, resumed as any other (SPEC-NOTES.md SN-fetch-11).

*Asking for the rest.*  A 206 that ends before the resource does leaves the
record's result empty, so the current edition asks again for the rest, without
bound (the 2017-10-12 edition too, filled from d18bb02).  bgfetch lets a partial
response that stored nothing new spend one of the record's resumes, and fails a
record whose partial responses hold more bytes than the resource's complete length
(SPEC-NOTES.md SN-current-18, SN-2017-25).

*A resume past the end.*  A body whose framing hides its length (chunked, or
delimited by closing) and is cut right after its last byte looks like any cut; the
resume asks for the bytes after the end, and the server answers 416 with
``Content-Range: bytes */N`` (RFC 7233, 4.2 and 4.4).  When N is what is stored,
the stored bytes are the whole resource (SPEC-NOTES.md SN-current-12, SN-2017-4).
"""

from __future__ import annotations

import re
from typing import Protocol

from bgfetch.fetch.coding import DecodingError
from bgfetch.fetch.numbers import parse_decimal
from bgfetch.fetch.response import InternalResponse
from bgfetch.net.base import Transport

MAX_RESUMES = 15

STALL_TIMEOUT = 300.0
"""Seconds an HTTP exchange may go without a byte received (or sent), and that a
response head may take in all once the request is sent, before the user agent cuts
the connection (Firefox's network.http.response.timeout; SPEC-NOTES.md SN-fetch-11)."""


def stall_timeout(network: object) -> float | None:
    """The stall timeout on *network*: its ``stall_timeout`` if it has one (None: wait
    for ever), else :data:`STALL_TIMEOUT`."""
    value = getattr(network, "stall_timeout", STALL_TIMEOUT)
    return None if value is None else float(value)


UNSATISFIED_CONTENT_RANGE = re.compile(r"bytes \*/(?P<complete>[0-9]+)", re.ASCII)


class Resumable(Protocol):
    """A record, of either edition: how often the user agent has resumed it."""

    resumes: int


def temporarily_unavailable(
    network: Transport, record: Resumable, *, body_cut: bool, error: BaseException | None = None
) -> bool:
    """Whether the user agent believes the record's resource will soon be available
    again.  A cut while online that it believes in spends one of the record's resumes.

    *error*, the body stream's error: a body that does not decode (DecodingError) is no
    cut, and fetching it again cannot fix it (SPEC-NOTES.md SN-fetch-9)."""
    if isinstance(error, DecodingError):
        return False
    if not network.is_online():
        return True
    if body_cut and record.resumes < MAX_RESUMES:
        record.resumes += 1
        return True
    return False


async def wait_until_available(network: Transport) -> None:
    """Wait until the resource is not temporarily unavailable."""
    await network.wait_until_online()


def may_ask_for_the_rest(
    record: Resumable, complete_length: int | None, range_start: int, stored: int
) -> bool:
    """After a 206 that ended normally without completing the resource: whether the
    record may ask for the rest.  Not if more is stored than the complete length; a
    response that stored nothing new spends a resume."""
    if complete_length is not None and stored > complete_length:
        return False
    if stored > range_start:
        return True
    if record.resumes < MAX_RESUMES:
        record.resumes += 1
        return True
    return False


def stored_bytes_are_complete(range_start: int, response: InternalResponse) -> bool:
    """A 416 whose `Content-Range: bytes */N` says the representation is *range_start*
    bytes long: the bytes already stored are all of it."""
    if range_start == 0 or response.status != 416:
        return False
    value = response.unfiltered.header_list.first("Content-Range")
    parsed = UNSATISFIED_CONTENT_RANGE.fullmatch((value or "").strip(" \t"))
    # A numeral of more than 4300 digits does not parse (SPEC-NOTES.md SN-fetch-8).
    return parsed is not None and parse_decimal(parsed["complete"]) == range_start
