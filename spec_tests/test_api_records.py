"""Create record objects (#create-settled-fetches-algorithm) and BackgroundFetchRecord
(#background-fetch-record-interface): the request copy, responseReady, and the stream
read from storage while the fetch may still be running.

WPT: abort.https.window.js 3, fetch-uploads.https.window.js 1 and 3,
match-request-body.https.window.js.
"""

from __future__ import annotations

import io

import pytest
import trio
from api_support import (
    FEATURE,
    FEATURE_PATH,
    ORIGIN,
    concept,
    eventually,
)

import bgfetch
from bgfetch.testing import WorkerRecorder, open_window_with_worker

SLOW = 2000  # seconds


async def page(user_agent, origin_server):
    origin_server.add(FEATURE_PATH, FEATURE)
    origin_server.add("/slow", b"", delay=SLOW)
    origin_server.add_echo("/upload")
    worker = WorkerRecorder()
    window, registration = await open_window_with_worker(user_agent, worker)
    return worker, window, registration


# -- the record's request (steps 2.4-2.5) ----------------------------------------------


@pytest.mark.step("#create-settled-fetches-algorithm", "2.4", "2.5")
async def test_record_request_is_a_copy_of_the_records_request(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + FEATURE_PATH, headers={"X-Kind": "original"})
    bg = await registration.background_fetch.fetch("copy", [request, "/slow"])
    record = await bg.match(FEATURE_PATH)
    assert isinstance(record, bgfetch.editions.current.BackgroundFetchRecord)
    assert (record.request.method, record.request.url) == ("GET", ORIGIN + FEATURE_PATH)
    assert record.request.headers.get("X-Kind") == "original"
    assert record.request.request is not concept(bg).records[0].request
    # Its Headers are associated with the copy's header list, not the record's.
    record.request.headers.header_list.set("X-Kind", "changed")
    assert concept(bg).records[0].request.header_list.get("X-Kind") == "original"
    assert (await bg.match(FEATURE_PATH)).request.headers.get("X-Kind") == "original"


@pytest.mark.step("#create-settled-fetches-algorithm", "2.4")
async def test_record_request_body_is_readable(user_agent, origin_server):
    # "A copy of record's request, including its body"; WPT fetch-uploads 1.
    worker, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(
        ORIGIN + "/upload",
        method="POST",
        body="Background Fetch!",
        headers={"Content-Type": "text/plain"},
    )
    bg = await registration.background_fetch.fetch("upload", request)
    assert bg.upload_total == 17
    settled = await worker.settled("upload")
    assert settled.result == "success"
    assert settled.uploaded == 17
    assert settled.texts() == ["Background Fetch!"]
    # The request body was sent, and is still readable from a record.
    assert origin_server.requests_for("/upload")[0].body == b"Background Fetch!"


@pytest.mark.step("#create-settled-fetches-algorithm", "2.4")
async def test_record_request_body_can_be_read_from_each_record_object(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + "/upload", method="POST", body=b"twice")
    bg = await registration.background_fetch.fetch("twice", [request, "/slow"])
    first = await bg.match("/upload", ignore_method=True)
    second = await bg.match("/upload", ignore_method=True)
    assert await first.request.bytes() == b"twice"
    assert await second.request.bytes() == b"twice"


@pytest.mark.step("#complete-a-record-algorithm", "4")
async def test_duplicate_upload_requests_can_be_distinguished(user_agent, origin_server):
    # WPT fetch-uploads 3.
    worker, _, registration = await page(user_agent, origin_server)
    requests = [
        bgfetch.Request(
            ORIGIN + "/upload", method="POST", body=text, headers={"Content-Type": "text/plain"}
        )
        for text in ("upload1", "upload2")
    ]
    await registration.background_fetch.fetch("dup-uploads", requests)
    settled = await worker.settled("dup-uploads")
    assert settled.result == "success"
    assert sorted(settled.texts()) == ["upload1", "upload2"]


