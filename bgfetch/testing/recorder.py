"""WorkerRecorder: a service worker that keeps what it saw of each background-fetch event.

::

    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    await registration.background_fetch.fetch("ep-5", "/ep-5.mp3")
    seen = await recorder.settled("ep-5")
    assert seen.type == "backgroundfetchsuccess" and seen.texts() == ["..."]

For each event it records, when its handler starts, the type, the event, the id and
(current edition) the registration's result, failure reason and progress numbers;
then, for a settle event, every response the event exposes: each record's
(``registration.match_all()``, ``response_ready``) in the current edition, each
settled fetch's (``event.fetches.values()``) in the 2017-10-12 one, with its body.

Edition-agnostic: it tells the editions apart by what the event has (``registration``
or ``fetches``), and listens to the event types of the user agent's edition
(``ua.edition.EVENTS``) or, built without one, of every edition.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs
import trio

from bgfetch.editions import event_editions, load_edition
from bgfetch.sw.registration import ServiceWorker
from bgfetch.useragent import UserAgent
from bgfetch.waits import waiting_for

CLICK = "backgroundfetchclick"

H = TypeVar("H", bound=Callable[..., Any])


def every_edition_events() -> tuple[str, ...]:
    """The background-fetch event types of every edition, each once."""
    return tuple(event_editions())


@attrs.define
class SeenResponse:
    """One record (current) or settled fetch (2017-10-12) as the worker read it."""

    url: str  # the request's URL
    method: str
    response: Any = None  # the Response; None where responseReady rejected, or none (2017)
    error: BaseException | None = None  # why responseReady rejected (current)
    body: bytes | None = None  # None: no response, or its body errored
    body_error: BaseException | None = None  # why reading the body failed

    @property
    def status(self) -> int | None:
        return None if self.response is None else int(self.response.status)

    @property
    def type(self) -> str | None:
        return None if self.response is None else str(self.response.type)

    @property
    def response_url(self) -> str | None:
        return None if self.response is None else str(self.response.url)

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.response is None else dict(self.response.headers.items())

    def header(self, name: str) -> str | None:
        if self.response is None:
            return None
        value: str | None = self.response.headers.get(name)
        return value

    @property
    def text(self) -> str | None:
        """The body as ``Response.text()`` decodes it (UTF-8), or None."""
        return None if self.body is None else self.body.decode("utf-8", errors="replace")


@attrs.define
class SeenEvent:
    """One background-fetch event as the worker saw it when its handler started, and
    (for a settle event) the responses it exposed."""

    type: str
    event: Any
    id: str
    time: float  # trio.current_time() when the handler started
    registration: Any = None  # event.registration (current); None in 2017-10-12
    # A copy of the registration's attributes when the handler started (current only).
    result: str | None = None
    failure_reason: str | None = None
    downloaded: int | None = None
    uploaded: int | None = None
    download_total: int | None = None
    upload_total: int | None = None
    records_available: bool | None = None
    state: str | None = None  # a 2017-10-12 click event's state
    responses: list[SeenResponse] = attrs.field(factory=list)
    handled: bool = False  # the handler finished: every response is read

    def texts(self) -> list[str | None]:
        return [r.text for r in self.responses]

    def statuses(self) -> list[int | None]:
        return [r.status for r in self.responses]

    def bodies(self) -> list[bytes | None]:
        return [r.body for r in self.responses]

    @property
    def by_path(self) -> dict[str, SeenResponse]:
        """The responses by their request URL's path (and query): ``"/ep-5.mp3"``."""
        by_path: dict[str, SeenResponse] = {}
        for seen in self.responses:
            parts = urlsplit(seen.url)
            by_path[parts.path + (f"?{parts.query}" if parts.query else "")] = seen
        return by_path

    def response(self, url_end: str) -> SeenResponse:
        """The one response whose request URL ends with *url_end*."""
        matches = [r for r in self.responses if r.url.endswith(url_end)]
        assert len(matches) == 1, f"{len(matches)} responses end with {url_end!r}: {matches}"
        return matches[0]


async def read_response(url: str, method: str, response: Any) -> SeenResponse:
    seen = SeenResponse(url, method, response)
    if response is not None:
        try:
            seen.body = await response.bytes()
        except Exception as error:
            seen.body_error = error
    return seen


