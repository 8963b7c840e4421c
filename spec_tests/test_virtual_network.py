"""The virtual network: connecting, timing, closing, and going offline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from bgfetch.errors import NetworkError
from bgfetch.net import VirtualNetwork
from bgfetch.net.virtual import RECEIVE_WINDOW, VirtualStream
from bgfetch.url import Origin

EXAMPLE = Origin("https", "example.test", 443)


class EchoServer:
    """Echoes every byte back; records what each connection's server end saw."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        try:
            while data := await stream.receive_some():
                await stream.send_all(data)
            self.outcomes.append("eof")
        except trio.BrokenResourceError:
            self.outcomes.append("broken")


class SendServer:
    """Sends *payload*, records when each send_all returned, then closes."""

    def __init__(self, payload: bytes, *, piece: int = 1000) -> None:
        self.payload = payload
        self.piece = piece
        self.sent = 0

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        for start in range(0, len(self.payload), self.piece):
            await stream.send_all(self.payload[start : start + self.piece])
            self.sent = start + self.piece


class HandOutServer:
    """Hands the server end to the test and keeps the connection open."""

    def __init__(self) -> None:
        self.ends: list[trio.abc.Stream] = []

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        self.ends.append(stream)
        await trio.sleep_forever()


async def read_all(stream: trio.abc.Stream) -> bytes:
    out = bytearray()
    while data := await stream.receive_some():
        out += data
    return bytes(out)


