"""Whatever a page passes is decided at the call: a TypeError naming the bad argument, as
Web IDL and Fetch's Request constructor say, or a background fetch that runs; never an
exception later, out of an edit queue or h11 (issue 9, "pages and workers").  And a
page cannot send what Fetch keeps for the user agent: forbidden request-headers and
methods."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.fetch.headers import Headers, get_decode_and_split, is_forbidden_request_header
from bgfetch.testing import WorkerRecorder, open_window_with_worker

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
FETCH = "#background-fetch-manager-fetch"
ORIGIN = "https://example.test"


async def page(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    return recorder, registration.background_fetch


async def still_works(recorder, manager, id="after"):
    """The user agent took no harm: a new background fetch runs to its end."""
    await manager.fetch(id, "/a.txt")
    assert (await recorder.settled(id)).texts() == ["A"]


# -- fetch()'s own arguments -------------------------------------------------------------


@EDITIONS
@pytest.mark.step(FETCH)
@pytest.mark.parametrize(
    "icons, message",
    [
        (5, r"icons must be a sequence \(a list\), not 5 \(int\)"),
        ("abc", r"icons must be a sequence \(a list\), not 'abc' \(str\)"),
        ({"src": "/i.png"}, "icons must be a sequence"),
        ([5], r"icons\[0\] must be a \w+ \(a dict\), not 5 \(int\)"),
        ([{"src": 5}], r"icons\[0\]\['src'\] must be a string"),
        ([{"src": "/i.png", "sizes": None}], r"icons\[0\]\['sizes'\] must be a string"),
    ],
)
async def test_bad_icons_are_a_type_error_at_the_call(user_agent, origin_server, icons, message):
    recorder, manager = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match=message):
        await manager.fetch("icons", "/a.txt", icons=icons)
    assert await manager.get_ids() == []
    await still_works(recorder, manager)


@pytest.mark.step(FETCH)
async def test_an_image_resource_needs_a_src_and_keeps_only_its_members(user_agent, origin_server):
    recorder, manager = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match="requires 'src'"):
        await manager.fetch("icons", "/a.txt", icons=[{"sizes": "1x1"}])
    bg = await manager.fetch("kept", "/a.txt", icons=[{"src": "/i.png", "x": 1, "label": "L"}])
    assert bg.background_fetch.icons == [{"src": "/i.png", "label": "L"}]
    await recorder.settled("kept")


@pytest.mark.parametrize("bgfetch_edition", ["2017-10-12"])
async def test_the_drafts_icon_definitions_take_their_defaults(user_agent, origin_server):
    recorder, manager = await page(user_agent, origin_server)
    bg = await manager.fetch("icons", "/a.txt", icons=[{"src": "/i.png"}, {}])
    assert bg.background_fetch.icons == [
        {"src": "/i.png", "sizes": "", "type": ""},
        {"sizes": "", "type": ""},
    ]
    await recorder.settled("icons")


@EDITIONS
@pytest.mark.step(FETCH)
@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"id": b"x"}, "a background fetch id must be a string"),
        ({"requests": 5}, "requests must be a sequence"),
        ({"requests": [5]}, r"requests\[0\] must be a URL string or a Request, not int"),
        ({"requests": b"/a.txt"}, "requests must be a sequence"),
        ({"download_total": True}, "downloadTotal must be a non-negative integer"),
        ({"download_total": 2**64}, "below 2\\*\\*64"),
        ({"download_total": 1.5}, "downloadTotal must be a non-negative integer"),
        ({"title": 5}, "title must be a string"),
    ],
)
async def test_bad_fetch_arguments_are_a_type_error_naming_them(
    user_agent, origin_server, arguments, message
):
    recorder, manager = await page(user_agent, origin_server)
    call = {"id": "x", "requests": "/a.txt"} | arguments
    with pytest.raises(TypeError, match=message):
        await manager.fetch(call.pop("id"), call.pop("requests"), **call)
    await still_works(recorder, manager)


@pytest.mark.step("#background-fetch-update-ui-event-update-ui")
async def test_update_ui_with_bad_icons_rejects_with_a_type_error(user_agent, origin_server):
    origin_server.add("/a.txt", "A")
    worker = bgfetch.ServiceWorker()
    errors = []
    done = trio.Event()

    @worker.on("backgroundfetchsuccess")
    async def on_success(event):
        for icons in (5, "abc", [5]):
            try:
                await event.update_ui(icons=icons)
            except TypeError as error:
                errors.append(str(error))
        await event.update_ui(title="done", icons=[{"src": "/d.png"}])
        done.set()

    window, registration = await open_window_with_worker(user_agent, worker)
    bg = await registration.background_fetch.fetch("ui", "/a.txt")
    await done.wait()
    assert len(errors) == 3 and all("icons" in e for e in errors)
    assert bg.background_fetch.icons == [{"src": "/d.png"}]


# -- the Request constructor: methods ----------------------------------------------------


@EDITIONS
@pytest.mark.parametrize(
    "method, message",
    [
        ("GÉT", "'GÉT' is not a valid request method"),
        ("G ET", "is not a valid request method"),
        ("", "is not a valid request method"),
        ("GET\r\n", "is not a valid request method"),
        ("PO\nST", "is not a valid request method"),
        ("P€ST", r"is not a ByteString: '€' \(U\+20AC\)"),
        (5, r"a request method must be a string, not 5 \(int\)"),
        (b"GET", "a request method must be a string"),
        ("trace", "'trace' is a forbidden method"),
        ("Connect", "forbidden method"),
        ("TRACK", "forbidden method"),
    ],
)
async def test_a_bad_method_is_a_type_error_at_the_call(user_agent, origin_server, method, message):
    recorder, manager = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match=message):
        await manager.fetch("m", bgfetch.Request("/a.txt", method=method, base_url=ORIGIN))
    await still_works(recorder, manager)


def test_methods_are_normalized_only_for_the_six():
    assert bgfetch.Request("https://a.test/", method="post").method == "POST"
    assert bgfetch.Request("https://a.test/", method="patch").method == "patch"
    assert bgfetch.Request("https://a.test/", method="M-SEARCH").method == "M-SEARCH"


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"input": 5}, r"a request \(its URL\) must be a string, not 5 \(int\)"),
        ({"mode": 5}, "not a valid request mode"),
        ({"mode": ["cors"]}, "not a valid request mode"),
        ({"credentials": 1}, "not a valid credentials mode"),
        ({"mode": "no-cors", "method": "PUT"}, "'PUT' is not allowed in a no-cors request"),
    ],
)
def test_other_bad_request_arguments_are_type_errors_naming_them(arguments, message):
    call = {"input": "https://a.test/"} | arguments
    with pytest.raises(TypeError, match=message):
        bgfetch.Request(call.pop("input"), **call)


# -- headers -------------------------------------------------------------------------------


@EDITIONS
@pytest.mark.parametrize(
    "headers, message",
    [
        ([("bad name", "v")], "'bad name' is not a valid header name"),
        ([("", "v")], "'' is not a valid header name"),
        ([("Ä", "v")], "'Ä' is not a valid header name"),
        ([("X:Y", "v")], "is not a valid header name"),
        ([("X-€", "v")], "not a ByteString"),
        ([("X-A", "€")], r"the value of header 'X-A' '€' is not a ByteString"),
        ([("X-A", "a\x00b")], "is not a valid header value"),
        ([("X-A", "a\r\nX-Injected: 1")], "is not a valid header value"),
        ([("X-A", 5)], r"the value of header 'X-A' must be a string, not 5 \(int\)"),
        ([(5, "v")], "a header name must be a string"),
        ({"X-A": None}, "the value of header 'X-A' must be a string"),
        ([("X-A",)], r"headers\[0\] must be a \(name, value\) pair, not 1 items"),
        ([("X-A", "1", "2")], r"headers\[0\] must be a \(name, value\) pair"),
        (["X-A: 1"], r"headers\[0\] must be a \(name, value\) pair"),
        ("X-A: 1", "headers must be a sequence"),
        (5, "headers must be a sequence"),
    ],
)
async def test_a_bad_header_is_a_type_error_at_the_call(
    user_agent, origin_server, headers, message
):
    recorder, manager = await page(user_agent, origin_server)
    with pytest.raises(TypeError, match=message):
        await manager.fetch("h", bgfetch.Request("/a.txt", headers=headers, base_url=ORIGIN))
    await still_works(recorder, manager)


@EDITIONS
async def test_header_values_are_byte_strings_sent_as_their_bytes(user_agent, origin_server):
    recorder, manager = await page(user_agent, origin_server)
    request = bgfetch.Request(
        "/a.txt", headers={"X-Latin": "café", "X-Padded": " \t two words \r\n"}, base_url=ORIGIN
    )
    assert request.headers.get("X-Padded") == "two words"  # normalized
    await manager.fetch("bytes", request)
    assert (await recorder.settled("bytes")).texts() == ["A"]
    [sent] = origin_server.requests_for("/a.txt")
    # One byte per character: é is the byte 0xE9 (the server decodes what it got as Latin-1).
    assert sent.header("x-latin") == "caf\xe9"
    assert sent.header("x-padded") == "two words"


# -- forbidden request-headers -------------------------------------------------------------

FORBIDDEN = [
    ("Origin", "https://evil.test"),
    ("Cookie", "session=stolen"),
    ("TE", "trailers"),
    ("Upgrade", "websocket"),
    ("Expect", "100-continue"),
    ("Connection", "close"),
    ("Host", "evil.test"),
    ("Content-Length", "42"),
    ("Transfer-Encoding", "chunked"),
    ("Referer", "https://evil.test/"),
    ("Keep-Alive", "300"),
    ("Via", "1.1 evil"),
    ("Accept-Charset", "utf-8"),
    ("Access-Control-Request-Method", "PUT"),
    ("DNT", "1"),
    ("Sec-Fetch-Site", "same-origin"),
    ("Proxy-Authorization", "Basic eA=="),
    ("X-HTTP-Method-Override", "TRACE"),
    ("X-HTTP-Method", "get, track"),
    ("X-Method-Override", " connect"),
]


@EDITIONS
@pytest.mark.step(FETCH)
async def test_forbidden_request_headers_never_reach_the_server(user_agent, origin_server):
    recorder, manager = await page(user_agent, origin_server)
    headers = [*FORBIDDEN, ("X-HTTP-Method-Override", "GET"), ("X-Kept", "1")]
    request = bgfetch.Request("/a.txt", headers=headers, base_url=ORIGIN)
    assert [name for name, _ in request.headers.header_list] == ["X-HTTP-Method-Override", "X-Kept"]
    await manager.fetch("forbidden", request)
    assert (await recorder.settled("forbidden")).texts() == ["A"]
    [sent] = origin_server.requests_for("/a.txt")
    names = [name for name, _ in sent.headers]
    for name, value in FORBIDDEN:
        assert (name.lower(), value) not in sent.headers
    assert sent.header("x-http-method-override") == "GET"
    assert sent.header("x-kept") == "1"
    assert names.count("host") == 1 and sent.header("host") == "example.test"
    assert "cookie" not in names and "upgrade" not in names and "expect" not in names


@EDITIONS
@pytest.mark.step(FETCH)
async def test_a_forged_origin_never_reaches_a_cross_origin_server(
    user_agent, origin_server, virtual_network
):
    other = bgfetch.testing.OriginServer()
    other.add_echo("/upload", cors="*")
    virtual_network.serve("https://other.test", other)
    recorder, manager = await page(user_agent, origin_server)
    request = bgfetch.Request(
        "https://other.test/upload",
        method="POST",
        body="data",
        headers=[("Origin", "https://evil.test"), ("Content-Type", "text/plain")],
    )
    await manager.fetch("cross", request)
    await recorder.settled("cross")
    sent = other.requests_for("/upload")
    assert sent and all(
        [value for name, value in r.headers if name == "origin"] == [ORIGIN] for r in sent
    )


def test_forbidden_request_header_follows_fetch():
    assert is_forbidden_request_header("sec-anything", "")
    assert is_forbidden_request_header("PROXY-x", "")
    assert is_forbidden_request_header("Set-Cookie", "a=b")
    assert not is_forbidden_request_header("User-Agent", "me")  # no longer forbidden
    assert not is_forbidden_request_header("X-HTTP-Method-Override", "GETTRACE")
    assert not is_forbidden_request_header("X-HTTP-Method", '",TRACE",')  # one quoted value
    assert is_forbidden_request_header("X-Method-Override", "GET,track ")
    assert get_decode_and_split('a, "b,c" ,d') == ["a", '"b,c"', "d"]
    assert get_decode_and_split("") == [""]


def test_headers_guards():
    request = Headers(guard="request")
    request.append("Cookie", "a")
    request.set("Origin", "b")
    assert list(request.header_list) == []
    no_cors = Headers(guard="request-no-cors")
    no_cors.append("Accept", "text/html")
    no_cors.append("X-Custom", "1")  # not no-CORS-safelisted: dropped
    no_cors.append("Range", "bytes=0-")  # privileged: removed
    assert list(no_cors.header_list) == [("Accept", "text/html")]
    immutable = Headers([("A", "1")], guard="none")
    immutable.guard = "immutable"
    with pytest.raises(TypeError, match="immutable"):
        immutable.append("B", "2")
    response = Headers(guard="response")
    response.append("Set-Cookie", "a=b")
    assert list(response.header_list) == []


# -- bodies -------------------------------------------------------------------------------


@EDITIONS
@pytest.mark.step(FETCH)
@pytest.mark.parametrize("chunk", [3, "text", None, [1, 2]])
async def test_a_body_stream_chunk_that_is_not_bytes_rejects_with_a_type_error(
    user_agent, origin_server, chunk
):
    recorder, manager = await page(user_agent, origin_server)

    async def body():
        yield b"ok"
        yield chunk

    request = bgfetch.Request("/a.txt", method="POST", body=body(), base_url=ORIGIN)
    with pytest.raises(TypeError) as raised:
        await manager.fetch("body", request)
    # (The 2017-10-12 draft refuses every stream: step 7.3.1.)
    assert "must yield bytes" in str(raised.value) or "stream" in str(raised.value)
    assert await manager.get_ids() == []
    await still_works(recorder, manager)
    assert not origin_server.requests_for("/a.txt")[:-1]  # only still_works' request was sent


@EDITIONS
@pytest.mark.step(FETCH, "6.1")
async def test_a_request_whose_stream_was_used_is_a_type_error(user_agent, origin_server):
    # Fetch's Request constructor: an input whose body is disturbed is unusable.  Without
    # it the second fetch() would read what the first left of the stream: nothing.
    recorder, manager = await page(user_agent, origin_server)
    origin_server.add_echo("/echo")

    async def body():
        yield b"once"

    request = bgfetch.Request("/echo", method="POST", body=body(), base_url=ORIGIN)
    draft = user_agent.edition.NAME != "current"
    try:
        await manager.fetch("first", request)
    except TypeError as error:
        assert draft and "stream" in str(error)  # the draft refuses streams: used, though
    else:
        await recorder.settled("first")
    with pytest.raises(TypeError, match="already used"):
        await manager.fetch("second", request)
    with pytest.raises(TypeError, match="already used"):
        bgfetch.Request(request)
    # In one call too: the same Request twice.
    again = bgfetch.Request("/echo", method="POST", body=body(), base_url=ORIGIN)
    with pytest.raises(TypeError, match="is a stream" if draft else "already used"):
        await manager.fetch("twice", [again, again])
    await still_works(recorder, manager)


@EDITIONS
@pytest.mark.step(FETCH, "6.1")
async def test_a_request_whose_bytes_body_was_used_is_a_type_error(user_agent, origin_server):
    # Fetch's Request constructor makes the new body a proxy of the input's, which
    # disturbs the input's body whatever it holds: fetch() (step 6.1) uses a Request with a
    # body once, as a second Request from it would.
    recorder, manager = await page(user_agent, origin_server)
    origin_server.add_echo("/echo")
    request = bgfetch.Request("/echo", method="POST", body=b"once", base_url=ORIGIN)
    assert not request.body_used
    await manager.fetch("first", request)
    assert request.body_used
    await recorder.settled("first")
    with pytest.raises(TypeError, match="already used"):
        await manager.fetch("second", request)
    with pytest.raises(TypeError, match="already used"):
        bgfetch.Request(request)
    with pytest.raises(TypeError, match="already used"):
        await request.bytes()
    # A Request given a body of its own does not use the input's.
    replaced = bgfetch.Request(request, body=b"new")
    assert await replaced.text() == "new" and replaced.body_used
    # The same Request twice in one fetch(): the second use is the TypeError.
    again = bgfetch.Request("/echo", method="POST", body=b"twice", base_url=ORIGIN)
    with pytest.raises(TypeError, match="already used"):
        await manager.fetch("twice", [again, again])
    # Reading a body uses it too.
    read = bgfetch.Request("/echo", method="POST", body="read", base_url=ORIGIN)
    assert await read.text() == "read"
    with pytest.raises(TypeError, match="already used"):
        await manager.fetch("read", read)
    # A GET made from a Request with a body: Fetch's TypeError, and nothing used.
    posted = bgfetch.Request("/echo", method="POST", body=b"x", base_url=ORIGIN)
    with pytest.raises(TypeError, match="a GET request cannot have a body"):
        bgfetch.Request(posted, method="GET")
    assert not posted.body_used
    await still_works(recorder, manager)


@EDITIONS
@pytest.mark.step("#background-fetch-registration-match-all")
async def test_matching_with_a_request_does_not_use_its_body(user_agent, origin_server):
    # Cache's matchAll takes a Request's request as it is: no new Request, no proxy.
    recorder, manager = await page(user_agent, origin_server)
    origin_server.add("/slow.txt", "S", delay=100)
    bg = await manager.fetch("matching", "/slow.txt")
    query = bgfetch.Request("/slow.txt", method="POST", body=b"q", base_url=ORIGIN)
    if user_agent.edition.NAME == "current":
        assert await bg.match_all(query) == []  # a POST query without ignoreMethod
        assert len(await bg.match_all(query, ignore_method=True)) == 1
    else:
        assert await bg.active_fetches.match(query) is None
    assert not query.body_used and await query.bytes() == b"q"