BODY_TEXT = "Background Fetch request body"


@pytest.mark.parametrize(
    ("make_body", "expected"),
    [
        (lambda: BODY_TEXT, BODY_TEXT.encode()),
        (lambda: BODY_TEXT.encode(), BODY_TEXT.encode()),
        (lambda: bytearray(BODY_TEXT.encode()), BODY_TEXT.encode()),
        (lambda: memoryview(BODY_TEXT.encode()), BODY_TEXT.encode()),
        (lambda: io.BytesIO(BODY_TEXT.encode()), BODY_TEXT.encode()),
        (lambda: {"text": BODY_TEXT}, b"text=Background+Fetch+request+body"),
    ],
    ids=["str", "bytes", "bytearray", "memoryview", "file-like", "form-fields"],
)
@pytest.mark.step("#create-settled-fetches-algorithm", "2.4")
async def test_match_request_body_of_each_kind(user_agent, origin_server, make_body, expected):
    # WPT match-request-body: POST alongside slow; match with ignoreMethod.
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + "/upload", method="POST", body=make_body())
    bg = await registration.background_fetch.fetch("body", [request, "/slow"])
    assert bg.upload_total == len(expected)
    record = await bg.match("/upload", ignore_method=True)
    assert record.request.method == "POST"
    assert await record.request.bytes() == expected


# -- responseReady (step 2.9) ----------------------------------------------------------


@pytest.mark.step(
    "#create-settled-fetches-algorithm",
    "2.9.2.1",
    "2.9.2.2",
    "2.9.2.3",
    "2.9.2.4",
    "2.9.2.5",
    "2.9.2.6",
)
async def test_response_ready_resolves_with_the_stored_response(user_agent, origin_server):
    # Steps 2.9.2.1-2.9.2.6.
    _, _, registration = await page(user_agent, origin_server)
    origin_server.add("/data.json", '{"a": 1}', content_type="application/json")
    bg = await registration.background_fetch.fetch("json", ["/data.json", "/slow"])
    response = await (await bg.match("/data.json")).response_ready
    assert isinstance(response, bgfetch.Response)
    assert (response.status, response.ok) == (200, True)
    assert (response.type, response.url) == ("basic", ORIGIN + "/data.json")
    assert response.headers.get("Content-Type") == "application/json"
    assert await response.json() == {"a": 1}


@pytest.mark.step("#create-settled-fetches-algorithm", "2.9.1")
async def test_response_ready_waits_for_the_response(user_agent, origin_server):
    # Step 2.9.1: wait for responseData's response to be non-null.
    _, _, registration = await page(user_agent, origin_server)
    origin_server.add("/late", "late", delay=10)
    bg = await registration.background_fetch.fetch("late", ["/late", "/slow"])
    record = await bg.match("/late")
    await trio.sleep(5)
    assert not record.response_ready.settled
    response = await record.response_ready
    assert trio.current_time() >= 10
    assert await response.text() == "late"


@pytest.mark.step("#create-settled-fetches-algorithm", "2.9.2")
async def test_response_ready_resolves_for_a_bad_status_response(user_agent, origin_server):
    # "bad-status" can be exposed.
    worker, _, registration = await page(user_agent, origin_server)
    origin_server.add("/missing.txt", "gone", status=404)
    await registration.background_fetch.fetch("bad-status", "/missing.txt")
    settled = await worker.settled("bad-status")
    assert settled.failure_reason == "bad-status"
    assert [(r.status, r.text) for r in settled.responses] == [(404, "gone")]


