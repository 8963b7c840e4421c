"""#complete-a-record-algorithm: every step and branch, over h11 on the virtual network.

Each test names the step it pins; its docstring quotes or paraphrases that step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
from algorithm_support import (
    ORIGIN,
    Harness,
    concept,
    eventually,
    on_step,
    pattern,
    record_progress,
)

import bgfetch
from bgfetch.errors import AbortError, InvalidStateError
from bgfetch.fetch.fetching import Fetched
from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse
from bgfetch.resume import MAX_RESUMES
from bgfetch.useragent import UserAgent


@asynccontextmanager
async def user_agent_with(
    network: bgfetch.VirtualNetwork, **options: Any
) -> AsyncIterator[UserAgent]:
    """A user agent with non-default options (quota, permission) on the test's network."""
    async with bgfetch.open_user_agent(network=network, **options) as ua:
        yield ua
        assert not ua.handler_errors


def range_headers(origin_server, path: str) -> list[str | None]:
    return [r.header("range") for r in origin_server.requests_for(path)]


# -- steps 2-8: before the fetch -------------------------------------------------------


@pytest.mark.step("#complete-a-record-algorithm", "2")
async def test_complete_a_record_download_total_zero_means_no_limit(user_agent, origin_server):
    """Step 2: "Let downloadTotal be bgFetch's download total if it is not 0, otherwise
    infinity": a fetch with downloadTotal 0 stores any amount."""
    body = pattern(300_000)
    origin_server.add("/big", body)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("no-limit", "/big", download_total=0)
    settled = await harness.wait_settled("no-limit")
    assert (settled.type, settled.result) == ("backgroundfetchsuccess", "success")
    assert settled.by_path["/big"].body == body
    assert concept(registration).stored_body_bytes_total() == len(body)


@pytest.mark.step("#complete-a-record-algorithm", "3")
async def test_complete_a_record_waits_for_the_paused_flag_to_be_unset(
    virtual_network, origin_server
):
    """Step 3: "Wait for bgFetch's paused flag to be unset": a fetch started paused (the
    "prompt" permission) sends nothing until the user accepts it."""
    origin_server.add("/a", b"accepted")
    async with user_agent_with(virtual_network, permission="prompt") as ua:
        harness = await Harness.open(ua)
        registration = await harness.fetch("prompted", "/a")
        display = ua.ui.find("prompted")
        assert display.paused and concept(registration).paused
        await trio.sleep(600)
        assert origin_server.requests_for("/a") == []
        assert "prompted" not in harness.settled
        accepted_at = trio.current_time()
        display.accept()
        settled = await harness.wait_settled("prompted")
        assert settled.result == "success"
        assert settled.by_path["/a"].body == b"accepted"
        assert settled.time >= accepted_at >= 600
        assert len(origin_server.requests_for("/a")) == 1


@pytest.mark.step("#complete-a-record-algorithm", "3", "14.2")
async def test_complete_a_record_abort_all_ends_the_wait_for_the_paused_flag(
    virtual_network, origin_server
):
    """Step 3 (with SPEC-NOTES.md): the wait for the paused flag also ends when the abort
    all flag is set, so refusing a fetch that was started paused aborts it: the record's
    result becomes "aborted" (step 14.2) without a request being sent."""
    origin_server.add("/a", b"never sent")
    async with user_agent_with(virtual_network, permission="prompt") as ua:
        harness = await Harness.open(ua)
        registration = await harness.fetch("refused", "/a")
        await trio.sleep(10)
        ua.ui.find("refused").refuse()
        settled = await harness.wait_settled("refused")
        assert (settled.type, settled.failure_reason) == ("backgroundfetchabort", "aborted")
        assert concept(registration).records[0].response_data.result == "aborted"
        assert origin_server.requests_for("/a") == []


@pytest.mark.step("#complete-a-record-algorithm", "4", "5", "6")
async def test_complete_a_record_fetches_a_keepalive_copy_without_service_workers(
    user_agent, origin_server, monkeypatch
):
    """Steps 4-6: "Let request be a copy of record's request", "Set request's keepalive to
    true", "Set request's service-workers mode to "none"": the fetched request has both,
    and the record's own request is left unchanged (no keepalive, no Range header even
    after a resume)."""
    body = pattern(2000)
    origin_server.add("/copy", body, throttle=1000, cut_after=700, etag='"c"')
    # What each fetched request was when handed to Fetch (which may change it later).
    fetched: list[tuple[InternalRequest, bool, str, str | None]] = []
    fetch = user_agent.fetcher.fetch

    def spy(request: InternalRequest, **kwargs: Any) -> Any:
        fetched.append(
            (
                request,
                request.keepalive,
                request.service_workers_mode,
                request.header_list.get("Range"),
            )
        )
        return fetch(request, **kwargs)

    monkeypatch.setattr(user_agent.fetcher, "fetch", spy)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("copy", "/copy")
    record_request = concept(registration).records[0].request
    assert record_request.keepalive is False
    assert record_request.service_workers_mode == "all"
    settled = await harness.wait_settled("copy")
    assert settled.by_path["/copy"].body == body
    assert [request is record_request for request, *_ in fetched] == [False, False]
    assert [tuple(values) for _, *values in fetched] == [
        (True, "none", None),
        (True, "none", "bytes=700-"),
    ]
    assert record_request.keepalive is False
    assert not record_request.header_list.contains("Range")


@pytest.mark.step("#complete-a-record-algorithm", "7", "8")
async def test_complete_a_record_first_attempt_sends_no_range_header(user_agent, origin_server):
    """Steps 7-8: "Let rangeStart be the length of responseData's bytes.  If rangeStart is
    not 0, then add a range header": the first attempt stores nothing yet, so it is a
    normal request."""
    origin_server.add("/plain", b"plain")
    harness = await Harness.open(user_agent)
    await harness.fetch("plain", "/plain")
    await harness.wait_settled("plain")
    assert range_headers(origin_server, "/plain") == [None]


