"""fetch.https.window.js: BackgroundFetchManager.fetch() (upstream; the preflight cases
as in Chromium's copy, which requests a remote origin that answers the preflight)."""

from __future__ import annotations

import pytest

from conformance.fixtures import (
    FEATURE_NAME,
    FEATURE_NAME_PATH,
    JSON_PREFLIGHT_PIPE,
    NOT_FOUND_BODY,
    PUT_PREFLIGHT_PIPE,
)
from conformance.interface import Call, FetchOptions, Rejected, Req
from conformance.suite import BOTH, OpenPage, message, rejection, success_event, wpt

FILE = "fetch.https.window.js"
MAX_SAFE_INTEGER = 2**53 - 1


@wpt(
    FILE,
    "Background Fetch requires an activated Service Worker",
    editions=BOTH,
    spec=("#background-fetch-manager-fetch 8.4",),
)
async def test_requires_an_activated_worker(open_page: OpenPage) -> None:
    async with open_page(activate=False) as page:
        assert (await page.registration_state())["active"] is False
        name = await rejection(page.fetch("id0", ["resources/feature-name.txt"]))
    assert name == "TypeError"


@wpt(
    FILE,
    "Argument verification is done for BackgroundFetchManager.fetch()",
    editions=BOTH,
    spec=(
        "#background-fetch-manager-fetch 5",
        "#background-fetch-manager-fetch 6.1",
        "#background-fetch-manager-fetch 6.2",
    ),
)
async def test_argument_verification(open_page: OpenPage) -> None:
    async with open_page() as page:
        assert await rejection(page.fetch("id0", [])) == "TypeError"
        credentials = "https://user:pass@domain/secret.txt"
        assert await rejection(page.fetch("id1", credentials)) == "TypeError"
        no_cors = Req("resources/feature-name.txt", mode="no-cors")
        assert await rejection(page.fetch("id2", no_cors)) == "TypeError"


@wpt(
    FILE,
    "IDs must be unique among active Background Fetch registrations",
    editions=BOTH,
    spec=("#background-fetch-manager-fetch 8.5",),
)
async def test_ids_must_be_unique(open_page: OpenPage) -> None:
    async with open_page() as page:
        outcomes = await page.fetch_together(
            [
                Call("my-id", "resources/feature-name.txt?1"),
                Call("my-id", "resources/feature-name.txt?2"),
            ]
        )
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(outcomes) == 2
    assert [r.name for r in rejected] == ["TypeError"], outcomes


