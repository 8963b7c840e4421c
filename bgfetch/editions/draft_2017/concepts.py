"""Infrastructure (#infrastructure): the concepts of this edition.

Concept objects hold the draft's state.  They are :class:`~bgfetch.infra.Watched`:
assigning a field wakes the algorithms waiting on it and, in a stored user agent,
saves it, so a spec step reads as a plain assignment.  What the draft leaves out
and bgfetch fills in from a later revision is marked "(filled: ...)" and listed in
SPEC-NOTES.md §2017.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import attrs

from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse
from bgfetch.infra import Condition, ParallelQueue, TaskOwner, Watched
from bgfetch.store.base import StoredBytes
from bgfetch.sw.registration import Registration

EXTENSION_KEY = "background-fetch"


@attrs.define(eq=False)
class ResponseBodyBytesCount:
    """Not in the draft: the number of bytes in a background fetch's records' response
    bodies, kept up to date as they grow, for report progress (instances.py), whose
    steps sum every record's body at every chunk of every record: the square of the
    number of records.  Each record adds what it appends; a record given a new
    response body takes away what its old one had added."""

    value: int = 0
    replaced: int = 0  # how many times a record's bytes were replaced (the total went down)

    def attach(self, record: BackgroundFetchRecord) -> None:
        """*record*'s response body counts."""
        record._count = self
        record._counted = len(record.response_body)
        self.value += record._counted

    def detach(self, record: BackgroundFetchRecord) -> None:
        """*record*'s response body no longer counts."""
        self.value -= record._counted
        self.replaced += 1
        record._counted = 0


