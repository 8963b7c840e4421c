"""The HTTP/1.1 client on h11: the keep-alive pool, its per-origin limit, body framings."""

import trio

import bgfetch
from bgfetch.fetch.http import MAX_CONNECTIONS_PER_ORIGIN
from bgfetch.fetch.request import InternalRequest
from bgfetch.testing import OriginServer, open_window_with_worker
from bgfetch.url import parse_url

ORIGIN = "https://example.test"


async def fetch_bytes(ua: bgfetch.UserAgent, url: str) -> tuple[int, bytes]:
    request = InternalRequest(url=parse_url(url))
    request.origin = request.url.origin
    async with ua.fetcher.fetch(request) as fetched:
        assert fetched.body is not None, fetched.response.error
        body = bytearray()
        async for chunk in fetched.body:
            body += chunk
        return fetched.response.status, bytes(body)


async def test_sequential_requests_reuse_one_kept_alive_connection(virtual_network):
    server = OriginServer()
    for name in "abc":
        server.add(f"/{name}", name * 100)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        for name in "abc":
            assert await fetch_bytes(ua, f"{ORIGIN}/{name}") == (200, name.encode() * 100)
    assert virtual_network.connections_opened_to(ORIGIN) == 1
    assert [r.path for r in server.requests] == ["/a", "/b", "/c"]


async def test_at_most_six_connections_per_origin_at_once(virtual_network):
    """Ten throttled records of one fetch: never more than six connections to the origin
    at once, as browsers limit; every record still completes with its exact bytes."""
    server = OriginServer()
    bodies = {f"/part-{i}": bytes([i]) * 1000 for i in range(10)}
    for path, body in bodies.items():
        server.add(path, body, throttle=1000)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        _, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        start = trio.current_time()
        bg = await registration.background_fetch.fetch("ten", list(bodies))
        most = 0
        while bg.result == "":
            most = max(most, virtual_network.open_connections)
            await trio.sleep(0.05)
        assert bg.result == "success"
        assert bg.downloaded == sum(len(body) for body in bodies.values())
        assert most == MAX_CONNECTIONS_PER_ORIGIN
        # Ten 1-second bodies on six connections: two rounds, not one, not ten.
        assert 2 <= trio.current_time() - start < 3
        for record, body in zip(bg.background_fetch.records, bodies.values(), strict=True):
            assert record.response_data.bytes.read(0, 2000) == body


async def test_chunked_and_close_delimited_bodies_arrive_whole(virtual_network):
    server = OriginServer()
    body = bytes(range(256)) * 100
    server.add("/chunked", body, framing="chunked", throttle=10_000)
    server.add("/close", body, framing="close", throttle=10_000)
    server.add("/length", body)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        for path in ("/chunked", "/close", "/length"):
            assert await fetch_bytes(ua, f"{ORIGIN}{path}") == (200, body)


async def test_bytes_reach_the_caller_as_they_arrive_not_when_the_body_ends(virtual_network):
    server = OriginServer()
    server.add("/slow", b"x" * 1000, throttle=100)  # 10 simulated seconds
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network) as ua:
        request = InternalRequest(url=parse_url(f"{ORIGIN}/slow"))
        request.origin = request.url.origin
        start = trio.current_time()
        async with ua.fetcher.fetch(request) as fetched:
            assert fetched.body is not None
            first = await fetched.body.__anext__()
            assert 0 < len(first) < 1000
            assert trio.current_time() - start < 1
