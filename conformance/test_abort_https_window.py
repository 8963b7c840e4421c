"""abort.https.window.js: BackgroundFetchRegistration.abort() (upstream)."""

from __future__ import annotations

from conformance.fixtures import FEATURE_NAME, SLOW_PATH
from conformance.suite import BOTH, OpenPage, message, wpt

FILE = "abort.https.window.js"


@wpt(FILE, "Aborting the same registration twice fails", editions=BOTH)
async def test_aborting_twice_fails(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", ["resources/feature-name.txt", SLOW_PATH])
        assert await page.abort(registration) is True
        assert await page.abort(registration) is False


@wpt(
    FILE,
    "Calling BackgroundFetchRegistration.abort sets the correct fields and responses are "
    "still available",
)
async def test_abort_sets_the_fields(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", ["resources/feature-name.txt", SLOW_PATH])
        await page.listen_progress(registration, via="onprogress")
        # The listener's condition: event.target.downloaded >= 'Background Fetch'.length.
        count = 1
        while True:
            seen = await page.progress(registration, at_least=count, timeout=30)
            assert len(seen) >= count, f"no progress event with downloaded >= 16: {seen}"
            if seen[count - 1].attributes.downloaded >= len(FEATURE_NAME):
                break
            count += 1
        assert seen[count - 1].target_is_registration, "event.target is not the registration"
        assert await page.abort(registration) is True
        data = await message(page)
        attributes = await page.attributes(registration)
    assert data["eventRegistration"]["result"] == "failure"
    assert data["eventRegistration"]["failureReason"] == "aborted"
    assert (attributes.result, attributes.failure_reason) == ("failure", "aborted")
    assert data["type"] == "backgroundfetchabort"
    assert len(data["results"]) == 2
    completed = data["results"][0] or data["results"][1]
    if completed:  # the abort might have gone through before the first result was stored
        assert "resources/feature-name.txt" in completed["url"]
        assert (completed["status"], completed["text"]) == (200, FEATURE_NAME)


@wpt(
    FILE,
    "An aborted fetch throws a DOM exception when accessing an incomplete record",
)
async def test_incomplete_record_rejects_abort_error(open_page: OpenPage) -> None:
    async with open_page(worker="sw-abort.js") as page:
        registration = await page.fetch("id0", SLOW_PATH)
        assert await page.abort(registration) is True
        data = await message(page)
    assert len(data["results"]) == 1
    assert not data["results"][0]["response"]
    assert data["results"][0]["name"] == "AbortError"
