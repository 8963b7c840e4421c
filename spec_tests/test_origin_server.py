"""The test origin server: each scripted behaviour, spoken to by a minimal h11 client."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import h11
import pytest
import trio
import trio.testing

from bgfetch.net import VirtualNetwork
from bgfetch.testing import OriginServer, RecordedRequest, Resource
from bgfetch.url import Origin

EXAMPLE = Origin("https", "example.test", 443)
BODY = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable


@attrs.define
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    complete: bool  # False when the connection ended before the body did
    head_at: float  # trio time the head was read
    done_at: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)


class Client:
    """One HTTP/1.1 connection: requests one after another, as keep-alive does."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.conn = h11.Connection(h11.CLIENT)

    async def request(
        self,
        method: str = "GET",
        target: str = "/",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> Reply:
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        all_headers = [("Host", "example.test"), *headers]
        if body:
            all_headers.append(("Content-Length", str(len(body))))
        await self._send(h11.Request(method=method, target=target, headers=all_headers))
        if body:
            await self._send(h11.Data(data=body))
        await self._send(h11.EndOfMessage())
        return await self._read_reply()

    async def _send(self, event: h11.Event) -> None:
        await self.stream.send_all(self.conn.send(event) or b"")

    async def _read_reply(self) -> Reply:
        head: h11.Response | None = None
        head_at = 0.0
        body = bytearray()
        complete = False
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError:
                break  # The server closed mid-body.
            if event is h11.NEED_DATA:
                try:
                    data = await self.stream.receive_some()
                except trio.BrokenResourceError:
                    break
                self.conn.receive_data(bytes(data))
            elif isinstance(event, h11.Response):
                head, head_at = event, trio.current_time()
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                complete = True
                break
            elif isinstance(event, h11.ConnectionClosed):
                break
        assert head is not None, "no response head"
        return Reply(
            status=head.status_code,
            headers=[(k.decode(), v.decode()) for k, v in head.headers],
            body=bytes(body),
            complete=complete,
            head_at=head_at,
            done_at=trio.current_time(),
        )


class Setup:
    """An origin server on a virtual network, and a way to open clients to it."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.server = OriginServer()
        self.network = VirtualNetwork()
        self.network.serve("https://example.test", self.server)

    async def client(self) -> Client:
        return Client(await self.network.open_stream(EXAMPLE, nursery=self.nursery))

    async def get(self, target: str, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        client = await self.client()
        reply = await client.request("GET", target, headers)
        await client.stream.aclose()
        return reply


@pytest.fixture
def setup(nursery: trio.Nursery) -> Setup:
    """pytest-trio's ``nursery`` fixture runs the server tasks and is cancelled after the test."""
    return Setup(nursery)


# -- basics -----------------------------------------------------------------------------


async def test_get_serves_body_and_headers(setup: Setup) -> None:
    setup.server.add(
        "/a.txt", "héllo", headers=[("X-Extra", "1")], etag='"v1"', last_modified="Mon, 01 Jan 2024"
    )
    reply = await setup.get("/a.txt")
    assert (reply.status, reply.body, reply.complete) == (200, "héllo".encode(), True)
    assert reply.header("content-type") == "text/plain"
    assert reply.header("content-length") == "6"
    assert reply.header("x-extra") == "1"
    assert reply.header("etag") == '"v1"'
    assert reply.header("last-modified") == "Mon, 01 Jan 2024"
    assert reply.header("accept-ranges") == "bytes"
    assert reply.header("access-control-allow-origin") is None


async def test_unknown_path_is_404(setup: Setup) -> None:
    reply = await setup.get("/missing")
    assert (reply.status, reply.body) == (404, b"Not Found")


async def test_query_matching_prefers_the_exact_target(setup: Setup) -> None:
    setup.server.add("/a.txt", "any query")
    setup.server.add("/a.txt?id=3", "three")
    setup.server.add("/only?x=1", "x")
    assert (await setup.get("/a.txt?id=3")).body == b"three"
    assert (await setup.get("/a.txt?id=4")).body == b"any query"
    assert (await setup.get("/a.txt")).body == b"any query"
    assert (await setup.get("/only")).status == 404
    assert [r.target for r in setup.server.requests_for("/a.txt")] == [
        "/a.txt?id=3",
        "/a.txt?id=4",
        "/a.txt",
    ]
    assert [r.target for r in setup.server.requests_for("/a.txt?id=3")] == ["/a.txt?id=3"]


async def test_head_has_the_head_without_a_body(setup: Setup) -> None:
    setup.server.add("/a.txt", BODY, cut_after=10)
    client = await setup.client()
    reply = await client.request("HEAD", "/a.txt")
    assert (reply.status, reply.body, reply.complete) == (200, b"", True)
    assert reply.header("content-length") == str(len(BODY))
    # HEAD does not use up the cut: the GET that follows is the one that is cut.
    reply = await client.request("GET", "/a.txt")
    assert (len(reply.body), reply.complete) == (10, False)


async def test_keep_alive_serves_requests_on_one_connection(setup: Setup) -> None:
    setup.server.add("/one", "1")
    setup.server.add("/two", "2", framing="chunked")
    client = await setup.client()
    first = await client.request("GET", "/one")
    second = await client.request("GET", "/two")
    third = await client.request("GET", "/nope")
    assert [first.body, second.body, third.status] == [b"1", b"2", 404]
    assert setup.network.connections_opened == 1


async def test_connection_close_from_the_client_ends_the_connection(setup: Setup) -> None:
    setup.server.add("/one", "1")
    client = await setup.client()
    reply = await client.request("GET", "/one", [("Connection", "close")])
    assert reply.body == b"1"
    assert await client.stream.receive_some() == b""


async def test_requests_are_recorded(setup: Setup) -> None:
    setup.server.add_echo("/upload")
    client = await setup.client()
    await client.request(
        "POST", "/upload?x=1", [("Content-Type", "text/plain"), ("X-Thing", "a")], b"payload"
    )
    await client.request("GET", "/elsewhere")
    first, second = setup.server.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.target, first.body) == ("POST", "/upload?x=1", b"payload")
    assert first.header("X-THING") == "a"
    assert first.header("missing") is None
    assert ("host", "example.test") in first.headers
    assert (second.method, second.target, second.body) == ("GET", "/elsewhere", b"")
    assert setup.server.requests_for("/upload") == [first]


