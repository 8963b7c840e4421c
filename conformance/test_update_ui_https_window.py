"""update-ui.https.window.js: BackgroundFetchUpdateUIEvent.updateUI() (upstream; the
2017-10-12 draft's BackgroundFetchUpdateEvent.updateUI(title) in backgroundfetched)."""

from __future__ import annotations

from conformance.suite import BOTH, OpenPage, message, wpt

FILE = "update-ui.https.window.js"


@wpt(FILE, "Background Fetch updateUI resolves", editions=BOTH)
async def test_update_ui_resolves(open_page: OpenPage) -> None:
    async with open_page(worker="sw-update-ui.js") as page:
        registration = await page.fetch("update-once", "resources/feature-name.txt")
        assert (await page.attributes(registration)).id == "update-once"
        data = await message(page)
    assert data["update"] == "update success"


@wpt(FILE, "Background Fetch updateUI called twice fails", editions=BOTH)
async def test_update_ui_twice_fails(open_page: OpenPage) -> None:
    async with open_page(worker="sw-update-ui.js") as page:
        registration = await page.fetch("update-twice", "resources/feature-name.txt")
        assert (await page.attributes(registration)).id == "update-twice"
        data = await message(page)
    assert data["update"] == "InvalidStateError"


@wpt(FILE, "Background Fetch updateUI fails when event is not active", editions=BOTH)
async def test_update_ui_inactive_fails(open_page: OpenPage) -> None:
    async with open_page(worker="sw-update-ui.js") as page:
        registration = await page.fetch("update-inactive", "resources/feature-name.txt")
        assert (await page.attributes(registration)).id == "update-inactive"
        data = await message(page)
    assert data["update"] == "InvalidStateError"
