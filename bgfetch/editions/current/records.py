"""Create record objects (#create-settled-fetches-algorithm)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from bgfetch.errors import AbortError
from bgfetch.fetch.request import Request
from bgfetch.fetch.response import Response
from bgfetch.infra import Promise
from bgfetch.sw.environment import Environment

from . import concepts
from .concepts import BackgroundFetchResponse

STREAM_SLICE = 1024 * 1024  # the "user agent determined slice" a pull reads from storage


class BackgroundFetchRecord:
    """The BackgroundFetchRecord interface (#background-fetch-record-interface)."""

    def __init__(self, request: Request, response_ready: Promise[Response]) -> None:
        self._request = request
        self._response_promise = response_ready

    @property
    def request(self) -> Request:
        return self._request

    @property
    def response_ready(self) -> Promise[Response]:
        """A promise for the Response: ``response = await record.response_ready``."""
        return self._response_promise

    def __repr__(self) -> str:
        return f"<BackgroundFetchRecord {self._request.method} {self._request.url}>"


def create_record_objects(
    records: list[concepts.BackgroundFetchRecord], realm: Environment
) -> list[BackgroundFetchRecord]:
    """#create-settled-fetches-algorithm"""
    # 1. Let recordObjects be a new list.
    record_objects: list[BackgroundFetchRecord] = []
    # 2. For each record of records:
    for record in records:
        # 2.1. Let responseData be record's response data.
        response_data = record.response_data
        # 2.2. Let recordObject be a new BackgroundFetchRecord.  (Made at 2.5, with its
        # promise and its request.)
        # 2.3. Set recordObject's responseReady to a new promise.
        response_ready: Promise[Response] = Promise()
        # 2.4. Let requestObject be a new Request over a copy of record's request, including
        # its body, with a new Headers associated with its header list.
        request_object = Request.from_internal(record.request.copy())
        # 2.5. Set recordObject's request to requestObject.
        record_object = BackgroundFetchRecord(request_object, response_ready)
        # 2.6. Let transmittedBytes be 0.  2.7. Let stream be a new ReadableStream.
        # 2.8. Set up stream given a pull action: _stream_from_storage, which keeps
        # transmittedBytes.
        url = record.request.url.href
        stream = _stream_from_storage(response_data, url)
        # 2.9. Run these steps in parallel:
        realm.tasks.in_parallel(
            _resolve_response_ready, response_data, stream, response_ready, realm, url
        )
        # 2.10. Append recordObject to recordObjects.
        record_objects.append(record_object)
    # 3. Return recordObjects.
    return record_objects


async def _stream_from_storage(
    response_data: BackgroundFetchResponse, url: str
) -> AsyncGenerator[bytes, None]:
    """#create-settled-fetches-algorithm, steps 2.6-2.8: the pull action of step 2.8, as an
    async generator: each iteration is one pull."""
    # 2.6. Let transmittedBytes be 0.
    transmitted_bytes = 0
    while True:
        # 2.8.1. Wait for the length of responseData's bytes to be greater than
        # transmittedBytes, or responseData's result not to be the empty string.
        def more_or_settled(n: int = transmitted_bytes) -> bool:
            return len(response_data.bytes) > n or response_data.result != ""

        await response_data.changed.wait_for(more_or_settled)
        # 2.8.2. Let bytes be null.
        data: bytes | None = None
        # 2.8.3. If the length of responseData's bytes is greater than transmittedBytes and
        # responseData may be exposed, then:
        if len(response_data.bytes) > transmitted_bytes and response_data.exposed:
            # 2.8.3.1. Set bytes to a user agent determined slice of responseData's bytes,
            # starting from an offset of transmittedBytes.
            data = response_data.bytes.read(transmitted_bytes, STREAM_SLICE)
            # 2.8.3.2. Increment transmittedBytes by bytes' length.
            transmitted_bytes += len(data)
        # 2.8.4. Queue a task to run these steps (the reader's own task runs them):
        # 2.8.4.1. If bytes is not null, then:  2.8.4.1.1. Let array be a new Uint8Array of
        # bytes.  2.8.4.1.2. Enqueue array into stream.  (Yielding bytes enqueues them.)
        if data:
            yield data
        # 2.8.4.2. If responseData may be exposed, responseData's result is not the empty
        # string, and transmittedBytes is the length of responseData's bytes, then close
        # stream.
        if (
            response_data.exposed
            and response_data.result != ""
            and transmitted_bytes == len(response_data.bytes)
        ):
            return
        # 2.8.4.3. Otherwise, if responseData's result is "aborted", then error stream with
        # an AbortError.
        if response_data.result == "aborted":
            raise AbortError(
                f"{url}: the background fetch was aborted before this response was stored"
            )
        # 2.8.4.4. Otherwise, if responseData may not be exposed, then error stream with a
        # TypeError.
        if not response_data.exposed:
            raise TypeError(
                f"{url}: the response cannot be exposed (its result is {response_data.result!r})"
            )
        # 2.8.4.5. Resolve promise.  (The next iteration is the next pull.)


async def _resolve_response_ready(
    response_data: BackgroundFetchResponse,
    stream: AsyncGenerator[bytes, None],
    response_ready: Promise[Response],
    realm: Environment,
    url: str,
) -> None:
    """#create-settled-fetches-algorithm, step 2.9 (run in parallel)."""
    # 2.9.1. Wait for responseData's response not to be null (or its result to be set: a
    # record that never gets a response would otherwise wait for ever; SPEC-NOTES.md
    # SN-current-5).
    await response_data.changed.wait_for(
        lambda: response_data.response is not None or response_data.result != ""
    )
    # 2.9.2. If responseData may be exposed, then:  (Its response is then not null; checked
    # for the type checker.)
    if response_data.exposed and response_data.response is not None:
        # 2.9.2.1. Let response be a copy of responseData's response.
        response = response_data.response.copy()
        # 2.9.2.2. Delete `Content-Range` from response's header list.
        response.header_list.delete("Content-Range")
        # 2.9.2.3. Delete `Content-Length` from response's header list.
        response.header_list.delete("Content-Length")

        # 2.9.2.4. Let body be a new body with stream set to stream.
        # 2.9.2.5. Set response's body to body.  (The Response below pairs them.)
        # 2.9.2.6. Queue a task in recordObject's relevant settings object's responsible
        # event loop using the networking task source to run these steps:
        def task() -> None:
            # 2.9.2.6.1. Let responseObject be a new Response over response, with a new
            # Headers associated with response's header list.
            response_object = Response(response, stream)
            # 2.9.2.6.2. Resolve recordObject's responseReady with responseObject.
            response_ready.resolve(response_object)

        realm.event_loop.queue_task(task)
    # 2.9.3. Otherwise, if responseData's result is "aborted", then reject recordObject's
    # responseReady with an AbortError.
    elif response_data.result == "aborted":
        response_ready.reject(
            AbortError(f"{url}: the background fetch was aborted before this record's response")
        )
    # 2.9.4. Otherwise, reject recordObject's responseReady with a TypeError.
    else:
        response_ready.reject(
            TypeError(f"{url}: the response is not available (result {response_data.result!r})")
        )