@pytest.mark.step("#create-settled-fetches-algorithm", "2.9.2.2", "2.9.2.3")
async def test_exposed_response_has_no_content_length_or_content_range(user_agent, origin_server):
    # Steps 2.9.2.2-2.9.2.3.
    _, _, registration = await page(user_agent, origin_server)
    origin_server.add(
        "/headers",
        FEATURE,
        headers=[("Content-Range", "bytes 0-15/16"), ("X-Kept", "yes")],
    )
    bg = await registration.background_fetch.fetch("headers", ["/headers", "/slow"])
    response = await (await bg.match("/headers")).response_ready
    names = {name for name, _ in response.headers.items()}
    assert "content-length" not in names and "content-range" not in names
    assert {"content-type", "x-kept"} <= names
    # The stored response is untouched: the exposed one is a copy.
    stored = concept(bg).records[0].response_data.response
    assert stored.header_list.get("Content-Length") == "16"
    assert stored.header_list.get("Content-Range") == "bytes 0-15/16"
    assert await response.text() == FEATURE


@pytest.mark.step("#create-settled-fetches-algorithm", "2.9.3")
async def test_response_ready_rejects_with_abort_error_for_an_aborted_record(
    user_agent, origin_server
):
    # Step 2.9.3; WPT abort 3.
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("abort-record", "/slow")
    assert await bg.abort() is True
    settled = await worker.settled("abort-record")
    assert settled.type == "backgroundfetchabort"
    (result,) = settled.responses
    assert isinstance(result.error, bgfetch.AbortError)
    assert result.error.name == "AbortError"
    assert "aborted" in str(result.error)


@pytest.mark.step("#create-settled-fetches-algorithm", "2.9.3")
async def test_response_ready_rejects_with_abort_error_when_aborted_after_the_head(
    user_agent, origin_server
):
    # Step 2.9.3 with a non-null response: "aborted" cannot be exposed.  The worker's
    # abort handler creates the record objects after the head and some bytes arrived.
    worker, _, registration = await page(user_agent, origin_server)
    origin_server.add("/big", b"x" * 1000, throttle=100)
    bg = await registration.background_fetch.fetch("abort-late", "/big")
    await eventually(lambda: concept(bg).stored_body_bytes_total() > 0)
    assert await bg.abort() is True
    settled = await worker.settled("abort-late")
    assert concept(bg).records[0].response_data.response is not None
    (result,) = settled.responses
    assert isinstance(result.error, bgfetch.AbortError)


@pytest.mark.step("#create-settled-fetches-algorithm", "2.9.4")
async def test_response_ready_rejects_with_type_error_for_a_fetch_error(user_agent, origin_server):
    # Step 2.9.4: a network error (no such host) is "fetch-error", never exposed.
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("no-host", "https://nowhere.test/x")
    settled = await worker.settled("no-host")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    (result,) = settled.responses
    assert type(result.error) is TypeError
    assert "'fetch-error'" in str(result.error)


@pytest.mark.step("#create-settled-fetches-algorithm", "2.9.4")
async def test_response_ready_rejects_with_type_error_when_the_stored_response_is_not_exposed(
    user_agent, origin_server
):
    # Step 2.9.4 with a non-null response: "download-total-exceeded".
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("too-big", FEATURE_PATH, download_total=5)
    settled = await worker.settled("too-big")
    assert settled.failure_reason == "download-total-exceeded"
    (result,) = settled.responses
    assert type(result.error) is TypeError
    assert "'download-total-exceeded'" in str(result.error)


# -- the stream (steps 2.6-2.8) --------------------------------------------------------


@pytest.mark.step("#create-settled-fetches-algorithm", "2.8", "2.8.1")
async def test_a_response_streams_while_the_fetch_is_still_running(user_agent, origin_server):
    # The pull action waits for more bytes: the first chunk is read long before the
    # fetch completes.
    worker, _, registration = await page(user_agent, origin_server)
    body = bytes(range(256)) * 4
    origin_server.add("/big", body, throttle=100)  # about 10 simulated seconds
    bg = await registration.background_fetch.fetch("stream", "/big")
    start = trio.current_time()
    response = await (await bg.match("/big")).response_ready
    chunks: list[bytes] = []
    states: list[str] = []
    async for chunk in response:
        chunks.append(chunk)
        states.append(concept(bg).records[0].response_data.result)
        if len(chunks) == 1:
            assert trio.current_time() - start < 1
            assert bg.result == "" and concept(bg).result == ""
            assert 0 < len(chunk) < len(body)
    assert b"".join(chunks) == body
    assert len(chunks) > 5
    assert states[0] == ""
    assert trio.current_time() - start >= 9
    assert (await worker.settled("stream")).result == "success"


