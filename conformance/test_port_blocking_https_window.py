"""port-blocking.https.window.js: requests to bad ports (upstream)."""

from __future__ import annotations

import pytest

from conformance import suite
from conformance.suite import BOTH, OpenPage, ends_in_type_error

FILE = "port-blocking.https.window.js"


def case(value: object, subtest: str, **options: object) -> object:
    return suite.case(FILE, value, subtest, network="loopback", **options)


@pytest.mark.parametrize(
    "url",
    [
        case(
            "https://example.com", "fetch to default https port should register ok", editions=BOTH
        ),
        case("http://127.0.0.1", "fetch to default http port should register ok", editions=BOTH),
        case("https://example.com:443", "fetch to port 443 should register ok", editions=BOTH),
        case(
            "https://example.com:80",
            "fetch to port 80 should register ok, even over https",
            editions=BOTH,
        ),
        case(
            "https://example.com:8080",
            "fetch to non-default non-bad port (8080) should register ok",
            editions=BOTH,
        ),
    ],
)
async def test_registers(open_page: OpenPage, url: str) -> None:
    async with open_page() as page:
        await page.fetch("id0", url)


@pytest.mark.parametrize(
    "url", [case("https://example.com:587", "fetch to bad port (SMTP) should reject")]
)
async def test_bad_port_ends_in_a_type_error(open_page: OpenPage, url: str) -> None:
    async with open_page() as page:
        await ends_in_type_error(page, "id0", url)