async def test_open_stream_reaches_the_server_and_counts_connections(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", EchoServer())
    async with trio.open_nursery() as nursery:
        first = await network.open_stream(EXAMPLE, nursery=nursery)
        await first.send_all(b"hello")
        assert await first.receive_some() == b"hello"
        await network.open_stream(EXAMPLE, nursery=nursery)
        assert network.connections_opened == 2
        assert network.connections_opened_to("https://example.test:443") == 2
        assert network.connections_opened_to("http://example.test") == 0
        assert network.open_connections == 2
        nursery.cancel_scope.cancel()


async def test_default_and_explicit_ports_are_distinct_origins() -> None:
    network = VirtualNetwork()
    network.serve("http://localhost:8080", EchoServer())
    async with trio.open_nursery() as nursery:
        stream = await network.open_stream(Origin("http", "localhost", 8080), nursery=nursery)
        await stream.aclose()
        with pytest.raises(NetworkError, match="http://localhost"):
            await network.open_stream(Origin("http", "localhost", 80), nursery=nursery)
    assert network.connections_opened_to("http://localhost:8080") == 1


async def test_unknown_origin_fails_naming_it() -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", EchoServer())
    async with trio.open_nursery() as nursery:
        with pytest.raises(NetworkError, match="https://elsewhere.test"):
            await network.open_stream(Origin("https", "elsewhere.test", 443), nursery=nursery)
    assert network.connections_opened == 0


@pytest.mark.parametrize("bad", ["data:text/plain,x", "not a url", "file:///tmp/x"])
def test_serve_rejects_what_is_not_a_tuple_origin(bad: str) -> None:
    with pytest.raises(ValueError, match=repr(bad).strip("'")):
        VirtualNetwork().serve(bad, EchoServer())


async def test_connecting_costs_a_round_trip_and_bytes_cost_latency(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", EchoServer(), latency=0.25)
    async with trio.open_nursery() as nursery:
        start = trio.current_time()
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        assert trio.current_time() - start == pytest.approx(0.5)
        start = trio.current_time()
        await stream.send_all(b"ping")
        assert await stream.receive_some() == b"ping"
        # There and back again: two one-way latencies.
        assert trio.current_time() - start == pytest.approx(0.5)
        nursery.cancel_scope.cancel()


async def test_bandwidth_limits_throughput_and_progress_is_gradual(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", SendServer(b"x" * 10_000), bandwidth=1000)
    async with trio.open_nursery() as nursery:
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        start = trio.current_time()
        received = 0
        halfway_at = None
        while data := await stream.receive_some():
            received += len(data)
            if halfway_at is None and received >= 5000:
                halfway_at = trio.current_time() - start
        assert received == 10_000
        assert trio.current_time() - start == pytest.approx(10.0, abs=0.1)
        assert halfway_at == pytest.approx(5.0, abs=0.1)


async def test_bandwidth_is_shared_by_the_connections_to_an_origin(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", SendServer(b"y" * 5000), bandwidth=1000)
    done: list[float] = []

    async def download(nursery: trio.Nursery) -> None:
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        assert len(await read_all(stream)) == 5000
        done.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(download, nursery)
        nursery.start_soon(download, nursery)
    assert done == [pytest.approx(10.0, abs=0.1)] * 2


async def test_bandwidth_and_latency_add_up(autojump_clock: trio.testing.MockClock) -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", SendServer(b"z" * 2000), latency=1.0, bandwidth=1000)
    async with trio.open_nursery() as nursery:
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        start = trio.current_time()
        assert len(await read_all(stream)) == 2000
        assert trio.current_time() - start == pytest.approx(3.0, abs=0.1)


async def test_closing_either_end_is_an_eof_for_the_peer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    server = HandOutServer()
    network.serve("https://example.test", server, latency=0.1)
    async with trio.open_nursery() as nursery:
        client = await network.open_stream(EXAMPLE, nursery=nursery)
        await trio.testing.wait_all_tasks_blocked()
        (server_end,) = server.ends
        await client.send_all(b"last words")
        before = trio.current_time()
        await client.aclose()
        assert trio.current_time() == before  # aclose never waits
        assert await read_all(server_end) == b"last words"
        assert await server_end.receive_some() == b""  # EOF stays EOF
        with pytest.raises(trio.BrokenResourceError):
            await server_end.send_all(b"anyone there?")
        with pytest.raises(trio.ClosedResourceError):
            await client.receive_some()

        other = await network.open_stream(EXAMPLE, nursery=nursery)
        await trio.testing.wait_all_tasks_blocked()
        await server.ends[1].send_all(b"bye")
        await server.ends[1].aclose()
        assert await read_all(other) == b"bye"
        nursery.cancel_scope.cancel()


async def test_server_end_is_closed_when_the_server_returns() -> None:
    class Quitter:
        async def serve_stream(self, stream: trio.abc.Stream) -> None:
            await stream.send_all(b"no")

    network = VirtualNetwork()
    network.serve("https://example.test", Quitter())
    async with trio.open_nursery() as nursery:
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        assert await read_all(stream) == b"no"
        await stream.aclose()
    assert network.open_connections == 0


async def test_going_offline_breaks_open_connections_and_refuses_new_ones(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    echo = EchoServer()
    network.serve("https://example.test", echo)
    async with trio.open_nursery() as nursery:
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        pending: list[BaseException] = []

        async def reader() -> None:
            try:
                await stream.receive_some()
            except trio.BrokenResourceError as error:
                pending.append(error)

        nursery.start_soon(reader)
        await trio.sleep(1)
        network.set_online(False)
        assert not network.is_online()
        await trio.testing.wait_all_tasks_blocked()
        assert len(pending) == 1
        assert echo.outcomes == ["broken"]
        with pytest.raises(trio.BrokenResourceError):
            await stream.send_all(b"x")
        with pytest.raises(trio.BrokenResourceError):
            await stream.receive_some()
        with pytest.raises(NetworkError, match=r"https://example\.test.*is offline"):
            await network.open_stream(EXAMPLE, nursery=nursery)

        network.set_online(True)
        fresh = await network.open_stream(EXAMPLE, nursery=nursery)
        await fresh.send_all(b"back")
        assert await fresh.receive_some() == b"back"
        with pytest.raises(trio.BrokenResourceError):
            await stream.receive_some()  # Broken connections stay broken.
        nursery.cancel_scope.cancel()


async def test_going_offline_interrupts_a_throttled_send(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", HandOutServer(), bandwidth=100)
    async with trio.open_nursery() as nursery:
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        nursery.start_soon(_offline_after, network, 2.0)
        with pytest.raises(trio.BrokenResourceError):
            await stream.send_all(b"u" * 1000)  # Would take 10 s.
        assert trio.current_time() == pytest.approx(2.0)
        nursery.cancel_scope.cancel()


async def _offline_after(network: VirtualNetwork, seconds: float) -> None:
    await trio.sleep(seconds)
    network.set_online(False)


async def test_going_offline_while_connecting_fails_the_connect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    network.serve("https://example.test", EchoServer(), latency=1.0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_offline_after, network, 0.5)
        with pytest.raises(NetworkError, match="offline"):
            await network.open_stream(EXAMPLE, nursery=nursery)
    assert network.connections_opened == 0


async def test_wait_until_online(autojump_clock: trio.testing.MockClock) -> None:
    network = VirtualNetwork()
    with trio.move_on_after(1) as scope:
        await network.wait_until_online()  # Already online: returns at once.
    assert not scope.cancelled_caught
    network.set_online(False)

    async def reconnect_later() -> None:
        await trio.sleep(5)
        network.set_online(True)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reconnect_later)
        await network.wait_until_online()
        assert trio.current_time() == pytest.approx(5.0)
        assert network.is_online()


async def test_a_reader_that_stops_reading_blocks_the_writer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = VirtualNetwork()
    server = SendServer(b"w" * (4 * RECEIVE_WINDOW), piece=1024)
    network.serve("https://example.test", server)
    async with trio.open_nursery() as nursery:
        stream = await network.open_stream(EXAMPLE, nursery=nursery)
        await trio.sleep(10)
        assert RECEIVE_WINDOW <= server.sent <= RECEIVE_WINDOW + 1024
        assert len(await read_all(stream)) == 4 * RECEIVE_WINDOW


# -- trio's generic conformance checks for streams --------------------------------------


def _stream_makers(
    nursery: trio.Nursery, network: VirtualNetwork, latency: float, bandwidth: float | None
) -> tuple[
    Callable[[], Awaitable[tuple[VirtualStream, VirtualStream]]],
    Callable[[], Awaitable[tuple[VirtualStream, VirtualStream]]],
]:
    server = HandOutServer()
    network.serve("https://example.test", server, latency=latency, bandwidth=bandwidth)

    async def maker() -> tuple[VirtualStream, VirtualStream]:
        client = await network.open_stream(EXAMPLE, nursery=nursery)
        await trio.testing.wait_all_tasks_blocked()
        server_end = server.ends[-1]
        assert isinstance(client, VirtualStream) and isinstance(server_end, VirtualStream)
        return client, server_end

    async def clogged_maker() -> tuple[VirtualStream, VirtualStream]:
        client, server_end = await maker()
        # Fill both receive buffers, so that either end is clogged.
        await client.send_all(b"c" * RECEIVE_WINDOW)
        await server_end.send_all(b"s" * RECEIVE_WINDOW)
        await trio.sleep(latency)  # Bytes in flight do not count until they arrive.
        return client, server_end

    return maker, clogged_maker


@pytest.mark.parametrize(("latency", "bandwidth"), [(0.0, None), (0.05, None), (0.05, 1e6)])
async def test_virtual_streams_pass_trios_stream_checks(
    autojump_clock: trio.testing.MockClock, latency: float, bandwidth: float | None
) -> None:
    async with trio.open_nursery() as nursery:
        maker, clogged_maker = _stream_makers(nursery, VirtualNetwork(), latency, bandwidth)
        await trio.testing.check_half_closeable_stream(maker, clogged_maker)
        nursery.cancel_scope.cancel()
