"""The real network: TCP (IPv4, IPv6) and TLS on loopback, its errors, the online switch,
and the HTTP client's keep-alive pool over it."""

from __future__ import annotations

import socket
import struct

import pytest
import trio
import trustme
from real_network_support import HAS_IPV6, needs_ipv6, run_background_fetch

import bgfetch
from bgfetch.errors import NetworkError
from bgfetch.fetch.fetching import Fetcher
from bgfetch.fetch.http import ConnectionPool
from bgfetch.fetch.request import InternalRequest
from bgfetch.net.real import RealNetwork
from bgfetch.url import Origin, parse_url
from bgfetch.useragent import open_user_agent

BODY = b"Background Fetch"


async def test_https_same_origin_fetch_over_loopback(real_ua, loopback):
    loopback.server.add("/feature-name.txt", BODY)
    outcome = await run_background_fetch(real_ua, loopback.url(), "/feature-name.txt")
    assert (outcome.event, outcome.result) == ("backgroundfetchsuccess", "success")
    record = outcome.record("/feature-name.txt")
    assert (record.status, record.type, record.body) == (200, "basic", BODY)
    assert outcome.downloaded == len(BODY)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", pytest.param("[::1]", marks=needs_ipv6)],
)
@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_every_loopback_name_and_scheme_connects(real_ua, loopback, host, scheme):
    """IPv4, IPv6 and localhost, over TCP and TLS: all potentially trustworthy origins."""
    loopback.server.add("/a.txt", BODY)
    page = loopback.url(scheme, host)
    outcome = await run_background_fetch(real_ua, page, "/a.txt")
    assert outcome.record("/a.txt").body == BODY
    assert real_ua.network.connections_opened >= 1


async def test_ipv6_loopback_is_available_or_the_skip_says_why():
    """The IPv6 cases above are skipped only on a machine that cannot bind ::1."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        bound = True
    except OSError:
        bound = False
    assert HAS_IPV6 == bound


async def test_an_untrusted_certificate_is_a_network_error(loopback):
    """TLS verification against the system store alone: trustme's CA is unknown, so the
    handshake fails, and the record ends in fetch-error with no response."""
    loopback.server.add("/a.txt", BODY)
    network = RealNetwork(loopback_only=True)
    async with trio.open_nursery() as nursery:
        with pytest.raises(NetworkError, match="TLS handshake failed: certificate verify failed"):
            await network.open_stream(
                Origin("https", "127.0.0.1", loopback.https_port), nursery=nursery
            )
    async with open_user_agent(network=network) as ua:
        outcome = await run_background_fetch(ua, loopback.url(), "/a.txt")
    assert (outcome.event, outcome.failure_reason) == ("backgroundfetchfail", "fetch-error")
    record = outcome.record("/a.txt")
    assert record.response is None and isinstance(record.error, TypeError)
    assert outcome.downloaded == 0
    reason = outcome.errors[loopback.url(path="/a.txt")]
    assert reason.startswith(f"{loopback.url(path='/a.txt')}: network error: cannot connect")
    assert "TLS handshake failed: certificate verify failed" in reason
    assert loopback.server.requests_for("/a.txt") == []


async def test_a_certificate_for_another_name_is_a_network_error(loopback, ca):
    """The certificate names 127.0.0.1, localhost, ::1 and web-platform.test: a host mapped to the
    loopback address under another name fails hostname verification."""
    network = RealNetwork(
        ca_certs=[ca.cert_pem.bytes()], hosts={"example.test": "127.0.0.1"}, loopback_only=True
    )
    async with trio.open_nursery() as nursery:
        with pytest.raises(NetworkError, match="TLS handshake failed"):
            await network.open_stream(
                Origin("https", "example.test", loopback.https_port), nursery=nursery
            )
        # The same socket through its own name verifies.
        stream = await network.open_stream(
            Origin("https", "localhost", loopback.https_port), nursery=nursery
        )
        await stream.aclose()


async def test_a_refused_connection_is_a_network_error_naming_the_origin(real_network):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        async with trio.open_nursery() as nursery:
            with pytest.raises(NetworkError, match=f"cannot connect to http://127.0.0.1:{port}"):
                await real_network.open_stream(Origin("http", "127.0.0.1", port), nursery=nursery)


async def test_loopback_only_refuses_other_hosts_without_resolving_them(real_network):
    async with trio.open_nursery() as nursery:
        for host in ("example.com", "192.0.2.1", "[2001:db8::1]"):
            with pytest.raises(NetworkError, match="loopback-only"):
                await real_network.open_stream(Origin("https", host, 443), nursery=nursery)
    assert real_network.connections_opened == 0


def test_localhost_names_resolve_to_loopback_without_dns(real_network):
    """Secure Contexts' let-localhost-be-localhost: what makes localhost trustworthy."""
    assert real_network.addresses("localhost") == ["127.0.0.1", "::1"]
    assert real_network.addresses("api.localhost") == ["127.0.0.1", "::1"]
    assert real_network.addresses("[::1]") == ["::1"]
    mapped = RealNetwork(hosts={"Example.Test": "127.0.0.1"}, loopback_only=True)
    assert mapped.addresses("example.test") == ["127.0.0.1"]


