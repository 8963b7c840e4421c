"""content-security-policy.https.window.js: CSP connect-src applies (upstream)."""

from __future__ import annotations

import pytest

from conformance.interface import Rejected
from conformance.suite import OpenPage, wpt

FILE = "content-security-policy.https.window.js"


@wpt(
    FILE,
    "fetch blocked by CSP should reject",
    network="loopback",
    spec=("#background-fetch-manager-fetch 6.3", "#create-record-objects 2.9.4"),
    disagreement="spec ambiguity",
    cause="Chromium rejects fetch() when CSP blocks a request; the spec sets the request's "
    "client to null, which leaves it no policy container at all (SPEC-NOTES.md SN-fetch-1)",
    note="the older version (and Chromium) reject fetch() itself; CSP is main fetch's "
    "(should request be blocked by Content Security Policy), so fetch() resolves and the "
    "record's responseReady rejects with a TypeError, as upstream now expects",
)
async def test_fetch_blocked_by_csp(open_page: OpenPage) -> None:
    async with open_page(csp="connect-src 'none'") as page:
        registration = await page.fetch("id0", "/")
        record = await page.match(registration, "/")
        assert record is not None
        with pytest.raises(Rejected) as caught:
            await page.record_response(record)
        asked = page.server().requests_for("/")
    assert caught.value.name == "TypeError"
    assert asked == [], "a request blocked by CSP reached the server"
