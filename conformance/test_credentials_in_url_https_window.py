"""credentials-in-url.https.window.js (removed from WPT: its tests called an undefined
uniqueTag() and never ran; still meaningful: Fetch's Request constructor throws for a URL
that includes credentials)."""

from __future__ import annotations

import pytest

from conformance import suite
from conformance.suite import BOTH, OpenPage, rejection

FILE = "credentials-in-url.https.window.js"


def case(value: object, subtest: str) -> object:
    return suite.case(FILE, value, subtest, editions=BOTH, source="removed")


@pytest.mark.parametrize(
    "url", [case("https://example.com", "fetch without credentials in URL should register ok")]
)
async def test_registers(open_page: OpenPage, url: str) -> None:
    async with open_page() as page:
        await page.fetch("id0", url)


@pytest.mark.parametrize(
    "url",
    [
        case(
            "https://username:password@example.com",
            "fetch with username and password in URL should reject",
        ),
        case(
            "https://username:@example.com",
            "fetch with username and empty password in URL should reject",
        ),
        case(
            "https://:password@example.com",
            "fetch with empty username and password in URL should reject",
        ),
    ],
)
async def test_rejects(open_page: OpenPage, url: str) -> None:
    async with open_page() as page:
        assert await rejection(page.fetch("id0", url)) == "TypeError"
