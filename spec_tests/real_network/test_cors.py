"""CORS on real loopback sockets: the CORS check, preflights for PUT / custom headers /
non-safelisted content types, credentials against a wildcard, what a `cors` response
exposes, redirect tainting, and that a response failing CORS leaks nothing.

The page is https://127.0.0.1:port/; https://localhost:port/ (same server, another
host) is the cross-origin side.
"""

from __future__ import annotations

from real_network_support import run_background_fetch

from bgfetch import Request

BODY = b"Background Fetch"
SECRET = ("X-Secret-Header", "SuperSecretValue")


def remote(loopback, path: str) -> str:
    return loopback.url("https", "localhost", path)


def add_cors_resource(loopback, **options):
    """WPT's resources/cors-resource.txt, on the remote origin."""
    defaults = {
        "cors": "*",
        "allow_methods": "GET, OPTIONS, HEAD",
        "allow_headers": "*",
        "headers": [SECRET, ("Access-Control-Max-Age", "86400")],
    }
    return loopback.server.add("/cors-resource.txt", BODY, **(defaults | options))


async def test_a_cross_origin_response_is_cors_and_filters_its_headers(real_ua, loopback):
    """cors.https.window.js 1: type "cors"; X-Secret-Header is not exposed."""
    add_cors_resource(loopback)
    url = remote(loopback, "/cors-resource.txt")
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    assert (outcome.event, outcome.result) == ("backgroundfetchsuccess", "success")
    record = outcome.record(url)
    assert (record.status, record.type, record.body) == (200, "cors", BODY)
    assert record.header("X-Secret-Header") is None
    assert record.header("Content-Type") == "text/plain"  # CORS-safelisted
    assert record.header("Access-Control-Allow-Origin") is None
    (sent,) = loopback.server.requests_for("/cors-resource.txt")
    assert sent.method == "GET" and sent.header("origin") == loopback.origin()


async def test_access_control_expose_headers_exposes_them(real_ua, loopback):
    add_cors_resource(loopback, expose_headers="X-Secret-Header")
    url = remote(loopback, "/cors-resource.txt")
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    assert outcome.record(url).header("X-Secret-Header") == "SuperSecretValue"


async def test_expose_headers_wildcard_exposes_all_without_credentials(real_ua, loopback):
    add_cors_resource(loopback, expose_headers="*")
    url = remote(loopback, "/cors-resource.txt")
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    record = outcome.record(url)
    assert record.header("X-Secret-Header") == "SuperSecretValue"
    assert record.header("Access-Control-Max-Age") == "86400"


async def test_expose_headers_wildcard_is_a_name_with_credentials(real_ua, loopback):
    """With credentials mode "include", `*` matches only a header named `*`."""
    add_cors_resource(loopback, cors=loopback.origin(), allow_credentials=True, expose_headers="*")
    url = remote(loopback, "/cors-resource.txt")
    request = Request(url, credentials="include")
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    record = outcome.record(url)
    assert record.type == "cors" and record.header("X-Secret-Header") is None


async def test_failing_cors_leaks_neither_response_nor_size(real_ua, loopback):
    """fetch.https.window.js 14 / cors.https.window.js 2: no CORS headers ->
    backgroundfetchfail, records [null], downloaded 0, though the server sent it all."""
    big = bytes(range(256)) * 200  # 51,200 bytes the server does send
    loopback.server.add("/no-cors.bin", big)
    url = remote(loopback, "/no-cors.bin")
    progress: list[int] = []

    async def watch(registration):
        registration.add_event_listener(
            "progress", lambda event: progress.append(registration.downloaded)
        )

    outcome = await run_background_fetch(real_ua, loopback.url(), url, while_running=watch)
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    record = outcome.record(url)
    assert record.response is None and isinstance(record.error, TypeError)
    assert outcome.downloaded == 0 and set(progress) <= {0}
    assert outcome.errors[url] == (
        f"{url}: CORS check failed: the response has no Access-Control-Allow-Origin header"
    )
    assert len(loopback.server.requests_for("/no-cors.bin")) == 1


async def test_an_acao_naming_another_origin_fails(real_ua, loopback):
    add_cors_resource(loopback, cors="https://elsewhere.test")
    url = remote(loopback, "/cors-resource.txt")
    outcome = await run_background_fetch(real_ua, loopback.url(), url)
    assert outcome.failure_reason == "fetch-error"
    assert "is not the request's origin" in outcome.errors[url]


