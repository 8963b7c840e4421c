"""#update-background-fetch-instance-algorithm and #background-fetch-stored-body-bytes-total:
every step and branch, seen through BackgroundFetchRegistration objects and their progress
events.

Each test names the step it pins; its docstring quotes or paraphrases that step.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing
from algorithm_support import (
    Harness,
    Progress,
    concept,
    eventually,
    pattern,
    record_progress,
)

import bgfetch
from bgfetch.editions.current.concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    BackgroundFetchResponse,
)
from bgfetch.editions.current.instances import (
    get_a_background_fetch_registration_instance,
    update_background_fetch_instances,
)
from bgfetch.fetch.request import InternalRequest
from bgfetch.infra import EventLoop, ParallelQueue, TaskOwner
from bgfetch.store.memory import MemoryStore
from bgfetch.sw.registration import registration_object
from bgfetch.url import parse_url


def changed(a: Progress, b: Progress) -> bool:
    fields = ("downloaded", "uploaded", "result", "failure_reason")
    return any(getattr(a, f) != getattr(b, f) for f in fields)


async def settle_updates(bg_fetch: BackgroundFetch) -> None:
    """Let the update handling queue and the event loops run what was enqueued so far."""
    await bg_fetch.update_handling_queue.wait_idle()
    await trio.testing.wait_all_tasks_blocked()


# -- stored body bytes total ------------------------------------------------------------


@pytest.mark.step("#background-fetch-stored-body-bytes-total", "1", "2", "2.1", "3")
def test_stored_body_bytes_total_sums_every_records_bytes():
    """Stored body bytes total 1-3: total starts at 0 and is incremented by the length of
    each record's response data's bytes."""
    store = MemoryStore(None)
    origin = parse_url("https://example.test/").origin
    records = []
    for size in (0, 3, 10):
        data = BackgroundFetchResponse(store.new_bytes(origin))
        if size:
            data.append(b"x" * size)
        url = parse_url(f"https://example.test/{size}")
        records.append(BackgroundFetchRecord(InternalRequest(url=url), data))
    bg_fetch = BackgroundFetch(
        id="sum",
        records=records,
        title="",
        download_total=0,
        upload_total=0,
        icons=[],
        service_worker_registration=None,  # type: ignore[arg-type]
        update_handling_queue=ParallelQueue("update handling queue of 'sum'"),
        tasks=TaskOwner("sum", until="idle"),
    )
    # The steps, and the total kept as the records' bytes change (what the algorithms read).
    assert bg_fetch.stored_body_bytes_total_by_the_steps() == 13
    assert bg_fetch.stored_body_bytes_total() == 13
    records[1].response_data.append(b"y" * 5)
    assert bg_fetch.stored_body_bytes_total_by_the_steps() == 18
    assert bg_fetch.stored_body_bytes_total() == 18
    records[2].response_data = BackgroundFetchResponse(store.new_bytes(origin))
    assert bg_fetch.stored_body_bytes_total_by_the_steps() == 8
    assert bg_fetch.stored_body_bytes_total() == 8
    bg_fetch.records = []
    assert bg_fetch.stored_body_bytes_total_by_the_steps() == 0
    assert bg_fetch.stored_body_bytes_total() == 0


# -- steps 1-5 and 6.6-6.10: what a progress event carries --------------------------------


@pytest.mark.step("#update-background-fetch-instance-algorithm", "1", "6.5", "6.6", "6.10")
async def test_update_instances_downloaded_grows_monotonically_to_the_total(
    user_agent, origin_server
):
    """Step 1: "Let downloaded be bgFetch's stored body bytes total" (over every record);
    6.6 and 6.10: the instance's downloaded is set, then "progress" fires.  While two
    resources download, downloaded only grows, every event reports a change (6.5), and
    the last reaches the sum of both bodies together with the result."""
    origin_server.add("/one", pattern(3000, seed=1), throttle=1000)
    origin_server.add("/two", pattern(2000, seed=2), throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("grows", ["/one", "/two"])
    progress = record_progress(registration)
    await harness.wait_settled("grows")
    downloads = [p.downloaded for p in progress]
    assert len(progress) > 5
    assert downloads == sorted(downloads)
    assert any(3000 < d < 5000 for d in downloads)  # both records counted mid-way
    assert all(changed(a, b) for a, b in zip(progress, progress[1:], strict=False))
    assert (progress[-1].downloaded, progress[-1].result) == (5000, "success")
    assert registration.downloaded == 5000


@pytest.mark.step("#update-background-fetch-instance-algorithm", "1")
@pytest.mark.step("#complete-a-record-algorithm", "process response 3.4")
async def test_update_instances_downloaded_drops_when_a_record_restarts(user_agent, origin_server):
    """Step 1 after complete a record, process response 3.4: the record's response data is
    replaced by a new, empty one ("redundant" restart), and the update that follows
    reports the stored body bytes total of the *new* data: downloaded falls back to 0,
    then grows to the resource's size."""
    body = pattern(6000, seed=3)
    origin_server.add("/restarts", body, throttle=2000, cut_after=2500, ranges=False)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("restarts", "/restarts")
    progress = record_progress(registration)
    await harness.wait_settled("restarts")
    downloads = [p.downloaded for p in progress]
    drop = downloads.index(0)
    assert downloads[drop - 1] == 2500
    assert downloads[:drop] == sorted(downloads[:drop])
    assert downloads[drop:] == sorted(downloads[drop:])
    assert downloads[-1] == len(body) == registration.downloaded


