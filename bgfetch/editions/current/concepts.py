"""Infrastructure (#infrastructure): the concepts of this edition.

Concept objects hold the spec's state.  They are :class:`~bgfetch.infra.Watched`:
assigning a field wakes the algorithms waiting on it ("wait for the paused flag to
be unset") and, in a stored user agent, saves it, so a spec step reads as a plain
assignment: ``response_data.result = "success"``.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import attrs
import trio

from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse
from bgfetch.infra import Condition, ParallelQueue, TaskOwner, Watched
from bgfetch.store.base import StoredBytes
from bgfetch.sw.registration import Registration

EXTENSION_KEY = "background-fetch"

# The IDL's BackgroundFetchResult and BackgroundFetchFailureReason enums
# (#background-fetch-registration).
BackgroundFetchResult = Literal["", "success", "failure"]
BackgroundFetchFailureReason = Literal[
    "", "aborted", "bad-status", "fetch-error", "quota-exceeded", "download-total-exceeded"
]
# A background fetch response's result: any BackgroundFetchFailureReason, "success", or
# "redundant".
ResponseResult = BackgroundFetchFailureReason | Literal["success", "redundant"]


@attrs.define(eq=False)
class StoredBodyBytesCount:
    """Not in the spec: a background fetch's stored body bytes total, kept up to date as
    its records' bytes change, so that reading it costs nothing (the spec's steps sum
    every record's bytes; read at every chunk of every record, that sum costs the square
    of the number of records).  Each record's response data adds the bytes it appends;
    a response data that stops being a record's (replaced, "process response" 3.3)
    takes away what it had added."""

    value: int = 0
    replaced: int = 0  # how many times a record's bytes were replaced (the total went down)

    def attach(self, response_data: BackgroundFetchResponse) -> None:
        """*response_data* is now a record's: its bytes count."""
        response_data._count = self
        response_data._counted = len(response_data.bytes)
        self.value += response_data._counted

    def detach(self, response_data: BackgroundFetchResponse) -> None:
        """*response_data* is no longer a record's: what it added no longer counts."""
        self.value -= response_data._counted
        self.replaced += 1
        response_data._count = None
        response_data._counted = 0


@attrs.define(eq=False)
class BackgroundFetchResponse(Watched):
    """A background fetch response (#background-fetch-response-concept)."""

    bytes: StoredBytes
    response: InternalResponse | None = None
    result: ResponseResult = ""
    changed: Condition = attrs.field(factory=Condition, repr=False)
    saver: Callable[[], None] | None = attrs.field(default=None, repr=False)
    # Not in the spec: the count of its record's background fetch's stored body bytes,
    # once it is a record's, and how many bytes it added to it.
    _count: StoredBodyBytesCount | None = attrs.field(default=None, init=False, repr=False)
    _counted: int = attrs.field(default=0, init=False, repr=False)

    @property
    def exposed(self) -> bool:
        """The response can be exposed if the result is "", "success" or "bad-status"."""
        return self.result in ("", "success", "bad-status")

    def append(self, data: builtins.bytes) -> None:
        """Append *data* to bytes (StorageFull past the quota), waking readers."""
        self.bytes.append(data)
        if self._count is not None:
            self._counted += len(data)
            self._count.value += len(data)
        self.changed.notify()


