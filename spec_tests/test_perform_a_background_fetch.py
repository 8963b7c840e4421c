"""#perform-a-background-fetch-algorithm and #contains-background-fetch-algorithm: every
step and branch, over h11 on the virtual network.

Each test names the step it pins; its docstring quotes or paraphrases that step.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing
from algorithm_support import (
    Harness,
    concept,
    eventually,
    on_step,
    pattern,
)

import bgfetch
import bgfetch.testing
from bgfetch.editions.current import BackgroundFetchEvent, BackgroundFetchUpdateUIEvent
from bgfetch.editions.current.concepts import (
    BackgroundFetch,
    contains_background_fetch,
    does_not_contain_background_fetch,
    registration_extension,
)
from bgfetch.errors import InvalidStateError
from bgfetch.infra import ParallelQueue, TaskOwner

# -- step 5-6: the records, in parallel -------------------------------------------------


@pytest.mark.step("#perform-a-background-fetch-algorithm", "5", "5.1")
async def test_perform_completes_every_record_in_parallel(user_agent, origin_server):
    """Step 5: "For each record in bgFetch's records, run these steps in parallel: complete
    a record".  Three throttled resources (1 s each) download at once through h11: all
    three fetches start before any ends, the whole takes about 1 s rather than 3 s, and
    each record holds exactly its resource's bytes."""
    bodies = {f"/part-{i}": pattern(2000, seed=i) for i in range(3)}
    for path, body in bodies.items():
        origin_server.add(path, body, throttle=2000)
    started = on_step(user_agent, "fetch started", lambda step: None)
    settled_steps = on_step(user_agent, "record settled", lambda step: None)
    harness = await Harness.open(user_agent)
    start = trio.current_time()
    registration = await harness.fetch("parallel", list(bodies))
    settled = await harness.wait_settled("parallel")
    assert (settled.type, settled.result) == ("backgroundfetchsuccess", "success")
    assert {path: outcome.body for path, outcome in settled.by_path.items()} == bodies
    for record, body in zip(concept(registration).records, bodies.values(), strict=True):
        assert record.response_data.bytes.read(0, 10_000) == body
    assert len(started) == 3 and len(settled_steps) == 3
    assert max(s.time for s in started) < min(s.time for s in settled_steps)
    each = 1.0  # 2000 bytes at 2000 bytes/s
    assert 0.99 * each <= settled.time - start < 1.5 * each < 3 * each
    assert sorted(r.path for r in origin_server.requests) == sorted(bodies)


@pytest.mark.step("#perform-a-background-fetch-algorithm", "6")
async def test_perform_waits_for_every_record_to_settle(user_agent, origin_server):
    """Step 6: "Wait for settledFetches to be bgFetch's records' size" (no immediate
    failure): a quick record does not settle the fetch while a slow one still runs."""
    origin_server.add("/quick", b"q")
    origin_server.add("/slow", pattern(5000), throttle=1000)
    harness = await Harness.open(user_agent)
    start = trio.current_time()
    registration = await harness.fetch("wait-all", ["/quick", "/slow"])
    bg_fetch = concept(registration)
    await eventually(lambda: bg_fetch.records[0].response_data.result == "success")
    await trio.sleep(2)
    assert "wait-all" not in harness.settled
    assert bg_fetch.result == ""
    settled = await harness.wait_settled("wait-all")
    assert settled.result == "success"
    assert settled.time - start >= 4.99  # 5000 bytes at 1000 bytes/s


@pytest.mark.parametrize("first", ["fetch-error", "bad-status"])
@pytest.mark.step("#perform-a-background-fetch-algorithm", "5.3", "5.3.2")
async def test_perform_first_failure_reason_wins(user_agent, origin_server, first):
    """Step 5.3 (as SPEC-NOTES.md reads it: "If failureReason is the empty string and
    result is not "success""): the first record to fail sets failureReason; a later
    failure of another kind does not change it."""
    # A 206 whose range starts elsewhere is a "fetch-error"; a 404 is "bad-status".
    fast, slow = (0.0, 10.0) if first == "fetch-error" else (10.0, 0.0)
    origin_server.add(
        "/broken-range",
        b"56789",
        status=206,
        ranges=False,
        headers=[("Content-Range", "bytes 5-9/10")],
        delay=fast,
    )
    origin_server.add("/gone", b"gone", status=404, delay=slow)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("two-failures", ["/broken-range", "/gone"])
    settled = await harness.wait_settled("two-failures")
    results = [r.response_data.result for r in concept(registration).records]
    assert results == ["fetch-error", "bad-status"]
    assert (settled.type, settled.result) == ("backgroundfetchfail", "failure")
    assert settled.failure_reason == first
    assert registration.failure_reason == first