# -- step 11, process response, 1: network errors ----------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://nowhere.test/x", f"{ORIGIN}:25/x"],
    ids=["unknown-host", "bad-port"],
)
@pytest.mark.step("#complete-a-record-algorithm", "process response 1.2", "process response 1.3")
async def test_complete_a_record_network_error_while_online_is_fetch_error(
    user_agent, origin_server, url
):
    """Process response 1.2: a network error that is not an aborted network error, while
    the resource is not temporarily unavailable (online), sets the result to
    "fetch-error" at once (1.3: the attempt is complete, no retry)."""
    harness = await Harness.open(user_agent)
    start = trio.current_time()
    registration = await harness.fetch("unreachable", url)
    settled = await harness.wait_settled("unreachable")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert settled.time - start < 1
    assert concept(registration).records[0].response_data.response is None
    # The record may not be exposed: responseReady rejects with a TypeError.
    outcome = next(iter(settled.by_path.values()))
    assert isinstance(outcome.error, TypeError)


@pytest.mark.step("#complete-a-record-algorithm", "process response 1.2")
async def test_complete_a_record_aborted_network_error_is_aborted(
    user_agent, origin_server, monkeypatch
):
    """Process response 1.2: "If response is an aborted network error, then set
    responseData's result to "aborted"".  (bgfetch's Fetch never produces one for a
    background fetch; a stub fetch stands in for it.)"""

    @asynccontextmanager
    async def aborted_fetch(request: InternalRequest, **kwargs: Any) -> AsyncIterator[Fetched]:
        yield Fetched(InternalResponse.network_error("aborted by the test", aborted=True))

    monkeypatch.setattr(user_agent.fetcher, "fetch", aborted_fetch)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("aborted-error", "/x")
    settled = await harness.wait_settled("aborted-error")
    assert concept(registration).records[0].response_data.result == "aborted"
    # The failure reason is "aborted", but the fetch is still active (step 8.3), so the
    # event is chosen by step 8.10: backgroundfetchabort.
    assert (settled.type, settled.failure_reason) == ("backgroundfetchabort", "aborted")
    assert isinstance(settled.by_path["/x"].error, AbortError)


@pytest.mark.step("#complete-a-record-algorithm", "process response 1.1", "15")
async def test_complete_a_record_offline_network_error_waits_for_a_get(
    user_agent, origin_server, virtual_network
):
    """Process response 1.1: "If the resource is temporarily unavailable and request's
    method is `GET`, then wait until the resource is not temporarily unavailable, then set
    fetchAttemptComplete to true": offline, the connection fails; the record waits, and
    completes a record again (step 15) once online."""
    origin_server.add("/later", b"back online")
    harness = await Harness.open(user_agent)
    virtual_network.set_online(False)
    await harness.fetch("offline-get", "/later")
    await trio.sleep(300)
    assert "offline-get" not in harness.settled
    assert origin_server.requests_for("/later") == []
    virtual_network.set_online(True)
    settled = await harness.wait_settled("offline-get")
    assert settled.result == "success"
    assert settled.by_path["/later"].body == b"back online"
    assert settled.time >= 300
    assert range_headers(origin_server, "/later") == [None]


@pytest.mark.step("#complete-a-record-algorithm", "process response 1.1", "process response 1.2")
async def test_complete_a_record_offline_network_error_fails_a_non_get(
    user_agent, origin_server, virtual_network
):
    """Process response 1.1 applies only to `GET` ("reissuing the request may have unwanted
    side effects"); otherwise 1.2: "fetch-error", without waiting to be online."""
    origin_server.add_echo("/upload")
    harness = await Harness.open(user_agent)
    virtual_network.set_online(False)
    start = trio.current_time()
    request = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body="data")
    await harness.fetch("offline-post", request)
    settled = await harness.wait_settled("offline-post")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert settled.time - start < 1
    assert origin_server.requests == []


# -- step 11, process response, 2-4: 206 and the response kept ---------------------------


@pytest.mark.step(
    "#complete-a-record-algorithm",
    "7",
    "8",
    "15",
    "process response 2",
    "process response 4",
    "process response 7.1.2",
    "process response 8.1",
)
async def test_complete_a_record_resumes_with_range_after_a_cut(user_agent, origin_server):
    """Stream errored 8.1 (a cut while online is temporarily unavailable, within bgfetch's
    resume budget), then step 15 completes the record again: steps 7-8 send `Range:
    bytes=N-` for the N bytes stored (with `If-Range`, SPEC-NOTES.md); process response 2
    validates the 206; 4 keeps the first response (rangeStart is not 0 and the status is
    206); 7.1.2 completeLength equals the bytes: "success".  The stored bytes are the
    resource, byte for byte."""
    body = pattern(10_000)
    origin_server.add("/cut", body, throttle=2000, cut_after=4321, etag='"v1"')
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("cut", "/cut")
    settled = await harness.wait_settled("cut")
    assert (settled.type, settled.result) == ("backgroundfetchsuccess", "success")
    assert range_headers(origin_server, "/cut") == [None, "bytes=4321-"]
    assert origin_server.requests_for("/cut")[1].header("if-range") == '"v1"'
    outcome = settled.by_path["/cut"]
    assert outcome.body == body
    # The exposed response is the first one (200), without Content-Range/Content-Length.
    assert outcome.status == 200
    assert "content-range" not in outcome.headers
    assert "content-length" not in outcome.headers
    assert outcome.headers["etag"] == '"v1"'
    response_data = concept(registration).records[0].response_data
    assert response_data.response is not None and response_data.response.status == 200
    assert response_data.bytes.read(0, len(body) + 1) == body


