"""settled-event-match.https.window.js and settled-event-matchall.https.window.js (removed:
the 2017-10-12 draft's backgroundfetched, whose event.fetches holds the settled fetches;
both files were broken upstream).  In the draft's names: event.fetches.match(request), and
event.fetches.values() for matchAll(request)."""

from __future__ import annotations

from conformance.fixtures import FEATURE_NAME, TYPES_OF_CHEESE_PATH
from conformance.suite import DRAFT_2017, OpenPage, message, wpt


@wpt(
    "settled-event-match.https.window.js",
    "Using Background Fetch to successfully call match() on BackgroundFetchSettledEvent",
    editions=DRAFT_2017,
    source="removed",
)
async def test_settled_event_match(open_page: OpenPage) -> None:
    async with open_page(worker="sw-settled-match.js") as page:
        await page.fetch("id0", ["resources/feature-name.txt", TYPES_OF_CHEESE_PATH])
        data = await message(page)
    assert data["type"] == "backgroundfetched"
    match = data["match"]
    assert "resources/feature-name.txt" in match["url"]
    assert (match["status"], match["text"]) == (200, FEATURE_NAME)


@wpt(
    "settled-event-matchall.https.window.js",
    "Using Background Fetch to successfully call matchAll() on BackgroundFetchSettledEvent",
    editions=DRAFT_2017,
    source="removed",
)
async def test_settled_event_match_all(open_page: OpenPage) -> None:
    async with open_page(worker="sw-settled-match.js") as page:
        await page.fetch("id0", ["resources/feature-name.txt", TYPES_OF_CHEESE_PATH])
        data = await message(page)
    assert data["type"] == "backgroundfetched"
    assert len(data["matches"]) == 1
    settled = data["matches"][0]
    assert "resources/feature-name.txt" in settled["url"]
    assert (settled["status"], settled["text"]) == (200, FEATURE_NAME)
