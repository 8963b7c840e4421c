"""Attempt a background fetch (#attempt-a-background-fetch-algorithm), 2017-10-12 edition:
every branch of every step, the draft's TODOs as filled (SPEC-NOTES.md)."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.editions.draft_2017 import (
    BackgroundFetchSettledEvent,
    BackgroundFetchSettledFetches,
    BackgroundFetchUpdateEvent,
)
from bgfetch.editions.draft_2017.concepts import registration_extension
from bgfetch.fetch.response import InternalResponse
from bgfetch.resume import MAX_RESUMES
from bgfetch.testing import WorkerRecorder
from bgfetch.useragent import open_user_agent

from .support import (
    ATTEMPT,
    FEATURE,
    ORIGIN,
    page,
    record_steps,
    steps_at,
    stub_fetcher,
)

BODY = bytes(range(256)) * 8  # 2048 bytes, every offset distinguishable


def post(path: str, body: str = "data") -> bgfetch.Request:
    return bgfetch.Request(
        f"{ORIGIN}{path}", method="POST", body=body, headers={"Content-Type": "text/plain"}
    )


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.1", "6.2", "6.3")
async def test_step_6_1_to_6_3_fetches_a_keepalive_copy_of_the_request(
    draft_user_agent, origin_server
):
    origin_server.add("/feature-name.txt", FEATURE)
    stub = stub_fetcher(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("copy", "/feature-name.txt")
    await reporter.settled("copy")
    [fetched] = stub.requests
    record_request = bg.background_fetch.records[0].request
    assert fetched is not record_request
    assert fetched.keepalive is True and record_request.keepalive is False


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.5")
async def test_step_6_5_aborted_flag_sets_abandoned_and_aborted(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    stub_fetcher(
        draft_user_agent,
        {f"{ORIGIN}/aborted.txt": InternalResponse.network_error("aborted", aborted=True)},
    )
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("flag", ["/aborted.txt"])
    seen = await reporter.settled("flag")
    # Nobody called abort(): the aborted flag alone makes it an abort.
    assert seen.type == "backgroundfetchabort"
    assert [s.details["aborted"] for s in steps_at(steps, ATTEMPT, "6.5")] == [True]


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.6")
async def test_step_6_6_failed_cors_check_abandons_at_once(
    draft_user_agent, origin_server, virtual_network
):
    # Offline, a GET network error would wait (step 6.7): a CORS failure does not.
    stub_fetcher(
        draft_user_agent,
        {
            f"{ORIGIN}/cors.txt": InternalResponse.network_error(
                "CORS check failed", cors_failure=True
            )
        },
    )
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    virtual_network.set_online(False)
    await registration.background_fetch.fetch("cors", "/cors.txt")
    seen = await reporter.settled("cors", within=1)
    assert seen.type == "backgroundfetchfail"
    assert seen.statuses() == [None]
    assert len(steps_at(steps, ATTEMPT, "6.6")) == 1


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.6")
async def test_step_6_6_a_cross_origin_response_without_cors_headers_abandons(
    draft_user_agent, origin_server, virtual_network
):
    from bgfetch.testing import OriginServer

    remote = OriginServer()
    remote.add("/secret.txt", "secret")  # no Access-Control-Allow-Origin
    remote.add("/shared.txt", "shared", cors="*")
    virtual_network.serve("https://remote.test", remote)
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    manager = registration.background_fetch
    await manager.fetch("shared", "https://remote.test/shared.txt")
    assert (await reporter.settled("shared")).texts() == ["shared"]
    await manager.fetch("secret", "https://remote.test/secret.txt")
    seen = await reporter.settled("secret")
    assert seen.type == "backgroundfetchfail" and seen.statuses() == [None]
    [cors] = steps_at(steps, ATTEMPT, "6.6")
    assert "CORS check failed" in cors.what


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.6")
async def test_step_6_6_network_error_of_a_non_get_abandons(
    draft_user_agent, origin_server, virtual_network
):
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    virtual_network.set_online(False)  # temporarily unavailable: yet a POST is not retried
    await registration.background_fetch.fetch("post", [post("/upload")])
    seen = await reporter.settled("post", within=1)
    assert seen.type == "backgroundfetchfail"
    assert len(steps_at(steps, ATTEMPT, "6.6")) == 1


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.7.1")
async def test_step_6_7_1_get_network_error_while_offline_resumes_once_online(
    draft_user_agent, origin_server, virtual_network
):
    # The draft: "TODO: Resume download somehow." (filled: 0a1eaad)
    origin_server.add("/feature-name.txt", FEATURE)
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    virtual_network.set_online(False)
    await registration.background_fetch.fetch("offline", "/feature-name.txt")
    await trio.sleep(30)
    assert reporter.by_id == {}
    assert len(steps_at(steps, ATTEMPT, "6.7.1")) == 1
    virtual_network.set_online(True)
    seen = await reporter.settled("offline")
    assert seen.type == "backgroundfetched" and seen.texts() == [FEATURE]
    assert len(origin_server.requests_for("/feature-name.txt")) == 1


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.7.1")
async def test_step_6_7_1_get_network_error_while_online_abandons(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch(
        "no-host", ["/feature-name.txt", "https://nowhere.test/x"]
    )
    seen = await reporter.settled("no-host")
    assert seen.type == "backgroundfetchfail"
    [abandoned] = steps_at(steps, ATTEMPT, "6.7.1")
    assert "no such host" in abandoned.what


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.1")
async def test_step_6_8_1_record_response_is_a_copy_without_body(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE, headers=[("X-Test", "1")])
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("resp", "/feature-name.txt")
    await reporter.settled("resp")
    record = bg.background_fetch.records[0]
    assert record.response is not None and record.response.status == 200
    assert record.response.header_list.get("X-Test") == "1"
    assert record.response_body.read(0, 100) == FEATURE.encode()


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.3", "6.8.3.1", "6.8.3.2")
async def test_step_6_8_3_each_transmission_appends_and_reports_progress(
    draft_user_agent, origin_server
):
    origin_server.add("/big.bin", BODY, throttle=1024)
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("bytes", "/big.bin")
    await reporter.settled("bytes")
    reported = [s.details["downloaded"] for s in steps if s.what == "progress"]
    assert len(reported) > 2 and reported == sorted(reported) and reported[-1] == len(BODY)


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.3.1")
async def test_step_6_8_3_1_quota_exceeded_while_storing_abandons(virtual_network):
    from bgfetch.testing import OriginServer

    server = OriginServer()
    server.add("/big.bin", BODY)
    virtual_network.serve(ORIGIN, server)
    async with open_user_agent(network=virtual_network, edition="2017-10-12", quota=1000) as ua:
        steps = record_steps(ua)
        reporter = WorkerRecorder()
        registration = await page(ua, reporter.worker)
        await registration.background_fetch.fetch("quota", "/big.bin")
        seen = await reporter.settled("quota")
        assert seen.type == "backgroundfetchfail"
        assert seen.statuses() == [None]
        assert len(steps_at(steps, ATTEMPT, "6.8.3.1")) == 1


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.4", "6.8.4.1")
async def test_step_6_8_4_every_body_done_fires_backgroundfetched(draft_user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    origin_server.add("/b.txt", "BB", framing="chunked")
    origin_server.add("/c.txt", "CCC", framing="close")
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("done", ["/a.txt", "/b.txt", "/c.txt"])
    seen = await reporter.settled("done")
    assert seen.type == "backgroundfetched"
    assert seen.texts() == ["A", "BB", "CCC"]


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.4")
async def test_step_6_8_4_a_404_is_a_complete_fetch(draft_user_agent, origin_server):
    # The draft has no failure for a bad status ("TODO: other failure reasons?"):
    # a 404 body transmitted normally completes the fetch (SPEC-NOTES.md).
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("404", "/missing.txt")
    seen = await reporter.settled("404")
    assert seen.type == "backgroundfetched"
    assert seen.statuses() == [404] and seen.texts() == ["Not Found"]


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.5")
async def test_step_6_8_5_a_cut_resumes_with_a_range_request(draft_user_agent, origin_server):
    # The draft: "TODO: if aborted isn't true, this could be another resume point."
    origin_server.add("/big.bin", BODY, cut_after=1000, etag='"v1"')
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("cut", "/big.bin")
    seen = await reporter.settled("cut")
    assert seen.type == "backgroundfetched"
    assert seen.statuses() == [200]  # the first response stays the record's response
    ranges = [r.header("range") for r in origin_server.requests_for("/big.bin")]
    assert ranges == [None, "bytes=1000-"]
    assert bg.background_fetch.records[0].response_body.read(0, 4096) == BODY
    assert [s.details["range_start"] for s in steps if s.what == "fetch started"] == [0, 1000]


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.5")
async def test_step_6_8_5_cut_while_offline_resumes_once_online(
    draft_user_agent, origin_server, virtual_network
):
    origin_server.add("/big.bin", BODY, throttle=512)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("flaky", "/big.bin")
    await trio.sleep(1.5)
    virtual_network.set_online(False)
    await trio.sleep(60)
    assert reporter.by_id == {}
    virtual_network.set_online(True)
    seen = await reporter.settled("flaky")
    assert seen.type == "backgroundfetched"
    ranges = [r.header("range") for r in origin_server.requests_for("/big.bin")]
    assert len(ranges) == 2 and ranges[0] is None and ranges[1].startswith("bytes=")


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.5.2")
async def test_step_6_8_5_2_cut_after_the_last_resume_abandons(draft_user_agent, origin_server):
    origin_server.add("/big.bin", BODY, cut_after=10, cuts=MAX_RESUMES + 1)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("cuts", "/big.bin")
    seen = await reporter.settled("cuts")
    assert seen.type == "backgroundfetchfail"
    assert len(origin_server.requests_for("/big.bin")) == MAX_RESUMES + 1


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.5.2")
async def test_step_6_8_5_2_cut_of_a_non_get_abandons(draft_user_agent, origin_server):
    origin_server.add("/upload", BODY, cut_after=10)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("post-cut", [post("/upload")])
    seen = await reporter.settled("post-cut")
    assert seen.type == "backgroundfetchfail"
    assert len(origin_server.requests_for("/upload")) == 1


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.5")
async def test_resume_sends_if_range_and_a_changed_resource_comes_back_whole(
    draft_user_agent, origin_server
):
    resource = origin_server.add("/big.bin", BODY, cut_after=100, etag='"v1"')
    changed = bytes(reversed(BODY))

    def change(step) -> None:
        if step.step == "6.8.5":
            resource.etag, resource.body = '"v2"', changed

    draft_user_agent.observers.subscribe(change)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("if-range", "/big.bin")
    seen = await reporter.settled("if-range")
    assert seen.type == "backgroundfetched"
    resume = origin_server.requests_for("/big.bin")[1]
    assert (resume.header("range"), resume.header("if-range")) == ("bytes=100-", '"v1"')
    assert bg.background_fetch.records[0].response_body.read(0, 4096) == changed


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.5")
async def test_resume_a_206_that_fails_validation_abandons(draft_user_agent, origin_server):
    # (filled: 0a1eaad) validate a partial response: the ETag changed between attempts,
    # and the server ignores If-Range.
    resource = origin_server.add(
        "/big.bin", BODY, cut_after=100, etag='"v1"', honour_if_range=False
    )

    def change_etag(step) -> None:
        if step.step == "6.8.5":
            resource.etag = '"v2"'

    draft_user_agent.observers.subscribe(change_etag)
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("etag", "/big.bin")
    seen = await reporter.settled("etag")
    assert seen.type == "backgroundfetchfail"
    assert [s.what for s in steps_at(steps, ATTEMPT, "6.8")] == ["invalid partial response"]


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.8.5")
async def test_resume_a_full_response_to_a_range_request_restarts_the_body(
    draft_user_agent, origin_server
):
    origin_server.add("/big.bin", BODY, cut_after=100, ranges=False)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("restart", "/big.bin")
    seen = await reporter.settled("restart")
    assert seen.type == "backgroundfetched"
    assert [r.header("range") for r in origin_server.requests_for("/big.bin")] == [
        None,
        "bytes=100-",
    ]
    record = bg.background_fetch.records[0]
    assert len(record.response_body) == len(BODY)
    assert record.response_body.read(0, 4096) == BODY


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "7", "8", "9", "9.1")
async def test_step_7_9_abandoned_terminates_the_rest_and_fires_fail_not_abort(
    draft_user_agent, origin_server
):
    # Step 8 reads aborted before step 9.1 terminates the other fetches (whose aborted
    # flag then sets aborted): the event is backgroundfetchfail.
    origin_server.add("/big.bin", BODY, throttle=100)
    origin_server.add("/upload", BODY, cut_after=10, delay=1)
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("mixed", ["/big.bin", post("/upload")])
    seen = await reporter.settled("mixed")
    assert seen.type == "backgroundfetchfail"
    assert len(steps_at(steps, ATTEMPT, "9.1")) == 1
    big = bg.background_fetch.records[0]
    assert big.outcome == "aborted"
    assert len(big.response_body) < len(BODY)


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "7")
async def test_step_7_waits_for_every_record(draft_user_agent, origin_server):
    origin_server.add("/fast.txt", "fast")
    origin_server.add("/slow.txt", "slow", delay=30)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    start = trio.current_time()
    await registration.background_fetch.fetch("all", ["/fast.txt", "/slow.txt"])
    seen = await reporter.settled("all")
    assert trio.current_time() - start >= 30
    assert seen.texts() == ["fast", "slow"]


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "10.3")
async def test_step_10_3_settling_removes_the_active_background_fetch(
    draft_user_agent, origin_server
):
    origin_server.add("/feature-name.txt", FEATURE)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("remove", "/feature-name.txt")
    await reporter.settled("remove")
    assert registration_extension(registration.registration).active_background_fetches == {}


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "10.4")
async def test_step_10_4_abort_race_fires_the_abort_event(draft_user_agent, origin_server):
    # abort() succeeds while a fetch fails: the note's race.  The edit queue is held so
    # that abort()'s steps run between the failure and the settling steps.
    origin_server.add("/upload", BODY, cut_after=10, delay=5)
    steps = record_steps(draft_user_agent)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("race", [post("/upload")])
    queue = registration_extension(registration.registration).active_background_fetches_edit_queue
    release = trio.Event()
    queue.enqueue(release.wait)
    results: list[bool] = []

    async def abort() -> None:
        results.append(await bg.abort())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(abort)
        await trio.sleep(10)  # the fetch has failed; its settling steps wait behind abort()
        assert len(steps_at(steps, ATTEMPT, "6.8.5.2")) == 1
        assert reporter.by_id == {}
        release.set()
    seen = await reporter.settled("race")
    assert results == [True]
    assert seen.type == "backgroundfetchabort"
    assert [s.what for s in steps_at(steps, ATTEMPT, "10.4")] == ["abort() won the race"]


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "10.5")
@pytest.mark.step("#background-fetch-settled-event")
async def test_step_10_5_abort_event_is_a_settled_event_with_fetches(
    draft_user_agent, origin_server
):
    origin_server.add("/slow.txt", FEATURE, delay=10)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("abort-event", "/slow.txt")
    await bg.abort()
    seen = await reporter.settled("abort-event")
    event = seen.event
    assert type(event) is BackgroundFetchSettledEvent
    assert not hasattr(event, "update_ui")
    assert event.id == "abort-event" and event.is_trusted
    assert isinstance(event.fetches, BackgroundFetchSettledFetches)
    assert event.fetches.records is bg.background_fetch.records


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "10.6")
@pytest.mark.step("#background-fetch-update-event")
async def test_step_10_6_fail_event_is_an_update_event(draft_user_agent, origin_server):
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("fail-event", "https://nowhere.test/x")
    seen = await reporter.settled("fail-event")
    assert seen.type == "backgroundfetchfail"
    assert type(seen.event) is BackgroundFetchUpdateEvent
    assert seen.event.id == "fail-event"


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "10.7")
@pytest.mark.step("#background-fetch-update-event")
async def test_step_10_7_fetched_event_is_an_update_event(draft_user_agent, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("ok-event", "/feature-name.txt")
    seen = await reporter.settled("ok-event")
    assert seen.type == "backgroundfetched"
    assert type(seen.event) is BackgroundFetchUpdateEvent
    assert seen.event.id == "ok-event"


@pytest.mark.step("#attempt-a-background-fetch-algorithm")
async def test_download_total_is_not_enforced(draft_user_agent, origin_server):
    # The draft keeps downloadTotal for the UI only; nothing stops a larger download.
    origin_server.add("/big.bin", BODY)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("total", "/big.bin", download_total=10)
    seen = await reporter.settled("total")
    assert seen.type == "backgroundfetched"
    await trio.sleep(1)
    assert bg.downloaded == len(BODY) > bg.download_total


@pytest.mark.step("#attempt-a-background-fetch-algorithm")
async def test_a_416_for_exactly_the_stored_length_completes_the_record(
    draft_user_agent, origin_server
):
    # Not in the draft (SPEC-NOTES.md): a chunked body cut right after its last byte;
    # the resume's 416 `bytes */N` says the N stored bytes are the whole resource.
    origin_server.add("/whole.bin", BODY, framing="chunked", cut_after=len(BODY))
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("whole", "/whole.bin")
    seen = await reporter.settled("whole")
    assert seen.type == "backgroundfetched"
    assert seen.statuses() == [200]
    ranges = [r.header("range") for r in origin_server.requests_for("/whole.bin")]
    assert ranges == [None, f"bytes={len(BODY)}-"]
    assert bg.background_fetch.records[0].response_body.read(0, len(BODY) + 1) == BODY


@pytest.mark.step("#attempt-a-background-fetch-algorithm", "6.7.1", "6.8.5")
async def test_offline_waits_do_not_spend_the_resume_budget(
    draft_user_agent, origin_server, virtual_network
):
    from bgfetch.resume import MAX_RESUMES

    origin_server.add("/flaky.bin", BODY, throttle=1000, cut_after=100, cuts=MAX_RESUMES)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    virtual_network.set_online(False)
    bg = await registration.background_fetch.fetch("flaky", "/flaky.bin")
    await trio.sleep(5)
    virtual_network.set_online(True)
    seen = await reporter.settled("flaky")
    assert seen.type == "backgroundfetched"
    assert bg.background_fetch.records[0].response_body.read(0, len(BODY) + 1) == BODY
