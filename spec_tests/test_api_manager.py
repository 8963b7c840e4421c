"""BackgroundFetchManager (#background-fetch-manager): fetch(), get(), getIds().

One test per branch of each method's steps, named after the step, and the WPT cases
of fetch.https.window.js, get.https.window.js and get-ids.https.window.js.
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
    installing_only,
)

import bgfetch
from bgfetch.editions.current import BackgroundFetchRegistration
from bgfetch.editions.current.concepts import registration_extension
from bgfetch.testing import WorkerRecorder, open_window_with_worker

MAX_SAFE_INTEGER = 9007199254740991


async def page(user_agent, origin_server, *, slow=False):
    """A page with a reporting worker; FEATURE_PATH served (and /slow, 2 s, if asked)."""
    origin_server.add(FEATURE_PATH, FEATURE)
    origin_server.add("/slow", b"", delay=2000 if slow else 2)
    worker = WorkerRecorder()
    window, registration = await open_window_with_worker(user_agent, worker)
    return worker, window, registration


# -- fetch(): argument conversion (WebIDL, before the steps) ---------------------------


@pytest.mark.step("#background-fetch-manager-fetch")
async def test_fetch_rejects_a_non_string_id_with_type_error(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match="not 42"):
        await registration.background_fetch.fetch(42, FEATURE_PATH)


@pytest.mark.step("#background-fetch-manager-fetch")
async def test_fetch_rejects_a_negative_download_total_with_type_error(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match="not -1"):
        await registration.background_fetch.fetch("x", FEATURE_PATH, download_total=-1)
    assert await registration.background_fetch.get_ids() == []


# -- fetch() steps 4-6: requests --------------------------------------------------------


@pytest.mark.step("#background-fetch-manager-fetch", "4")
async def test_fetch_wraps_a_single_url_string_in_a_list(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("one", FEATURE_PATH)
    settled = await worker.settled("one")
    assert [(r.url, r.text) for r in settled.responses] == [(ORIGIN + FEATURE_PATH, FEATURE)]


@pytest.mark.step("#background-fetch-manager-fetch", "4")
async def test_fetch_wraps_a_single_request_object_in_a_list(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + FEATURE_PATH, headers={"X-Why": "test"})
    bg = await registration.background_fetch.fetch("one", request)
    assert len(concept(bg).records) == 1
    assert concept(bg).records[0].request.header_list.get("X-Why") == "test"
    settled = await worker.settled("one")
    assert settled.texts() == [FEATURE]


@pytest.mark.step("#background-fetch-manager-fetch", "4")
async def test_fetch_accepts_any_iterable_of_requests(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    requests = (url for url in [FEATURE_PATH, bgfetch.Request(ORIGIN + "/slow")])
    bg = await registration.background_fetch.fetch("gen", requests)
    assert [r.request.url.href for r in concept(bg).records] == [
        ORIGIN + FEATURE_PATH,
        ORIGIN + "/slow",
    ]
    assert (await worker.settled("gen")).result == "success"


@pytest.mark.step("#background-fetch-manager-fetch", "5")
async def test_fetch_rejects_an_empty_request_list_with_type_error(user_agent, origin_server):
    # Step 5; WPT fetch.https.window.js 2 (fetch(id, [])).
    _, _, registration = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match="'empty-list': at least one request"):
        await registration.background_fetch.fetch("empty-list", [])
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@domain/secret.txt",
        "https://username:password@example.com",
        "https://username:@example.com",
        "https://:password@example.com",
    ],
)
@pytest.mark.step("#background-fetch-manager-fetch", "6.1")
async def test_fetch_rejects_when_the_request_constructor_throws_for_credentials(
    user_agent, origin_server, url
):
    # Step 6.1 (the Request constructor throws); WPT fetch 2 and credentials-in-url.
    _, _, registration = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match="credentials") as err:
        await registration.background_fetch.fetch("creds", url)
    assert "@" in str(err.value)  # the message names the URL
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-manager-fetch", "6.1")
async def test_fetch_rejects_when_the_request_constructor_throws_for_an_invalid_url(
    user_agent, origin_server
):
    _, _, registration = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match=r"'https://\[oops/' is not a valid URL"):
        await registration.background_fetch.fetch("bad-url", "https://[oops/")


@pytest.mark.step("#background-fetch-manager-fetch", "6.2")
async def test_fetch_rejects_a_no_cors_request_with_type_error(user_agent, origin_server):
    # Step 6.2; WPT fetch 2 (Request(..., {mode: 'no-cors'})).
    _, _, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + FEATURE_PATH, mode="no-cors")
    with pytest.raises(TypeError, match=r"https://example.test/feature-name.txt: .*no-cors"):
        await registration.background_fetch.fetch("no-cors", request)
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-manager-fetch", "6.2")
async def test_fetch_rejects_the_whole_list_when_one_request_is_no_cors(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    requests = [FEATURE_PATH, bgfetch.Request(ORIGIN + "/other", mode="no-cors")]
    with pytest.raises(TypeError, match="/other"):
        await registration.background_fetch.fetch("mixed", requests)
    await trio.sleep(1)
    assert await registration.background_fetch.get_ids() == []
    assert origin_server.requests == []  # nothing was fetched
    assert user_agent.ui.displays == []


@pytest.mark.step("#background-fetch-manager-fetch", "6.3")
async def test_fetch_sets_each_request_client_to_null(user_agent, origin_server):
    # Step 6.3.
    _, window, registration = await page(user_agent, origin_server)
    request = bgfetch.Request(ORIGIN + "/slow")
    request.request.client = window  # as the web's Request constructor sets it
    bg = await registration.background_fetch.fetch("client", [FEATURE_PATH, request])
    assert [record.request.client for record in concept(bg).records] == [None, None]
    assert all(record.request.origin == window.origin for record in concept(bg).records)


@pytest.mark.step("#background-fetch-manager-fetch", "6.4", "6.5", "6.6")
async def test_fetch_makes_one_record_per_request_in_order(user_agent, origin_server):
    # Steps 6.4-6.6: a record per request, whose response data is a new response.
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("order", ["/slow", FEATURE_PATH, "/slow"])
    records = concept(bg).records
    assert [r.request.url.pathname for r in records] == ["/slow", FEATURE_PATH, "/slow"]
    assert len({id(r.response_data) for r in records}) == 3


@pytest.mark.step("#background-fetch-manager-fetch", "6.1")
async def test_fetch_resolves_relative_urls_against_the_window_url(user_agent, origin_server):
    origin_server.add("/app/data.txt", "app data")
    worker = WorkerRecorder()
    _, registration = await open_window_with_worker(user_agent, worker, ORIGIN + "/app/index.html")
    await registration.background_fetch.fetch("relative", "data.txt")
    settled = await worker.settled("relative")
    assert [(r.url, r.text) for r in settled.responses] == [(ORIGIN + "/app/data.txt", "app data")]


@pytest.mark.step("#background-fetch-manager-fetch", "6.1")
async def test_fetch_of_the_empty_url_fetches_the_page_itself(user_agent, origin_server):
    # WPT fetch 4: "Empty URL is OK".
    origin_server.add("/page.html", "<!doctype html>")
    worker = WorkerRecorder()
    _, registration = await open_window_with_worker(user_agent, worker, ORIGIN + "/page.html")
    await registration.background_fetch.fetch("empty-url", "")
    settled = await worker.settled("empty-url")
    assert settled.type == "backgroundfetchsuccess"
    assert settled.result == "success"
    assert [(r.url, r.text) for r in settled.responses] == [
        (ORIGIN + "/page.html", "<!doctype html>")
    ]


@pytest.mark.step("#background-fetch-manager-fetch", "8.14.1")
async def test_fetch_from_the_workers_realm_resolves_with_the_workers_instance(
    user_agent, origin_server
):
    # The manager is exposed in workers too; "this's relevant Realm" is the worker's.
    worker = WorkerRecorder()
    started: list[object] = []

    @worker.on("backgroundfetchclick")
    async def on_click(event):
        manager = event.registration.realm.registration.background_fetch
        started.append(await manager.fetch("from-worker", "feature-name.txt"))

    origin_server.add(FEATURE_PATH, FEATURE)
    origin_server.add("/slow", b"", delay=2000)
    _, registration = await open_window_with_worker(user_agent, worker)
    await registration.background_fetch.fetch("clicked", "/slow")
    user_agent.ui.find("clicked").click()
    settled = await worker.settled("from-worker")
    (bg,) = started
    assert bg.realm is registration.active.global_scope
    assert settled.registration is bg  # one instance in the worker's realm
    assert [(r.url, r.text) for r in settled.responses] == [(ORIGIN + FEATURE_PATH, FEATURE)]


# -- fetch() step 8: the active background fetches edit queue ---------------------------


@pytest.mark.step("#background-fetch-manager-fetch", "8.1", "8.2")
async def test_fetch_rejects_with_not_allowed_error_when_permission_is_denied(
    user_agent, origin_server
):
    # Steps 8.1-8.2.
    _, _, registration = await page(user_agent, origin_server)
    user_agent.permissions.set("background-fetch", ORIGIN, "denied")
    with pytest.raises(bgfetch.NotAllowedError, match="'denied-id'.*https://example.test") as err:
        await registration.background_fetch.fetch("denied-id", FEATURE_PATH)
    assert err.value.name == "NotAllowedError"
    await trio.sleep(1)
    assert await registration.background_fetch.get_ids() == []
    assert origin_server.requests == []
    assert user_agent.ui.displays == []


@pytest.mark.step("#background-fetch-manager-fetch", "8.1")
async def test_fetch_denied_for_another_origin_does_not_apply_here(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    user_agent.permissions.set("background-fetch", "https://elsewhere.test", "denied")
    await registration.background_fetch.fetch("allowed", FEATURE_PATH)
    assert (await worker.settled("allowed")).result == "success"


@pytest.mark.step("#background-fetch-manager-fetch", "8.2", "8.4")
async def test_fetch_checks_the_permission_before_the_active_worker(user_agent, origin_server):
    # Step 8.2 comes before step 8.4: denied wins over "no active worker".
    user_agent.permissions.set("background-fetch", ORIGIN, "denied")
    _, registration = await installing_only(user_agent)
    with pytest.raises(bgfetch.NotAllowedError):
        await registration.background_fetch.fetch("x", FEATURE_PATH)


@pytest.mark.step("#background-fetch-manager-fetch", "8.4")
async def test_fetch_rejects_with_type_error_without_an_active_worker(user_agent, origin_server):
    # Step 8.4; WPT fetch 1: "Background Fetch requires an activated Service Worker".
    origin_server.add(FEATURE_PATH, FEATURE)
    _, registration = await installing_only(user_agent)
    with pytest.raises(TypeError, match="'no-worker'.*has no active worker"):
        await registration.background_fetch.fetch("no-worker", FEATURE_PATH)
    assert await registration.background_fetch.get_ids() == []
    assert origin_server.requests == []


@pytest.mark.step("#background-fetch-manager-fetch", "8.5")
async def test_fetch_rejects_a_duplicate_id_while_active(user_agent, origin_server):
    # Step 8.5.
    _, _, registration = await page(user_agent, origin_server, slow=True)
    first = await registration.background_fetch.fetch("my-id", "/slow")
    with pytest.raises(TypeError, match="'my-id': there already is an active background fetch"):
        await registration.background_fetch.fetch("my-id", FEATURE_PATH)
    assert await registration.background_fetch.get_ids() == ["my-id"]
    assert await registration.background_fetch.get("my-id") is first
    assert len(user_agent.ui.displays) == 1


@pytest.mark.step("#background-fetch-manager-fetch", "8.5")
async def test_fetch_rejects_one_of_two_concurrent_fetches_with_the_same_id(
    user_agent, origin_server
):
    # WPT fetch 3: "IDs must be unique among active registrations".
    _, _, registration = await page(user_agent, origin_server, slow=True)
    outcomes: list[object] = []

    async def start(url: str) -> None:
        try:
            outcomes.append(await registration.background_fetch.fetch("my-id", url))
        except TypeError as error:
            outcomes.append(error)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(start, "/slow")
        nursery.start_soon(start, FEATURE_PATH)
    assert sorted(type(o).__name__ for o in outcomes) == [
        "BackgroundFetchRegistration",
        "TypeError",
    ]
    assert await registration.background_fetch.get_ids() == ["my-id"]


@pytest.mark.step("#background-fetch-manager-fetch", "8.5")
@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.3")
async def test_fetch_allows_an_id_again_once_the_fetch_settled(user_agent, origin_server):
    # Step 8.5 only looks at active background fetches (perform step 8.3 removed it).
    worker, _, registration = await page(user_agent, origin_server)
    first = await registration.background_fetch.fetch("again", FEATURE_PATH)
    await worker.settled("again")
    await eventually(lambda: first.result == "success")
    worker.by_id.clear()
    second = await registration.background_fetch.fetch("again", FEATURE_PATH)
    assert second is not first
    assert second.result == ""
    assert (await worker.settled("again")).registration.background_fetch is concept(second)


@pytest.mark.step("#background-fetch-manager-fetch", "8.5")
@pytest.mark.step("#background-fetch-registration-abort", "3.4")
async def test_fetch_allows_an_id_again_once_the_fetch_was_aborted(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server, slow=True)
    first = await registration.background_fetch.fetch("again", "/slow")
    assert await first.abort() is True
    second = await registration.background_fetch.fetch("again", "/slow")
    assert concept(second) is not concept(first)
    assert await registration.background_fetch.get_ids() == ["again"]


@pytest.mark.step("#background-fetch-manager-fetch", "8.6", "8.7", "8.8", "8.10")
async def test_fetch_reads_stream_request_bodies_into_upload_total(user_agent, origin_server):
    # Steps 8.6-8.8 and 8.10: each body is waited for; uploadTotal is the sum of their lengths.
    origin_server.add_echo("/upload")
    worker, _, registration = await page(user_agent, origin_server)

    async def chunks(*parts: bytes):
        for part in parts:
            await trio.sleep(1)
            yield part

    requests = [
        bgfetch.Request(
            ORIGIN + "/upload",
            method="POST",
            body=chunks(b"Background ", b"Fetch!"),
            headers={"Content-Type": "text/plain"},
        ),
        bgfetch.Request(ORIGIN + "/upload", method="POST", body="12345"),
        FEATURE_PATH,  # no body: skipped
    ]
    bg = await registration.background_fetch.fetch("streams", requests)
    assert bg.upload_total == 17 + 5
    settled = await worker.settled("streams")
    assert settled.texts() == ["Background Fetch!", "12345", FEATURE]
    assert settled.uploaded == 22


@pytest.mark.step("#background-fetch-manager-fetch", "8.11")
async def test_fetch_rejects_with_type_error_when_a_request_body_stream_errors(
    user_agent, origin_server
):
    # Step 8.11: requestReadFailed.
    _, _, registration = await page(user_agent, origin_server)

    async def broken():
        yield b"part"
        raise ValueError("the stream broke")

    request = bgfetch.Request(ORIGIN + "/upload", method="POST", body=broken())
    with pytest.raises(TypeError, match="'broken-body': reading a request body failed.*broke"):
        await registration.background_fetch.fetch("broken-body", [FEATURE_PATH, request])
    await trio.sleep(1)
    assert await registration.background_fetch.get_ids() == []
    assert origin_server.requests == []


@pytest.mark.step("#background-fetch-manager-fetch", "8.9")
async def test_fetch_rejects_download_total_beyond_the_quota_with_quota_exceeded_error(
    user_agent, origin_server
):
    # Step 8.9; WPT fetch 9: downloadTotal Number.MAX_SAFE_INTEGER.
    _, _, registration = await page(user_agent, origin_server)
    with pytest.raises(bgfetch.QuotaExceededError, match="'quota'") as err:
        await registration.background_fetch.fetch(
            "quota", FEATURE_PATH, download_total=MAX_SAFE_INTEGER
        )
    assert err.value.name == "QuotaExceededError"
    assert err.value.quota is None and err.value.requested is None
    await trio.sleep(1)
    assert await registration.background_fetch.get_ids() == []
    assert origin_server.requests == []


@pytest.mark.step("#background-fetch-manager-fetch", "8.9")
async def test_fetch_rejects_request_bodies_beyond_the_quota(virtual_network, origin_server):
    async with bgfetch.open_user_agent(network=virtual_network, quota=10) as ua:
        _, _, registration = await page(ua, origin_server)
        request = bgfetch.Request(ORIGIN + "/upload", method="POST", body="x" * 11)
        with pytest.raises(bgfetch.QuotaExceededError, match="'big-upload'"):
            await registration.background_fetch.fetch("big-upload", request)
        assert await registration.background_fetch.get_ids() == []
        # A body that fits is accepted, and stays accounted while the fetch lives.
        small = bgfetch.Request(ORIGIN + "/slow", method="POST", body="x" * 10)
        bg = await registration.background_fetch.fetch("small-upload", small)
        assert bg.upload_total == 10


@pytest.mark.step("#background-fetch-manager-fetch", "8.9")
async def test_fetch_does_not_keep_the_download_total_reserved(virtual_network, origin_server):
    # Step 8.9 checks room for downloadTotal; only request bodies stay stored.
    async with bgfetch.open_user_agent(network=virtual_network, quota=100) as ua:
        _, _, registration = await page(ua, origin_server, slow=True)
        await registration.background_fetch.fetch("a", "/slow", download_total=80)
        await registration.background_fetch.fetch("b", "/slow", download_total=80)
        assert await registration.background_fetch.get_ids() == ["a", "b"]


@pytest.mark.step("#background-fetch-manager-fetch", "8.12")
async def test_fetch_creates_the_background_fetch_from_the_options(user_agent, origin_server):
    # Step 8.12.
    _, _, registration = await page(user_agent, origin_server)
    icons = [{"src": "/icon.png", "sizes": "48x48", "type": "image/png"}]
    bg = await registration.background_fetch.fetch(
        "opts", FEATURE_PATH, title="Episode 5", icons=icons, download_total=1234
    )
    bg_fetch = concept(bg)
    assert (bg_fetch.id, bg_fetch.title, bg_fetch.icons, bg_fetch.download_total) == (
        "opts",
        "Episode 5",
        icons,
        1234,
    )
    assert bg_fetch.icons is not icons  # a copy of the member
    assert bg_fetch.upload_total == 0
    assert bg_fetch.service_worker_registration is registration.registration


@pytest.mark.step("#background-fetch-manager-fetch", "8.12")
async def test_fetch_defaults_title_to_empty_and_icons_to_an_empty_list(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("defaults", FEATURE_PATH)
    assert (concept(bg).title, concept(bg).icons, concept(bg).download_total) == ("", [], 0)


@pytest.mark.step("#background-fetch-manager-fetch", "8.13")
async def test_fetch_adds_the_background_fetch_to_active_background_fetches(
    user_agent, origin_server
):
    # Step 8.13.
    _, _, registration = await page(user_agent, origin_server, slow=True)
    bg = await registration.background_fetch.fetch("active", "/slow")
    active = registration_extension(registration.registration).active_background_fetches
    assert active == {"active": concept(bg)}


@pytest.mark.step("#background-fetch-manager-fetch", "8.14", "8.14.1")
async def test_fetch_resolves_with_the_instance_in_this_realm(user_agent, origin_server):
    # Step 8.14: the instance get() gives in the same realm.
    _, _, registration = await page(user_agent, origin_server, slow=True)
    bg = await registration.background_fetch.fetch("realm", "/slow")
    assert isinstance(bg, BackgroundFetchRegistration)
    assert await registration.background_fetch.get("realm") is bg
    assert registration.background_fetch.instances == {concept(bg).key: bg}


@pytest.mark.step("#background-fetch-manager-fetch", "8.15")
async def test_fetch_displays_the_background_fetch(user_agent, origin_server):
    # Step 8.15.
    _, _, registration = await page(user_agent, origin_server, slow=True)
    bg = await registration.background_fetch.fetch("shown", "/slow", title="Shown")
    display = user_agent.ui.find("shown")
    assert display.bg_fetch is concept(bg)
    assert (display.title, display.origin) == ("Shown", ORIGIN)


@pytest.mark.step("#background-fetch-manager-fetch", "8.16")
async def test_fetch_performs_the_background_fetch(user_agent, origin_server):
    # Step 8.16.
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("performed", FEATURE_PATH)
    await worker.settled("performed")
    assert [r.target for r in origin_server.requests] == [FEATURE_PATH]


@pytest.mark.step("#background-fetch-manager-fetch", "8.14.1", "8.16")
async def test_fetch_single_resource_has_initial_values_then_succeeds(user_agent, origin_server):
    # WPT fetch 7: "Single resource".
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("single", FEATURE_PATH)
    assert (bg.upload_total, bg.uploaded, bg.download_total, bg.downloaded) == (0, 0, 0, 0)
    assert (bg.result, bg.failure_reason, bg.records_available) == ("", "", True)
    settled = await worker.settled("single")
    assert settled.type == "backgroundfetchsuccess"
    assert (settled.result, settled.failure_reason) == ("success", "")
    assert [(r.url, r.status, r.text) for r in settled.responses] == [
        (ORIGIN + FEATURE_PATH, 200, FEATURE)
    ]


@pytest.mark.step("#update-background-fetch-instance-algorithm", "6.8", "6.10")
async def test_fetch_page_registration_gets_the_result_when_the_fetch_completes(
    user_agent, origin_server
):
    # WPT fetch 8: the page's object reads success no later than the worker reports.
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("updated", FEATURE_PATH)
    progress: list[tuple[str, str, int]] = []
    bg.add_event_listener(
        "progress", lambda event: progress.append((bg.result, bg.failure_reason, bg.downloaded))
    )
    await worker.settled("updated")
    assert (bg.result, bg.failure_reason, bg.downloaded) == ("success", "", len(FEATURE))
    assert progress[-1] == ("success", "", len(FEATURE))


@pytest.mark.step("#background-fetch-manager-fetch", "6.4", "6.6")
async def test_fetch_duplicate_urls_make_two_records(user_agent, origin_server):
    # WPT fetch 10.
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("dup-urls", [FEATURE_PATH, FEATURE_PATH])
    settled = await worker.settled("dup-urls")
    assert settled.result == "success"
    assert [(r.status, r.text) for r in settled.responses] == [(200, FEATURE), (200, FEATURE)]


@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.13.1", "8.13.2")
async def test_fetch_records_are_unavailable_after_the_success_handler_finished(
    user_agent, origin_server
):
    # WPT fetch 11.
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("records-gone", FEATURE_PATH)
    assert bg.records_available is True
    settled = await worker.settled("records-gone")
    assert settled.records_available is True  # during the handler
    await eventually(lambda: not bg.records_available, timeout=5)
    assert settled.registration.records_available is False


@pytest.mark.step("#complete-a-record-algorithm", "process response 7.2")
@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.5", "8.11")
async def test_fetch_of_a_missing_resource_fails_with_bad_status(user_agent, origin_server):
    # WPT fetch 12.
    origin_server.add("/missing.txt", "", status=404)
    worker, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("missing", "/missing.txt")
    settled = await worker.settled("missing")
    assert settled.type == "backgroundfetchfail"
    assert (settled.result, settled.failure_reason) == ("failure", "bad-status")
    assert [(r.status, r.text) for r in settled.responses] == [(404, "")]
    await eventually(lambda: bg.result == "failure")
    assert bg.failure_reason == "bad-status"


# -- get() -----------------------------------------------------------------------------


@pytest.mark.step("#background-fetch-manager-get", "3")
async def test_get_does_not_require_an_active_worker(user_agent):
    # WPT get 1.
    _, registration = await installing_only(user_agent)
    assert await registration.background_fetch.get("x") is None


@pytest.mark.parametrize("bad_id", ["", None])
@pytest.mark.step("#background-fetch-manager-get")
async def test_get_rejects_an_empty_or_missing_id_with_type_error(
    user_agent, origin_server, bad_id
):
    # WPT get 2 (get() and get('')); not in the spec (SPEC-NOTES.md).
    _, _, registration = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match=f"the provided id {bad_id!r} is invalid"):
        await registration.background_fetch.get(bad_id)


@pytest.mark.step("#background-fetch-manager-fetch")
async def test_fetch_rejects_an_empty_id_which_get_could_never_return(user_agent, origin_server):
    # Not in the spec (SPEC-NOTES.md SN-current-8): Chromium refuses an empty id too.
    _, _, registration = await page(user_agent, origin_server)
    manager = registration.background_fetch
    with pytest.raises(TypeError, match="the provided id '' is invalid"):
        await manager.fetch("", FEATURE_PATH)
    assert await manager.get_ids() == [] and user_agent.ui.displays == []
    assert origin_server.requests_for(FEATURE_PATH) == []


@pytest.mark.step("#background-fetch-manager-get", "3")
async def test_get_resolves_none_for_an_unknown_id(user_agent, origin_server):
    # Step 3; WPT get 2 (get('my-id')).
    _, _, registration = await page(user_agent, origin_server, slow=True)
    await registration.background_fetch.fetch("other-id", "/slow")
    assert await registration.background_fetch.get("my-id") is None


@pytest.mark.step("#background-fetch-manager-get", "4.1.1")
@pytest.mark.step("#get-a-backgroundfetchregistration-instance-algorithm", "3")
async def test_get_resolves_an_existing_registration_with_the_expected_values(
    user_agent, origin_server
):
    # WPT get 3.
    _, _, registration = await page(user_agent, origin_server)
    bg = await registration.background_fetch.fetch("my-id", FEATURE_PATH, download_total=1234)
    assert (bg.upload_total, bg.uploaded, bg.download_total) == (0, 0, 1234)
    assert (bg.result, bg.failure_reason, bg.records_available) == ("", "", True)
    got = await registration.background_fetch.get("my-id")
    assert got is not None
    assert (got.id, got.upload_total, got.download_total) == ("my-id", 0, 1234)
    assert (got.failure_reason, got.records_available) == ("", True)
    assert got.downloaded == bg.downloaded


@pytest.mark.step("#background-fetch-manager-get", "4.1.1")
@pytest.mark.step("#get-a-backgroundfetchregistration-instance-algorithm", "2")
async def test_get_returns_the_instance_fetch_returned_in_the_same_realm(user_agent, origin_server):
    # Step 4.1: getting the instance finds the existing one.
    _, _, registration = await page(user_agent, origin_server, slow=True)
    bg = await registration.background_fetch.fetch("same", "/slow")
    assert await registration.background_fetch.get("same") is bg
    assert await registration.background_fetch.get("same") is bg


@pytest.mark.step("#background-fetch-manager-get", "4.1.1")
@pytest.mark.step("#get-a-backgroundfetchregistration-instance-algorithm", "3")
async def test_get_in_another_realm_gives_that_realms_own_instance(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server, slow=True)
    bg = await registration.background_fetch.fetch("realms", "/slow")
    other_window = await user_agent.open_window(ORIGIN + "/other.html")
    other_registration = await other_window.navigator.service_worker.ready
    assert other_registration is not registration
    other = await other_registration.background_fetch.get("realms")
    assert other is not None and other is not bg
    assert concept(other) is concept(bg)
    assert other.realm is other_window and bg.realm is not other_window


@pytest.mark.step("#background-fetch-manager-get", "4")
async def test_get_resolves_after_update_handling_queue_with_current_downloaded(
    user_agent, origin_server
):
    # Step 4: get() waits its turn on the update handling queue, and the instance it
    # makes copies the stored body bytes total of that moment.
    origin_server.add("/big", b"x" * 1000, throttle=100)
    _, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("queued", "/big")
    bg_fetch = registration_extension(registration.registration).active_background_fetches["queued"]
    other_window = await user_agent.open_window(ORIGIN + "/other.html")
    other_manager = (await other_window.navigator.service_worker.ready).background_fetch
    release = trio.Event()
    bg_fetch.update_handling_queue.enqueue(release.wait)  # hold the queue
    got: list[object] = []

    async def get() -> None:
        got.append(await other_manager.get("queued"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(get)
        await trio.sleep(3)
        assert got == []  # still queued behind the held step
        assert other_manager.instances == {}
        release.set()
    (instance,) = got
    assert isinstance(instance, BackgroundFetchRegistration)
    assert 0 < instance.downloaded == bg_fetch.stored_body_bytes_total() < 1000


@pytest.mark.step("#background-fetch-manager-get", "4.2")
async def test_get_instance_from_a_new_realm_hears_every_later_progress(user_agent, origin_server):
    # Step 4.2's note: the new instance does not miss progress events.
    origin_server.add("/big", b"x" * 1000, throttle=200)
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("late", "/big")
    await trio.sleep(2)
    other_window = await user_agent.open_window(ORIGIN + "/other.html")
    other = await (await other_window.navigator.service_worker.ready).background_fetch.get("late")
    start = other.downloaded
    seen: list[int] = []
    other.add_event_listener("progress", lambda event: seen.append(other.downloaded))
    await worker.settled("late")
    await eventually(lambda: other.result == "success")
    assert 0 < start < 1000
    assert seen == sorted(seen) and seen[0] > start and seen[-1] == 1000


@pytest.mark.step("#background-fetch-manager-get", "3")
@pytest.mark.step("#perform-a-background-fetch-algorithm", "8.3")
async def test_get_resolves_none_once_the_fetch_settled(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server)
    await registration.background_fetch.fetch("done", FEATURE_PATH)
    await worker.settled("done")
    assert await registration.background_fetch.get("done") is None


@pytest.mark.step("#background-fetch-manager-get", "3")
@pytest.mark.step("#background-fetch-registration-abort", "3.4")
async def test_get_resolves_none_once_the_fetch_was_aborted(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server, slow=True)
    bg = await registration.background_fetch.fetch("aborted", "/slow")
    assert await bg.abort() is True
    assert await registration.background_fetch.get("aborted") is None


# -- getIds() --------------------------------------------------------------------------


@pytest.mark.step("#background-fetch-manager-get-ids", "2")
async def test_get_ids_does_not_require_an_active_worker(user_agent):
    # WPT get-ids 1.
    _, registration = await installing_only(user_agent)
    assert await registration.background_fetch.get_ids() == []


@pytest.mark.step("#background-fetch-manager-get-ids", "2")
async def test_get_ids_lists_the_keys_of_active_background_fetches(user_agent, origin_server):
    # Step 2; WPT get-ids 2.
    _, _, registration = await page(user_agent, origin_server, slow=True)
    manager = registration.background_fetch
    assert await manager.get_ids() == []
    await manager.fetch("my-id", "/slow")
    assert await manager.get_ids() == ["my-id"]
    await manager.fetch("second", "/slow")
    assert await manager.get_ids() == ["my-id", "second"]


@pytest.mark.step("#background-fetch-manager-get-ids", "2")
async def test_get_ids_returns_a_new_list_each_time(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server, slow=True)
    await registration.background_fetch.fetch("kept", "/slow")
    ids = await registration.background_fetch.get_ids()
    ids.append("intruder")
    assert await registration.background_fetch.get_ids() == ["kept"]


@pytest.mark.step("#background-fetch-manager-get-ids", "2")
async def test_get_ids_drops_settled_and_aborted_fetches(user_agent, origin_server):
    worker, _, registration = await page(user_agent, origin_server, slow=True)
    manager = registration.background_fetch
    await manager.fetch("quick", FEATURE_PATH)
    slow = await manager.fetch("slow", "/slow")
    await manager.fetch("stays", "/slow")
    await worker.settled("quick")
    assert await manager.get_ids() == ["slow", "stays"]
    await slow.abort()
    assert await manager.get_ids() == ["stays"]


@pytest.mark.step("#background-fetch-manager-get-ids", "2")
async def test_get_ids_is_the_same_from_the_workers_realm(user_agent, origin_server):
    _, _, registration = await page(user_agent, origin_server, slow=True)
    await registration.background_fetch.fetch("shared", "/slow")
    scope = registration.active.global_scope
    assert await scope.registration.background_fetch.get_ids() == ["shared"]