@attrs.define(eq=False)
class BackgroundFetchRecord(Watched):
    """A background fetch record (#background-fetch-record-concept)."""

    request: InternalRequest
    response_data: BackgroundFetchResponse
    # Not in the spec: how many times the user agent has resumed this record after a
    # cut (its belief in "temporarily unavailable" is bounded, see perform.py).
    resumes: int = 0
    saver: Callable[[], None] | None = attrs.field(default=None, repr=False)
    # Not in the spec: its background fetch's count of stored body bytes, once it has one.
    _count: StoredBodyBytesCount | None = attrs.field(default=None, init=False, repr=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "response_data" and getattr(self, "_count", None) is not None:
            # A new response data for this record: the old one's bytes no longer count.
            assert self._count is not None
            self._count.detach(self.response_data)
            self._count.attach(value)
        super().__setattr__(name, value)


@attrs.define(eq=False)
class BackgroundFetch(Watched):
    """A background fetch (#background-fetch-concept)."""

    id: str
    records: list[BackgroundFetchRecord]
    title: str
    download_total: int
    upload_total: int
    icons: list[Any]
    service_worker_registration: Registration
    update_handling_queue: ParallelQueue
    # Not in the spec: what runs in parallel for this background fetch (its algorithm,
    # its update handling queue); it ends when the fetch is over (perform.py).
    tasks: TaskOwner
    uploaded: int = 0
    result: BackgroundFetchResult = ""
    failure_reason: BackgroundFetchFailureReason = ""
    records_available: bool = True
    paused: bool = False
    abort_all: bool = False
    # Not in the spec: what a stored user agent needs to carry a background fetch across
    # a restart (persist.py): its key in the store, whether its completion event was
    # fired and handled, and whether it was restored from the store.
    key: str = attrs.field(factory=lambda: secrets.token_hex(8))
    completion_event: Literal["", "fired", "handled"] = ""
    restored: bool = False
    # Not in the spec: the BackgroundFetchRegistration instances made for it in every
    # realm, which live as long as it does (SPEC-NOTES.md SN-current-21).
    instances: list[Any] = attrs.field(factory=list, repr=False)
    changed: Condition = attrs.field(factory=Condition, repr=False)
    saver: Callable[[], None] | None = attrs.field(default=None, repr=False)
    # Saved as it grows, but no one waits for it: its records' waiters (for the paused
    # and abort all flags) are not woken at every chunk of an upload (infra.Watched).
    QUIET: ClassVar[frozenset[str]] = frozenset({"uploaded"})

    # Not in the spec: the stored body bytes total, kept as the records change.
    _indices: dict[int, int] = attrs.field(factory=dict, init=False, repr=False)
    _stored_body_bytes: StoredBodyBytesCount = attrs.field(
        factory=StoredBodyBytesCount, init=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self._count_records()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "records" and hasattr(self, "_stored_body_bytes"):
            self._count_records()  # (the spec never replaces them; a test may)

    def _count_records(self) -> None:
        self._indices = {id(record): i for i, record in enumerate(self.records)}
        self._stored_body_bytes = StoredBodyBytesCount()
        for record in self.records:
            record._count = self._stored_body_bytes
            self._stored_body_bytes.attach(record.response_data)

    def index_of(self, record: BackgroundFetchRecord) -> int:
        """Not in the spec: *record*'s index in records (at once, where records.index()
        would walk the list: for every record, the square of their number)."""
        index: int = self._indices[id(record)]
        return index

    def stored_body_bytes_total(self) -> int:
        """#background-fetch-stored-body-bytes-total

        The total the steps below compute (:meth:`stored_body_bytes_total_by_the_steps`),
        kept as the records' bytes change (StoredBodyBytesCount) instead of summed at
        each call, which made a background fetch of n records cost n² (the tests check
        the two agree)."""
        return self._stored_body_bytes.value

    def stored_body_bytes_total_by_the_steps(self) -> int:
        """#background-fetch-stored-body-bytes-total, step by step."""
        # 1. Let total be 0.
        total = 0
        # 2. For each record of bgFetch's records:
        for record in self.records:
            # 2.1. Increment total by the length of record's response data's bytes.
            total += len(record.response_data.bytes)
        # 3. Return total.
        return total


@attrs.define(eq=False)
class RegistrationExtension:
    """Extensions to service worker registration
    (#service-worker-registration-concept-extensions)."""

    active_background_fetches: dict[str, BackgroundFetch]
    active_background_fetches_edit_queue: ParallelQueue
    # Not in the spec: the ids of fetch() calls reading their request bodies outside the
    # edit queue, each set once its steps are over (SPEC-NOTES.md SN-current-25).
    reading: dict[str, trio.Event] = attrs.field(factory=dict)
    # Not in the spec: set once the registration is cleared (registration_cleared), so
    # that nothing waits for its active worker any more (SPEC-NOTES.md SN-current-28).
    cleared: bool = False


def registration_extension(registration: Registration) -> RegistrationExtension:
    """This edition's state on *registration*: its active background fetches (initially an
    empty map) and edit queue (the result of starting a new parallel queue), on first use."""
    if EXTENSION_KEY not in registration.extensions:
        queue = ParallelQueue(f"active background fetches edit queue of {registration.scope_url}")
        queue.start(registration.user_agent.tasks)
        registration.extensions[EXTENSION_KEY] = RegistrationExtension({}, queue)
    extension: RegistrationExtension = registration.extensions[EXTENSION_KEY]
    return extension


def registration_cleared(registration: Registration) -> None:
    """#privacy-and-bandwidth-use: "Clearing a service worker registration will clear all
    associated background fetches."  The spec gives no steps; these are bgfetch's
    (SPEC-NOTES.md SN-current-28), for the Service Workers "Clear Registration" algorithm
    to run.  Each active background fetch is removed and aborted, as abort() does, so
    that perform a background fetch settles it ("aborted") and frees its storage; the
    registration has no active worker any more, so no event is fired.  A background
    fetch already settled ends once its event is no longer active (the worker is
    terminated) or, restored after a restart, at once instead of waiting for a worker."""
    extension: RegistrationExtension | None = registration.extensions.get(EXTENSION_KEY)
    if extension is None:
        return  # no background fetch was ever made on it
    extension.cleared = True
    registration.changed.notify()  # a restored background fetch's event waits no more

    # Enqueued to the active background fetches edit queue, as every change to the map is,
    # so that a fetch() whose steps are queued before it is cleared too.
    def steps() -> None:
        active_bg_fetches = extension.active_background_fetches
        for id, bg_fetch in list(active_bg_fetches.items()):
            # Remove activeBgFetches[id], and set bgFetch's abort all flag.
            del active_bg_fetches[id]
            registration.user_agent.observers.step(
                "#privacy-and-bandwidth-use", "", "registration cleared", id=id, key=bg_fetch.key
            )
            bg_fetch.abort_all = True

    extension.active_background_fetches_edit_queue.enqueue(steps)


def contains_background_fetch(map: dict[str, BackgroundFetch], bg_fetch: BackgroundFetch) -> bool:
    """#contains-background-fetch-algorithm"""
    # 1. Let id be bgFetch's id.
    id = bg_fetch.id
    # 2. If map[id] does not exist, then return false.
    if id not in map:
        return False
    # 3. If map[id] does not equal bgFetch, then return false.
    if map[id] is not bg_fetch:
        return False
    # 4. Return true.
    return True


def does_not_contain_background_fetch(
    map: dict[str, BackgroundFetch], bg_fetch: BackgroundFetch
) -> bool:
    """#contains-background-fetch-algorithm ("does not contain background fetch")"""
    # 1. If map contains background fetch bgFetch, then return false.
    if contains_background_fetch(map, bg_fetch):
        return False
    # 2. Return true.
    return True
