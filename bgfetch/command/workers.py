"""The service worker ``bgfetch fetch`` registers, and the watch on its completion event.

The built-in worker saves each record's body to a directory when the background fetch
settles: on ``backgroundfetchsuccess`` and ``backgroundfetchfail`` (current edition)
each record of ``event.registration.match_all()``, through ``await
record.response_ready``; on ``backgroundfetched`` and ``backgroundfetchfail``
(2017-10-12) each settled fetch of ``event.fetches.values()``, whose ``response`` may
be None.  Bodies stream to their files (:mod:`bgfetch.command.files`); only ok
responses (2xx) are saved.  ``--worker MODULE:OBJECT`` registers the user's own
:class:`bgfetch.ServiceWorker` instead.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import trio

from bgfetch.store.base import StoredBytes
from bgfetch.sw.registration import ServiceWorker

from .files import save_file, save_stream
from .output import UsageError

CLICK = "backgroundfetchclick"


def is_draft(edition: ModuleType) -> bool:
    """Whether *edition* is the 2017-10-12 draft (settled fetches, ``backgroundfetched``)."""
    return bool(edition.NAME == "2017-10-12")


def completion_events(edition: ModuleType) -> tuple[str, ...]:
    """The events that end a background fetch in *edition*: all but the click."""
    return tuple(name for name in edition.EVENTS if name != CLICK)


@attrs.define
class SavedRecord:
    """What the built-in worker did with one record's response."""

    url: str
    status: int | None = None  # None: no response (a network error, or none in 2017)
    path: Path | None = None  # None: not saved (no response, not ok, or reading failed)
    size: int | None = None
    sha256: str | None = None
    error: str | None = None  # why it was not saved


class SavingWorker:
    """The built-in worker: ``worker`` saves every ok response to *out*; ``saved``, by
    background fetch (the concept), lists what it did with each record, in order."""

    def __init__(self, edition: ModuleType, out: Path, *, sha256: bool = False) -> None:
        self.out = out
        self.sha256 = sha256  # hash each saved body (for --json)
        self.worker = ServiceWorker("bgfetch-fetch")
        self.saved: dict[Any, list[SavedRecord]] = {}
        if is_draft(edition):
            for name in ("backgroundfetched", "backgroundfetchfail"):
                self.worker.add_event_listener(name, self._on_settled_fetches)
        else:
            for name in ("backgroundfetchsuccess", "backgroundfetchfail"):
                self.worker.add_event_listener(name, self._on_records)

    async def _on_records(self, event: Any) -> None:
        """Current edition: the records, read from storage."""
        registration = event.registration
        concepts = event.background_fetch.records  # match_all() gives them in this order
        saved: list[SavedRecord] = []
        for index, record in enumerate(await registration.match_all()):
            url = str(record.request.url)
            try:
                response = await record.response_ready
            except Exception as error:  # the record's fetch failed: no response
                saved.append(SavedRecord(url, error=f"{type(error).__name__}: {error}"))
                continue
            whole = _succeeded_bytes(concepts, index, url, draft=False)
            saved.append(await self._save(url, response, whole))
        self.saved[event.background_fetch] = saved

    async def _on_settled_fetches(self, event: Any) -> None:
        """2017-10-12: the settled fetches; a fetch without a response has None."""
        concepts = event.background_fetch.records  # values() gives them in this order
        saved: list[SavedRecord] = []
        for index, settled in enumerate(await event.fetches.values()):
            url = str(settled.request.url)
            if settled.response is None:
                saved.append(SavedRecord(url, error="no response"))
                continue
            whole = _succeeded_bytes(concepts, index, url, draft=True)
            saved.append(await self._save(url, settled.response, whole))
        self.saved[event.background_fetch] = saved

    async def _save(self, url: str, response: Any, whole: StoredBytes | None) -> SavedRecord:
        """Save *response*'s body: from *whole*, its stored bytes once its fetch succeeded
        (they no longer change), when they are a file; else read from the response."""
        status = int(response.status)
        if not response.ok:
            return SavedRecord(url, status, error=f"not saved: status {status}")
        try:
            if whole is not None and whole.file is not None:
                file = save_file(whole.file, self.out, url, sha256=self.sha256)
            else:
                file = await save_stream(response, self.out, url, sha256=self.sha256)
        except Exception as error:  # the body errored, or the disk refused
            return SavedRecord(url, status, error=f"{type(error).__name__}: {error}")
        return SavedRecord(url, status, file.path, file.size, file.sha256)


def _succeeded_bytes(
    records: list[Any], index: int, url: str, *, draft: bool
) -> StoredBytes | None:
    """The stored bytes of the background fetch's record number *index* (the concept
    behind the record object for *url*) if its fetch succeeded: complete, and never
    appended to again.  None otherwise."""
    record = records[index] if index < len(records) else None
    if record is None or record.request.url.href != url:
        return None
    if draft:  # 2017-10-12: the record keeps its body and outcome
        return record.response_body if record.outcome == "success" else None
    data = record.response_data
    return data.bytes if data.result == "success" else None


def load_worker(spec: str) -> ServiceWorker:
    """The :class:`bgfetch.ServiceWorker` ``--worker MODULE:OBJECT`` names (OBJECT may be
    dotted: ``pkg.mod:workers.main``); the current directory is importable.  UsageError
    naming *spec* if it cannot be imported or is not a ServiceWorker."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise UsageError(f"--worker {spec}: expected MODULE:OBJECT, e.g. my_worker:worker")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as error:
        raise UsageError(
            f"--worker {spec}: cannot import {module_name}: {type(error).__name__}: {error}"
        ) from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise UsageError(f"--worker {spec}: {module_name} has no {attribute}") from None
    if not isinstance(target, ServiceWorker):
        raise UsageError(
            f"--worker {spec}: {attribute} is a {type(target).__name__}, "
            "not a bgfetch.ServiceWorker"
        )
    return target


class CompletionWatch:
    """Hears the completion events on *worker* (any worker: a listener of its own, added
    last) and waits for the one of the background fetch it is told to expect, until that
    event is no longer active: every handler returned, every ``wait_until`` settled.

    Matched by the background fetch itself, not its id: a stored user agent may deliver
    the event of an earlier fetch with the same id, one that settled before a restart.
    """

    def __init__(
        self,
        worker: ServiceWorker,
        edition: ModuleType,
        on_arrival: Callable[[Any], None] | None = None,
    ) -> None:
        self.event: Any = None
        self.on_arrival = on_arrival
        self._heard: list[Any] = []
        self._expected: Any = None
        self._arrived = trio.Event()
        for name in completion_events(edition):
            worker.add_event_listener(name, self._listener)

    def expect(self, bg_fetch: Any) -> None:
        """Wait for the completion event of *bg_fetch* (a background fetch concept)."""
        self._expected = bg_fetch
        self._match()

    def heard(self, bg_fetch: Any) -> bool:
        """Whether the completion event of *bg_fetch* came already (a restored background
        fetch's, fired as soon as the worker was active again)."""
        return any(event.background_fetch is bg_fetch for event in self._heard)

    def _listener(self, event: Any) -> None:
        self._heard.append(event)
        self._match()

    def _match(self) -> None:
        if self.event is not None or self._expected is None:
            return
        for event in self._heard:
            if event.background_fetch is self._expected:
                self.event = event
                if self.on_arrival is not None:
                    self.on_arrival(event)
                self._arrived.set()
                return

    async def handled(self) -> Any:
        """The expected completion event, once dispatched and no longer active."""
        await self._arrived.wait()
        await self.event.wait_inactive()
        return self.event