# -- timing -----------------------------------------------------------------------------


async def test_delay_holds_back_the_head(setup: Setup, autojump_clock: object) -> None:
    setup.server.add("/slow", "x", delay=3.0)
    client = await setup.client()
    start = trio.current_time()
    reply = await client.request("GET", "/slow")
    assert reply.head_at - start == pytest.approx(3.0)
    assert reply.body == b"x"


async def test_throttle_spreads_the_body_over_time(setup: Setup, autojump_clock: object) -> None:
    setup.server.add("/t", BODY, throttle=256)  # 1024 bytes at 256 B/s: 4 s
    client = await setup.client()
    await client._send(h11.Request(method="GET", target="/t", headers=[("Host", "x")]))
    await client._send(h11.EndOfMessage())
    start = trio.current_time()
    arrivals: list[tuple[float, int]] = []
    received = 0
    while True:
        event = client.conn.next_event()
        if event is h11.NEED_DATA:
            client.conn.receive_data(bytes(await client.stream.receive_some()))
        elif isinstance(event, h11.Data):
            received += len(event.data)
            arrivals.append((trio.current_time() - start, received))
        elif isinstance(event, h11.EndOfMessage):
            break
    assert received == len(BODY)
    assert arrivals[-1][0] == pytest.approx(4.0, abs=0.2)
    # Progress is visible: about half the body after about half the time.
    halfway = next(t for t, n in arrivals if n >= 512)
    assert halfway == pytest.approx(2.0, abs=0.2)
    assert len(arrivals) >= 10


# -- cuts -------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_cut_after_sends_exactly_n_bytes_then_closes(setup: Setup, framing: str) -> None:
    resource = setup.server.add("/big", BODY, cut_after=100, cuts=2, framing=framing)  # type: ignore[arg-type]
    for _ in range(2):
        client = await setup.client()
        reply = await client.request("GET", "/big")
        assert (reply.status, reply.body, reply.complete) == (200, BODY[:100], False)
        assert await client.stream.receive_some() == b""  # The server closed the connection.
    assert resource.cuts_made == 2
    reply = await setup.get("/big")
    assert (reply.body, reply.complete) == (BODY, True)
    assert resource.cuts_made == 2


