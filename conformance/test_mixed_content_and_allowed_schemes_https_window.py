"""mixed-content-and-allowed-schemes.https.window.js (upstream; the older version's
non-loopback http: cases as historical)."""

from __future__ import annotations

import pytest

from conformance import suite
from conformance.interface import Rejected
from conformance.suite import BOTH, OpenPage, ends_in_type_error

FILE = "mixed-content-and-allowed-schemes.https.window.js"


HISTORICAL_NOTE = (
    "the older WPT expects fetch() to reject; mixed content is main fetch's (Fetch "
    "#main-fetch: should request be blocked as mixed content), so fetch() resolves and "
    "the http: record fails: responseReady rejects with a TypeError (SPEC-NOTES.md SN-fetch-2)"
)
HISTORICAL_CAUSE = (
    "Chromium fails a non-loopback http: record at once without a request "
    "(chromium-observed.md); what match() then gives varies from run to run with how soon it "
    "runs after the failure: a record whose responseReady rejects with UnknownError (not "
    "TypeError) or never settles, no record, or an InvalidStateError (records no longer "
    "available)"
)


def case(value: object, subtest: str, **options: object) -> object:
    return suite.case(FILE, value, subtest, network="loopback", **options)


@pytest.mark.parametrize(
    "url",
    [
        case("https://example.com", "https: fetch should register ok", editions=BOTH),
        case("http://127.0.0.1", "loopback IPv4 http: fetch should register ok", editions=BOTH),
        case("http://[::1]", "loopback IPv6 http: fetch should register ok", editions=BOTH),
        case("http://localhost", "localhost http: fetch should register ok", editions=BOTH),
    ],
)
async def test_registers(open_page: OpenPage, url: str) -> None:
    async with open_page() as page:
        await page.fetch("id0", url)


@pytest.mark.parametrize(
    "url",
    [
        case("wss:127.0.0.1", "wss: fetch should reject"),
        case("file:///", "file: fetch should reject"),
        case("data:text/plain,foo", "data: fetch should reject"),
        case("foobar:bazqux", "unknown scheme fetch should reject"),
    ],
)
async def test_ends_in_a_type_error(open_page: OpenPage, url: str) -> None:
    async with open_page() as page:
        await ends_in_type_error(page, "id0", url)


@pytest.mark.parametrize(
    "urls",
    [
        case(
            ["http://example.com"],
            "non-loopback http: fetch should reject",
            source="historical",
            note=HISTORICAL_NOTE,
            cause=HISTORICAL_CAUSE,
            spec=("#create-record-objects 2.9.4",),
        ),
        case(
            ["http://192.0.2.0"],
            "non-loopback IPv4 http: fetch should reject",
            source="historical",
            note=HISTORICAL_NOTE,
            cause=HISTORICAL_CAUSE,
            spec=("#create-record-objects 2.9.4",),
        ),
        case(
            ["http://[2001:db8::1]"],
            "non-loopback IPv6 http: fetch should reject",
            source="historical",
            note=HISTORICAL_NOTE,
            cause=HISTORICAL_CAUSE,
            spec=("#create-record-objects 2.9.4",),
        ),
        case(
            ["https://example.com", "http://example.com"],
            "https: and non-loopback http: fetch should reject",
            source="historical",
            note=HISTORICAL_NOTE,
            cause=HISTORICAL_CAUSE,
            spec=("#create-record-objects 2.9.4",),
        ),
        case(
            ["http://example.com", "https://example.com"],
            "non-loopback http: and https: fetch should reject",
            source="historical",
            note=HISTORICAL_NOTE,
            cause=HISTORICAL_CAUSE,
            spec=("#create-record-objects 2.9.4",),
        ),
    ],
)
async def test_mixed_content_fails_the_record(open_page: OpenPage, urls: list[str]) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", urls)
        http = next(url for url in urls if url.startswith("http:"))
        record = await page.match(registration, http)
        assert record is not None
        with pytest.raises(Rejected) as caught:
            await page.record_response(record)
    assert caught.value.name == "TypeError"