@wpt(FILE, "Empty URL is OK.", editions=BOTH, spec=("#background-fetch-manager-fetch 6.1",))
async def test_empty_url(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", "")
        assert (await page.attributes(registration)).id == "id0"
        data = await message(page)
    assert data["type"] == success_event(page.edition)
    if page.edition == "current":
        assert data["eventRegistration"]["result"] == "success"
        assert data["eventRegistration"]["failureReason"] == ""


@wpt(
    FILE,
    "Requests with PUT method require CORS Preflight and succeed.",
    network="loopback",
    spec=("#complete-a-record-algorithm 11",),
    cause="Chromium fails a request that needs a CORS preflight without sending it"
    " (chromium-observed.md)",
    note="upstream requests https://example/com, which can never succeed; Chromium's copy "
    "requests the remote origin answering the preflight (ACAO *, ACAM PUT)",
)
async def test_put_requires_a_preflight(open_page: OpenPage) -> None:
    async with open_page() as page:
        url = page.origin("remote") + FEATURE_NAME_PATH + PUT_PREFLIGHT_PIPE
        registration = await page.fetch("id0", Req(url, method="PUT"))
        assert (await page.attributes(registration)).id == "id0"
        data = await message(page)
        preflights = [r for r in page.server("remote").requests if r.method == "OPTIONS"]
    assert data["type"] == "backgroundfetchsuccess"
    assert data["eventRegistration"]["result"] == "success"
    assert data["eventRegistration"]["failureReason"] == ""
    assert [r.header("access-control-request-method") for r in preflights] == ["PUT"]


@wpt(
    FILE,
    "Requests with text/json content type require CORS Preflight and succeed.",
    network="loopback",
    spec=("#complete-a-record-algorithm 11",),
    cause="Chromium fails a request that needs a CORS preflight without sending it"
    " (chromium-observed.md)",
    note="as the PUT case: the remote origin answers the preflight (ACAO *, ACAH content-type)",
)
async def test_text_json_requires_a_preflight(open_page: OpenPage) -> None:
    async with open_page() as page:
        url = page.origin("remote") + FEATURE_NAME_PATH + JSON_PREFLIGHT_PIPE
        request = Req(url, method="POST", headers=[("Content-Type", "text/json")])
        registration = await page.fetch("id0", request)
        assert (await page.attributes(registration)).id == "id0"
        data = await message(page)
        preflights = [r for r in page.server("remote").requests if r.method == "OPTIONS"]
    assert data["type"] == "backgroundfetchsuccess"
    assert data["eventRegistration"]["result"] == "success"
    assert data["eventRegistration"]["failureReason"] == ""
    assert [r.header("access-control-request-headers") for r in preflights] == ["content-type"]


@wpt(FILE, "Using Background Fetch to successfully fetch a single resource", editions=BOTH)
async def test_single_resource(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", "resources/feature-name.txt")
        attributes = await page.attributes(registration)
        data = await message(page)
    assert attributes.id == "id0"
    assert (attributes.upload_total, attributes.uploaded, attributes.download_total) == (0, 0, 0)
    if page.edition == "current":
        assert (attributes.result, attributes.failure_reason) == ("", "")
        assert attributes.records_available is True
    assert data["type"] == success_event(page.edition)
    assert len(data["results"]) == 1
    assert data["eventRegistration"]["id"] == "id0"
    if page.edition == "current":
        assert data["eventRegistration"]["result"] == "success"
        assert data["eventRegistration"]["failureReason"] == ""
    result = data["results"][0]
    assert "resources/feature-name.txt" in result["url"]
    assert (result["status"], result["text"]) == (200, FEATURE_NAME)


@wpt(
    FILE,
    "Registration object gets updated values when a background fetch completes.",
    spec=("#perform-a-background-fetch-algorithm 8.7",),
)
async def test_registration_gets_updated_values(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", "resources/feature-name.txt")
        before = await page.attributes(registration)
        data = await message(page)
        after = await page.attributes(registration)
    assert (before.result, before.failure_reason) == ("", "")
    assert data["type"] == "backgroundfetchsuccess"
    assert data["eventRegistration"]["id"] == "id0"
    assert (after.result, after.failure_reason) == ("success", "")


@wpt(
    FILE,
    "Background Fetch that exceeds the quota throws a QuotaExceededError",
    editions=BOTH,
    spec=("#background-fetch-manager-fetch 8.9",),
    note="2017-10-12: the draft's fetch() stores the request bodies, and no revision of "
    "its line reserves room for the download total, so it resolves (SPEC-NOTES.md "
    "SN-2017-17)",
)
async def test_exceeding_the_quota(open_page: OpenPage) -> None:
    async with open_page() as page:
        options = FetchOptions(download_total=MAX_SAFE_INTEGER)
        if page.edition == "2017-10-12":
            registration = await page.fetch("id0", "resources/feature-name.txt", options)
            assert (await page.attributes(registration)).download_total == MAX_SAFE_INTEGER
            return
        with pytest.raises(Rejected) as caught:
            await page.fetch("id0", "resources/feature-name.txt", options)
    assert caught.value.name == "QuotaExceededError"
    assert (caught.value.quota, caught.value.requested) == (None, None)


@wpt(FILE, "Fetches can have requests with duplicate URLs", editions=BOTH)
async def test_duplicate_urls(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("my-id", ["resources/feature-name.txt"] * 2)
        data = await message(page)
        attributes = await page.attributes(registration)
    assert data["type"] == success_event(page.edition)
    assert len(data["results"]) == 2
    assert data["eventRegistration"]["id"] == attributes.id
    if page.edition == "current":
        assert data["eventRegistration"]["result"] == "success"
        assert data["eventRegistration"]["failureReason"] == ""
    for result in data["results"]:
        assert "resources/feature-name.txt" in result["url"]
        assert (result["status"], result["text"]) == (200, FEATURE_NAME)


@wpt(
    FILE,
    "recordsAvailable is false after onbackgroundfetchsuccess finishes execution.",
    spec=("#perform-a-background-fetch-algorithm 8.13.2",),
)
async def test_records_available_false_after_the_event(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", "resources/feature-name.txt")
        assert (await page.attributes(registration)).records_available is True
        data = await message(page)
        assert data["type"] == "backgroundfetchsuccess"
        assert len(data["results"]) == 1
        for _ in range(50):  # up to 5 s, as WPT polls
            if not (await page.attributes(registration)).records_available:
                break
            await page.sleep(0.1)
        assert (await page.attributes(registration)).records_available is False


@wpt(
    FILE,
    "Using Background Fetch to fetch a non-existent resource should fail.",
    spec=("#complete-a-record-algorithm process response 7.2", "#create-record-objects 2.9.2"),
    disagreement="WPT bug",
    cause="Chromium drops the body of a bad-status response, 404 and 500 alike"
    " (chromium-observed.md)",
    note="WPT expects the 404 record's text to be '' while wptserve's 404 carries a 39-byte "
    "JSON body; the spec's create record objects exposes a bad-status response's bytes, so "
    "this asserts the JSON text (Chromium drops bad-status bodies)",
)
async def test_non_existent_resource(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", "resources/missing-cat.txt")
        before = await page.attributes(registration)
        data = await message(page)
        after = await page.attributes(registration)
    assert (before.id, before.result, before.failure_reason) == ("id0", "", "")
    assert data["type"] == "backgroundfetchfail"
    assert len(data["results"]) == 1
    result = data["results"][0]
    assert "resources/missing-cat.txt" in result["url"]
    assert result["status"] == 404
    assert result["text"] == NOT_FOUND_BODY
    assert data["eventRegistration"]["id"] == "id0"
    assert data["eventRegistration"]["result"] == "failure"
    assert data["eventRegistration"]["failureReason"] == "bad-status"
    assert (after.result, after.failure_reason) == ("failure", "bad-status")


@wpt(
    FILE,
    "Fetches with mixed content should fail.",
    network="loopback",
    spec=("#complete-a-record-algorithm process response 1.2",),
)
async def test_mixed_content(open_page: OpenPage) -> None:
    async with open_page() as page:
        await page.fetch("my-id", [page.origin(), page.origin("http")])
        data = await message(page)
    assert data["type"] == "backgroundfetchfail"
    assert data["eventRegistration"]["failureReason"] == "fetch-error"
    results = data["results"]
    assert len(results) == 2
    valid = results[0] or results[1]
    null = results[1] if results[0] else results[0]
    assert page.origin() in valid["url"]
    assert null is None


@wpt(
    FILE,
    "Responses failing CORS checks are not leaked",
    editions=BOTH,
    network="loopback",
    slow_in_chromium=True,
    spec=(
        "#complete-a-record-algorithm process response 1.2",
        "2017-10-12:#attempt-a-background-fetch-algorithm",
    ),
    note="WPT requests the remote host on port 443, where nothing listens in a WPT run (it "
    "can pass on a connection error); here the remote origin serves the file, so only the "
    "CORS check can fail it",
)
async def test_cors_failures_are_not_leaked(open_page: OpenPage) -> None:
    async with open_page() as page:
        url = page.origin("remote") + FEATURE_NAME_PATH
        registration = await page.fetch("id0", url)
        data = await message(page)
        attributes = await page.attributes(registration)
        served = page.server("remote").requests_for(FEATURE_NAME_PATH)
    assert data["type"] == "backgroundfetchfail"
    assert data["results"] == [None]
    assert data["eventRegistration"]["id"] == attributes.id
    if page.edition == "current":
        assert data["eventRegistration"]["downloaded"] == 0
    assert attributes.downloaded == 0
    assert served, "the remote origin was never asked: the CORS check was not what failed it"


@wpt(FILE, "Fetches can have requests with a body", editions=BOTH, source="removed")
async def test_requests_with_a_body(open_page: OpenPage) -> None:
    async with open_page() as page:
        request = Req("resources/feature-name.txt", method="POST", body="Background Fetch")
        await page.fetch("id0", request)
        data = await message(page)
    assert data["type"] == success_event(page.edition)
    assert [(r["status"], r["text"]) for r in data["results"]] == [(200, FEATURE_NAME)]
