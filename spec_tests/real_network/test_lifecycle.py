"""No socket and no task outlives its user agent, on real loopback sockets (issue 9,
lifecycle): a TLS handshake interrupted by abort(), a pause, a connect timeout or the
user agent closing closes its socket; user agents cancelled at random moments of their
downloads, over http and https, leave the process's open descriptors and trio tasks
where they started."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import trio
import trustme
from real_network_support import make_real_network, serve_loopback

import bgfetch
from bgfetch.net.real import RealNetwork
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker

EDITIONS = ["current", "2017-10-12"]
both = pytest.mark.parametrize("bgfetch_edition", EDITIONS)
BODY = bytes(range(256)) * 1024  # 256 KiB

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="counting descriptors needs /proc/self/fd"
)


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def all_tasks() -> int:
    """Every task of the trio run, from its root."""
    count = 0
    pending = [trio.lowlevel.current_root_task()]
    while pending:
        task = pending.pop()
        count += 1
        for nursery in task.child_nurseries:
            pending.extend(nursery.child_tasks)
    return count


async def settle_back(descriptors: int, tasks: int, within: float = 5.0) -> tuple[int, int]:
    """Wait (real time) until descriptors and tasks are back to the counts given (the
    servers' ends close a moment after the clients'); the counts then."""
    with trio.move_on_after(within):
        while (open_descriptors(), all_tasks()) != (descriptors, tasks):
            await trio.sleep(0.01)
    return open_descriptors(), all_tasks()


async def quiet_counts() -> tuple[int, int]:
    """Descriptors and tasks once they stop changing (for 0.3 s, real time)."""
    counts, since = (open_descriptors(), all_tasks()), trio.current_time()
    with trio.move_on_after(5):
        while trio.current_time() - since < 0.3:
            await trio.sleep(0.02)
            now = (open_descriptors(), all_tasks())
            if now != counts:
                counts, since = now, trio.current_time()
    return counts


class SilentTLS:
    """A TCP listener that accepts and reads, and never answers a TLS ClientHello."""

    def __init__(self) -> None:
        self.accepted = 0

    async def handler(self, stream: trio.SocketStream) -> None:
        self.accepted += 1
        try:
            while await stream.receive_some():
                pass
        except trio.BrokenResourceError:
            pass
        finally:
            await stream.aclose()


async def serve_silent_tls(nursery: trio.Nursery) -> tuple[SilentTLS, int]:
    server = SilentTLS()
    listeners = await nursery.start(trio.serve_tcp, server.handler, 0)
    return server, listeners[0].socket.getsockname()[1]


@needs_proc
@both
@pytest.mark.parametrize("how", ["abort", "pause", "close", "connect-timeout"])
# "pause": the user pauses (the current edition) or cancels (2017-10-12: no pausing).
async def test_an_interrupted_tls_handshake_closes_its_socket(
    nursery, ca: trustme.CA, bgfetch_edition, how, pytestconfig
):
    """A TLS handshake that never completes, ended by abort(), the user pausing, the
    user agent closing or the connect timeout: its socket is closed, at once."""
    server, port = await serve_silent_tls(nursery)
    page_server = OriginServer()
    page_port = await serve_loopback(nursery, page_server, None)
    network = make_real_network(ca)
    if how == "connect-timeout":
        network.connect_timeout = 0.2
    descriptors, tasks = open_descriptors(), all_tasks()
    rounds = 20 if pytestconfig.getoption("slow", default=False) else 3
    for round in range(rounds):
        async with bgfetch.open_user_agent(network=network, edition=bgfetch_edition) as ua:
            recorder = WorkerRecorder.for_edition(ua)
            _, registration = await open_window_with_worker(
                ua, recorder, f"http://127.0.0.1:{page_port}/"
            )
            bg = await registration.background_fetch.fetch(
                f"tls-{round}", [f"https://localhost:{port}/{i}" for i in range(4)]
            )
            with trio.fail_after(5):
                while network.open_connections < 4:
                    await trio.sleep(0.01)
            if how == "abort":
                assert await bg.abort()
            elif how == "pause" and bgfetch_edition == "current":
                ua.ui.find(f"tls-{round}").pause()
            elif how == "pause":
                ua.ui.find(f"tls-{round}").cancel()
            if how != "close":
                with trio.fail_after(5):
                    while network.open_connections:
                        await trio.sleep(0.01)
        assert network.open_connections == 0
    assert server.accepted >= rounds
    assert await settle_back(descriptors, tasks) == (descriptors, tasks)


@needs_proc
@both
@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_user_agents_cancelled_mid_download_leave_no_descriptor_and_no_task(
    nursery, ca: trustme.CA, server_ssl_context, bgfetch_edition, scheme, pytestconfig
):
    """User agents (12; 200 with --slow), each cancelled (or closed) at a random moment
    of its downloads: the process's open descriptors and trio tasks come back to where
    they were."""
    server = OriginServer()
    for index in range(6):
        server.add(f"/{index}.bin", BODY, throttle=2_000_000 * (index + 1))
    port = await serve_loopback(nursery, server, server_ssl_context if scheme == "https" else None)
    page = f"{scheme}://127.0.0.1:{port}/"
    randomness = random.Random(f"{bgfetch_edition}-{scheme}")

    async def one_run(network: RealNetwork, moment: float, cancel: bool) -> None:
        with trio.CancelScope() as scope:
            async with bgfetch.open_user_agent(network=network, edition=bgfetch_edition) as ua:
                _, registration = await open_window_with_worker(
                    ua, WorkerRecorder.for_edition(ua), page
                )
                await registration.background_fetch.fetch("x", [f"/{i}.bin" for i in range(6)])
                await trio.sleep(moment)
                if cancel:
                    scope.cancel()  # from outside: the user agent's block is cancelled
        assert network.open_connections == 0

    network = make_real_network(ca)
    await one_run(network, 0.05, False)  # what the first run creates for good
    descriptors, tasks = await quiet_counts()
    for _ in range(200 if pytestconfig.getoption("slow", default=False) else 12):
        await one_run(make_real_network(ca), randomness.uniform(0, 0.08), randomness.random() < 0.5)
    assert await settle_back(descriptors, tasks) == (descriptors, tasks)
