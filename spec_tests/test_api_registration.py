"""BackgroundFetchRegistration (#background-fetch-registration): attributes, progress,
abort(), match(), matchAll(), and one instance per realm.

WPT: abort.https.window.js 1-2, match.https.window.js 1-5, fetch-uploads.https.window.js 2.
"""

from __future__ import annotations

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
from bgfetch.editions.current.concepts import registration_extension
from bgfetch.editions.current.instances import update_background_fetch_instances
from bgfetch.testing import WorkerRecorder, open_window_with_worker

SLOW = 2000  # seconds: "/slow" stays pending for the whole test


async def page(user_agent, origin_server, **worker_options):
    origin_server.add(FEATURE_PATH, FEATURE)
    origin_server.add("/slow", b"", delay=SLOW)
    worker = WorkerRecorder(**worker_options)
    window, registration = await open_window_with_worker(user_agent, worker)
    return worker, window, registration


async def text_of(record) -> str:
    return await (await record.response_ready).text()


# -- attributes ------------------------------------------------------------------------


@pytest.mark.step("#background-fetch-registration")
async def test_attributes_are_copies_of_the_background_fetch(user_agent, origin_server):
    origin_server.add_echo("/upload")
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + "/upload", method="POST", body="12345")
    bg = await registration.background_fetch.fetch("attrs", [request, "/slow"], download_total=999)
    assert (bg.id, bg.upload_total, bg.download_total) == ("attrs", 5, 999)
    assert (bg.uploaded, bg.downloaded, bg.result, bg.failure_reason) == (0, 0, "", "")
    assert bg.records_available is True
    # Copies, "so they're available synchronously": the concept moving on does not
    # change them until update background fetch instances runs.
    bg_fetch = concept(bg)
    bg_fetch.uploaded = 3
    bg_fetch.result = "failure"
    assert (bg.uploaded, bg.result) == (0, "")