@attrs.define(eq=False)
class WorkerRecorder:
    """A :class:`ServiceWorker` (``worker``) recording every background-fetch event.

    *events*: the event types it listens to (default: every edition's; see
    :meth:`for_edition`).  *read_responses*: read what each settle event exposes
    (False: record the event only, calling neither ``match_all()`` nor ``values()``).
    *hold*: while set to a trio.Event, each event's handler passes its ``wait()`` to
    ``wait_until`` (then reads as usual), keeping the event active until it is set.
    """

    events: tuple[str, ...] = attrs.field(factory=every_edition_events, converter=tuple)
    name: str = "recorder"
    read_responses: bool = True
    hold: trio.Event | None = None
    worker: ServiceWorker = attrs.field(init=False)
    seen: list[SeenEvent] = attrs.field(init=False, factory=list)
    """Every event, in the order the handlers started."""
    by_id: dict[str, SeenEvent] = attrs.field(init=False, factory=dict)
    """The latest settle event of each id (recorded when its handler starts)."""
    _changed: trio.Event = attrs.field(init=False, factory=trio.Event)

    def __attrs_post_init__(self) -> None:
        self.worker = ServiceWorker(self.name)
        for type in self.events:
            self.worker.add_event_listener(type, self._on_event)

    @classmethod
    def for_edition(
        cls, edition: UserAgent | ModuleType | str, **options: Any
    ) -> WorkerRecorder:
        """A recorder of the events of *edition*: a user agent's, an edition module, or
        an edition's name ("current", "2017-10-12")."""
        if isinstance(edition, UserAgent):
            module = edition.edition
        elif isinstance(edition, str):
            module = load_edition(edition)
        else:
            module = edition
        return cls(events=tuple(module.EVENTS), **options)

    def on(self, type: str) -> Callable[[H], H]:
        """``@recorder.on("backgroundfetchclick")``: another listener on the worker."""
        return self.worker.on(type)

    @property
    def clicks(self) -> list[SeenEvent]:
        return [seen for seen in self.seen if seen.type == CLICK]

    async def _on_event(self, event: Any) -> None:
        seen = self._snapshot(event)
        self.seen.append(seen)
        if event.type != CLICK:
            self.by_id[seen.id] = seen
        self._notify()
        if self.hold is not None:
            event.wait_until(self.hold.wait())
        if event.type != CLICK and self.read_responses:
            async for response in self._responses(event):
                seen.responses.append(response)
        seen.handled = True
        self._notify()

    @staticmethod
    def _snapshot(event: Any) -> SeenEvent:
        time = trio.current_time()
        registration = getattr(event, "registration", None)
        if registration is None:  # 2017-10-12: the event has the id, and no registration
            return SeenEvent(event.type, event, event.id, time, state=getattr(event, "state", None))
        return SeenEvent(
            event.type,
            event,
            registration.id,
            time,
            registration=registration,
            result=registration.result,
            failure_reason=registration.failure_reason,
            downloaded=registration.downloaded,
            uploaded=registration.uploaded,
            download_total=registration.download_total,
            upload_total=registration.upload_total,
            records_available=registration.records_available,
        )

    @staticmethod
    async def _responses(event: Any) -> AsyncIterator[SeenResponse]:
        if hasattr(event, "fetches"):  # 2017-10-12: the settled fetches
            for settled in await event.fetches.values():
                request = settled.request
                yield await read_response(request.url, request.method, settled.response)
            return
        for record in await event.registration.match_all():  # current: the records
            request = record.request
            try:
                response = await record.response_ready
            except Exception as error:
                yield SeenResponse(request.url, request.method, error=error)
            else:
                yield await read_response(request.url, request.method, response)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_until(
        self, predicate: Callable[[], bool], *, within: float = 600, what: str = "wait_until()"
    ) -> None:
        """Wait (at most *within* seconds, simulated on the MockClock) for *predicate*,
        checked whenever an event is recorded or handled; *what* names the wait in the
        TooSlowError, and for a test that would hang (bgfetch.waits)."""
        try:
            with trio.fail_after(within), waiting_for(lambda: self._describe(what)):
                while not predicate():
                    await self._changed.wait()
        except trio.TooSlowError:
            raise trio.TooSlowError(
                f"{self._describe(what)}; not within {within:g} simulated seconds"
            ) from None

    def _describe(self, what: str) -> str:
        seen = ", ".join(f"{s.type} of {s.id!r}" for s in self.seen) or "none"
        return (
            f"WorkerRecorder {self.name!r}.{what}: it listens for "
            f"{', '.join(self.worker.event_types())}; events seen: {seen}"
        )

    async def settled(self, id: str, *, within: float = 600) -> SeenEvent:
        """The settle event of *id* once its handler finished (waiting for it)."""
        await self.wait_until(
            lambda: id in self.by_id and self.by_id[id].handled,
            within=within,
            what=f"settled({id!r})",
        )
        return self.by_id[id]

    async def next(self, type: str | None = None, *, within: float = 600) -> SeenEvent:
        """The next event (of *type*) recorded from now on, once handled."""
        count = len(self.seen)

        def arrived() -> list[SeenEvent]:
            return [s for s in self.seen[count:] if type is None or s.type == type]

        await self.wait_until(
            lambda: bool(arrived()) and arrived()[0].handled,
            within=within,
            what=f"next({type!r})" if type else "next()",
        )
        return arrived()[0]


def worker_of(worker: ServiceWorker | WorkerRecorder) -> ServiceWorker:
    """The ServiceWorker script of *worker* (a recorder's ``worker``)."""
    return worker.worker if isinstance(worker, WorkerRecorder) else worker
