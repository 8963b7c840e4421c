"""HTTP-redirect fetch on real loopback sockets: following, the limit of 20, method
rewriting, the schemes and URLs a redirect may lead to, and headers dropped on the way."""

from __future__ import annotations

import pytest
from real_network_support import run_background_fetch

from bgfetch import Request

BODY = b"Background Fetch"


def chain(loopback, length: int, final: str = "/final.txt") -> str:
    """/hop/0 -> /hop/1 -> ... -> final; returns the first path."""
    for index in range(length):
        target = f"/hop/{index + 1}" if index + 1 < length else final
        loopback.server.add_redirect(f"/hop/{index}", target)
    return "/hop/0"


async def test_a_redirect_chain_is_followed_to_the_final_url(real_ua, loopback):
    loopback.server.add("/final.txt", BODY)
    outcome = await run_background_fetch(real_ua, loopback.url(), chain(loopback, 3))
    record = outcome.record("/hop/0")
    assert (record.status, record.type, record.body) == (200, "basic", BODY)
    assert record.response.url == loopback.url(path="/final.txt")
    assert [r.path for r in loopback.server.requests] == [
        "/hop/0",
        "/hop/1",
        "/hop/2",
        "/final.txt",
    ]


async def test_twenty_redirects_are_followed(real_ua, loopback):
    loopback.server.add("/final.txt", BODY)
    outcome = await run_background_fetch(real_ua, loopback.url(), chain(loopback, 20))
    assert outcome.record("/hop/0").body == BODY
    assert len(loopback.server.requests) == 21


async def test_the_twenty_first_redirect_is_a_network_error(real_ua, loopback):
    loopback.server.add("/final.txt", BODY)
    outcome = await run_background_fetch(real_ua, loopback.url(), chain(loopback, 21))
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    first = loopback.url(path="/hop/0")
    assert outcome.errors[first] == (
        f"{first}: more than 20 redirects (Fetch, #http-redirect-fetch)"
    )
    assert loopback.server.requests_for("/final.txt") == []


@pytest.mark.parametrize(
    ("status", "method", "expected_method", "body_kept"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (307, "POST", "POST", True),
        (308, "POST", "POST", True),
        (302, "PUT", "PUT", True),
    ],
)
async def test_method_rewriting(real_ua, loopback, status, method, expected_method, body_kept):
    """HTTP-redirect fetch 12: 301/302 turn POST into GET, 303 all but GET and HEAD; the
    body and the request-body headers go with it."""
    loopback.server.add("/target", BODY)
    loopback.server.add_redirect("/moved", "/target", status=status)
    request = Request(
        loopback.url(path="/moved"),
        method=method,
        body="payload",
        headers={"Content-Language": "en"},
    )
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert outcome.record("/moved").body == BODY
    (sent,) = loopback.server.requests_for("/target")
    assert sent.method == expected_method
    assert sent.body == (b"payload" if body_kept else b"")
    assert (sent.header("content-type") is not None) == body_kept
    assert (sent.header("content-language") is not None) == body_kept


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("data:text/plain,foo", "which is not an HTTP(S) URL"),
        ("ftp://127.0.0.1/file", "which is not an HTTP(S) URL"),
        ("https://[", "which is not a valid URL"),
    ],
)
async def test_redirects_to_what_cannot_be_fetched_are_network_errors(
    real_ua, loopback, location, why
):
    loopback.server.add_redirect("/odd", location)
    outcome = await run_background_fetch(real_ua, loopback.url(), "/odd")
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    reason = outcome.errors[loopback.url(path="/odd")]
    assert reason.startswith(loopback.url(path="/odd")) and why in reason


async def test_a_redirect_without_location_is_the_response(real_ua, loopback):
    """HTTP-redirect fetch 4: no location URL, so the 302 itself is the response."""
    loopback.server.add("/nowhere", b"", status=302)
    outcome = await run_background_fetch(real_ua, loopback.url(), "/nowhere")
    assert (outcome.failure_reason, outcome.record("/nowhere").status) == ("bad-status", 302)


async def test_a_cors_redirect_to_a_url_with_credentials_fails(real_ua, loopback):
    """HTTP-redirect fetch 9-10."""
    loopback.server.add("/final.txt", BODY, cors="*")
    loopback.server.add_redirect(
        "/to-userinfo", f"https://user:pw@localhost:{loopback.https_port}/final.txt", cors="*"
    )
    url = loopback.url("https", "localhost", "/to-userinfo")
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    assert outcome.failure_reason == "fetch-error"
    assert "a URL with credentials, in a CORS request" in outcome.errors[url]
    assert loopback.server.requests_for("/final.txt") == []


async def test_a_same_origin_redirect_to_a_url_with_credentials_is_followed(real_ua, loopback):
    loopback.server.add("/final.txt", BODY)
    loopback.server.add_redirect(
        "/to-userinfo", f"https://user:pw@127.0.0.1:{loopback.https_port}/final.txt"
    )
    outcome = await run_background_fetch(real_ua, loopback.url(), "/to-userinfo")
    assert outcome.record("/to-userinfo").body == BODY


async def test_authorization_is_dropped_when_a_redirect_leaves_the_origin(real_ua, loopback):
    """HTTP-redirect fetch 13; with it gone, the cross-origin hop needs no preflight."""
    loopback.server.add("/final.txt", BODY, cors="*")
    loopback.server.add_redirect("/away", loopback.url("https", "localhost", "/final.txt"))
    request = Request(loopback.url(path="/away"), headers={"Authorization": "Bearer t"})
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert outcome.record("/away").body == BODY
    (away,) = loopback.server.requests_for("/away")
    (final,) = loopback.server.requests_for("/final.txt")
    assert away.header("authorization") == "Bearer t"
    assert final.header("authorization") is None and final.method == "GET"


async def test_redirects_between_http_and_https_on_loopback(real_ua, loopback):
    loopback.server.add("/final.txt", BODY, cors="*")
    loopback.server.add_redirect("/down", loopback.url("http", "127.0.0.1", "/final.txt"))
    outcome = await run_background_fetch(real_ua, loopback.url(), "/down")
    record = outcome.record("/down")
    assert (record.type, record.body) == ("cors", BODY)  # another scheme: another origin
    assert record.response.url == loopback.url("http", "127.0.0.1", "/final.txt")
