"""How long a background fetch of many small requests takes, per request (real seconds, on
the virtual network and a MockClock).  Not a test: timing depends on the machine.  The
cost per request should stay flat as the number of requests grows (issue 9; the
operation counts are spec_tests/test_many_requests.py).

    .venv/bin/python bench/many_requests.py [N,N,...] [--edition 2017-10-12] [--no-gc]
"""

from __future__ import annotations

import argparse
import gc
import time

import trio
import trio.testing

import bgfetch
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker


async def fetch_many(n: int, edition: str) -> float:
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    for i in range(n):
        server.add(f"/f{i}", b"x" * 10)
    network.serve("https://example.test", server)
    async with bgfetch.open_user_agent(network=network, edition=edition) as ua:
        recorder = WorkerRecorder.for_edition(ua)
        window, registration = await open_window_with_worker(ua, recorder)
        start = time.perf_counter()
        await registration.background_fetch.fetch("many", [f"/f{i}" for i in range(n)])
        await recorder.settled("many", within=10 * n)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="?", default="1000,2000,4000,8000")
    parser.add_argument("--edition", default="current")
    parser.add_argument("--no-gc", action="store_true", help="without the garbage collector")
    options = parser.parse_args()
    if options.no_gc:
        gc.disable()
    for n in map(int, options.counts.split(",")):
        clock = trio.testing.MockClock(autojump_threshold=0)
        seconds = trio.run(fetch_many, n, options.edition, clock=clock)
        print(
            f"{options.edition} {n:>6} requests: {seconds:6.2f} s, {seconds / n * 1000:.3f} ms each"
        )


if __name__ == "__main__":
    main()