async def test_cut_after_applies_to_a_ranged_response(setup: Setup) -> None:
    setup.server.add("/big", BODY, cut_after=10)
    reply = await setup.get("/big", [("Range", "bytes=500-")])
    assert (reply.status, reply.body, reply.complete) == (206, BODY[500:510], False)


# -- ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("range_header", "first", "last"),
    [("bytes=100-", 100, 1023), ("bytes=100-199", 100, 199), ("bytes=1000-5000", 1000, 1023)],
)
async def test_range_gets_206_with_content_range(
    setup: Setup, range_header: str, first: int, last: int
) -> None:
    setup.server.add("/r", BODY)
    reply = await setup.get("/r", [("Range", range_header)])
    assert reply.status == 206
    assert reply.body == BODY[first : last + 1]
    assert reply.header("content-range") == f"bytes {first}-{last}/1024"
    assert reply.header("content-length") == str(last + 1 - first)
    assert reply.header("accept-ranges") == "bytes"


async def test_suffix_range(setup: Setup) -> None:
    setup.server.add("/r", BODY)
    reply = await setup.get("/r", [("Range", "bytes=-24")])
    assert (reply.status, reply.body) == (206, BODY[-24:])
    assert reply.header("content-range") == "bytes 1000-1023/1024"


async def test_unsatisfiable_range_is_416(setup: Setup) -> None:
    setup.server.add("/r", BODY)
    for header in ("bytes=1024-", "bytes=2000-3000", "bytes=-0"):
        reply = await setup.get("/r", [("Range", header)])
        assert (reply.status, reply.body) == (416, b""), header
        assert reply.header("content-range") == "bytes */1024"


async def test_malformed_range_is_ignored(setup: Setup) -> None:
    setup.server.add("/r", BODY)
    for header in ("bytes=5-1", "items=0-1", "bytes=0-1,4-5"):
        reply = await setup.get("/r", [("Range", header)])
        assert (reply.status, reply.body) == (200, BODY), header


async def test_if_range_must_match_the_etag(setup: Setup) -> None:
    resource = setup.server.add("/r", BODY, etag='"v1"')
    matching = await setup.get("/r", [("Range", "bytes=1000-"), ("If-Range", '"v1"')])
    assert (matching.status, matching.body) == (206, BODY[1000:])
    resource.etag = '"v2"'
    resource.body = b"changed"
    stale = await setup.get("/r", [("Range", "bytes=1000-"), ("If-Range", '"v1"')])
    assert (stale.status, stale.body) == (200, b"changed")
    assert stale.header("etag") == '"v2"'


async def test_if_range_falls_back_to_last_modified(setup: Setup) -> None:
    date = "Tue, 02 Jan 2024 00:00:00 GMT"
    setup.server.add("/r", BODY, last_modified=date)
    matching = await setup.get("/r", [("Range", "bytes=10-19"), ("If-Range", date)])
    assert (matching.status, matching.body) == (206, BODY[10:20])
    other = await setup.get("/r", [("Range", "bytes=10-19"), ("If-Range", "yesterday")])
    assert (other.status, other.body) == (200, BODY)


async def test_if_range_without_validators_never_matches(setup: Setup) -> None:
    setup.server.add("/r", BODY)
    reply = await setup.get("/r", [("Range", "bytes=10-"), ("If-Range", '"anything"')])
    assert (reply.status, reply.body) == (200, BODY)


async def test_ranges_false_ignores_range(setup: Setup) -> None:
    setup.server.add("/r", BODY, ranges=False)
    reply = await setup.get("/r", [("Range", "bytes=10-")])
    assert (reply.status, reply.body) == (200, BODY)
    assert reply.header("accept-ranges") is None
    assert reply.header("content-range") is None


# -- framing ----------------------------------------------------------------------------


async def test_chunked_framing(setup: Setup) -> None:
    big = BODY * 40  # Several chunks.
    setup.server.add("/c", big, framing="chunked")
    client = await setup.client()
    reply = await client.request("GET", "/c")
    assert (reply.body, reply.complete) == (big, True)
    assert reply.header("transfer-encoding") == "chunked"
    assert reply.header("content-length") is None
    reply = await client.request("GET", "/c")  # Chunked framing keeps the connection.
    assert reply.body == big


