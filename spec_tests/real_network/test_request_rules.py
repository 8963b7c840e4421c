"""The request rules, on real loopback sockets: URL parsing, credentials, dangling markup,
schemes and mixed content, bad ports, CSP connect-src, no-cors.

Which rule rejects fetch() itself and which fails the record (so that
``match(url).responseReady`` rejects with a TypeError) follows the current
web-platform-tests (wpt-background-fetch.md); each rejection names the URL and
the rule it broke.
"""

from __future__ import annotations

import pytest
from real_network_support import WPT_HOST, fetch_rejection, needs_ipv6, run_background_fetch

from bgfetch import Request

BODY = b"Background Fetch"


def no_requests(loopback) -> bool:
    return loopback.server.requests == []


# -- fetch() rejects: the Request constructor's rules ---------------------------------


@pytest.mark.parametrize("userinfo", ["username:password@", "username:@", ":password@"])
async def test_credentials_in_url_reject_fetch(real_ua, loopback, userinfo):
    url = f"https://{userinfo}127.0.0.1:{loopback.https_port}/secret.txt"
    error = await fetch_rejection(real_ua, loopback.url(), url)
    assert isinstance(error, TypeError)
    assert "127.0.0.1" in str(error) and "must not include credentials" in str(error)
    assert no_requests(loopback)


async def test_a_url_without_credentials_is_fetched(real_ua, loopback):
    loopback.server.add("/secret.txt", BODY)
    outcome = await run_background_fetch(real_ua, loopback.url(), loopback.url(path="/secret.txt"))
    assert outcome.record("/secret.txt").body == BODY


@pytest.mark.parametrize("whitespace", ["\n", "\t", "\r"])
async def test_dangling_markup_rejects_fetch(real_ua, loopback, whitespace):
    url = loopback.url(path=f"/?{whitespace}<")
    error = await fetch_rejection(real_ua, loopback.url(), url)
    assert isinstance(error, TypeError)
    assert "dangling markup" in str(error) and repr(url) in str(error)
    assert no_requests(loopback)


async def test_a_newline_without_markup_is_only_stripped(real_ua, loopback):
    """The URL parser drops the newline; without `<` there is no dangling markup."""
    loopback.server.add("/?a=1", BODY)
    outcome = await run_background_fetch(real_ua, loopback.url(), loopback.url(path="/?a\n=1"))
    assert outcome.record("/?a=1").body == BODY


@pytest.mark.parametrize("url", ["https://[", "http://127.0.0.1:99999/", "https://exa mple.com/"])
async def test_invalid_urls_reject_fetch(real_ua, loopback, url):
    error = await fetch_rejection(real_ua, loopback.url(), url)
    assert isinstance(error, TypeError)
    assert "is not a valid URL" in str(error) and repr(url) in str(error)


async def test_no_cors_requests_reject_fetch(real_ua, loopback):
    url = loopback.url(path="/a.txt")
    error = await fetch_rejection(real_ua, loopback.url(), Request(url, mode="no-cors"))
    assert isinstance(error, TypeError)
    assert url in str(error) and "no-cors" in str(error)
    assert no_requests(loopback)


# -- the record fails: main fetch's rules ----------------------------------------------


async def test_mixed_content_fails_the_record_and_sends_nothing(real_ua, loopback):
    """fetch.https.window.js "Mixed content": [location.origin, location.origin with http]
    from an https page on a name that is not potentially trustworthy."""
    loopback.server.add("/feature-name.txt", BODY)
    page = f"https://{WPT_HOST}:{loopback.https_port}/"
    secure = f"https://{WPT_HOST}:{loopback.https_port}/feature-name.txt"
    insecure = f"http://{WPT_HOST}:{loopback.http_port}/feature-name.txt"
    outcome = await run_background_fetch(real_ua, page, [secure, insecure])
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert outcome.record(secure).body == BODY
    blocked = outcome.record(insecure)
    assert blocked.response is None and isinstance(blocked.error, TypeError)
    assert "mixed content" in outcome.errors[insecure] and insecure in outcome.errors[insecure]
    assert len(loopback.server.requests_for("/feature-name.txt")) == 1  # the https one only


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", pytest.param("[::1]", marks=needs_ipv6)]
)
async def test_http_to_potentially_trustworthy_hosts_is_allowed(real_ua, loopback, host):
    """mixed-content-and-allowed-schemes: http://127.0.0.1, http://[::1], http://localhost
    resolve and, from an https page of the same host, are fetched (as CORS requests:
    another scheme and port make another origin)."""
    loopback.server.add("/a.txt", BODY, cors="*")
    url = loopback.url("http", host, "/a.txt")
    outcome = await run_background_fetch(real_ua, loopback.url("https", host), url)
    assert (outcome.event, outcome.record(url).body) == ("backgroundfetchsuccess", BODY)