@pytest.mark.step("#complete-a-record-algorithm", "process response 3")
async def test_complete_a_record_range_ignored_makes_the_old_response_data_redundant(
    user_agent, origin_server
):
    """Process response 3 (where bytes were stored, SPEC-NOTES.md): the server answers the
    range request with a 200: "Set responseData's result to "redundant"", a new
    background fetch response replaces it, and the record restarts from byte 0.  A record
    object made before (match() during the fetch) holds the old response data: its body
    errors with a TypeError once that data is redundant.  The final bytes are identical."""
    body = pattern(6000, seed=3)
    origin_server.add("/no-ranges", body, throttle=2000, cut_after=2500, ranges=False)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("no-ranges", "/no-ranges")
    bg_fetch = concept(registration)
    first_data = bg_fetch.records[0].response_data
    await eventually(lambda: len(first_data.bytes) > 0)
    early_record = await registration.match("/no-ranges")
    early_response = await early_record.response_ready
    settled = await harness.wait_settled("no-ranges")
    assert settled.result == "success"
    assert range_headers(origin_server, "/no-ranges") == [None, "bytes=2500-"]
    assert first_data.result == "redundant"
    assert bg_fetch.records[0].response_data is not first_data
    assert settled.by_path["/no-ranges"].body == body
    assert bg_fetch.stored_body_bytes_total() == len(body)
    with pytest.raises(TypeError):
        await early_response.bytes()


@pytest.mark.step("#complete-a-record-algorithm", "process response 3")
async def test_complete_a_record_redundant_bytes_do_not_count_against_the_quota(
    virtual_network, origin_server
):
    """Process response 3: once the old response data is "redundant" its bytes can never be
    exposed again, so they no longer count against the origin's quota: a 6000-byte
    resource cut at 5000 bytes and restarted from 0 fits a quota of 8000 bytes."""
    body = pattern(6000, seed=4)
    origin_server.add("/restart", body, throttle=2000, cut_after=5000, ranges=False)
    async with user_agent_with(virtual_network, quota=8000) as ua:
        harness = await Harness.open(ua)
        registration = await harness.fetch("restart", "/restart")
        settled = await harness.wait_settled("restart")
        assert (settled.type, settled.failure_reason) == ("backgroundfetchsuccess", "")
        assert settled.by_path["/restart"].body == body
        origin = concept(registration).service_worker_registration.origin
        assert ua.store.usage(origin) == len(body)


@pytest.mark.step("#complete-a-record-algorithm", "process response 3", "process response 4")
async def test_complete_a_record_first_response_does_not_make_the_response_data_redundant(
    user_agent, origin_server
):
    """Process response 3 runs only where bytes were stored (SPEC-NOTES.md): the first
    response (rangeStart 0, a 200) fills in the record's original response data, so a
    record object made before any response arrived resolves with it."""
    origin_server.add("/late-head", b"worth the wait", delay=30)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("late-head", "/late-head")
    first_data = concept(registration).records[0].response_data
    early_record = await registration.match("/late-head")
    settled = await harness.wait_settled("late-head")
    assert concept(registration).records[0].response_data is first_data
    assert first_data.result == "success"
    response = await early_record.response_ready
    assert (response.status, await response.bytes()) == (200, b"worth the wait")
    assert settled.by_path["/late-head"].body == b"worth the wait"


@pytest.mark.step("#complete-a-record-algorithm", "process response 3", "process response 4")
async def test_complete_a_record_a_response_after_one_cut_before_its_body_replaces_the_data(
    user_agent, origin_server
):
    """Process response 3 (SPEC-NOTES.md SN-current-4): the first attempt's response head
    arrives and the connection is cut before any body byte (rangeStart is 0 again), and the
    next response is of a new version.  It replaces the response data, so no record object
    shows the first response's headers over the second's body: one made between the
    attempts has the first headers and a body that errors; one made after has the second."""
    resource = origin_server.add(
        "/v", b"first version", cut_after=0, etag='"v1"', content_type="text/plain"
    )

    def new_version(resource: Any) -> None:
        resource.body = b'{"second": "version"}'
        resource.etag = '"v2"'
        resource.content_type = "application/json"
        resource.delay = 10  # time for a record object between the attempts

    resource.on_cut = new_version
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("versions", "/v")
    first_data = concept(registration).records[0].response_data
    await eventually(lambda: resource.cuts_made == 1 and first_data.response is not None)
    assert len(first_data.bytes) == 0
    between = await (await registration.match("/v")).response_ready
    settled = await harness.wait_settled("versions")
    assert settled.result == "success" and range_headers(origin_server, "/v") == [None, None]
    assert first_data.result == "redundant"
    headers = between.headers
    assert (headers.get("etag"), headers.get("content-type")) == ('"v1"', "text/plain")
    with pytest.raises(TypeError):
        await between.bytes()
    after = settled.by_path["/v"]
    assert (after.headers["etag"], after.headers["content-type"]) == ('"v2"', "application/json")
    assert after.body == b'{"second": "version"}'