async def test_a_custom_header_without_preflight_approval_fails(real_ua, loopback):
    """cors.https.window.js 3: X-Custom-Header needs a preflight, which does not allow it;
    the GET is never sent."""
    add_cors_resource(loopback, allow_headers="")
    url = remote(loopback, "/cors-resource.txt")
    request = Request(url, headers={"X-Custom-Header": "custom"})
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert "header x-custom-header is not in Access-Control-Allow-Headers" in outcome.errors[url]
    (preflight,) = loopback.server.requests_for("/cors-resource.txt")
    assert preflight.method == "OPTIONS"
    assert preflight.header("access-control-request-method") == "GET"
    assert preflight.header("access-control-request-headers") == "x-custom-header"
    assert preflight.header("origin") == loopback.origin()


async def test_a_custom_header_with_preflight_approval_succeeds(real_ua, loopback):
    add_cors_resource(loopback, allow_headers="X-Custom-Header")
    url = remote(loopback, "/cors-resource.txt")
    request = Request(url, headers={"X-Custom-Header": "custom"})
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert outcome.record(url).body == BODY
    methods = [r.method for r in loopback.server.requests_for("/cors-resource.txt")]
    assert methods == ["OPTIONS", "GET"]
    assert loopback.server.requests_for("/cors-resource.txt")[1].header("x-custom-header") == (
        "custom"
    )


async def test_put_requires_a_preflight_and_succeeds(real_ua, loopback):
    """fetch.https.window.js 5: PUT to the remote origin answering ACAO * and ACAM PUT."""
    loopback.server.add_echo("/upload.py", cors="*").allow_methods = "PUT"
    url = remote(loopback, "/upload.py")
    request = Request(url, method="PUT", body="Background Fetch!")
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert (outcome.event, outcome.result) == ("backgroundfetchsuccess", "success")
    assert outcome.record(url).body == b"Background Fetch!"
    assert outcome.uploaded == 17
    preflight, put = loopback.server.requests_for("/upload.py")
    assert (preflight.method, preflight.header("access-control-request-method")) == (
        "OPTIONS",
        "PUT",
    )
    assert (put.method, put.body) == ("PUT", b"Background Fetch!")


async def test_put_that_the_preflight_does_not_allow_fails_unsent(real_ua, loopback):
    loopback.server.add_echo("/upload.py", cors="*").allow_methods = "GET, POST"
    url = remote(loopback, "/upload.py")
    request = Request(url, method="PUT", body="Background Fetch!")
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert outcome.failure_reason == "fetch-error"
    assert "method PUT is not in Access-Control-Allow-Methods (GET, POST)" in outcome.errors[url]
    assert [r.method for r in loopback.server.requests_for("/upload.py")] == ["OPTIONS"]
    assert outcome.uploaded == 0


async def test_a_text_json_content_type_requires_a_preflight_and_succeeds(real_ua, loopback):
    """fetch.https.window.js 6: POST with Content-Type text/json; the remote answers
    ACAO * and ACAH content-type."""
    echo = loopback.server.add_echo("/upload.py", cors="*")
    echo.allow_headers = "content-type"
    url = remote(loopback, "/upload.py")
    request = Request(url, method="POST", headers={"Content-Type": "text/json"}, body="{}")
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    record = outcome.record(url)
    assert (record.body, record.header("Content-Type")) == (b"{}", "text/json")
    preflight, post = loopback.server.requests_for("/upload.py")
    assert preflight.header("access-control-request-headers") == "content-type"
    assert post.method == "POST"


async def test_a_safelisted_post_needs_no_preflight(real_ua, loopback):
    loopback.server.add_echo("/upload.py", cors="*")
    url = remote(loopback, "/upload.py")
    request = Request(url, method="POST", body="text")  # text/plain;charset=UTF-8
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert outcome.record(url).body == b"text"
    assert [r.method for r in loopback.server.requests_for("/upload.py")] == ["POST"]


