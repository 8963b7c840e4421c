"""dangling-markup.https.window.js (removed from WPT; its test never ran)."""

from __future__ import annotations

from conformance.suite import BOTH, OpenPage, rejection, wpt


@wpt(
    "dangling-markup.https.window.js",
    "fetch to URL containing \\n and < should reject",
    editions=BOTH,
    source="removed",
    note="not in Fetch (whatwg/fetch#546); bgfetch rejects as Chromium does (SPEC-NOTES.md "
    "SN-fetch-3)",
)
async def test_dangling_markup_rejects(open_page: OpenPage) -> None:
    async with open_page() as page:
        assert await rejection(page.fetch("id0", "https://example.com/?\n<")) == "TypeError"