@pytest.mark.step("#perform-a-background-fetch-algorithm", "5.5", "6", "7")
@pytest.mark.step("#complete-a-record-algorithm", "14.2")
async def test_perform_download_total_exceeded_sets_abort_all_and_fails_immediately(
    user_agent, origin_server
):
    """Steps 5.5, 6 and 7: a record whose result is "download-total-exceeded" sets
    immediateFailure; the wait ends at once, the abort all flag is set, and the records
    still running are aborted (complete a record 14.2), while one that already succeeded
    keeps "success".  The failure reason is "download-total-exceeded" and the event is
    backgroundfetchfail, long before the slow records could have finished."""
    origin_server.add("/small", b"s" * 100)
    origin_server.add("/big", pattern(5000), delay=1)
    origin_server.add("/slow-1", pattern(10_000, seed=1), throttle=100)
    origin_server.add("/slow-2", pattern(10_000, seed=2), throttle=100)
    harness = await Harness.open(user_agent)
    start = trio.current_time()
    registration = await harness.fetch(
        "over-total", ["/small", "/big", "/slow-1", "/slow-2"], download_total=2000
    )
    bg_fetch = concept(registration)
    settled = await harness.wait_settled("over-total")
    assert settled.time - start < 5  # not 100 s
    assert bg_fetch.abort_all is True
    assert (settled.type, settled.result) == ("backgroundfetchfail", "failure")
    assert settled.failure_reason == "download-total-exceeded"
    results = [r.response_data.result for r in bg_fetch.records]
    assert results == ["success", "download-total-exceeded", "aborted", "aborted"]
    assert settled.by_path["/small"].body == b"s" * 100


# -- step 8: settling ----------------------------------------------------------------------


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.3", "8.6", "8.12", "8.13")
async def test_perform_success_removes_the_fetch_and_fires_backgroundfetchsuccess(
    user_agent, origin_server
):
    """Steps 8.3, 8.6, 8.12-8.13: the active background fetches contain bgFetch, so it is
    removed; failureReason is empty, so the result is "success" and the event is
    backgroundfetchsuccess, a BackgroundFetchUpdateUIEvent."""
    origin_server.add("/ok", b"ok")
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("done", "/ok")
    assert await harness.manager.get_ids() == ["done"]
    settled = await harness.wait_settled("done")
    assert settled.type == "backgroundfetchsuccess"
    assert type(settled.event) is BackgroundFetchUpdateUIEvent
    assert (settled.result, settled.failure_reason) == ("success", "")
    bg_fetch = concept(registration)
    assert (bg_fetch.result, bg_fetch.failure_reason) == ("success", "")
    assert await harness.manager.get_ids() == []
    assert await harness.manager.get("done") is None


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.5", "8.11")
async def test_perform_failure_fires_backgroundfetchfail(user_agent, origin_server):
    """Steps 8.5 and 8.11: failureReason not empty (and not "aborted"): result
    "failure", failure reason set, event backgroundfetchfail, a
    BackgroundFetchUpdateUIEvent (updateUI() works in it)."""
    harness = await Harness.open(user_agent)
    titles = []

    @harness.worker.on("backgroundfetchfail")
    def on_fail(event):
        event.wait_until(event.update_ui(title="failed"))
        titles.append(event.background_fetch.title)

    registration = await harness.fetch("fails", "/no-such-file", title="fetching")
    settled = await harness.wait_settled("fails")
    assert settled.type == "backgroundfetchfail"
    assert type(settled.event) is BackgroundFetchUpdateUIEvent
    assert (settled.result, settled.failure_reason) == ("failure", "bad-status")
    assert concept(registration).failure_reason == "bad-status"
    assert titles == ["failed"]
    assert await harness.manager.get_ids() == []


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.4", "8.10")
async def test_perform_abort_fires_backgroundfetchabort_with_a_background_fetch_event(
    user_agent, origin_server
):
    """Steps 8.4 and 8.10: after abort() the fetch is no longer in the active background
    fetches, so failureReason is "aborted": event backgroundfetchabort, constructed as a
    BackgroundFetchEvent (no updateUI)."""
    origin_server.add("/long", pattern(10_000), throttle=100)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("aborting", "/long")
    await trio.sleep(1)
    assert await registration.abort() is True
    settled = await harness.wait_settled("aborting")
    assert settled.type == "backgroundfetchabort"
    assert type(settled.event) is BackgroundFetchEvent
    assert not hasattr(settled.event, "update_ui")
    assert (settled.result, settled.failure_reason) == ("failure", "aborted")