@pytest.mark.step("#create-settled-fetches-algorithm", "2.8.4.2")
async def test_a_response_read_after_the_fetch_is_whole(user_agent, origin_server):
    # Step 2.8.4.2: the stream closes once the result is set and every byte was given.
    worker, _, registration = await page(user_agent, origin_server)
    body = b"y" * 200_000  # more than one storage slice
    origin_server.add("/large", body)
    await registration.background_fetch.fetch("whole", "/large")
    settled = await worker.settled("whole")
    assert settled.responses[0].text == body.decode()


@pytest.mark.step("#create-settled-fetches-algorithm", "2.8.4.2")
async def test_an_empty_body_closes_the_stream(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    origin_server.add("/empty", b"")
    await registration.background_fetch.fetch("empty", "/empty")
    settled = await worker.settled("empty")
    assert [(r.status, r.text) for r in settled.responses] == [(200, "")]


@pytest.mark.step("#create-settled-fetches-algorithm", "2.8.4.3")
async def test_the_stream_errors_with_abort_error_once_the_record_is_aborted(
    user_agent, origin_server
):
    # Step 2.8.4.3: bytes stored but not yet read are no longer given once aborted.
    _, _, registration = await page(user_agent, origin_server)
    origin_server.add("/big", b"z" * 1000, throttle=100)
    bg = await registration.background_fetch.fetch("abort-stream", "/big")
    response = await (await bg.match("/big")).response_ready
    received = bytearray()
    aborted: list[bool] = []
    with pytest.raises(bgfetch.AbortError):
        async for chunk in response:
            received += chunk
            if len(received) >= 100 and not aborted:
                await trio.sleep(2)  # more bytes are stored meanwhile
                aborted.append(await bg.abort())
                response_data = concept(bg).records[0].response_data
                await eventually(lambda data=response_data: data.result == "aborted")
    assert aborted == [True]
    assert 100 <= len(received) < concept(bg).stored_body_bytes_total()


@pytest.mark.step("#create-settled-fetches-algorithm", "2.8.3")
async def test_the_stream_gives_no_stored_bytes_once_the_record_is_aborted(
    user_agent, origin_server
):
    # Step 2.8.3: bytes are given only while responseData may be exposed.
    _, _, registration = await page(user_agent, origin_server)
    origin_server.add("/big", b"z" * 1000, throttle=100)
    bg = await registration.background_fetch.fetch("abort-unread", "/big")
    response_data = concept(bg).records[0].response_data
    response = await (await bg.match("/big")).response_ready
    await eventually(lambda: len(response_data.bytes) >= 100)
    assert await bg.abort() is True
    await eventually(lambda: response_data.result == "aborted")
    received = bytearray()
    with pytest.raises(bgfetch.AbortError):
        async for chunk in response:
            received += chunk
    assert received == b""
    assert len(response_data.bytes) >= 100


@pytest.mark.step("#create-settled-fetches-algorithm", "2.8.4.4")
async def test_the_stream_errors_with_type_error_once_the_record_cannot_be_exposed(
    user_agent, origin_server
):
    # Step 2.8.4.4: "download-total-exceeded" after the response was given.
    _, _, registration = await page(user_agent, origin_server)
    origin_server.add("/big", b"z" * 1000, throttle=100)
    bg = await registration.background_fetch.fetch("over", ["/big", "/slow"], download_total=500)
    response = await (await bg.match("/big")).response_ready
    with pytest.raises(TypeError, match="download-total-exceeded"):
        await response.bytes()
