"""``ua.console`` on real sockets: a refused connection and a TLS handshake that fails are
console errors naming the request's URL and why (issue 11)."""

from __future__ import annotations

import socket

from real_network_support import run_background_fetch

from bgfetch.net.real import RealNetwork
from bgfetch.useragent import open_user_agent


async def test_a_refused_connection_is_a_console_error(real_ua):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        url = f"http://127.0.0.1:{port}/ep.mp3"
        outcome = await run_background_fetch(real_ua, f"http://127.0.0.1:{port}/", "/ep.mp3")
    assert outcome.failure_reason == "fetch-error"
    [message] = [m for m in real_ua.console.messages if m.url == url]
    assert message.level == "error" and message.source == "network"
    assert message.text.startswith(f"{url}: network error: cannot connect to")
    assert "refused" in message.text.lower()


async def test_an_untrusted_certificate_is_a_console_error(loopback):
    loopback.server.add("/a.txt", "A")
    url = loopback.url(path="/a.txt")
    async with open_user_agent(network=RealNetwork(loopback_only=True)) as ua:
        outcome = await run_background_fetch(ua, loopback.url(), "/a.txt")
        messages = [m for m in ua.console.messages if m.url == url]
    assert outcome.failure_reason == "fetch-error"
    [message] = messages
    assert message.level == "error"
    assert "TLS handshake failed: certificate verify failed" in message.text


def test_an_unknown_host_says_so_with_the_resolvers_answer():
    """What the console shows for a DNS failure (the resolver's gaierror), without asking
    a resolver: the tests never leave loopback."""
    from bgfetch.net.real import _connect_failure

    failure = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert _connect_failure(failure) == "unknown host (DNS: Name or service not known)"