def block(queue: ParallelQueue) -> trio.Event:
    """Make *queue* busy until the returned event is set (as other edits would)."""
    gate = trio.Event()
    queue.enqueue(gate.wait)
    return gate


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.4")
async def test_perform_abort_racing_a_failure_fires_the_abort_event(
    user_agent, origin_server, nursery
):
    """Step 8.4: "Otherwise, set failureReason to "aborted"" -- "a race condition where
    abort() was successfully called but one of the fetches failed at the same time.  If
    we've returned true from abort(), this ensures we fire the related abort event."
    abort()'s steps are queued on the edit queue before the record fails (404: its own
    result is "bad-status"); they run first, so abort() resolves true, and the settle
    steps then fire backgroundfetchabort with failure reason "aborted"."""
    origin_server.add("/fails-later", b"missing", status=404, delay=5)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("race", "/fails-later")
    bg_fetch = concept(registration)
    gate = block(harness.edit_queue())
    aborted: list[bool] = []

    async def abort() -> None:
        aborted.append(await registration.abort())

    nursery.start_soon(abort)
    await trio.testing.wait_all_tasks_blocked()
    await eventually(lambda: bg_fetch.records[0].response_data.result == "bad-status")
    assert aborted == [] and bg_fetch.result == ""
    gate.set()
    settled = await harness.wait_settled("race")
    assert aborted == [True]
    assert bg_fetch.records[0].response_data.result == "bad-status"
    assert settled.type == "backgroundfetchabort"
    assert (settled.result, settled.failure_reason) == ("failure", "aborted")
    # The record failed before the abort all flag was set: its response stays exposed.
    assert settled.by_path["/fails-later"].status == 404


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.3")
@pytest.mark.step("#background-fetch-registration-abort", "3.3")
async def test_perform_failure_settled_before_abort_makes_abort_return_false(
    user_agent, origin_server
):
    """Step 8.3: settling removes the fetch from the active background fetches first, so a
    later abort() finds it gone and resolves false; the event stays backgroundfetchfail."""
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("settled-first", "/missing")
    settled = await harness.wait_settled("settled-first")
    assert await registration.abort() is False
    assert (settled.type, settled.failure_reason) == ("backgroundfetchfail", "bad-status")
    assert concept(registration).abort_all is False


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.3")
@pytest.mark.step("#contains-background-fetch-algorithm", "3")
async def test_perform_settling_keeps_a_newer_fetch_with_the_same_id(
    user_agent, origin_server, nursery
):
    """Step 8.3 with contains background fetch step 3: when the aborted fetch settles, the
    map's entry for its id is a *new* fetch with the same id; it is not bgFetch, so it is
    not removed (and the old fetch's failure reason is "aborted")."""
    origin_server.add("/slow", pattern(4000), throttle=1000)
    harness = await Harness.open(user_agent)
    old = await harness.fetch("same-id", "/slow")
    gate = block(harness.edit_queue())
    results: dict[str, object] = {}

    async def abort_old() -> None:
        results["aborted"] = await old.abort()

    async def fetch_new() -> None:
        results["new"] = await harness.fetch("same-id", "/slow")

    nursery.start_soon(abort_old)
    await trio.testing.wait_all_tasks_blocked()
    nursery.start_soon(fetch_new)
    await trio.testing.wait_all_tasks_blocked()
    gate.set()
    await eventually(lambda: concept(old).result != "")
    assert results["aborted"] is True
    new = results["new"]
    active = registration_extension(harness.sw_registration.registration)
    assert active.active_background_fetches["same-id"] is concept(new)
    assert (concept(old).result, concept(old).failure_reason) == ("failure", "aborted")
    assert concept(new).result == ""
    await eventually(lambda: concept(new).result == "success")
    assert "same-id" not in active.active_background_fetches


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.5", "8.6", "8.7", "8.13")
async def test_perform_event_registration_has_the_result_and_failure_reason(
    user_agent, origin_server
):
    """Steps 8.5-8.7 then 8.13: the result and failure reason are set, and the instances
    updated, before the event fires; its registration -- the instance in the worker's
    realm -- already shows them, also when the worker held that instance before (got
    with get() during the fetch) and even to a handler that reads it synchronously."""
    origin_server.add("/seen", pattern(3000), throttle=1000)
    harness = await Harness.open(user_agent)
    seen: list[tuple[str, str, int]] = []

    @harness.worker.on("backgroundfetchfail")
    def on_fail(event):
        registration = event.registration
        seen.append((registration.result, registration.failure_reason, registration.downloaded))

    registration = await harness.fetch("seen", ["/seen", "/missing"])
    worker_scope = harness.sw_registration.registration.active_worker.global_scope
    worker_instance = await worker_scope.registration.background_fetch.get("seen")
    assert worker_instance is not None and worker_instance.result == ""
    settled = await harness.wait_settled("seen")
    assert settled.event.registration is worker_instance
    assert worker_instance.realm is worker_scope
    assert seen == [("failure", "bad-status", 3000 + len(b"Not Found"))]
    assert (settled.result, settled.failure_reason) == ("failure", "bad-status")
    assert (registration.result, registration.failure_reason) == ("failure", "bad-status")


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.13", "8.13.1", "8.13.2", "8.13.3")
async def test_perform_records_unavailable_once_the_event_is_no_longer_active(
    user_agent, origin_server
):
    """Step 8.13, then: "Wait until dispatchedEvent is not active.  Unset bgFetch's records
    available flag.  Update background fetch instances": while the handler's waitUntil
    promise is pending, the records stay available (matchAll works on the page too);
    after it settles, records_available is false on the page's registration object and
    on the worker's, and matchAll rejects with an InvalidStateError."""
    origin_server.add("/kept", b"kept")
    harness = await Harness.open(user_agent)
    harness.hold = trio.Event()
    registration = await harness.fetch("held", "/kept")
    await eventually(lambda: "held" in harness.settled)
    settled = harness.settled["held"]
    await trio.sleep(60)
    assert settled.event.active
    assert concept(registration).records_available is True
    assert registration.records_available is True
    records = await registration.match_all()
    assert [await (await r.response_ready).text() for r in records] == ["kept"]
    harness.hold.set()
    await harness.wait_settled("held")
    await eventually(lambda: not registration.records_available)
    assert concept(registration).records_available is False
    with pytest.raises(InvalidStateError):
        await registration.match_all()
    with pytest.raises(InvalidStateError):
        await registration.match("/kept")
    worker_registration = settled.event.registration
    assert worker_registration.records_available is False
    with pytest.raises(InvalidStateError):
        await worker_registration.match_all()


