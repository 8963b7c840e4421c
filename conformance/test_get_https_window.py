"""get.https.window.js: BackgroundFetchManager.get() (upstream)."""

from __future__ import annotations

from conformance.fixtures import SLOW_PATH
from conformance.interface import FetchOptions
from conformance.suite import BOTH, OpenPage, rejection, wpt

FILE = "get.https.window.js"


@wpt(FILE, "BackgroundFetchManager.get() does not require an activated worker", editions=BOTH)
async def test_get_without_an_activated_worker(open_page: OpenPage) -> None:
    async with open_page(activate=False) as page:
        assert (await page.registration_state())["active"] is False
        assert await page.get("x") is None


@wpt(FILE, "Getting non-existing registrations yields `undefined`", editions=BOTH)
async def test_get_non_existing(open_page: OpenPage) -> None:
    async with open_page() as page:
        assert await rejection(page.get(None)) == "TypeError"
        if page.edition == "current":  # the draft takes any id (SPEC-NOTES.md SN-2017-19)
            assert await rejection(page.get("")) == "TypeError"
        assert await page.get("my-id") is None


@wpt(FILE, "Getting an existing registration has the expected values", editions=BOTH)
async def test_get_existing(open_page: OpenPage) -> None:
    async with open_page() as page:
        options = FetchOptions(download_total=1234)
        registration = await page.fetch("my-id", ["resources/feature-name.txt", SLOW_PATH], options)
        fetched = await page.attributes(registration)
        assert (fetched.upload_total, fetched.uploaded, fetched.download_total) == (0, 0, 1234)
        if page.edition == "current":
            assert (fetched.result, fetched.failure_reason) == ("", "")
            assert fetched.records_available is True
        got = await page.get("my-id")
        assert got is not None
        second = await page.attributes(got)
        fetched = await page.attributes(registration)
    assert second.id == fetched.id
    assert (second.upload_total, second.uploaded) == (fetched.upload_total, fetched.uploaded)
    assert second.download_total == fetched.download_total
    assert second.failure_reason == fetched.failure_reason
    assert second.records_available == fetched.records_available
    assert second.downloaded == fetched.downloaded
