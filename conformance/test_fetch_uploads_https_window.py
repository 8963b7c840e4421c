"""fetch-uploads.https.window.js: background fetches with request bodies (upstream)."""

from __future__ import annotations

from conformance.fixtures import SLOW_PATH
from conformance.interface import Req
from conformance.suite import BOTH, OpenPage, message, success_event, wpt

FILE = "fetch-uploads.https.window.js"
UPLOAD_DATA = "Background Fetch!"


@wpt(FILE, "Fetch with an upload should work", editions=BOTH)
async def test_fetch_with_an_upload(open_page: OpenPage) -> None:
    async with open_page() as page:
        request = Req("resources/upload.py", method="POST", body=UPLOAD_DATA)
        registration = await page.fetch("id0", request)
        assert (await page.attributes(registration)).upload_total == len(UPLOAD_DATA)
        data = await message(page)
    assert data["type"] == success_event(page.edition)
    assert len(data["results"]) == 1
    if page.edition == "current":
        assert data["eventRegistration"]["result"] == "success"
        assert data["eventRegistration"]["failureReason"] == ""
        assert data["eventRegistration"]["uploaded"] == len(UPLOAD_DATA)
    assert data["results"][0]["text"] == UPLOAD_DATA


@wpt(
    FILE,
    "Progress event includes uploaded bytes",
    editions=BOTH,
    note="upstream's second request is /common/handlers/slow.py; here the shared fixture "
    "/common/slow.py (2 s) keeps the fetch going past the upload",
)
async def test_progress_includes_uploaded_bytes(open_page: OpenPage) -> None:
    async with open_page() as page:
        request = Req("resources/upload.py", method="POST", body=UPLOAD_DATA)
        registration = await page.fetch("id0", [request, SLOW_PATH])
        await page.listen_progress(registration, via="onprogress")
        count = 1
        while True:
            seen = await page.progress(registration, at_least=count, timeout=30)
            assert len(seen) >= count, f"no progress event with downloaded != 0: {seen}"
            if seen[count - 1].attributes.downloaded != 0:
                break
            count += 1
    assert seen[count - 1].target_is_registration
    assert seen[count - 1].attributes.uploaded == len(UPLOAD_DATA)


@wpt(FILE, "Duplicate upload requests work and can be distinguished.", editions=BOTH)
async def test_duplicate_uploads(open_page: OpenPage) -> None:
    async with open_page() as page:
        requests = [
            Req("resources/upload.py", method="POST", body="upload1"),
            Req("resources/upload.py", method="POST", body="upload2"),
        ]
        await page.fetch("id0", requests)
        data = await message(page)
    assert data["type"] == success_event(page.edition)
    assert len(data["results"]) == 2
    if page.edition == "current":
        assert data["eventRegistration"]["result"] == "success"
        assert data["eventRegistration"]["failureReason"] == ""
    assert sorted(r["text"] for r in data["results"]) == ["upload1", "upload2"]