@pytest.mark.parametrize(
    "url",
    ["wss:127.0.0.1", "file:///", "data:text/plain,foo", "foobar:bazqux"],
)
async def test_other_schemes_fail_the_record_with_a_type_error(real_ua, loopback, url):
    """mixed-content-and-allowed-schemes: these must end in TypeError; fetch() resolves
    and match(url).responseReady rejects with a TypeError."""
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    (record,) = outcome.records
    assert record.response is None and isinstance(record.error, TypeError)
    (reason,) = outcome.errors.values()
    assert record.url in reason
    assert real_ua.network.connections_opened == 0


async def test_a_bad_port_fails_the_record_without_connecting(real_ua, loopback):
    """port-blocking: a bad port (587, SMTP submission) ends in TypeError."""
    url = "https://127.0.0.1:587/"
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert isinstance(outcome.record(url).error, TypeError)
    assert outcome.errors[url] == f"{url}: port 587 is a bad port (Fetch, #block-bad-port)"
    assert real_ua.network.connections_opened == 0


async def test_a_redirect_to_a_bad_port_is_blocked(real_ua, loopback):
    """Main fetch asks again after each redirect."""
    loopback.server.add_redirect("/to-smtp", "https://127.0.0.1:25/")
    outcome = await run_background_fetch(real_ua, loopback.url(), "/to-smtp")
    assert outcome.failure_reason == "fetch-error"
    assert "port 25 is a bad port" in next(iter(outcome.errors.values()))


async def test_csp_connect_src_none_fails_the_record(real_ua, loopback):
    """content-security-policy.https.window.js: fetch('/') resolves; match('/') gives a
    record whose responseReady rejects with a TypeError."""
    loopback.server.add("/", BODY)
    outcome = await run_background_fetch(real_ua, loopback.url(), "/", csp="connect-src 'none'")
    record = outcome.record(loopback.url())
    assert record.response is None and isinstance(record.error, TypeError)
    assert outcome.errors[loopback.url()] == (
        f"{loopback.url()}: blocked by the Content Security Policy directive "
        "\"connect-src 'none'\" (CSP, #should-block-request)"
    )
    assert no_requests(loopback)


async def test_csp_self_allows_the_origin_and_blocks_others(real_ua, loopback):
    loopback.server.add("/a.txt", BODY, cors="*")
    same = loopback.url(path="/a.txt")
    other = loopback.url("https", "localhost", "/a.txt")
    outcome = await run_background_fetch(
        real_ua, loopback.url(), [same, other], csp="default-src 'none'; connect-src 'self'"
    )
    assert outcome.record(same).body == BODY
    assert outcome.record(other).response is None
    assert "connect-src 'self'" in outcome.errors[other]


async def test_csp_default_src_applies_without_connect_src(real_ua, loopback):
    loopback.server.add("/a.txt", BODY, cors="*")
    allowed = loopback.url("https", "localhost", "/a.txt")
    outcome = await run_background_fetch(
        real_ua,
        loopback.url(),
        [allowed, loopback.url(path="/a.txt")],
        csp=f"script-src 'self'; default-src https://localhost:{loopback.https_port}",
    )
    assert outcome.record(allowed).body == BODY
    assert "default-src https://localhost" in outcome.errors[loopback.url(path="/a.txt")]


async def test_csp_applies_again_after_a_redirect(real_ua, loopback):
    loopback.server.add("/a.txt", BODY, cors="*")
    loopback.server.add_redirect("/away", loopback.url("https", "localhost", "/a.txt"))
    outcome = await run_background_fetch(real_ua, loopback.url(), "/away", csp="connect-src 'self'")
    assert outcome.failure_reason == "fetch-error"
    (reason,) = outcome.errors.values()
    assert reason.startswith(loopback.url("https", "localhost", "/a.txt"))
    assert [r.path for r in loopback.server.requests] == ["/away"]