# -- contains background fetch ------------------------------------------------------------


def a_background_fetch(id: str) -> BackgroundFetch:
    return BackgroundFetch(
        id=id,
        records=[],
        title="",
        download_total=0,
        upload_total=0,
        icons=[],
        service_worker_registration=None,  # type: ignore[arg-type]
        update_handling_queue=ParallelQueue(f"update handling queue of {id}"),
        tasks=TaskOwner(id, until="idle"),
    )


@pytest.mark.step("#contains-background-fetch-algorithm", "1", "2")
@pytest.mark.step("#does-not-contain-background-fetch", "2")
def test_contains_background_fetch_is_false_without_the_id():
    """Contains background fetch steps 1-2: "If map[id] does not exist, then return false"."""
    bg_fetch = a_background_fetch("a")
    assert contains_background_fetch({}, bg_fetch) is False
    assert contains_background_fetch({"b": a_background_fetch("b")}, bg_fetch) is False
    assert does_not_contain_background_fetch({}, bg_fetch) is True


@pytest.mark.step("#contains-background-fetch-algorithm", "3")
@pytest.mark.step("#does-not-contain-background-fetch", "2")
def test_contains_background_fetch_is_false_for_another_fetch_with_the_id():
    """Contains background fetch step 3: "If map[id] does not equal bgFetch, then return
    false" (a fetch with equal fields is still another fetch)."""
    bg_fetch, twin = a_background_fetch("a"), a_background_fetch("a")
    assert contains_background_fetch({"a": twin}, bg_fetch) is False
    assert does_not_contain_background_fetch({"a": twin}, bg_fetch) is True


@pytest.mark.step("#contains-background-fetch-algorithm", "4")
@pytest.mark.step("#does-not-contain-background-fetch", "1")
def test_contains_background_fetch_is_true_for_the_fetch_itself():
    """Contains background fetch step 4: "Return true"; does not contain is its negation."""
    bg_fetch = a_background_fetch("a")
    assert contains_background_fetch({"a": bg_fetch}, bg_fetch) is True
    assert does_not_contain_background_fetch({"a": bg_fetch}, bg_fetch) is False


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.13.2")
async def test_perform_storage_is_released_once_records_are_no_longer_available(virtual_network):
    """Not a spec step (SPEC-NOTES.md): once the records are no longer available the
    user agent frees their bytes, so two fetches of 60% of the quota each, one after
    the other, both succeed; while the first's records are held, the second would not fit."""
    server = bgfetch.testing.OriginServer()
    server.add("/a", pattern(600))
    server.add("/b", pattern(600, seed=1))
    virtual_network.serve("https://example.test", server)
    async with bgfetch.open_user_agent(network=virtual_network, quota=1000) as ua:
        harness = await Harness.open(ua)
        first = await harness.fetch("first", "/a")
        await eventually(lambda: not first.records_available)
        origin = concept(first).service_worker_registration.origin
        assert ua.store.usage(origin) == 0
        second = await harness.fetch("second", "/b")
        await eventually(lambda: second.result != "")
        assert (second.result, second.failure_reason) == ("success", "")
        assert second.downloaded == 600