async def test_going_offline_breaks_open_connections_and_refuses_new_ones(loopback, real_network):
    loopback.server.add("/slow.txt", BODY * 100, throttle=4000)
    origin = Origin("http", "127.0.0.1", loopback.http_port)
    async with trio.open_nursery() as nursery:
        pool = ConnectionPool(real_network, nursery)
        fetcher = Fetcher(pool)
        request = InternalRequest(url=parse_url(loopback.url("http", path="/slow.txt")))
        async with fetcher.fetch(request) as fetched:
            assert fetched.response.status == 200
            assert fetched.body is not None
            received = 0
            with pytest.raises(NetworkError):
                async for chunk in fetched.body:
                    received += len(chunk)
                    if real_network.is_online():
                        real_network.set_online(False)
        assert 0 < received < len(BODY) * 100
        assert real_network.open_connections == 0
        with pytest.raises(NetworkError, match="offline"):
            await real_network.open_stream(origin, nursery=nursery)
        real_network.set_online(True)
        stream = await real_network.open_stream(origin, nursery=nursery)
        await stream.aclose()
        await pool.close()


async def test_open_user_agent_without_a_network_uses_the_real_one():
    async with open_user_agent() as ua:
        assert isinstance(ua.network, RealNetwork)
        assert ua.network.ssl_context.verify_mode.name == "CERT_REQUIRED"


async def test_extra_ca_certificates_are_trusted_besides_the_system_store(loopback):
    other = trustme.CA()
    network = RealNetwork(loopback_only=True)
    network.trust(other.cert_pem.bytes())  # not the server's CA: still untrusted
    async with trio.open_nursery() as nursery:
        with pytest.raises(NetworkError, match="TLS handshake failed"):
            await network.open_stream(
                Origin("https", "127.0.0.1", loopback.https_port), nursery=nursery
            )


async def test_a_reset_mid_body_is_a_network_error_from_the_body(real_network, nursery):
    """A server that sends part of a body, then resets the connection (RST)."""

    async def reset_after_100_bytes(stream: trio.SocketStream) -> None:
        await stream.receive_some(65536)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        await trio.sleep(0.02)
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stream.socket.close()

    listeners = await nursery.start(
        lambda task_status: trio.serve_tcp(
            reset_after_100_bytes, 0, host="127.0.0.1", task_status=task_status
        )
    )
    port = listeners[0].socket.getsockname()[1]
    pool = ConnectionPool(real_network, nursery)
    request = InternalRequest(url=parse_url(f"http://127.0.0.1:{port}/reset"))
    received = 0
    async with Fetcher(pool).fetch(request) as fetched:
        assert fetched.response.status == 200 and fetched.body is not None
        with pytest.raises(NetworkError, match=f"http://127.0.0.1:{port}: body cut"):
            async for chunk in fetched.body:
                received += len(chunk)
    assert received == 100
    await pool.close()


async def test_closing_the_user_agent_mid_download_closes_every_socket(loopback, real_network):
    """The user agent owns its connections: leaving its block mid-download leaves no
    socket open, on the real network too."""
    loopback.server.add("/slow.bin", b"x" * 50_000, throttle=20_000)
    async with open_user_agent(network=real_network) as ua:
        window = await ua.open_window(loopback.url("https", "127.0.0.1", "/"))
        await window.navigator.service_worker.register(bgfetch.ServiceWorker())
        registration = await window.navigator.service_worker.ready
        bg = await registration.background_fetch.fetch("slow", ["/slow.bin"] * 2)
        while bg.downloaded == 0:
            await trio.sleep(0.01)
        assert real_network.open_connections == 2
        assert bg.result == ""
    assert real_network.open_connections == 0
