"""fetch.https.window.js (upstream; the preflight cases as in Chromium's copy)."""

from __future__ import annotations

from typing import Any

from conformance.fixtures import FEATURE_NAME
from conformance.suite import OpenPage, wpt

FILE = "fetch.https.window.js"


async def message(page: Any) -> Any:
    return await page.next_message(timeout=30)


@wpt(FILE, "Using Background Fetch to successfully fetch a single resource")
async def test_single_resource(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("single", "resources/feature-name.txt")
        attributes = await page.attributes(registration)
        assert attributes.id == "single"
        assert (attributes.upload_total, attributes.uploaded, attributes.download_total) == (
            0,
            0,
            0,
        )
        assert (attributes.result, attributes.failure_reason) == ("", "")
        assert attributes.records_available is True
        data = await message(page)
    assert data["type"] == "backgroundfetchsuccess"
    assert len(data["results"]) == 1
    assert data["eventRegistration"]["id"] == "single"
    assert data["eventRegistration"]["result"] == "success"
    assert data["eventRegistration"]["failureReason"] == ""
    result = data["results"][0]
    assert "resources/feature-name.txt" in result["url"]
    assert (result["status"], result["text"]) == (200, FEATURE_NAME)


@wpt(FILE, "Fetches can have requests with duplicate URLs")
async def test_duplicate_urls(open_page: OpenPage) -> None:
    async with open_page() as page:
        await page.fetch("my-id", ["resources/feature-name.txt"] * 2)
        data = await message(page)
    assert data["type"] == "backgroundfetchsuccess"
    assert len(data["results"]) == 2
    for result in data["results"]:
        assert "resources/feature-name.txt" in result["url"]
        assert (result["status"], result["text"]) == (200, FEATURE_NAME)
