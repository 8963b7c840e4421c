"""What the draft leaves as TODO about fetches, filled from the nearest later revisions.

* ``BackgroundFetchRegistration.activeFetches`` "must return the context object's
  background fetch's TODO": a :class:`BackgroundFetchActiveFetches` over the
  background fetch's records, each a :class:`BackgroundFetchActiveFetch` whose
  ``responseReady`` follows "create record objects" as da54c49 (2018-07-31) writes it
  (#create-settled-fetches-algorithm, sic: that revision's anchor for it); 4e709be, later
  that day, is the first to give a registration its background fetch's records so.
* ``BackgroundFetchSettledEvent.fetches`` "must return TODO", and the events'
  "A new BackgroundFetchSettledFetches. TODO: associate this with bgFetch's
  records": a :class:`BackgroundFetchSettledFetches` whose records are bgFetch's
  records (fdc1747, 2018-07-12), with ``match()`` as f58e51d (2018-06-22) and
  ``values()`` as 79f8417 (2018-06-22) define them (#create-settled-fetches, f58e51d).

Matching follows Cache's rules (Service Workers #request-matches-cached-item-algorithm),
as f58e51d says.  SPEC-NOTES.md SN-2017-10, SN-2017-13.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from bgfetch.errors import AbortError
from bgfetch.fetch.request import Request, RequestInfo
from bgfetch.fetch.response import Response
from bgfetch.infra import Promise
from bgfetch.sw.cache import query_request, request_matches_cached_item
from bgfetch.sw.environment import Environment

from .concepts import BackgroundFetchRecord

STREAM_SLICE = 1024 * 1024  # the "user agent determined slice" a pull reads from storage


class BackgroundFetchFetch:
    """BackgroundFetchFetch (#background-fetch-registration): a request."""

    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def request(self) -> Request:
        return self._request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._request.method} {self._request.url}>"


class BackgroundFetchActiveFetch(BackgroundFetchFetch):
    """BackgroundFetchActiveFetch: a request and a promise for its response."""

    def __init__(self, request: Request, response_ready: Promise[Response]) -> None:
        super().__init__(request)
        self._response_ready = response_ready

    @property
    def response_ready(self) -> Promise[Response]:
        """``response = await active_fetch.response_ready``."""
        return self._response_ready


class BackgroundFetchSettledFetch(BackgroundFetchFetch):
    """BackgroundFetchSettledFetch: a request and its response, or None (null)."""

    def __init__(self, request: Request, response: Response | None) -> None:
        super().__init__(request)
        self._response = response

    @property
    def response(self) -> Response | None:
        return self._response


def _matching(
    records: list[BackgroundFetchRecord], request: RequestInfo, realm: Environment
) -> list[BackgroundFetchRecord]:
    """records filtered "according to the rules of cache.matchAll()" (no query options:
    the draft's match() takes none)."""
    query = query_request(request, realm.api_base_url, ignore_method=False)
    if query is False:
        return []  # Cache: a non-GET query matches nothing (without ignoreMethod).
    return [
        record
        for record in records
        if request_matches_cached_item(query, record.request, record.response)
    ]


class BackgroundFetchActiveFetches:
    """BackgroundFetchActiveFetches: the active fetches of one BackgroundFetchRegistration."""

    def __init__(self, records: list[BackgroundFetchRecord], realm: Environment) -> None:
        self._records = records
        self._realm = realm

    async def match(self, request: RequestInfo) -> BackgroundFetchActiveFetch | None:
        """#dom-backgroundfetchactivefetches-match (IDL only in the draft).  (filled:
        4e709be, #background-fetch-registration-match) The first active fetch whose
        request matches *request*, or None (undefined)."""
        matches = _matching(self._records, request, self._realm)
        promise: Promise[BackgroundFetchActiveFetch | None] = Promise()
        realm = self._realm
        realm.event_loop.queue_task(
            lambda: promise.resolve(
                create_active_fetches(matches[:1], realm)[0] if matches else None
            )
        )
        return await promise

    async def values(self) -> list[BackgroundFetchActiveFetch]:
        """#dom-backgroundfetchactivefetches-values (IDL only in the draft).  (filled:
        4e709be, #background-fetch-registration-match-all, without a filter) Every active
        fetch."""
        promise: Promise[list[BackgroundFetchActiveFetch]] = Promise()
        records, realm = list(self._records), self._realm
        realm.event_loop.queue_task(lambda: promise.resolve(create_active_fetches(records, realm)))
        return await promise