@attrs.define(eq=False)
class BackgroundFetchRecord(Watched):
    """A background fetch record (#background-fetch-record-concept)."""

    request: InternalRequest
    # The response body: a byte sequence, "initially null"; bgfetch keeps it in the
    # user agent's store from the start, and null reads as empty.
    response_body: StoredBytes
    response: InternalResponse | None = None
    # (filled: c34d023's "body complete flag", da54c49's response data result) how
    # this record's fetch ended: "" while fetching, "success" when the body was
    # transmitted normally, "aborted" when it was terminated with the aborted flag,
    # "failed" otherwise.  responseReady and BackgroundFetchSettledFetch.response read it.
    outcome: Literal["", "success", "aborted", "failed"] = ""
    # Not in the draft: partial responses that stored nothing new, each spending one of
    # the record's resumes (bounded, as the current edition's; SPEC-NOTES.md SN-2017-25).
    resumes: int = 0
    changed: Condition = attrs.field(factory=Condition, repr=False)
    saver: Callable[[], None] | None = attrs.field(default=None, repr=False)
    # Not in the draft: its background fetch's count of response body bytes, once it has
    # one, and how many bytes this record added to it.
    _count: ResponseBodyBytesCount | None = attrs.field(default=None, init=False, repr=False)
    _counted: int = attrs.field(default=0, init=False, repr=False)

    def append(self, data: builtins.bytes) -> None:
        """Append *data* to the response body (StorageFull past the quota), waking readers."""
        self.response_body.append(data)
        if self._count is not None:
            self._counted += len(data)
            self._count.value += len(data)
        self.changed.notify()

    def __setattr__(self, name: str, value: Any) -> None:
        count: ResponseBodyBytesCount | None = getattr(self, "_count", None)
        if name == "response_body" and count is not None:
            # A new response body: the old one's bytes no longer count, the new one's do.
            count.detach(self)
            super().__setattr__(name, value)
            count.attach(self)
            return
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
    progress_handling_queue: ParallelQueue
    # Not in the draft: what runs in parallel for this background fetch (its algorithm,
    # its progress handling queue); it ends when the fetch is over (perform.py).
    tasks: TaskOwner
    last_reported_download: int = 0
    # (filled: 3abbda2) the bytes of request bodies sent so far, and the last reported.
    uploaded: int = 0
    last_reported_upload: int = 0
    # (filled: 8a2733f) "terminate all related fetches" sets this; every record's
    # ongoing fetch is then terminated with the aborted flag set.
    abort_all: bool = False
    # Not in the draft: which settled event fired ("" until one did), for the UI's
    # BackgroundFetchClickEvent state (filled: 1a5d253).
    settled_event: str = ""
    # Not in the draft: what a stored user agent needs to carry a background fetch across
    # a restart (persist.py): its key in the store, whether its completion event was
    # fired and handled, and whether it was restored from the store.
    key: str = attrs.field(factory=lambda: secrets.token_hex(8))
    completion_event: Literal["", "fired", "handled"] = ""
    restored: bool = False
    # Not in the draft: the BackgroundFetchRegistration instances made for it in every
    # realm, which live as long as it does (SPEC-NOTES.md SN-2017-20).
    instances: list[Any] = attrs.field(factory=list, repr=False)
    changed: Condition = attrs.field(factory=Condition, repr=False)
    saver: Callable[[], None] | None = attrs.field(default=None, repr=False)
    # Saved as they change, but no one waits for them: its records' waiters (for the
    # abort all flag) are not woken at every chunk (infra.Watched).
    QUIET: ClassVar[frozenset[str]] = frozenset(
        {"uploaded", "last_reported_download", "last_reported_upload"}
    )
    # Not in the draft: the bytes in its records' response bodies, kept as they grow.
    _indices: dict[int, int] = attrs.field(factory=dict, init=False, repr=False)
    _response_body_bytes: ResponseBodyBytesCount = attrs.field(
        factory=ResponseBodyBytesCount, init=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self._count_records()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "records" and hasattr(self, "_response_body_bytes"):
            self._count_records()  # (the draft never replaces them; a test may)

    def _count_records(self) -> None:
        self._indices = {id(record): i for i, record in enumerate(self.records)}
        self._response_body_bytes = ResponseBodyBytesCount()
        for record in self.records:
            self._response_body_bytes.attach(record)

    def index_of(self, record: BackgroundFetchRecord) -> int:
        """Not in the spec: *record*'s index in records (at once, where records.index()
        would walk the list: for every record, the square of their number)."""
        index: int = self._indices[id(record)]
        return index

    def response_body_bytes(self) -> int:
        """Not a draft algorithm: what report progress's step 2 sums, the number of bytes
        in every record's response body (:meth:`response_body_bytes_by_the_steps`), kept
        as the bodies grow (ResponseBodyBytesCount) instead of summed at each chunk."""
        return self._response_body_bytes.value

    def response_body_bytes_by_the_steps(self) -> int:
        """#report-progress-for-background-fetch-algorithm, steps 1-2: the sum."""
        # 1. Let downloaded be 0.
        downloaded = 0
        # 2. For each record in bgFetch's records, increment downloaded by the number of
        # bytes in response body.
        for record in self.records:
            downloaded += len(record.response_body)
        return downloaded


@attrs.define(eq=False)
class RegistrationExtension:
    """Extensions to service worker registration
    (#service-worker-registration-concept-extensions)."""

    active_background_fetches: dict[str, BackgroundFetch]
    active_background_fetches_edit_queue: ParallelQueue
    # Not in the draft: set once the registration is cleared (registration_cleared), so
    # that nothing waits for its active worker any more (SPEC-NOTES.md SN-2017-26).
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
    """Not in the draft, which never says what clearing a service worker registration
    does to its background fetches: (filled) the current spec's "Clearing a service
    worker registration will clear all associated background fetches" (its
    privacy-and-bandwidth-use section, first in a773ac9), with bgfetch's steps for it there
    (SPEC-NOTES.md SN-2017-26, SN-current-28): each active background fetch is removed
    and aborted, as abort() does; no event is fired (the registration has no active
    worker); a restored one's settled event waits for no worker."""
    extension: RegistrationExtension | None = registration.extensions.get(EXTENSION_KEY)
    if extension is None:
        return  # no background fetch was ever made on it
    extension.cleared = True
    registration.changed.notify()  # a restored background fetch's event waits no more

    # Enqueued to the active background fetches edit queue, as every change to the map is.
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


def contains(active_bg_fetches: dict[str, BackgroundFetch], bg_fetch: BackgroundFetch) -> bool:
    """#active-background-fetches-contains (in #service-worker-registration-concept-extensions)"""
    # 1. Let id be bgFetch's id.
    id = bg_fetch.id
    # 2. If activeBgFetches[id] does not exist, then return false.
    if id not in active_bg_fetches:
        return False
    # 3. If activeBgFetches[id] does not equal bgFetch, then return false.
    if active_bg_fetches[id] is not bg_fetch:
        return False
    # 4. Return true.
    return True
