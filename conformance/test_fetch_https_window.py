"""fetch.https.window.js, ported (the first cases; the rest come with the full port)."""

import trio.testing

from conformance.backends import FEATURE_NAME, reference_page


async def test_single_resource(autojump_clock: trio.testing.MockClock) -> None:
    """Using Background Fetch to successfully fetch a single resource."""
    async with reference_page() as page:
        registration = await page.fetch("single", "resources/feature-name.txt")
        assert (registration.upload_total, registration.uploaded) == (0, 0)
        assert registration.download_total == 0
        assert (registration.result, registration.failure_reason) == ("", "")
        assert registration.records_available is True
        settled = await page.settled()
    assert settled.type == "backgroundfetchsuccess"
    assert len(settled.results) == 1
    result = settled.results[0]
    assert result is not None
    assert result.url.endswith("resources/feature-name.txt")
    assert (result.status, result.text) == (200, FEATURE_NAME.decode())


async def test_fetches_can_have_requests_with_duplicate_urls(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Fetches can have requests with duplicate URLs."""
    async with reference_page() as page:
        await page.fetch("dupes", ["resources/feature-name.txt"] * 2)
        settled = await page.settled()
    assert settled.type == "backgroundfetchsuccess"
    assert [r.text for r in settled.results if r] == [FEATURE_NAME.decode()] * 2


async def test_non_existent_resource(autojump_clock: trio.testing.MockClock) -> None:
    """Using Background Fetch to fetch a non-existent resource should fail."""
    async with reference_page() as page:
        await page.fetch("404", "resources/missing-cat.jpg")
        settled = await page.settled()
    assert settled.type == "backgroundfetchfail"
    assert (settled.result, settled.failure_reason) == ("failure", "bad-status")
    result = settled.results[0]
    assert result is not None and (result.status, result.text) == (404, "Not Found")