async def test_close_framing(setup: Setup) -> None:
    setup.server.add("/c", BODY, framing="close")
    client = await setup.client()
    reply = await client.request("GET", "/c")
    assert (reply.body, reply.complete) == (BODY, True)
    assert reply.header("connection") == "close"
    assert reply.header("content-length") is None
    assert reply.header("transfer-encoding") is None
    assert await client.stream.receive_some() == b""  # The server closed the connection.


# -- other kinds of resources -----------------------------------------------------------


async def test_redirect(setup: Setup) -> None:
    resource = setup.server.add_redirect("/old", "/new", status=301, cors="*")
    assert isinstance(resource, Resource)
    reply = await setup.get("/old")
    assert (reply.status, reply.body) == (301, b"")
    assert reply.header("location") == "/new"
    assert reply.header("access-control-allow-origin") == "*"


async def test_echo(setup: Setup) -> None:
    setup.server.add_echo("/echo", cors="https://example.test")
    client = await setup.client()
    reply = await client.request("PUT", "/echo", [("Content-Type", "image/png")], b"\x89PNG")
    assert (reply.status, reply.body) == (200, b"\x89PNG")
    assert reply.header("content-type") == "image/png"
    assert reply.header("access-control-allow-origin") == "https://example.test"
    reply = await client.request("POST", "/echo", body=b"untyped")
    assert reply.status == 400


async def test_cors_header_and_preflight(setup: Setup) -> None:
    setup.server.add("/x", "x", cors="*")
    reply = await setup.get("/x")
    assert reply.header("access-control-allow-origin") == "*"
    client = await setup.client()
    preflight = await client.request(
        "OPTIONS",
        "/x",
        [("Access-Control-Request-Method", "PUT"), ("Access-Control-Request-Headers", "x-a")],
    )
    assert preflight.status == 204
    assert preflight.header("access-control-allow-methods") == "PUT"
    assert preflight.header("access-control-allow-headers") == "x-a"


async def test_resources_are_mutable_between_attempts(setup: Setup) -> None:
    resource = setup.server.add("/m", "first")
    assert (await setup.get("/m")).body == b"first"
    resource.body = "second"  # type: ignore[assignment]  # str is converted
    resource.status = 201
    reply = await setup.get("/m")
    assert (reply.status, reply.body) == (201, b"second")
    assert resource.responses == 2


# -- robustness -------------------------------------------------------------------------


async def test_malformed_request_gets_400_and_close(setup: Setup) -> None:
    client = await setup.client()
    await client.stream.send_all(b"NOT HTTP AT ALL\r\n\r\n")
    raw = bytearray()
    while data := await client.stream.receive_some():
        raw += data
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert setup.server.requests == []


async def test_client_leaving_mid_request_or_mid_response_is_harmless(
    setup: Setup, autojump_clock: object
) -> None:
    setup.server.add("/slow", BODY * 10, throttle=1000)
    client = await setup.client()
    await client.stream.send_all(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
    await client.stream.aclose()

    client = await setup.client()
    await client._send(h11.Request(method="GET", target="/slow", headers=[("Host", "x")]))
    await client._send(h11.EndOfMessage())
    assert await client.stream.receive_some()  # The response has begun...
    await client.stream.aclose()  # ...and the client walks away.
    await trio.sleep(30)
    # Had serve_stream raised, the nursery (and this test) would have failed.  Both
    # server ends are closed, so no connection is left open.
    assert setup.network.open_connections == 0
    assert [r.target for r in setup.server.requests] == ["/slow"]


async def test_serves_any_stream(nursery: trio.Nursery) -> None:
    server = OriginServer()
    server.add("/a", "on a memory stream")
    client_end, server_end = trio.testing.memory_stream_pair()
    nursery.start_soon(server.serve_stream, server_end)
    reply = await Client(client_end).request("GET", "/a")
    assert reply.body == b"on a memory stream"


async def test_serves_real_tcp(nursery: trio.Nursery) -> None:
    server = OriginServer()
    server.add("/a", "over loopback")
    listeners = await nursery.start(server.serve_tcp)
    stream = await trio.testing.open_stream_to_socket_listener(listeners[0])
    client = Client(stream)
    assert (await client.request("GET", "/a")).body == b"over loopback"
    assert (await client.request("GET", "/b")).status == 404
    await stream.aclose()