def create_active_fetches(
    records: list[BackgroundFetchRecord], realm: Environment
) -> list[BackgroundFetchActiveFetch]:
    """(filled) Create record objects, #create-settled-fetches-algorithm (sic) of da54c49,
    over the draft's records."""
    # 1. Let recordObjects be a new list.
    record_objects: list[BackgroundFetchActiveFetch] = []
    # 2. For each record of records:
    for record in records:
        # 2.1-2.5. A new active fetch whose responseReady is a new promise and whose
        # request is a new Request over a copy of record's request.
        response_ready: Promise[Response] = Promise()
        record_object = BackgroundFetchActiveFetch(
            Request.from_internal(record.request.copy()), response_ready
        )
        # 2.6-2.7. Let stream be a new ReadableStream whose pull reads the stored bytes.
        stream = _stream_from_storage(record)
        # 2.8. Run these steps in parallel:
        realm.tasks.in_parallel(_resolve_response_ready, record, stream, response_ready, realm)
        # 2.9. Append recordObject to recordObjects.
        record_objects.append(record_object)
    # 3. Return recordObjects.
    return record_objects


async def _stream_from_storage(record: BackgroundFetchRecord) -> AsyncGenerator[bytes, None]:
    """Create record objects, step 2.7's pull action (da54c49,
    #create-settled-fetches-algorithm), as an async generator: each iteration is one pull."""
    # 2.6. Let transmittedBytes be 0.
    transmitted_bytes = 0
    while True:
        # 2.7.1. Wait for the length of the bytes to be greater than transmittedBytes, or
        # the record's fetch to have ended.
        def more_or_settled(n: int = transmitted_bytes) -> bool:
            return len(record.response_body) > n or record.outcome != ""

        await record.changed.wait_for(more_or_settled)
        # 2.7.2-2.7.3. Let bytes be a user agent determined slice from offset
        # transmittedBytes (null if there are none), and increment transmittedBytes.
        data = b""
        if len(record.response_body) > transmitted_bytes:
            data = record.response_body.read(transmitted_bytes, STREAM_SLICE)
            transmitted_bytes += len(data)
        # 2.7.4. Queue a task (the reader's own task runs these steps):
        # 2.7.4.1. If bytes is not null, enqueue it into stream.
        if data:
            yield data
        if len(record.response_body) > transmitted_bytes:
            continue  # more was stored meanwhile: the next pull takes it
        # 2.7.4.2. If the result is "success", close stream.
        if record.outcome == "success":
            return
        # 2.7.4.3. Otherwise, if the result is "aborted", error stream with an AbortError.
        if record.outcome == "aborted":
            raise AbortError("the background fetch was aborted before this response was stored")
        # 2.7.4.4. Otherwise, if the result is not the empty string, error stream with a
        # TypeError.
        if record.outcome != "":
            raise TypeError("the fetch of this response failed before its body was stored")