async def test_same_origin_upload(real_ua, loopback):
    """fetch-uploads.https.window.js 1: uploadTotal 17, uploaded 17, the body echoed."""
    loopback.server.add_echo("/upload.py")
    request = Request(loopback.url(path="/upload.py"), method="POST", body="Background Fetch!")
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert (outcome.event, outcome.uploaded) == ("backgroundfetchsuccess", 17)
    assert outcome.record("/upload.py").body == b"Background Fetch!"
    (post,) = loopback.server.requests_for("/upload.py")
    assert post.header("origin") == loopback.origin()  # a same-origin POST sends Origin too


async def test_credentials_include_against_a_wildcard_fails(real_ua, loopback):
    """cors.https.window.js 4."""
    add_cors_resource(loopback)
    url = remote(loopback, "/cors-resource.txt")
    outcome = await run_background_fetch(
        real_ua, loopback.url(), Request(url, credentials="include")
    )
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    assert (
        "Access-Control-Allow-Origin is * and the request's credentials mode is include"
        in (outcome.errors[url])
    )


async def test_credentials_omit_against_a_wildcard_succeeds(real_ua, loopback):
    """cors.https.window.js 5."""
    add_cors_resource(loopback)
    url = remote(loopback, "/cors-resource.txt")
    outcome = await run_background_fetch(real_ua, loopback.url(), Request(url, credentials="omit"))
    assert outcome.event == "backgroundfetchsuccess"


async def test_credentials_include_needs_the_origin_and_allow_credentials(real_ua, loopback):
    add_cors_resource(loopback, cors=loopback.origin())
    url = remote(loopback, "/cors-resource.txt")
    request = Request(url, credentials="include")
    outcome = await run_background_fetch(real_ua, loopback.url(), request)
    assert "Access-Control-Allow-Credentials is not true" in outcome.errors[url]
    loopback.server.resources["/cors-resource.txt"].allow_credentials = True
    outcome = await run_background_fetch(real_ua, loopback.url(), request, id="again")
    assert outcome.record(url).body == BODY


async def test_a_cross_origin_redirect_taints_the_response(real_ua, loopback):
    """Same-origin URL, redirected cross-origin: a CORS response from then on."""
    add_cors_resource(loopback)
    loopback.server.add_redirect("/go", remote(loopback, "/cors-resource.txt"))
    outcome = await run_background_fetch(real_ua, loopback.url(), "/go")
    record = outcome.record("/go")
    assert (record.type, record.body) == ("cors", BODY)
    assert record.header("X-Secret-Header") is None
    assert record.response.url == remote(loopback, "/cors-resource.txt")


async def test_a_cross_origin_redirect_to_a_resource_without_cors_fails(real_ua, loopback):
    loopback.server.add("/plain.txt", BODY)
    loopback.server.add_redirect("/go", remote(loopback, "/plain.txt"))
    outcome = await run_background_fetch(real_ua, loopback.url(), "/go")
    assert outcome.failure_reason == "fetch-error" and outcome.downloaded == 0
    assert "no Access-Control-Allow-Origin" in outcome.errors[loopback.url(path="/go")]


async def test_back_to_the_origin_after_a_cross_origin_hop_is_still_cors(real_ua, loopback):
    """A -> B -> A: the response tainting stays "cors" and the origin is serialized
    as "null", so ACAO naming the page's origin no longer matches."""
    loopback.server.add("/home.txt", BODY, cors=loopback.origin())
    loopback.server.add_redirect("/bounce", loopback.url(path="/home.txt"), cors=loopback.origin())
    outcome = await run_background_fetch(real_ua, loopback.url(), remote(loopback, "/bounce"))
    assert outcome.failure_reason == "fetch-error"
    assert "is not the request's origin 'null'" in next(iter(outcome.errors.values()))
    home = loopback.server.requests_for("/home.txt")
    assert [r.header("origin") for r in home] == ["null"]
    loopback.server.resources["/home.txt"].cors = "*"
    outcome = await run_background_fetch(
        real_ua, loopback.url(), remote(loopback, "/bounce"), id="again"
    )
    assert outcome.records[0].type == "cors" and outcome.records[0].body == BODY


async def test_a_redirect_response_must_pass_the_cors_check_itself(real_ua, loopback):
    add_cors_resource(loopback)
    loopback.server.add_redirect("/hop", loopback.url("https", "localhost", "/cors-resource.txt"))
    outcome = await run_background_fetch(real_ua, loopback.url(), remote(loopback, "/hop"))
    assert outcome.failure_reason == "fetch-error"
    assert loopback.server.requests_for("/cors-resource.txt") == []
