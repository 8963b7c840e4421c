"""match.https.window.js: BackgroundFetchRegistration.match() and matchAll() (upstream)."""

from __future__ import annotations

from conformance.fixtures import FEATURE_NAME, SLOW_PATH
from conformance.interface import MatchOptions, Req
from conformance.suite import OpenPage, message, wpt

FILE = "match.https.window.js"


@wpt(FILE, "Matching to a single request should work")
async def test_matching_a_single_request(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("matchexistingrequest", "resources/feature-name.txt")
        assert (await page.attributes(registration)).id == "matchexistingrequest"
        data = await message(page)
    assert data["type"] == "backgroundfetchsuccess"
    assert len(data["results"]) == 1
    assert data["eventRegistration"]["id"] == "matchexistingrequest"
    assert data["eventRegistration"]["result"] == "success"
    assert data["eventRegistration"]["failureReason"] == ""
    result = data["results"][0]
    assert "resources/feature-name.txt" in result["url"]
    assert (result["status"], result["text"]) == (200, FEATURE_NAME)


@wpt(FILE, "Matching to a non-existing request should work")
async def test_matching_a_missing_request(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("matchmissingrequest", "resources/feature-name.txt")
        assert (await page.attributes(registration)).id == "matchmissingrequest"
        data = await message(page)
    assert data["type"] == "backgroundfetchsuccess"
    assert data["results"] == []
    assert data["eventRegistration"]["id"] == "matchmissingrequest"
    assert data["eventRegistration"]["result"] == "success"
    assert data["eventRegistration"]["failureReason"] == ""


@wpt(FILE, "Matching multiple times on the same request works as expected.")
async def test_matching_twice(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("matchexistingrequesttwice", "resources/feature-name.txt")
        assert (await page.attributes(registration)).id == "matchexistingrequesttwice"
        data = await message(page)
    assert data["type"] == "backgroundfetchsuccess"
    assert len(data["results"]) == 2
    assert data["eventRegistration"]["result"] == "success"
    assert data["eventRegistration"]["failureReason"] == ""
    for result in data["results"]:
        assert "resources/feature-name.txt" in result["url"]
        assert (result["status"], result["text"]) == (200, FEATURE_NAME)


@wpt(FILE, "Access to active fetches is supported.")
async def test_access_to_active_fetches(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch("id0", ["resources/feature-name.txt", SLOW_PATH])
        record = await page.match(registration, "resources/feature-name.txt")
        assert record is not None
        response = await page.record_response(record)
        still_active = "id0" in await page.get_ids()
    assert "resources/feature-name.txt" in response.url
    assert response.text == FEATURE_NAME
    assert still_active, "the response was read only once the fetch settled"


@wpt(FILE, "Match with query options.")
async def test_match_with_query_options(open_page: OpenPage) -> None:
    async with open_page() as page:
        registration = await page.fetch(
            "id0",
            [
                "resources/feature-name.txt",
                "resources/feature-name.txt",
                "resources/feature-name.txt?id=3",
                Req("resources/feature-name.txt", method="PUT"),
                SLOW_PATH,
            ],
        )
        url = "resources/feature-name.txt"
        plain = await page.match_all(registration, url)
        search = await page.match_all(registration, url, MatchOptions(ignore_search=True))
        method = await page.match_all(registration, url, MatchOptions(ignore_method=True))
        both = await page.match_all(
            registration, url, MatchOptions(ignore_search=True, ignore_method=True)
        )
    assert (len(plain), len(search), len(method), len(both)) == (2, 3, 3, 4)
