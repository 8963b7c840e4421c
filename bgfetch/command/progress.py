"""What ``bgfetch fetch`` shows while it runs.

On a terminal, a live display (rich): a bar per request and one for the whole fetch,
with bytes, rate and time left.  Elsewhere (a pipe, a file), plain lines: one per 10%
of the download total, when it is known, and one per request when it settles.
``--quiet`` shows nothing.

The numbers come from the BackgroundFetchRegistration (``downloaded``,
``download_total``, refreshed on each ``progress`` event) and, per request, from the
display's background fetch, as a user agent's UI would read them: the bytes stored for
each record so far (``record.response_data.bytes`` in the current edition,
``record.response_body`` in 2017-10-12) and its response's Content-Length.
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from bgfetch.fetch.numbers import parse_decimal

from .files import file_name_for
from .output import Output, PipeConsole


@attrs.frozen
class RecordState:
    """One request as the UI sees it."""

    url: str
    received: int  # body bytes stored so far
    total: int | None  # the response's Content-Length, when it tells the stored size
    settled: bool  # its fetch is over (successfully or not)
    status: int | None  # None: no response yet, or a network error


def record_states(display: Any) -> list[RecordState]:
    """The state of each record of *display*'s background fetch, in either edition."""
    states: list[RecordState] = []
    for record in display.bg_fetch.records:
        data = getattr(record, "response_data", None)
        if data is not None:  # current edition: a background fetch response
            stored, response, settled = data.bytes, data.response, data.result != ""
        else:  # 2017-10-12: the record holds the response and its body
            stored, response, settled = record.response_body, record.response, record.outcome != ""
        status = None
        if response is not None and not response.is_network_error:
            status = int(response.status)
        states.append(
            RecordState(
                record.request.url.href, len(stored), _stored_size(response), settled, status
            )
        )
    return states


def _stored_size(response: Any) -> int | None:
    """The body size a 200 response announces, if it is stored as sent (not decoded)."""
    if response is None or response.is_network_error or response.status != 200:
        return None
    headers = response.unfiltered.header_list
    length = headers.first("Content-Length")
    if headers.first("Content-Encoding") not in (None, "", "identity") or length is None:
        return None
    # ASCII digits only ("²".isdigit() too), and no numeral too long for int()
    # (SPEC-NOTES.md SN-fetch-8): h11 leaves a HEAD's Content-Length unchecked.
    text = length.strip(" \t")
    return parse_decimal(text) if text.isascii() and text.isdigit() else None


@attrs.frozen
class Snapshot:
    """The whole fetch at one moment."""

    downloaded: int
    download_total: int  # as given to fetch(); 0 when unknown
    records: list[RecordState]

    @property
    def total(self) -> int | None:
        """The download total, or else the sum of the requests' sizes if all are known."""
        if self.download_total:
            return self.download_total
        sizes = [r.total for r in self.records]
        if sizes and all(size is not None for size in sizes):
            return sum(size for size in sizes if size is not None)
        return None


def snapshot(bg: Any, display: Any) -> Snapshot:
    return Snapshot(int(bg.downloaded), int(bg.download_total), record_states(display))


class View(Protocol):
    def start(self, now: Snapshot) -> None: ...

    def update(self, now: Snapshot) -> None: ...

    def stop(self, now: Snapshot) -> None: ...


class QuietView:
    """``--quiet``: nothing."""

    def start(self, now: Snapshot) -> None:
        pass

    def update(self, now: Snapshot) -> None:
        pass

    def stop(self, now: Snapshot) -> None:
        pass


class PlainView:
    """Plain lines: a start line, one per 10% (when the total is known), one per request
    as it settles."""

    def __init__(self, out: Output, id: str) -> None:
        self.out = out
        self.id = id
        self.tenths = 0
        self.settled: set[int] = set()

    def start(self, now: Snapshot) -> None:
        total = now.total
        size = f", {total:,} bytes" if total else ""
        count = len(now.records)
        self.out.line(f"{self.id}: fetching {count} request{'s' * (count != 1)}{size}")
        self.update(now)

    def update(self, now: Snapshot) -> None:
        total = now.total
        if total:
            tenths = min(10, now.downloaded * 10 // total)
            if tenths > self.tenths:
                self.tenths = tenths
                self.out.line(f"{self.id}: {tenths * 10}% ({now.downloaded:,} of {total:,} bytes)")
        for index, record in enumerate(now.records):
            if record.settled and index not in self.settled:
                self.settled.add(index)
                status = "no response" if record.status is None else f"status {record.status}"
                self.out.line(f"{self.id}: {record.url}: {status}, {record.received:,} bytes")

    def stop(self, now: Snapshot) -> None:
        self.update(now)


class LiveView:
    """The live display: a bar per request, and one for the whole fetch."""

    def __init__(self, console: PipeConsole, id: str, title: str) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,  # refreshed by update(), in trio's thread, never another
        )
        self.label = title or id
        self.whole: TaskID | None = None
        self.tasks: list[TaskID] = []

    def start(self, now: Snapshot) -> None:
        self.whole = self.progress.add_task(_fit(self.label), total=now.total)
        for record in now.records:
            name = _fit("  " + file_name_for(record.url))
            self.tasks.append(self.progress.add_task(name, total=record.total))
        self.progress.start()
        self.update(now)

    def update(self, now: Snapshot) -> None:
        if self.whole is None:
            return
        self.progress.update(self.whole, completed=now.downloaded, total=now.total)
        for task, record in zip(self.tasks, now.records, strict=False):
            total = (
                record.total
                if record.total is not None
                else (record.received if record.settled else None)
            )
            self.progress.update(task, completed=record.received, total=total)
        self.progress.refresh()

    def stop(self, now: Snapshot) -> None:
        self.update(now)
        self.progress.stop()


def _fit(text: str, width: int = 32) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def make_view(out: Output, id: str, title: str, *, quiet: bool) -> View:
    """The live display on a terminal, plain lines elsewhere, nothing when quiet."""
    if quiet:
        return QuietView()
    console = out.console()
    if console.is_terminal:
        return LiveView(console, id, title)
    return PlainView(out, id)
