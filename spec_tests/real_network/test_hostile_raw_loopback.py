"""The raw hostile-server search of spec_tests/test_hostile_raw.py over real TCP on
loopback: fewer examples (real time), with the stall timeout at 0.2 s so that
servers that hang end quickly."""

from __future__ import annotations

import functools
import tracemalloc

import pytest
import trio
from hypothesis import given, settings
from real_network_support import make_real_network
from test_hostile_raw import EDITIONS, HostileServer, check, scenario, scripts, size


@pytest.mark.parametrize("edition", EDITIONS)
async def test_a_raw_hostile_server_on_loopback_sockets(edition, pytestconfig, ca):
    examples: list[tuple[list[bytes], str, int]] = []

    @settings(max_examples=size(pytestconfig, 4, 150), deadline=None, database=None)
    @given(script=scripts)
    def collect(script: tuple[list[bytes], str, int]) -> None:
        examples.append(script)

    collect()
    for answers, then, pieces in examples:
        server = HostileServer(answers, then, pieces)
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                functools.partial(trio.serve_tcp, server.serve_stream, 0, host="127.0.0.1")
            )
            port = listeners[0].socket.getsockname()[1]
            network = make_real_network(ca)
            network.stall_timeout = 0.2
            tracemalloc.start()
            try:
                with trio.fail_after(60):
                    result = await scenario(
                        network, edition, f"http://127.0.0.1:{port}/", ["/thing"]
                    )
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            nursery.cancel_scope.cancel()
        check(result, edition, server, peak)