@pytest.mark.step("#background-fetch-registration")
async def test_attributes_are_read_only(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("ro", "/slow")
    for name in (
        "id",
        "upload_total",
        "uploaded",
        "download_total",
        "downloaded",
        "result",
        "failure_reason",
        "records_available",
    ):
        with pytest.raises(AttributeError):
            setattr(bg, name, 1)


@pytest.mark.step("#background-fetch-registration")
@pytest.mark.step("#get-a-backgroundfetchregistration-instance-algorithm", "3")
async def test_a_new_instance_copies_the_values_of_that_moment(user_agent, origin_server):
    # The instance's downloaded is "initially a copy of ... stored body bytes total".
    origin_server.add("/big", b"x" * 1000, throttle=100)
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("copy", "/big")
    await trio.sleep(4)
    other_window = await user_agent.open_window(ORIGIN + "/other.html")
    other_manager = (await other_window.navigator.service_worker.ready).background_fetch
    other = await other_manager.get("copy")
    assert 0 < other.downloaded < 1000
    settled = await worker.settled("copy")
    assert settled.downloaded == 1000


# -- progress (update background fetch instances, as the registration sees it) ---------


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.6", "6.10")
async def test_progress_fires_as_bytes_are_stored(user_agent, origin_server):
    origin_server.add("/big", b"x" * 1000, throttle=250)
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("progress", "/big")
    seen: list[tuple[int, str]] = []
    bg.onprogress = lambda event: seen.append((bg.downloaded, event.type))
    await worker.settled("progress")
    await eventually(lambda: bg.result == "success")
    downloaded = [d for d, _ in seen]
    assert {t for _, t in seen} == {"progress"}
    assert len(seen) > 3
    assert downloaded == sorted(downloaded) and downloaded[-1] == 1000


@pytest.mark.step("#background-fetch-registration-events")
async def test_onprogress_runs_where_it_was_set_and_each_listener_once(user_agent, origin_server):
    # HTML: an event handler's listener is added when it is first set, after the
    # listeners added before (spec_tests/test_dom_events.py has the rest of the rule).
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("order", FEATURE_PATH)
    calls: list[str] = []

    def listener(event):
        calls.append("listener")

    bg.add_event_listener("progress", listener)
    bg.add_event_listener("progress", listener)  # the same listener is added once
    bg.onprogress = lambda event: calls.append("onprogress")
    await eventually(lambda: bg.result == "success")
    assert calls[:2] == ["listener", "onprogress"]
    assert calls == ["listener", "onprogress"] * (len(calls) // 2)


@pytest.mark.step("#background-fetch-registration-events")
async def test_a_removed_listener_hears_nothing(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("removed", FEATURE_PATH)
    calls: list[int] = []

    def listener(event):
        calls.append(1)

    bg.add_event_listener("progress", listener)
    bg.remove_event_listener("progress", listener)
    await eventually(lambda: bg.result == "success")
    assert calls == []


@pytest.mark.step("#background-fetch-registration-events")
async def test_async_progress_listeners_run(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("async", FEATURE_PATH)
    seen: list[int] = []

    async def listener(event):
        await trio.sleep(0)
        seen.append(bg.downloaded)

    bg.add_event_listener("progress", listener)
    await eventually(lambda: bg.result == "success" and seen[-1:] == [16])


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.3", "6.4")
async def test_progress_stops_once_the_instance_has_a_result(user_agent, origin_server):
    # Update background fetch instances step 6.4: after the settling update no progress
    # event fires, though recordsAvailable still changes (step 6.3).
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("quiet", FEATURE_PATH)
    seen: list[tuple[str, bool]] = []
    bg.add_event_listener("progress", lambda event: seen.append((bg.result, bg.records_available)))
    await worker.settled("quiet")
    await eventually(lambda: not bg.records_available)
    await trio.sleep(1)
    assert seen[-1] == ("success", True)
    assert [result for result, _ in seen].count("success") == 1
    # Late progress (a record still terminating after an abort) is not reported either.
    concept(bg).uploaded = 99
    update_background_fetch_instances(concept(bg))
    await trio.sleep(1)
    assert bg.uploaded == 0 and seen[-1] == ("success", True)


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.5")
async def test_progress_does_not_fire_when_nothing_changed(user_agent, origin_server):
    # Update background fetch instances step 6.5.
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("unchanged", "/slow")
    seen: list[int] = []
    bg.add_event_listener("progress", lambda event: seen.append(bg.uploaded))
    update_background_fetch_instances(concept(bg))
    await trio.sleep(1)
    assert seen == []
    concept(bg).uploaded = 7
    update_background_fetch_instances(concept(bg))
    await eventually(lambda: seen == [7])


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.7")
async def test_progress_includes_uploaded_bytes(user_agent, origin_server):
    # WPT fetch-uploads 2: at the first progress with downloaded != 0, uploaded is 17.
    origin_server.add_echo("/upload")
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(
        ORIGIN + "/upload",
        method="POST",
        body="Background Fetch!",
        headers={"Content-Type": "text/plain"},
    )
    bg = await registration.background_fetch.fetch("upload-progress", [request, "/slow"])
    assert bg.upload_total == 17
    first: list[int] = []

    def on_progress(event):
        if bg.downloaded != 0 and not first:
            first.append(bg.uploaded)

    bg.onprogress = on_progress
    await eventually(lambda: first != [])
    assert first == [17]


# -- abort() ---------------------------------------------------------------------------


@pytest.mark.step("#background-fetch-registration-abort", "3.3", "3.4", "3.5")
async def test_abort_twice_returns_true_then_false(user_agent, origin_server):
    # Steps 3.3-3.5; WPT abort 1.
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("twice", [FEATURE_PATH, "/slow"])
    assert await bg.abort() is True
    assert await bg.abort() is False


@pytest.mark.step("#background-fetch-registration-abort", "3.4")
async def test_abort_removes_the_fetch_from_active_background_fetches(user_agent, origin_server):
    # Step 3.4.
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("removed", "/slow")
    active = registration_extension(registration.registration).active_background_fetches
    assert "removed" in active
    assert await bg.abort() is True
    assert "removed" not in active
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-registration-abort", "3.6")
async def test_abort_sets_the_abort_all_flag_and_fires_backgroundfetchabort(
    user_agent, origin_server
):
    # Step 3.6.
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("flag", "/slow")
    assert concept(bg).abort_all is False
    assert await bg.abort() is True
    assert concept(bg).abort_all is True
    settled = await worker.settled("flag")
    assert settled.type == "backgroundfetchabort"
    assert (settled.result, settled.failure_reason) == ("failure", "aborted")


@pytest.mark.step("#background-fetch-registration-abort", "3.6")
@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.4", "8.10")
async def test_abort_sets_the_fields_and_responses_stay_available(user_agent, origin_server):
    # WPT abort 2: abort once downloaded >= 16, from a progress listener.
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("abort-fields", [FEATURE_PATH, "/slow"])
    aborted: list[bool] = []

    async def on_progress(event):
        if bg.downloaded >= 16 and not aborted:
            aborted.append(await bg.abort())

    bg.onprogress = on_progress
    settled = await worker.settled("abort-fields")
    assert aborted == [True]
    assert settled.type == "backgroundfetchabort"
    assert (settled.result, settled.failure_reason) == ("failure", "aborted")
    await eventually(lambda: bg.result == "failure")
    assert bg.failure_reason == "aborted"
    assert len(settled.responses) == 2
    responses = [(r.status, r.text) for r in settled.responses if r.error is None]
    assert responses == [(200, FEATURE)]
    assert [type(r.error).__name__ for r in settled.responses if r.error] == ["AbortError"]


@pytest.mark.step("#background-fetch-registration-abort", "3.3")
async def test_abort_after_the_fetch_settled_returns_false(user_agent, origin_server):
    # Step 3.3: the map no longer has the id.
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("settled", FEATURE_PATH)
    await worker.settled("settled")
    assert await bg.abort() is False
    assert worker.by_id["settled"].type == "backgroundfetchsuccess"


@pytest.mark.step("#background-fetch-registration-abort", "3.3")
@pytest.mark.step("#contains-background-fetch-algorithm", "3")
async def test_abort_of_a_stale_instance_returns_false_when_its_id_was_reused(
    user_agent, origin_server
):
    # Step 3.3: the map has the id, but for another background fetch (contains
    # background fetch compares the background fetch, not only the id).
    worker, _, registration = await page(user_agent, origin_server)
    old = await registration.background_fetch.fetch("reused", FEATURE_PATH)
    await worker.settled("reused")
    new = await registration.background_fetch.fetch("reused", "/slow")
    assert await old.abort() is False
    assert concept(new).abort_all is False
    assert await registration.background_fetch.get_ids() == ["reused"]
    assert await new.abort() is True


@pytest.mark.step("#background-fetch-registration-abort", "3.4")
@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.3")
async def test_an_aborted_fetch_settling_leaves_a_new_fetch_with_its_id_alone(
    user_agent, origin_server
):
    # abort() removed the id at once (step 3.4), so the id can be reused before the
    # aborted fetch settles; perform step 8.3 then finds another background fetch there.
    origin_server.add("/slow-head", b"", delay=5)
    worker, _, registration = await page(user_agent, origin_server)
    old = await registration.background_fetch.fetch("reused", "/slow-head")
    assert await old.abort() is True
    new = await registration.background_fetch.fetch("reused", "/slow")
    settled = await worker.settled("reused")
    assert settled.registration.background_fetch is concept(old)
    assert (settled.type, settled.failure_reason) == ("backgroundfetchabort", "aborted")
    assert await registration.background_fetch.get_ids() == ["reused"]
    assert await registration.background_fetch.get("reused") is new
    assert concept(new).abort_all is False


@pytest.mark.step("#background-fetch-registration-abort", "3.3", "3.5")
async def test_abort_from_the_workers_realm(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("from-worker", "/slow")
    scope = registration.active.global_scope
    in_worker = await scope.registration.background_fetch.get("from-worker")
    assert in_worker is not bg
    assert await in_worker.abort() is True
    assert await bg.abort() is False
    assert (await worker.settled("from-worker")).type == "backgroundfetchabort"


# -- match() and matchAll() ------------------------------------------------------------


@pytest.mark.step("#background-fetch-registration-match", "1", "2")
async def test_match_finds_a_single_request(user_agent, origin_server):
    # WPT match 1.
    worker, _, registration = await page(user_agent, origin_server)
    found: list[object] = []

    @worker.on("backgroundfetchsuccess")
    async def on_success(event):
        record = await event.registration.match(FEATURE_PATH)
        found.append((record.request.url, await text_of(record)))

    await registration.background_fetch.fetch("matchexistingrequest", FEATURE_PATH)
    await worker.settled("matchexistingrequest")
    await eventually(lambda: found != [])
    assert found == [(ORIGIN + FEATURE_PATH, FEATURE)]


@pytest.mark.step("#background-fetch-registration-match", "2")
async def test_match_resolves_none_for_a_missing_request(user_agent, origin_server):
    # Step 2 (matches[0] of an empty list is undefined); WPT match 2.
    worker, _, registration = await page(user_agent, origin_server)
    found: list[object] = []

    @worker.on("backgroundfetchsuccess")
    async def on_success(event):
        found.append(await event.registration.match("/missing.txt"))

    await registration.background_fetch.fetch("matchmissingrequest", FEATURE_PATH)
    settled = await worker.settled("matchmissingrequest")
    await eventually(lambda: found != [])
    assert found == [None]
    assert settled.result == "success"


@pytest.mark.step("#background-fetch-registration-match", "1")
@pytest.mark.step("#create-settled-fetches-algorithm", "2.2", "2.7")
async def test_match_twice_gives_two_readable_records(user_agent, origin_server):
    # WPT match 3: each match() creates new record objects, each with its own stream.
    worker, _, registration = await page(user_agent, origin_server)
    texts: list[str] = []

    @worker.on("backgroundfetchsuccess")
    async def on_success(event):
        first = await event.registration.match(FEATURE_PATH)
        second = await event.registration.match(FEATURE_PATH)
        assert first is not second
        texts.extend([await text_of(first), await text_of(second)])

    await registration.background_fetch.fetch("matchexistingrequesttwice", FEATURE_PATH)
    await worker.settled("matchexistingrequesttwice")
    await eventually(lambda: len(texts) == 2)
    assert texts == [FEATURE, FEATURE]


@pytest.mark.step("#background-fetch-registration-match", "1")
@pytest.mark.step("#background-fetch-registration-match-all", "1")
async def test_match_works_while_the_fetch_is_active(user_agent, origin_server):
    # WPT match 4: "Access to active fetches is supported".
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("active", [FEATURE_PATH, "/slow"])
    record = await bg.match(FEATURE_PATH)
    assert await text_of(record) == FEATURE
    assert bg.result == "" and await registration.background_fetch.get_ids() == ["active"]


@pytest.mark.step("#background-fetch-registration-match", "2")
async def test_match_returns_the_first_matching_record(user_agent, origin_server):
    # Step 2: matches[0], in records order.
    worker, _, registration = await page(user_agent, origin_server)
    requests = [bgfetch.Request(ORIGIN + FEATURE_PATH, headers={"X-N": str(n)}) for n in (1, 2)]
    bg = await registration.background_fetch.fetch("first", requests)
    record = await bg.match(FEATURE_PATH)
    assert record.request.headers.get("X-N") == "1"
    assert [r.request.headers.get("X-N") for r in await bg.match_all(FEATURE_PATH)] == ["1", "2"]


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_all_with_query_options(user_agent, origin_server):
    # WPT match 5.
    _, _, registration = await page(user_agent, origin_server)
    requests = [
        FEATURE_PATH,
        FEATURE_PATH,
        FEATURE_PATH + "?id=3",
        bgfetch.Request(ORIGIN + FEATURE_PATH, method="PUT", body="put"),
        "/slow",
    ]
    bg = await registration.background_fetch.fetch("options", requests)
    assert len(await bg.match_all(FEATURE_PATH)) == 2
    assert len(await bg.match_all(FEATURE_PATH, ignore_search=True)) == 3
    assert len(await bg.match_all(FEATURE_PATH, ignore_method=True)) == 3
    assert len(await bg.match_all(FEATURE_PATH, ignore_search=True, ignore_method=True)) == 4


@pytest.mark.step("#background-fetch-registration-match-all", "3.2", "3.2.1")
async def test_match_all_without_a_request_returns_every_record(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    requests = [FEATURE_PATH, bgfetch.Request(ORIGIN + "/put", method="PUT", body="x"), "/slow"]
    bg = await registration.background_fetch.fetch("all", requests)
    records = await bg.match_all()
    assert [(r.request.method, r.request.url) for r in records] == [
        ("GET", ORIGIN + FEATURE_PATH),
        ("PUT", ORIGIN + "/put"),
        ("GET", ORIGIN + "/slow"),
    ]


@pytest.mark.step("#background-fetch-registration-match-all", "3.3")
@pytest.mark.step("#create-settled-fetches-algorithm", "2.2")
async def test_match_all_creates_new_record_objects_each_time(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("fresh", FEATURE_PATH)
    (a,) = await bg.match_all()
    (b,) = await bg.match_all()
    assert a is not b and a.request is not b.request
    assert a.response_ready is not b.response_ready


@pytest.mark.step("#background-fetch-registration-match-all", "1")
async def test_match_all_rejects_with_invalid_state_error_once_records_are_unavailable(
    user_agent, origin_server
):
    # Step 1.
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("gone", FEATURE_PATH)
    await worker.settled("gone")
    await eventually(lambda: not bg.records_available)
    with pytest.raises(bgfetch.InvalidStateError, match="'gone' are no longer available"):
        await bg.match_all()
    with pytest.raises(bgfetch.InvalidStateError):
        await bg.match(FEATURE_PATH)


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_all_with_a_non_get_query_matches_nothing_without_ignore_method(
    user_agent, origin_server
):
    _, _, registration = await page(user_agent, origin_server)
    requests = [FEATURE_PATH, bgfetch.Request(ORIGIN + FEATURE_PATH, method="PUT", body="x")]
    bg = await registration.background_fetch.fetch("put-query", requests)
    query = bgfetch.Request(ORIGIN + FEATURE_PATH, method="PUT", body="y")
    assert await bg.match_all(query) == []
    assert await bg.match(query) is None
    matched = await bg.match_all(query, ignore_method=True)
    assert [r.request.method for r in matched] == ["GET", "PUT"]


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_all_with_ignore_method_includes_the_put_record(user_agent, origin_server):
    # Request matches cached item step 1: a non-GET record only with ignoreMethod.
    _, _, registration = await page(user_agent, origin_server)
    put = bgfetch.Request(ORIGIN + FEATURE_PATH, method="PUT", body="x")
    bg = await registration.background_fetch.fetch("put", [put, "/slow"])
    assert await bg.match_all(FEATURE_PATH) == []
    (record,) = await bg.match_all(FEATURE_PATH, ignore_method=True)
    assert record.request.method == "PUT"
    assert await record.request.text() == "x"


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_all_with_ignore_search_drops_both_queries(user_agent, origin_server):
    # Request matches cached item step 4.
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch(
        "search", [FEATURE_PATH + "?a=1", FEATURE_PATH + "?b=2", "/slow?a=1"]
    )
    assert [r.request.url for r in await bg.match_all(FEATURE_PATH + "?a=1")] == [
        ORIGIN + FEATURE_PATH + "?a=1"
    ]
    assert await bg.match_all(FEATURE_PATH) == []
    matched = await bg.match_all(FEATURE_PATH + "?c=3", ignore_search=True)
    assert [r.request.url for r in matched] == [
        ORIGIN + FEATURE_PATH + "?a=1",
        ORIGIN + FEATURE_PATH + "?b=2",
    ]


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_ignores_the_fragment(user_agent, origin_server):
    # Request matches cached item step 5: "with exclude fragments set".
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("fragment", FEATURE_PATH + "#top")
    record = await bg.match(FEATURE_PATH + "#bottom")
    assert record is not None and record.request.url == ORIGIN + FEATURE_PATH + "#top"
    assert await bg.match(FEATURE_PATH) is not None


@pytest.mark.step("#background-fetch-registration-match", "1")
@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_with_a_request_object_and_a_relative_url(user_agent, origin_server):
    # The query is a Request made from the RequestInfo, relative to the realm's base URL.
    origin_server.add("/app/data.txt", "app data")
    worker = WorkerRecorder()
    _, registration = await open_window_with_worker(user_agent, worker, ORIGIN + "/app/index.html")
    bg = await registration.background_fetch.fetch("query", "data.txt")
    assert (await bg.match("data.txt")).request.url == ORIGIN + "/app/data.txt"
    assert await bg.match(bgfetch.Request(ORIGIN + "/app/data.txt")) is not None
    assert await bg.match("/data.txt") is None


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_checks_vary_headers_of_the_stored_response(user_agent, origin_server):
    # Request matches cached item steps 6-8.
    origin_server.add("/lang", "bonjour", headers=[("Vary", "X-Lang, X-Other")])
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + "/lang", headers={"X-Lang": "fr"})
    bg = await registration.background_fetch.fetch("vary", [request, "/slow"])
    await eventually(lambda: concept(bg).records[0].response_data.result == "success")
    same = bgfetch.Request(ORIGIN + "/lang", headers={"X-Lang": "fr"})
    other = bgfetch.Request(ORIGIN + "/lang", headers={"X-Lang": "en"})
    extra = bgfetch.Request(ORIGIN + "/lang", headers={"X-Lang": "fr", "X-Other": "1"})
    assert await bg.match(same) is not None
    assert await bg.match(other) is None
    assert await bg.match(extra) is None  # X-Other: absent in the record, present in the query
    assert await bg.match("/lang") is None  # no X-Lang in the query
    assert await bg.match(other, ignore_vary=True) is not None


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_never_matches_vary_star_without_ignore_vary(user_agent, origin_server):
    # Request matches cached item step 8.1: fieldValue "*".
    origin_server.add("/star", "any", headers=[("Vary", "*")])
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("star", ["/star", "/slow"])
    await eventually(lambda: concept(bg).records[0].response_data.result == "success")
    assert await bg.match("/star") is None
    assert await bg.match("/star", ignore_vary=True) is not None


@pytest.mark.step("#background-fetch-registration-match-all", "3.2.1")
async def test_match_ignores_vary_while_the_response_is_null(user_agent, origin_server):
    # Request matches cached item step 6: response is null before the head arrives.
    origin_server.add("/later", "later", headers=[("Vary", "X-Lang")], delay=10)
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + "/later", headers={"X-Lang": "fr"})
    bg = await registration.background_fetch.fetch("null-response", [request, "/slow"])
    query = bgfetch.Request(ORIGIN + "/later", headers={"X-Lang": "en"})
    assert concept(bg).records[0].response_data.response is None
    assert await bg.match(query) is not None
    await eventually(lambda: concept(bg).records[0].response_data.response is not None)
    assert await bg.match(query) is None


# -- one instance per realm (get a BackgroundFetchRegistration instance) ---------------


@pytest.mark.step("#get-a-backgroundfetchregistration-instance-algorithm", "2", "3")
async def test_one_instance_per_background_fetch_per_realm(user_agent, origin_server):
    worker = WorkerRecorder()
    origin_server.add("/slow", b"", delay=SLOW)
    events: list[object] = []

    @worker.on("backgroundfetchclick")
    async def on_click(event):
        scope = registration.active.global_scope
        got = await scope.registration.background_fetch.get("realm")
        events.append((event.registration, got))

    window, registration = await open_window_with_worker(user_agent, worker)
    bg = await registration.background_fetch.fetch("realm", "/slow")
    user_agent.ui.find("realm").click()
    user_agent.ui.find("realm").click()
    await eventually(lambda: len(events) == 2)
    (first, got_first), (second, got_second) = events
    # In the worker's realm: one instance, whichever algorithm asks for it.
    assert first is second is got_first is got_second
    assert first.realm is registration.active.global_scope
    # In the window's realm: another one, for the same background fetch.
    assert first is not bg
    assert concept(first) is concept(bg)
    assert bg.realm is window