async def _resolve_response_ready(
    record: BackgroundFetchRecord,
    stream: AsyncGenerator[bytes, None],
    response_ready: Promise[Response],
    realm: Environment,
) -> None:
    """Create record objects, step 2.8 (da54c49, #create-settled-fetches-algorithm)."""
    # 2.8.1. Wait for the record's result (here: outcome) not to be the empty string.
    await record.changed.wait_for(lambda: record.outcome != "")
    # 2.8.2. If the result is "success":
    if record.outcome == "success" and record.response is not None:
        # 2.8.2.1. Let response be a copy of the record's response.
        response = record.response.copy()
        # 2.8.2.2. Delete `Content-Range` from response's header list.
        response.header_list.delete("Content-Range")
        # 2.8.2.3. Delete `Content-Length` from response's header list.
        response.header_list.delete("Content-Length")
        # 2.8.2.4-2.8.2.6. A body with stream; queue a task to resolve responseReady with
        # a new Response over response.
        realm.event_loop.queue_task(lambda: response_ready.resolve(Response(response, stream)))
    # 2.8.3. Otherwise, if the result is "aborted", reject responseReady with an AbortError.
    elif record.outcome == "aborted":
        response_ready.reject(
            AbortError("the background fetch was aborted before this record's response arrived")
        )
    # 2.8.4. Otherwise, reject responseReady with a TypeError.
    else:
        response_ready.reject(TypeError("the fetch of this record failed"))


class BackgroundFetchSettledFetches:
    """BackgroundFetchSettledFetches (6cf8c42: it has records; f58e51d, 79f8417): records,
    matched and listed."""

    def __init__(self, records: list[BackgroundFetchRecord], realm: Environment) -> None:
        # A BackgroundFetchSettledFetches object has records (a list of records).
        self.records = records
        self._realm = realm

    async def match(self, request: RequestInfo) -> BackgroundFetchSettledFetch | None:
        """#dom-backgroundfetchsettledfetches-match (IDL only in the draft; filled: f58e51d)"""
        # 1. Let promise be the result of calling matchAll() passing request.
        # 2. Return promise transformed by a handler returning matches[0].
        # (The draft's IDL has no matchAll(); it is this filter.)
        records = _matching(self.records, request, self._realm)
        promise: Promise[BackgroundFetchSettledFetch | None] = Promise()
        realm = self._realm
        realm.event_loop.queue_task(
            lambda: promise.resolve(
                create_settled_fetches(records[:1], realm)[0] if records else None
            )
        )
        return await promise

    async def values(self) -> list[BackgroundFetchSettledFetch]:
        """#dom-backgroundfetchsettledfetches-values (IDL only in the draft; filled: 79f8417,
        as f58e51d writes it)"""
        # 1. Let records be this's records.
        records = list(self.records)
        # 2. Queue a bgfetch task to resolve promise with the result of creating settled
        # fetches from records in this's relevant Realm.
        promise: Promise[list[BackgroundFetchSettledFetch]] = Promise()
        realm = self._realm
        realm.event_loop.queue_task(lambda: promise.resolve(create_settled_fetches(records, realm)))
        return await promise

    def __repr__(self) -> str:
        return f"<BackgroundFetchSettledFetches of {len(self.records)} records>"


def create_settled_fetches(
    records: list[BackgroundFetchRecord], realm: Environment
) -> list[BackgroundFetchSettledFetch]:
    """#create-settled-fetches (f58e51d)"""
    # 1. Let settledFetches be a new list.
    settled_fetches: list[BackgroundFetchSettledFetch] = []
    # 2. For each record of records:
    for record in records:
        # 2.1-2.3. Let settledFetch be a new BackgroundFetchSettledFetch whose request is
        # a new Request over a copy of record's request.
        request_object = Request.from_internal(record.request.copy())
        response_object: Response | None = None
        # 2.4. If record's body complete flag is set (here: its outcome is "success"):
        if record.outcome == "success" and record.response is not None:
            # 2.4.1. Let response be a copy of record's response.
            response = record.response.copy()
            # 2.4.2-2.4.8. A stream over the response body, as its body; a new Response,
            # settledFetch's response.
            response_object = Response(response, _stream_from_storage(record))
        # (Otherwise the settled fetch's response is null.)
        # 2.5. Append settledFetch to settledFetches.
        settled_fetches.append(BackgroundFetchSettledFetch(request_object, response_object))
    # 3. Return settledFetches.
    return settled_fetches
