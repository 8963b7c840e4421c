"""get-ids.https.window.js: BackgroundFetchManager.getIds() (upstream), and the old
get-ids.https.js that never ran (historical)."""

from __future__ import annotations

from conformance.fixtures import SLOW_PATH
from conformance.suite import BOTH, OpenPage, wpt

FILE = "get-ids.https.window.js"


@wpt(FILE, "BackgroundFetchManager.getIds() does not require an activated worker", editions=BOTH)
async def test_get_ids_without_an_activated_worker(open_page: OpenPage) -> None:
    async with open_page(activate=False) as page:
        assert (await page.registration_state())["active"] is False
        assert await page.get_ids() == []


@wpt(FILE, "The BackgroundFetchManager exposes active fetches", editions=BOTH)
async def test_exposes_active_fetches(open_page: OpenPage) -> None:
    async with open_page() as page:
        assert await page.get_ids() == []
        registration = await page.fetch("my-id", ["resources/feature-name.txt", SLOW_PATH])
        assert (await page.attributes(registration)).id == "my-id"
        assert await page.get_ids() == ["my-id"]


@wpt(
    "get-ids.https.js",
    "The BackgroundFetchManager exposes active fetches",
    editions=BOTH,
    source="historical",
)
async def test_exposes_active_fetches_historical(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", "resources/feature-name.txt")
        assert (await page.attributes(registration)).id == "id0"
        ids = await page.get_ids()
    assert "id0" in ids
