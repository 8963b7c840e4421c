"""The Fetch rules as functions (CSP matching, CORS safelists, potentially trustworthy
origins, content decoding), and the web-platform-tests' URL lists for schemes, mixed
content and ports on the virtual network (whose names, like example.com, the real
network's tests may not use)."""

from __future__ import annotations

import gzip
import zlib

import pytest

import bgfetch
from bgfetch.errors import NetworkError
from bgfetch.fetch.checks import (
    is_potentially_trustworthy_origin,
    is_potentially_trustworthy_url,
)
from bgfetch.fetch.coding import decode_body
from bgfetch.fetch.cors import (
    cors_unsafe_request_header_names,
    is_cors_safelisted_request_header,
    needs_cors_preflight,
)
from bgfetch.fetch.csp import (
    PolicyContainer,
    does_url_match_expression,
    parse_serialized_policy,
)
from bgfetch.fetch.headers import HeaderList
from bgfetch.fetch.request import InternalRequest
from bgfetch.fetch.response import InternalResponse, cors_filtered_response, strong_validator
from bgfetch.testing import WorkerRecorder, open_window_with_worker
from bgfetch.url import Origin, parse_url

PAGE = Origin("https", "example.test", 443)


# -- CSP ------------------------------------------------------------------------------


def test_a_serialized_policy_keeps_the_first_of_duplicate_directives():
    policy = parse_serialized_policy(" Connect-Src 'self'  https: ; connect-src *; ; img-src x")
    assert [(d.name, d.value) for d in policy.directives] == [
        ("connect-src", ("'self'", "https:")),
        ("img-src", ("x",)),
    ]
    assert PolicyContainer.from_csp_header("a b, c d").csp_list[1].directives[0].name == "c"


@pytest.mark.parametrize(
    ("expression", "url", "matches"),
    [
        ("*", "https://a.test/", True),
        ("*", "data:text/plain,x", False),
        ("https:", "https://a.test/", True),
        ("http:", "https://a.test/", True),  # a secure upgrade
        ("https:", "http://a.test/", False),
        ("a.test", "https://a.test/x", True),
        ("a.test", "http://a.test/x", False),  # schemeless: the page's https scheme
        ("*.a.test", "https://b.a.test/", True),
        ("*.a.test", "https://a.test/", False),
        ("https://a.test:8443", "https://a.test:8443/", True),
        ("https://a.test:8443", "https://a.test/", False),
        ("https://a.test:*", "https://a.test:1/", True),
        ("https://a.test/dir/", "https://a.test/dir/file", True),
        ("https://a.test/dir/file", "https://a.test/dir/other", False),
        ("127.0.0.1", "https://127.0.0.1/", False),  # host-source never matches an IP
        ("'self'", "https://example.test/x", True),
        ("'self'", "https://example.test:8443/", False),
        ("'self'", "wss://example.test/", True),
        ("'unsafe-inline'", "https://example.test/", False),
    ],
)
def test_url_matches_source_expression(expression, url, matches):
    assert does_url_match_expression(parse_url(url), expression, PAGE, 0) is matches


def test_a_path_is_ignored_after_a_redirect():
    url = parse_url("https://a.test/elsewhere")
    assert not does_url_match_expression(url, "https://a.test/only", PAGE, 0)
    assert does_url_match_expression(url, "https://a.test/only", PAGE, 1)


# -- CORS helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "safelisted"),
    [
        ("Accept", "*/*", True),
        ("Accept", "text/html; q=0.9 (x)", False),
        ("Accept-Language", "en-US,fr;q=0.5", True),
        ("Content-Language", "en_US", False),
        ("Content-Type", "text/plain;charset=UTF-8", True),
        ("Content-Type", "multipart/form-data; boundary=x", True),
        ("Content-Type", "text/json", False),
        ("Content-Type", "application/json", False),
        ("Range", "bytes=100-", True),
        ("Range", "bytes=0-99", True),
        ("Range", "bytes=-500", False),
        ("Range", "bytes=5-1", False),
        ("X-Custom-Header", "1", False),
        ("Accept", "a" * 129, False),
    ],
)
def test_cors_safelisted_request_headers(name, value, safelisted):
    assert is_cors_safelisted_request_header(name, value) is safelisted


def test_unsafe_header_names_are_sorted_lowercased_and_count_long_safelisted_values():
    headers = HeaderList([("X-B", "1"), ("x-a", "1"), ("X-B", "2"), ("Accept", "*/*")])
    assert cors_unsafe_request_header_names(headers) == ["x-a", "x-b"]
    long_values = HeaderList([("Accept", "a" * 128)] * 9)  # 1152 bytes of safelisted values
    assert cors_unsafe_request_header_names(long_values) == ["accept"]


def test_which_requests_need_a_preflight():
    def request(method="GET", headers=()):
        return InternalRequest(
            url=parse_url("https://b.test/"),
            method=method,
            header_list=HeaderList(headers),
            unsafe_request=True,
        )

    assert not needs_cors_preflight(request("POST", [("Content-Type", "text/plain")]))
    assert needs_cors_preflight(request("PUT"))
    assert needs_cors_preflight(request("POST", [("Content-Type", "text/json")]))
    assert needs_cors_preflight(request(headers=[("X-Custom-Header", "1")]))
    internal = request("PUT")
    internal.unsafe_request = False  # not from an API: no preflight
    assert not needs_cors_preflight(internal)


