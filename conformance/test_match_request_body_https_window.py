"""match-request-body.https.window.js (only in Chromium's copy of WPT): a record keeps its
request's body, whatever kind of BodyInit it was made from."""

from __future__ import annotations

import urllib.parse

import pytest

from conformance import suite
from conformance.fixtures import SLOW_PATH, UPLOAD_PATH
from conformance.interface import Body, MatchOptions, Req
from conformance.suite import OpenPage

FILE = "match-request-body.https.window.js"
TEXT = "Background Fetch request body"


def case(kind: str, name: str) -> object:
    return suite.case(
        FILE, kind, f"Request body of type {name} is kept with the record", source="chromium"
    )


@pytest.mark.parametrize(
    "kind",
    [
        case("string", "string"),
        case("arraybuffer", "ArrayBuffer"),
        case("typedarray", "TypedArray"),
        case("dataview", "DataView"),
        case("blob", "Blob"),
        case("file", "File"),
        case("urlsearchparams", "URLSearchParams"),
        case("formdata", "FormData"),
    ],
)
async def test_request_body_is_kept(open_page: OpenPage, kind: str) -> None:
    sent = (
        urllib.parse.urlencode(urllib.parse.parse_qsl(TEXT, keep_blank_values=True)).encode()
        if kind == "urlsearchparams"
        else TEXT.encode()
    )  # a FormData's multipart bytes carry a fresh boundary: compared with what arrived
    async with open_page() as page:
        request = Req(
            "resources/upload.py",
            method="POST",
            body=Body(TEXT, kind),  # type: ignore[arg-type]
            headers=[] if kind == "formdata" else [("Content-Type", "text/plain")],
        )
        registration = await page.fetch("id0", [request, SLOW_PATH])
        record = await page.match(
            registration, "resources/upload.py", MatchOptions(ignore_method=True)
        )
        assert record is not None
        kept = await page.record_request(record)
        await page.record_response(record)
        received = page.server().requests_for(UPLOAD_PATH)
    assert kept.method == "POST"
    assert [r.body for r in received] == [kept.body]
    if kind == "formdata":
        assert f'name="text"\r\n\r\n{TEXT}\r\n'.encode() in kept.body
        assert received[0].header("content-type").startswith("multipart/form-data; boundary=")
    else:
        assert kept.body == sent