@pytest.mark.step("#update-background-fetch-instance-algorithm", "2", "6.7")
async def test_update_instances_uploaded_reaches_the_page(user_agent, origin_server):
    """Step 2: "Let uploaded be bgFetch's uploaded"; 6.7 sets the instance's uploaded."""
    origin_server.add_echo("/echo")
    harness = await Harness.open(user_agent)
    request = bgfetch.Request("https://example.test/echo", method="POST", body="u" * 100_000)
    registration = await harness.fetch("uploads", request)
    progress = record_progress(registration)
    await harness.wait_settled("uploads")
    assert max(p.uploaded for p in progress) == 100_000
    assert registration.uploaded == 100_000 == registration.upload_total


@pytest.mark.step("#update-background-fetch-instance-algorithm", "3", "4", "6.8", "6.9")
async def test_update_instances_result_and_failure_reason_reach_the_page(user_agent, origin_server):
    """Steps 3-4 and 6.8-6.9: the result and failure reason are copied to the instance,
    and the progress event that carries them is the last one."""
    origin_server.add("/fine", b"fine")
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("failing", ["/fine", "/absent"])
    progress = record_progress(registration)
    await harness.wait_settled("failing")
    assert (progress[-1].result, progress[-1].failure_reason) == ("failure", "bad-status")
    assert all(p.result == "" for p in progress[:-1])
    assert (registration.result, registration.failure_reason) == ("failure", "bad-status")


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.10")
async def test_update_instances_fires_progress_at_onprogress_and_listeners(
    user_agent, origin_server
):
    """Step 6.10: "Fire an event named "progress" at bgFetchRegistration": its onprogress
    handler and its listeners each receive it, after 6.6-6.9 set the values."""
    origin_server.add("/p", pattern(1000), throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("listeners", "/p")
    handler_saw: list[tuple[str, int]] = []
    listener_saw: list[tuple[str, int]] = []
    registration.onprogress = lambda event: handler_saw.append(
        (event.type, registration.downloaded)
    )
    registration.add_event_listener(
        "progress", lambda event: listener_saw.append((event.type, registration.downloaded))
    )
    await harness.wait_settled("listeners")
    assert handler_saw and handler_saw == listener_saw
    assert {type for type, _ in handler_saw} == {"progress"}
    assert handler_saw[-1] == ("progress", 1000)


# -- step 6: which instances --------------------------------------------------------------


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6", "6.1")
async def test_update_instances_reach_each_same_origin_realm_holding_an_instance(
    user_agent, origin_server
):
    """Steps 6-6.1: for each environment whose origin is the scope URL's origin, the
    instance in that realm is updated: a second window that got the fetch with get() has
    its own instance, and both hear every progress event."""
    origin_server.add("/shared", pattern(2000), throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("shared", "/shared")
    other_window = await user_agent.open_window("https://example.test/other-page")
    other_sw_registration = await other_window.navigator.service_worker.ready
    other = await other_sw_registration.background_fetch.get("shared")
    assert other is not None and other is not registration
    assert other.realm is other_window
    first, second = record_progress(registration), record_progress(other)
    await harness.wait_settled("shared")
    assert first and [p.downloaded for p in first] == [p.downloaded for p in second]
    assert (other.downloaded, other.result) == (2000, "success")


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.1", "6.2")
async def test_update_instances_create_no_instance_where_none_exists(user_agent, origin_server):
    """Steps 6.1-6.2: "the instance ... within the relevant realm ..., or null if none
    exists.  If bgFetchRegistration is null, then abort these steps": a same-origin
    window that never asked for the fetch gets no instance from the updates."""
    origin_server.add("/quiet", pattern(2000), throttle=1000)
    harness = await Harness.open(user_agent)
    bystander = await user_agent.open_window("https://example.test/bystander")
    await harness.fetch("quiet", "/quiet")
    await harness.wait_settled("quiet")
    bystander_registration = registration_object(harness.sw_registration.registration, bystander)
    assert bystander_registration.background_fetch.instances == {}


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6")
async def test_update_instances_skip_environments_of_other_origins(
    user_agent, origin_server, virtual_network
):
    """Step 6: only environments "whose origin is equal to bgFetch's service worker
    registration's scope URL's origin" are visited: an instance in a window of another
    origin (made by hand: no API can make one there) never changes."""
    origin_server.add("/mine", pattern(2000), throttle=1000)
    harness = await Harness.open(user_agent)
    registration = await harness.fetch("mine", "/mine")
    stranger = await user_agent.open_window("https://other.test/")
    foreign = get_a_background_fetch_registration_instance(concept(registration), stranger)
    foreign_progress = record_progress(foreign)
    await harness.wait_settled("mine")
    assert registration.downloaded == 2000
    assert foreign_progress == []
    assert (foreign.downloaded, foreign.result) == (0, "")


# -- steps 6.3-6.5: when nothing is fired -------------------------------------------------


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.5")
async def test_update_instances_no_event_when_nothing_changed(virtual_network, origin_server):
    """Step 6.5: if downloaded, uploaded, result and failure reason all equal the
    instance's, abort: no progress event.  A paused fetch changes nothing; once its
    uploaded changes, one event reports it, and repeating the update fires no more."""
    origin_server.add("/waiting", b"w")
    async with bgfetch.open_user_agent(network=virtual_network, permission="prompt") as ua:
        harness = await Harness.open(ua)
        registration = await harness.fetch("unchanged", "/waiting")
        bg_fetch = concept(registration)
        progress = record_progress(registration)
        for _ in range(3):
            update_background_fetch_instances(bg_fetch)
        await settle_updates(bg_fetch)
        assert progress == []
        bg_fetch.uploaded = 7
        update_background_fetch_instances(bg_fetch)
        update_background_fetch_instances(bg_fetch)
        await settle_updates(bg_fetch)
        assert [(p.uploaded, p.downloaded, p.result) for p in progress] == [(7, 0, "")]
        assert registration.uploaded == 7
        ua.ui.find("unchanged").refuse()
        await harness.wait_settled("unchanged")


@pytest.mark.step("#update-background-fetch-instance-algorithm", "1", "2", "6.10")
async def test_update_instances_coalesced_while_queued(virtual_network, origin_server, monkeypatch):
    """SPEC-NOTES.md SN-current-34 (the spec's Issue: "debounce this"): updates made while
    earlier steps wait in the update handling queue, not yet begun, enqueue nothing; the
    waiting steps read the values when they begin, so they queue one task per realm and
    one event carries the newest values, and an update after they began is heard again."""
    origin_server.add("/waiting", b"w")
    queued: list[EventLoop] = []
    queue_task = EventLoop.queue_task

    def counted(loop: EventLoop, steps: Any) -> None:
        queued.append(loop)
        queue_task(loop, steps)

    async with bgfetch.open_user_agent(network=virtual_network, permission="prompt") as ua:
        harness = await Harness.open(ua)
        registration = await harness.fetch("coalesced", "/waiting")
        bg_fetch = concept(registration)
        realms = [e for e in ua.environments if e.origin == registration.realm.origin]
        progress = record_progress(registration)
        await settle_updates(bg_fetch)
        monkeypatch.setattr(EventLoop, "queue_task", counted)
        for uploaded in (1, 2, 3):  # no checkpoint in between: the queue has not run
            bg_fetch.uploaded = uploaded
            update_background_fetch_instances(bg_fetch)
        await settle_updates(bg_fetch)
        assert [p.uploaded for p in progress] == [3]
        assert len(queued) == len(realms)  # the steps ran once, not three times
        bg_fetch.uploaded = 4
        update_background_fetch_instances(bg_fetch)
        await settle_updates(bg_fetch)
        assert [p.uploaded for p in progress] == [3, 4]
        assert len(queued) == 2 * len(realms)
        monkeypatch.undo()
        ua.ui.find("coalesced").refuse()
        await harness.wait_settled("coalesced")


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.4")
async def test_update_instances_no_progress_after_settle(user_agent, origin_server):
    """Step 6.4: "If bgFetchRegistration's result is not the empty string, then abort these
    steps" ("this prevents progress being reported after the background fetch has
    settled"): after the progress event carrying the result, no update -- the records
    becoming unavailable, bytes appended to a record late, a changed uploaded -- fires
    another or changes the instance's values."""
    origin_server.add("/done", pattern(1000))
    harness = await Harness.open(user_agent)
    harness.hold = trio.Event()  # the worker's event stays active: records stay available
    registration = await harness.fetch("settled", "/done")
    bg_fetch = concept(registration)
    progress = record_progress(registration)
    await eventually(lambda: bool(progress) and progress[-1].result == "success")
    count = len(progress)
    bg_fetch.records[0].response_data.append(b"late bytes")
    bg_fetch.uploaded = 99
    update_background_fetch_instances(bg_fetch)
    await settle_updates(bg_fetch)
    harness.hold.set()
    await eventually(lambda: not registration.records_available)
    await trio.sleep(60)
    assert len(progress) == count
    assert (registration.downloaded, registration.uploaded) == (1000, 0)
    assert (registration.result, registration.failure_reason) == ("success", "")


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.3", "6.4")
async def test_update_instances_unset_records_available_even_after_the_result(
    user_agent, origin_server
):
    """Step 6.3 comes before 6.4: "If recordsAvailable is false and bgFetchRegistration's
    records available flag is set, then unset it" even though the instance's result is
    already set -- and without a progress event (6.4 then aborts)."""
    origin_server.add("/r", b"r")
    harness = await Harness.open(user_agent)
    harness.hold = trio.Event()
    registration = await harness.fetch("unavailable", "/r")
    progress = record_progress(registration)
    await eventually(lambda: registration.result == "success")
    count = len(progress)
    assert registration.records_available is True
    harness.hold.set()
    await eventually(lambda: not registration.records_available)
    await trio.sleep(60)
    assert len(progress) == count
    assert registration.result == "success"