def test_a_cors_filtered_response_keeps_only_safelisted_and_exposed_headers():
    internal = InternalResponse(
        header_list=HeaderList(
            [
                ("Content-Type", "text/plain"),
                ("X-Secret-Header", "s"),
                ("X-Exposed", "e"),
                ("Set-Cookie", "a=b"),
            ]
        ),
        cors_exposed_header_names=["X-Exposed", "Set-Cookie"],
    )
    filtered = cors_filtered_response(internal)
    assert filtered.type == "cors" and filtered.unfiltered is internal
    assert list(filtered.header_list) == [("Content-Type", "text/plain"), ("X-Exposed", "e")]
    assert filtered.copy().unfiltered.header_list.get("X-Secret-Header") == "s"


@pytest.mark.parametrize(
    ("headers", "validator"),
    [
        ([("ETag", '"a"'), ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")], '"a"'),
        (
            [("ETag", 'W/"a"'), ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")],
            "Mon, 01 Jan 2024 00:00:00 GMT",
        ),
        ([("ETag", 'W/"a"')], None),
        ([], None),
    ],
)
def test_if_range_takes_a_strong_etag_else_last_modified(headers, validator):
    assert strong_validator(InternalResponse(header_list=HeaderList(headers))) == validator


# -- potentially trustworthy ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "trustworthy"),
    [
        ("https://example.com/", True),
        ("wss://example.com/", True),
        ("http://127.0.0.1/", True),
        ("http://127.255.0.9/", True),
        ("http://[::1]/", True),
        ("http://localhost/", True),
        ("http://a.localhost/", True),
        ("http://example.com/", False),
        ("http://192.0.2.0/", False),
        ("http://[2001:db8::1]/", False),
        ("http://localhost.example/", False),
        ("data:text/plain,foo", True),
        ("file:///", True),
        ("foobar:bazqux", False),
    ],
)
def test_potentially_trustworthy_urls(url, trustworthy):
    assert is_potentially_trustworthy_url(parse_url(url)) is trustworthy


def test_an_http_origin_on_a_name_is_not_trustworthy():
    assert not is_potentially_trustworthy_origin(Origin("http", "web-platform.test", 80))


# -- content decoding ------------------------------------------------------------------------


async def chunks(data: bytes, size: int = 7):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def decoded(codings, data: bytes) -> bytes:
    return b"".join([c async for c in decode_body(codings, chunks(data), url="https://x.test/")])


TEXT = b"Background Fetch " * 40


async def test_decoding_gzip_deflate_raw_deflate_and_stacked_codings():
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(TEXT) + raw.flush()
    two_members = gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:])
    assert await decoded(["gzip"], gzip.compress(TEXT)) == TEXT
    assert await decoded(["x-gzip"], two_members) == TEXT
    assert await decoded(["deflate"], zlib.compress(TEXT)) == TEXT
    assert await decoded(["deflate"], raw_deflate) == TEXT
    assert await decoded(["deflate", "gzip"], gzip.compress(zlib.compress(TEXT))) == TEXT
    assert await decoded(["identity"], TEXT) == TEXT
    assert await decoded(["gzip", "x-unknown"], TEXT) == TEXT  # unsupported: as sent


@pytest.mark.parametrize(
    ("codings", "data"),
    [
        (["gzip"], gzip.compress(TEXT)[:-12]),  # the stream ends early
        (["gzip"], b"not gzip at all"),
        (["br"], b"\xff\xff not brotli"),
    ],
)
async def test_a_body_that_fails_to_decode_is_a_network_error(codings, data):
    with pytest.raises(NetworkError, match=r"https://x.test/: decoding the body's content coding"):
        await decoded(codings, data)


# -- the web-platform-tests' URL lists on the virtual network ----------------------------


async def settle(user_agent, origin_server, urls, **options):
    """fetch(urls); the worker's records: url -> (status, TypeError?) after settling."""
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder, **options)
    await registration.background_fetch.fetch("wpt", urls)
    seen = await recorder.settled("wpt")
    return {r.url: r.status if r.error is None else type(r.error) for r in seen.responses}


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://127.0.0.1",
        "http://[::1]",
        "http://localhost",
        "https://example.com:443",
        "https://example.com:80",
        "https://example.com:8080",
    ],
)
async def test_wpt_urls_that_must_resolve(user_agent, virtual_network, origin_server, url):
    """mixed-content-and-allowed-schemes and port-blocking: fetch() resolves, and with the
    host served (on the virtual network) and answering CORS, the record succeeds."""
    origin_server.add("/", "ok", cors="*")
    virtual_network.serve(parse_url(url).origin, origin_server)
    results = await settle(user_agent, origin_server, url)
    assert list(results.values()) == [200]


@pytest.mark.parametrize(
    "url",
    [
        "wss:127.0.0.1",
        "file:///",
        "data:text/plain,foo",
        "foobar:bazqux",
        "https://example.com:587",
    ],
)
async def test_wpt_urls_that_must_end_in_type_error(user_agent, origin_server, url):
    results = await settle(user_agent, origin_server, url)
    assert list(results.values()) == [TypeError]


async def test_wpt_older_mixed_content_urls_fail_their_records(user_agent, origin_server):
    """The older WPT rejected these at fetch(); the current one only needs them to fail."""
    origin_server.add("/ok.txt", "ok")
    urls = ["/ok.txt", "http://example.com", "http://192.0.2.0", "http://[2001:db8::1]"]
    results = await settle(user_agent, origin_server, urls)
    assert results == {
        "https://example.test/ok.txt": 200,
        "http://example.com/": TypeError,
        "http://192.0.2.0/": TypeError,
        "http://[2001:db8::1]/": TypeError,
    }


def test_credentials_rejection_names_the_url_without_its_password():
    with pytest.raises(TypeError) as error:
        bgfetch.Request("https://user:hunter2@example.test/secret.txt")
    message = str(error.value)
    assert "https://user:***@example.test/secret.txt" in message
    assert "hunter2" not in message