@pytest.mark.step("#complete-a-record-algorithm", "process response 2.1", "process response 2.1.3")
@pytest.mark.step("#validate-partial-response-algorithm", "3")
async def test_complete_a_record_206_with_wrong_first_byte_pos_is_fetch_error(
    user_agent, origin_server
):
    """Process response 2.1: validate a partial response for rangeStart returns invalid
    (the 206 starts elsewhere than requested): "fetch-error", and the fetch is
    terminated (2.1.3: nothing of the 206 is stored)."""
    body = pattern(4000)
    resource = origin_server.add("/shifted", body, throttle=2000, cut_after=1000)

    def answer_from_the_wrong_offset(step: Any) -> None:
        resource.ranges = False
        resource.status = 206
        resource.body = body[1001:]
        resource.headers = [("Content-Range", f"bytes 1001-3999/{len(body)}")]

    on_step(user_agent, "fetch started", answer_from_the_wrong_offset, range_start=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("shifted", "/shifted")
    settled = await harness.wait_settled("shifted")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert range_headers(origin_server, "/shifted") == [None, "bytes=1000-"]
    assert concept(registration).stored_body_bytes_total() == 1000
    assert isinstance(settled.by_path["/shifted"].error, TypeError)


VALIDATORS = [
    ("etag", '"v1"', '"v2"'),
    ("last_modified", "Mon, 01 Jan 2024 00:00:00 GMT", "Tue, 02 Jan 2024 00:00:00 GMT"),
]


@pytest.mark.parametrize("validator, before, after", VALIDATORS)
@pytest.mark.step("#complete-a-record-algorithm", "process response 2.1")
@pytest.mark.step("#validate-partial-response-algorithm", "4.1.1")
async def test_complete_a_record_206_after_the_validator_changed_is_fetch_error(
    user_agent, origin_server, validator, before, after
):
    """Process response 2.1 with validate 4.1.1: the resource's ETag (or Last-Modified)
    changed between attempts and the server ignores `If-Range`, so the 206 for the rest
    would splice two versions: "fetch-error"."""
    body = pattern(4000)
    resource = origin_server.add(
        "/changed", body, throttle=2000, cut_after=1500, honour_if_range=False
    )
    setattr(resource, validator, before)
    on_step(
        user_agent,
        "fetch started",
        lambda step: setattr(resource, validator, after),
        range_start=1500,
    )
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("changed", "/changed")
    settled = await harness.wait_settled("changed")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    requests = origin_server.requests_for("/changed")
    assert [r.header("range") for r in requests] == [None, "bytes=1500-"]
    assert concept(registration).stored_body_bytes_total() == 1500


@pytest.mark.parametrize("validator, before, after", VALIDATORS)
@pytest.mark.step("#complete-a-record-algorithm", "8", "process response 3")
async def test_complete_a_record_changed_resource_behind_if_range_restarts_whole(
    user_agent, origin_server, validator, before, after
):
    """Step 8 as bgfetch runs it (SPEC-NOTES.md, If-Range): the resume carries the stored
    response's validator as `If-Range`; a server honouring it answers a changed resource
    with a 200 of the new version, which process response 3 makes the old data
    "redundant" and restarts from byte 0: the record ends with the new version whole."""
    old_body, new_body = pattern(4000, seed=1), pattern(4500, seed=2)
    resource = origin_server.add("/changed", old_body, throttle=2000, cut_after=1500)
    setattr(resource, validator, before)

    def change(step: Any) -> None:
        setattr(resource, validator, after)
        resource.body = new_body

    on_step(user_agent, "fetch started", change, range_start=1500)
    harness = await Harness.open(user_agent)
    await harness.fetch("changed", "/changed")
    settled = await harness.wait_settled("changed")
    assert settled.result == "success"
    requests = origin_server.requests_for("/changed")
    assert [(r.header("range"), r.header("if-range")) for r in requests] == [
        (None, None),
        ("bytes=1500-", before),
    ]
    assert settled.by_path["/changed"].body == new_body


def serve_in_parts(origin_server, user_agent, path: str, parts: list[tuple[int, bytes, str]]):
    """A server that answers each attempt with a 206 of one part: (start, bytes,
    Content-Range), switching to the next part when an attempt with that start begins."""
    start, data, content_range = parts[0]
    resource = origin_server.add(
        path, data, status=206, ranges=False, headers=[("Content-Range", content_range)]
    )
    for start, data, content_range in parts[1:]:

        def switch(step: Any, data: bytes = data, content_range: str = content_range) -> None:
            resource.body = data
            resource.headers = [("Content-Range", content_range)]

        on_step(user_agent, "fetch started", switch, range_start=start)
    return resource


@pytest.mark.step(
    "#complete-a-record-algorithm", "15", "process response 4", "process response 7.1.2"
)
async def test_complete_a_record_partial_206_requests_the_remainder(user_agent, origin_server):
    """Process response 7.1.2: the 206 ends before completeLength ("the server may not have
    returned the remainder"), so the result stays empty and step 15 completes the record
    again with `Range: bytes=5-`; the second 206 completes it.  Step 4 keeps the first
    response (a 206), exposed without its Content-Range."""
    serve_in_parts(
        origin_server,
        user_agent,
        "/parts",
        [(0, b"01234", "bytes 0-4/10"), (5, b"56789", "bytes 5-9/10")],
    )
    harness = await Harness.open(user_agent)
    await harness.fetch("parts", "/parts")
    settled = await harness.wait_settled("parts")
    assert settled.result == "success"
    assert range_headers(origin_server, "/parts") == [None, "bytes=5-"]
    outcome = settled.by_path["/parts"]
    assert outcome.body == b"0123456789"
    assert outcome.status == 206
    assert "content-range" not in outcome.headers


@pytest.mark.step("#complete-a-record-algorithm", "process response 7.1.2")
@pytest.mark.step("#validate-partial-response-algorithm", "4.2.2")
async def test_complete_a_record_206_with_unknown_complete_length_is_not_yet_success(
    user_agent, origin_server
):
    """Process response 7.1.2: "If completeLength is not null, and equal to the length of
    bytes": a complete-length of "*" never makes the record a success by itself, so the
    record asks for more (`Range: bytes=5-`) even though the first 206 held everything
    sent so far; validate 4.2.2 has no previous length to compare."""
    serve_in_parts(
        origin_server,
        user_agent,
        "/unknown-length",
        [(0, b"01234", "bytes 0-4/*"), (5, b"56789", "bytes 5-9/10")],
    )
    harness = await Harness.open(user_agent)
    await harness.fetch("unknown-length", "/unknown-length")
    settled = await harness.wait_settled("unknown-length")
    assert settled.result == "success"
    assert range_headers(origin_server, "/unknown-length") == [None, "bytes=5-"]
    assert settled.by_path["/unknown-length"].body == b"0123456789"


@pytest.mark.step("#complete-a-record-algorithm", "process response 2.1")
@pytest.mark.step("#validate-partial-response-algorithm", "4.2.2")
async def test_complete_a_record_206_with_a_changed_complete_length_is_fetch_error(
    user_agent, origin_server
):
    """Process response 2.1 with validate 4.2.2: the previous response was a 206 of a
    10-byte resource; the next says 12 bytes: invalid, "fetch-error"."""
    serve_in_parts(
        origin_server,
        user_agent,
        "/grew",
        [(0, b"01234", "bytes 0-4/10"), (5, b"5678901", "bytes 5-11/12")],
    )
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("grew", "/grew")
    settled = await harness.wait_settled("grew")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert concept(registration).stored_body_bytes_total() == 5


# -- step 11, process response, 6: bytes transmitted -------------------------------------


@pytest.mark.parametrize("slack, result", [(0, "success"), (-1, "download-total-exceeded")])
@pytest.mark.step("#complete-a-record-algorithm", "process response 6.1")
async def test_complete_a_record_download_total_is_an_inclusive_limit(
    user_agent, origin_server, slack, result
):
    """Process response 6.1: only "If bgFetch's stored body bytes total plus the size of
    bytes is greater than downloadTotal" does the record fail: exactly downloadTotal bytes
    succeed, one fewer allowed fails."""
    body = pattern(3000)
    origin_server.add("/exact", body, throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("exact", "/exact", download_total=len(body) + slack)
    settled = await harness.wait_settled("exact")
    assert concept(registration).records[0].response_data.result == result
    assert settled.failure_reason == ("" if result == "success" else result)


@pytest.mark.step(
    "#complete-a-record-algorithm", "process response 6.1.1", "process response 6.1.2"
)
async def test_complete_a_record_download_total_exceeded_cancels_without_storing(
    user_agent, origin_server
):
    """Process response 6.1.1-6.1.2: "Cancel stream.  Set responseData's result to
    "download-total-exceeded"": the bytes that would exceed the total are not appended,
    and no more are read."""
    body = pattern(10_000)
    origin_server.add("/too-big", body, throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("too-big", "/too-big", download_total=4000)
    settled = await harness.wait_settled("too-big")
    assert (settled.type, settled.failure_reason) == (
        "backgroundfetchfail",
        "download-total-exceeded",
    )
    stored = concept(registration).stored_body_bytes_total()
    assert 3000 < stored <= 4000
    assert settled.time < 5  # cancelled at about 4 s, not read to the end (10 s)
    assert isinstance(settled.by_path["/too-big"].error, TypeError)


@pytest.mark.step("#complete-a-record-algorithm", "process response 6.3")
async def test_complete_a_record_quota_exceeded(virtual_network, origin_server):
    """Process response 6.3: "If the previous step [append bytes] fails due to exceeding a
    quota limit, set responseData's result to "quota-exceeded""."""
    body = pattern(20_000)
    origin_server.add("/huge", body, throttle=10_000)
    async with user_agent_with(virtual_network, quota=8000) as ua:
        harness = await Harness.open(ua)
        registration = await harness.fetch("quota", "/huge")
        settled = await harness.wait_settled("quota")
        assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "quota-exceeded")
        response_data = concept(registration).records[0].response_data
        assert response_data.result == "quota-exceeded"
        assert 0 < len(response_data.bytes) <= 8000
        assert isinstance(settled.by_path["/huge"].error, TypeError)


async def post(user_agent: UserAgent, path: str, upload: bytes) -> tuple[Any, Any, Any]:
    """A background fetch of one POST of *upload* to *path*: its registration, the
    progress it hears, and its settled event."""
    harness = await Harness.open(user_agent)
    request = bgfetch.Request(
        f"{ORIGIN}{path}",
        method="POST",
        body=upload,
        headers={"Content-Type": "application/octet-stream"},
    )
    registration = await harness.fetch("upload", request)
    progress = record_progress(registration)
    return registration, progress, await harness.wait_settled("upload")


@pytest.mark.step(
    "#complete-a-record-algorithm",
    "process request body 1",
    "process request body 2",
    "process request body 3",
    "process request body 4",
)
async def test_complete_a_record_process_request_body_counts_uploaded(user_agent, origin_server):
    """Process request body 1-4: uploaded grows by the request body's transmitted bytes
    minus lastTransmittedSize, and each step updates the instances (progress events with
    a growing uploaded, ending at the body's size)."""
    upload = pattern(200_000, seed=9)
    origin_server.add_echo("/echo")
    registration, progress, settled = await post(user_agent, "/echo", upload)
    assert settled.result == "success"
    assert registration.upload_total == len(upload)
    assert concept(registration).uploaded == len(upload)
    uploads = [p.uploaded for p in progress]
    assert uploads == sorted(uploads)
    assert uploads[-1] == len(upload)
    assert any(0 < u < len(upload) for u in uploads)
    assert origin_server.requests_for("/echo")[0].body == upload
    assert settled.by_path["/echo"].body == upload


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.step(
    "#complete-a-record-algorithm", "process request body 2", "process request body 3"
)
async def test_complete_a_record_uploaded_never_goes_down_when_a_redirect_resends_the_body(
    user_agent, origin_server, status
):
    """Process request body 2-3 (SPEC-NOTES.md SN-current-30): a 307 or 308 sends the body
    again, whose transmitted bytes start again from 0; uploaded grows only past
    lastTransmittedSize, so it never goes down and ends at the body's size, not twice it."""
    upload = pattern(200_000, seed=10)
    origin_server.add_redirect("/moved", "/echo", status=status)
    origin_server.add_echo("/echo")
    registration, progress, settled = await post(user_agent, "/moved", upload)
    assert settled.result == "success"
    assert [r.target for r in origin_server.requests] == ["/moved", "/echo"]
    assert origin_server.requests_for("/echo")[0].body == upload
    uploads = [p.uploaded for p in progress]
    assert uploads == sorted(uploads) and uploads[-1] == len(upload)
    assert concept(registration).uploaded == len(upload)


@pytest.mark.step("#complete-a-record-algorithm", "5")
async def test_complete_a_record_keepalive_puts_no_limit_on_uploads_in_flight(
    user_agent, origin_server
):
    """Step 5 (SPEC-NOTES.md SN-current-31): keepalive is set, but Fetch's 64 KiB limit on
    keepalive bodies in flight is not applied: two uploads of 300 kB, in flight at once,
    both arrive whole."""
    origin_server.add_echo("/echo")
    uploads = [pattern(300_000, seed=seed) for seed in (11, 12)]
    requests = [
        bgfetch.Request(
            f"{ORIGIN}/echo?{index}",
            method="POST",
            body=upload,
            headers={"Content-Type": "application/octet-stream"},
        )
        for index, upload in enumerate(uploads)
    ]
    sent: list[bool] = []
    on_step(user_agent, "fetch started", lambda step: sent.append(True))
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("keepalive", requests)
    settled = await harness.wait_settled("keepalive")
    assert settled.result == "success" and len(sent) == 2
    bodies = sorted(r.body for r in origin_server.requests_for("/echo"))
    assert bodies == sorted(uploads)
    assert concept(registration).uploaded == 600_000


# -- step 11, process response, 7: done normally -----------------------------------------


@pytest.mark.step("#complete-a-record-algorithm", "process response 7.2")
async def test_complete_a_record_not_ok_status_is_bad_status_and_still_exposed(
    user_agent, origin_server
):
    """Process response 7.2: "Otherwise, if response's status is not an ok status, set
    responseData's result to "bad-status"".  A bad-status response may still be exposed:
    the record's response is the 404, body readable."""
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("missing", "/missing")
    settled = await harness.wait_settled("missing")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "bad-status")
    assert concept(registration).records[0].response_data.result == "bad-status"
    outcome = settled.by_path["/missing"]
    assert (outcome.status, outcome.body, outcome.error) == (404, b"Not Found", None)


@pytest.mark.step("#complete-a-record-algorithm", "process response 7.3")
async def test_complete_a_record_ok_status_is_success(user_agent, origin_server):
    """Process response 7.3: "Otherwise, set responseData's result to "success"" (any ok
    status, here 204 without a body too)."""
    origin_server.add("/ok", b"fine")
    origin_server.add("/empty", b"", status=204)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("ok", ["/ok", "/empty"])
    settled = await harness.wait_settled("ok")
    assert settled.result == "success"
    results = [r.response_data.result for r in concept(registration).records]
    assert results == ["success", "success"]
    assert settled.by_path["/ok"].body == b"fine"
    assert (settled.by_path["/empty"].status, settled.by_path["/empty"].body) == (204, b"")


# -- step 11, process response, 8: the stream errored ------------------------------------


@pytest.mark.step("#complete-a-record-algorithm", "15", "process response 8.1")
async def test_complete_a_record_offline_mid_body_resumes_a_get_with_range(
    user_agent, origin_server, virtual_network
):
    """Stream errored 8.1: going offline mid-body makes the resource temporarily
    unavailable; a `GET` waits until online, then (step 15) resumes with `Range:
    bytes=N-` for the N bytes stored.  Nothing moves while offline."""
    body = pattern(8000, seed=5)
    origin_server.add("/offline", body, throttle=1000, etag='"o"')
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("offline", "/offline")
    bg_fetch = concept(registration)
    await eventually(lambda: bg_fetch.stored_body_bytes_total() >= 3000)
    virtual_network.set_online(False)
    await trio.sleep(1)
    stored = bg_fetch.stored_body_bytes_total()
    assert 3000 <= stored < len(body)
    await trio.sleep(600)
    assert bg_fetch.stored_body_bytes_total() == stored
    assert bg_fetch.records[0].response_data.result == ""
    assert len(origin_server.requests_for("/offline")) == 1
    virtual_network.set_online(True)
    settled = await harness.wait_settled("offline")
    assert settled.result == "success"
    assert range_headers(origin_server, "/offline") == [None, f"bytes={stored}-"]
    assert settled.by_path["/offline"].body == body


@pytest.mark.step("#complete-a-record-algorithm", "process response 8.2")
async def test_complete_a_record_post_cut_while_offline_is_fetch_error(
    user_agent, origin_server, virtual_network
):
    """Stream errored 8.2: a non-`GET` request is never resumed: its stream erroring while
    offline sets "fetch-error" at once."""
    resource = origin_server.add_echo("/slow-echo")
    resource.throttle = 1000
    harness = await Harness.open(user_agent)
    request = bgfetch.Request(f"{ORIGIN}/slow-echo", method="POST", body="x" * 5000)
    registration = await harness.fetch("post-offline", request)
    await eventually(lambda: concept(registration).stored_body_bytes_total() > 1000)
    virtual_network.set_online(False)
    offline_at = trio.current_time()
    settled = await harness.wait_settled("post-offline")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert settled.time - offline_at < 1
    assert len(origin_server.requests_for("/slow-echo")) == 1


@pytest.mark.step("#complete-a-record-algorithm", "process response 8.2")
async def test_complete_a_record_post_cut_while_online_is_fetch_error(user_agent, origin_server):
    """Stream errored 8.2: a cut `POST` body is a "fetch-error" (8.1 is for `GET` only)."""
    resource = origin_server.add_echo("/cut-echo")
    resource.cut_after = 100
    harness = await Harness.open(user_agent)
    request = bgfetch.Request(f"{ORIGIN}/cut-echo", method="POST", body="y" * 1000)
    await harness.fetch("post-cut", request)
    settled = await harness.wait_settled("post-cut")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert len(origin_server.requests_for("/cut-echo")) == 1


@pytest.mark.parametrize(
    "cuts, result", [(MAX_RESUMES, "success"), (MAX_RESUMES + 1, "fetch-error")]
)
@pytest.mark.step("#complete-a-record-algorithm", "process response 8.1", "process response 8.2")
async def test_complete_a_record_cuts_while_online_are_resumed_a_bounded_number_of_times(
    user_agent, origin_server, cuts, result
):
    """Stream errored 8.1/8.2: the user agent decides what is "temporarily unavailable";
    bgfetch believes a cut while online is, for up to MAX_RESUMES resumes of one record
    (SPEC-NOTES.md).  Each resume asks for the bytes after those stored."""
    body = pattern(4000)
    origin_server.add("/flaky", body, cut_after=100, cuts=cuts, etag='"f"')
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("flaky", "/flaky")
    settled = await harness.wait_settled("flaky")
    assert concept(registration).records[0].response_data.result == result
    ranges = range_headers(origin_server, "/flaky")
    attempts = min(cuts, MAX_RESUMES) + 1
    assert ranges == [None] + [f"bytes={100 * n}-" for n in range(1, attempts)]
    if result == "success":
        assert settled.by_path["/flaky"].body == body


# -- steps 13-15: paused, aborted, and completing again ----------------------------------


@pytest.mark.step("#complete-a-record-algorithm", "3", "13", "14.1", "14.3", "14.4", "15")
async def test_complete_a_record_pause_terminates_the_fetch_and_resume_continues_with_range(
    user_agent, origin_server, virtual_network
):
    """Step 13: the attempt is aborted when the paused flag is set; 14.1 (a `GET`), 14.3
    the result is still empty, 14.4 the ongoing fetch is terminated (its connection
    closed, no more bytes); step 15 completes the record again, which waits at step 3
    until resumed, then sends `Range: bytes=N-`."""
    body = pattern(10_000, seed=1)
    origin_server.add("/pausable", body, throttle=1000, etag='"p"')
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("pausable", "/pausable")
    bg_fetch = concept(registration)
    await eventually(lambda: bg_fetch.stored_body_bytes_total() >= 3000)
    display = user_agent.ui.find("pausable")
    display.pause()
    await trio.sleep(1)
    stored = bg_fetch.stored_body_bytes_total()
    assert virtual_network.open_connections == 0
    await trio.sleep(600)
    assert bg_fetch.stored_body_bytes_total() == stored < len(body)
    assert bg_fetch.records[0].response_data.result == ""
    assert "pausable" not in harness.settled
    assert len(origin_server.requests_for("/pausable")) == 1
    display.resume()
    settled = await harness.wait_settled("pausable")
    assert settled.result == "success"
    assert range_headers(origin_server, "/pausable") == [None, f"bytes={stored}-"]
    assert settled.by_path["/pausable"].body == body


@pytest.mark.step("#complete-a-record-algorithm", "3", "13", "14.2")
async def test_complete_a_record_abort_while_paused_still_aborts(user_agent, origin_server):
    """Steps 3 and 13-14.2: a fetch paused mid-download, then aborted (abort() returns
    true), settles with "aborted" without another request."""
    body = pattern(10_000)
    origin_server.add("/paused-abort", body, throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("paused-abort", "/paused-abort")
    bg_fetch = concept(registration)
    await eventually(lambda: bg_fetch.stored_body_bytes_total() >= 2000)
    user_agent.ui.find("paused-abort").pause()
    await trio.sleep(60)
    assert await registration.abort() is True
    settled = await harness.wait_settled("paused-abort")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchabort", "aborted")
    assert bg_fetch.records[0].response_data.result == "aborted"
    assert len(origin_server.requests_for("/paused-abort")) == 1


@pytest.mark.step("#complete-a-record-algorithm", "14.2", "14.4")
async def test_complete_a_record_abort_all_mid_download_sets_aborted(user_agent, origin_server):
    """Step 14.2: "If bgFetch's abort all flag is set, then set responseData's result to
    "aborted"" (14.4: the fetch is terminated).  A record object made during the fetch
    has its response, whose body then errors with an AbortError; one made after (in the
    abort event) has its responseReady rejected with an AbortError."""
    body = pattern(10_000)
    origin_server.add("/abortable", body, throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("abortable", "/abortable")
    bg_fetch = concept(registration)
    await eventually(lambda: bg_fetch.stored_body_bytes_total() >= 2000)
    early_response = await (await registration.match("/abortable")).response_ready
    assert await registration.abort() is True
    settled = await harness.wait_settled("abortable")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchabort", "aborted")
    assert bg_fetch.records[0].response_data.result == "aborted"
    assert bg_fetch.stored_body_bytes_total() < len(body)
    with pytest.raises(AbortError):
        await early_response.bytes()
    outcome = settled.by_path["/abortable"]
    assert outcome.status is None
    assert isinstance(outcome.error, AbortError)


@pytest.mark.step("#complete-a-record-algorithm", "14.1")
async def test_complete_a_record_pausing_is_offered_only_for_get(user_agent, origin_server):
    """Step 14.1 asserts a paused fetch's request is a `GET`; the display makes that hold by
    offering pause only when every record's method is `GET`."""
    origin_server.add_echo("/post")
    origin_server.add("/get", b"g")
    harness = await Harness.open(user_agent)
    request = bgfetch.Request(f"{ORIGIN}/post", method="POST", body="p")
    registration = await harness.fetch("mixed", [request, "/get"])
    display = user_agent.ui.find("mixed")
    assert display.can_pause is False
    with pytest.raises(InvalidStateError):
        display.pause()
    assert concept(registration).paused is False
    await harness.wait_settled("mixed")


# -- beyond the spec's steps (SPEC-NOTES.md) -------------------------------------------


@pytest.mark.step("#complete-a-record-algorithm")
async def test_complete_a_record_416_for_exactly_the_stored_length_completes_the_record(
    user_agent, origin_server
):
    """Not in the spec: a chunked body cut right after its last byte resumes with
    `Range: bytes=N-`; the server's 416 `Content-Range: bytes */N` says the N stored bytes
    are the whole resource, so the record succeeds with them instead of restarting."""
    body = pattern(3000)
    origin_server.add("/whole", body, framing="chunked", cut_after=3000)
    harness = await Harness.open(user_agent)
    await harness.fetch("whole", "/whole")
    settled = await harness.wait_settled("whole")
    assert (settled.type, settled.result) == ("backgroundfetchsuccess", "success")
    assert range_headers(origin_server, "/whole") == [None, "bytes=3000-"]
    assert settled.by_path["/whole"].body == body
    assert settled.by_path["/whole"].status == 200


@pytest.mark.step("#complete-a-record-algorithm", "process response 3", "process response 7.2")
async def test_complete_a_record_416_for_another_length_is_the_spec_restart(
    user_agent, origin_server
):
    """A 416 whose complete length is not the stored length is not that case: process
    response 3 replaces the response data and 7.2 records "bad-status"."""
    body = pattern(3000)
    resource = origin_server.add("/shrunk", body, framing="chunked", cut_after=2000)

    def shrink(step):
        resource.body = body[:1000]  # the resource changed while the record was cut

    on_step(user_agent, "body stream errored", shrink)
    harness = await Harness.open(user_agent)
    await harness.fetch("shrunk", "/shrunk")
    settled = await harness.wait_settled("shrunk")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "bad-status")
    assert range_headers(origin_server, "/shrunk") == [None, "bytes=2000-"]
    assert settled.by_path["/shrunk"].status == 416


@pytest.mark.step("#complete-a-record-algorithm", "process response 1.1", "process response 8.1")
async def test_complete_a_record_offline_waits_do_not_spend_the_resume_budget(
    user_agent, origin_server, virtual_network
):
    """bgfetch's bounded belief in "temporarily unavailable" counts only cuts while
    online: a record that first waits for the network to come back, then is cut
    MAX_RESUMES times by the server, still succeeds."""
    from bgfetch.resume import MAX_RESUMES

    body = pattern(20_000)
    origin_server.add("/flaky", body, throttle=1000, cut_after=500, cuts=MAX_RESUMES)
    harness = await Harness.open(user_agent)
    virtual_network.set_online(False)  # the first attempt meets a network error: it waits
    await harness.fetch("flaky", "/flaky")
    await trio.sleep(5)
    virtual_network.set_online(True)
    settled = await harness.wait_settled("flaky")
    assert (settled.type, settled.result) == ("backgroundfetchsuccess", "success")
    assert settled.by_path["/flaky"].body == body


class _PartialServer:
    """Answers every request with the same 206, whatever range was asked for.  Past 100
    requests it stops answering, so a runaway client fails the test instead of hanging it."""

    def __init__(self, head: bytes, body: bytes) -> None:
        self.answer = head + b"\r\n" + body
        self.requests = 0

    async def serve_stream(self, stream) -> None:
        received = b""
        try:
            while True:
                while b"\r\n\r\n" not in received:
                    data = await stream.receive_some()
                    if not data:
                        return
                    received += data
                received = received.split(b"\r\n\r\n", 1)[1]
                self.requests += 1
                if self.requests > 100:
                    return
                await stream.send_all(self.answer)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await stream.aclose()


@pytest.mark.step("#complete-a-record-algorithm", "15", "process response 7.1.2")
async def test_complete_a_record_partial_responses_that_bring_nothing_end_in_fetch_error(
    virtual_network,
):
    """Step 7.1.2 leaves the result empty when a 206 ends before the resource does, and
    step 15 asks for the rest -- for ever, of a server whose 206 brings nothing new.
    bgfetch (SPEC-NOTES.md) lets such a response spend a resume: past the budget the
    record is a "fetch-error", in bounded (simulated and real) time."""
    from bgfetch.resume import MAX_RESUMES

    server = _PartialServer(
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\nContent-Length: 0\r\n",
        b"",
    )
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        harness = await Harness.open(ua)
        await harness.fetch("empty-206", "/thing")
        settled = await harness.wait_settled("empty-206")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert server.requests == MAX_RESUMES + 1


@pytest.mark.step("#complete-a-record-algorithm", "process response 7.1.2")
async def test_complete_a_record_partial_responses_past_the_complete_length_fail(
    virtual_network,
):
    """A 206 whose bytes run past the complete length it announces can never satisfy
    step 7.1.2: bgfetch ends the record as a "fetch-error" instead of asking again."""
    server = _PartialServer(
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/3\r\nContent-Length: 10\r\n",
        b"0123456789",
    )
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        harness = await Harness.open(ua)
        await harness.fetch("long-206", "/thing")
        settled = await harness.wait_settled("long-206")
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert server.requests == 1
