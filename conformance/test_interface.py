"""The backend interface's JSON forms, and the reference backend's page semantics that
every backend shares (README.md): handles by identity, messages lost while a call waits."""

from __future__ import annotations

import base64

import trio.testing

from conformance.interface import (
    Attributes,
    Body,
    Call,
    FetchOptions,
    MatchOptions,
    PageSetup,
    Progress,
    Rejected,
    Req,
    ResponseSnapshot,
    requests_to_json,
)
from conformance.reference import ReferenceBackend


def test_requests_cross_as_json() -> None:
    request = Req("upload.py", method="POST", headers=[("X-A", "1")], body=Body("hi", "blob"))
    assert requests_to_json(["a.txt", request]) == [
        "a.txt",
        {
            "url": "upload.py",
            "init": {
                "method": "POST",
                "headers": [["X-A", "1"]],
                "body": {"kind": "blob", "text": "hi"},
            },
        },
    ]
    assert Req("b", body="text").to_json()["init"] == {"body": {"kind": "string", "text": "text"}}
    assert FetchOptions(download_total=5).to_json() == {"downloadTotal": 5}
    assert MatchOptions(ignore_search=True).to_json() == {
        "ignoreSearch": True,
        "ignoreMethod": False,
        "ignoreVary": False,
    }
    assert Call("id", "a.txt").to_json() == {"id": "id", "requests": "a.txt", "options": {}}


def test_results_come_back_from_json() -> None:
    attributes = {
        "id": "x",
        "uploadTotal": 0,
        "uploaded": 0,
        "downloadTotal": 9,
        "downloaded": 3,
        "result": "",
        "failureReason": "",
        "recordsAvailable": True,
    }
    assert Attributes.from_json(attributes) == Attributes("x", 0, 0, 9, 3, "", "", True)
    assert Attributes.from_json({k: attributes[k] for k in list(attributes)[:5]}).result is None
    progress = Progress.from_json(
        {
            "targetIsRegistration": True,
            "type": "progress",
            "isTrusted": True,
            "target": attributes,
            "time": 1,
        }
    )
    assert progress.attributes.downloaded == 3 and progress.time == 1.0
    response = ResponseSnapshot.from_json(
        {
            "url": "u",
            "status": 404,
            "type": "basic",
            "headers": [["Content-Type", "text/plain"]],
            "bodyBase64": base64.b64encode(b"caf\xc3\xa9").decode(),
        }
    )
    assert (response.text, response.header("content-type")) == ("café", "text/plain")
    rejected = Rejected.from_json({"name": "QuotaExceededError", "message": "m", "quota": None})
    assert (rejected.name, rejected.quota, rejected.requested) == ("QuotaExceededError", None, None)
    assert Rejected.from_json(rejected.to_json()).to_json() == rejected.to_json()


async def test_a_message_arriving_while_a_call_waits_is_lost(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with ReferenceBackend().open_page(PageSetup()) as page:
        async with page._call():
            page._deliver({"during": "fetch()"})
        page._deliver({"after": "fetch()"})
        assert await page.next_message() == {"after": "fetch()"}
        assert page.dropped_messages == [{"during": "fetch()"}]
        try:
            await page.next_message(timeout=1)
        except TimeoutError as error:
            assert "dropped while a call was pending" in str(error)
        else:
            raise AssertionError("a second message came")


async def test_the_same_object_is_the_same_handle(autojump_clock: trio.testing.MockClock) -> None:
    async with ReferenceBackend().open_page(PageSetup()) as page:
        page.server().add("/slow.txt", "x", delay=5)
        registration = await page.fetch("id0", "/slow.txt")
        assert await page.get("id0") == registration
        other = await page.fetch("id1", "/slow.txt")
        assert other != registration
