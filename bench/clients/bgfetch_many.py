"""Many background fetches at once, or one on the virtual network: bgfetch alone.

    python bench/clients/bgfetch_many.py --fetches N --urls URL [URL ...]        (real)
    python bench/clients/bgfetch_many.py --fetches N --virtual SIZE,COUNT         (virtual)

N background fetches, each of the URLs, started at once from one window (each with a
progress listener); the service worker's success handler reads every record's body.
--virtual serves COUNT files of SIZE bytes on the virtual network under trio's
MockClock (no simulated latency: how fast a service-worker test suite runs).  Prints
one JSON line: seconds until every fetch's success event was handled, seconds until
the first was, bytes read, progress events heard.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import trio
import trio.testing

import bgfetch
from bgfetch.sw.events import Event
from bgfetch.testing import OriginServer

VIRTUAL_ORIGIN = "https://bench.test"


async def run(fetches: int, urls: list[str], network: Any) -> dict[str, float]:
    origin = "/".join(urls[0].split("/")[:3]) + "/"
    worker = bgfetch.ServiceWorker()
    handled: list[float] = []
    read = 0
    progress = 0

    @worker.on("backgroundfetchsuccess")
    async def on_success(event: Any) -> None:
        nonlocal read
        for record in await event.registration.match_all():
            async for chunk in await record.response_ready:
                read += len(chunk)
        handled.append(time.perf_counter())

    def on_progress(event: Event) -> None:
        nonlocal progress
        progress += 1

    async with bgfetch.open_user_agent(network=network) as ua:
        window = await ua.open_window(origin)
        await window.navigator.service_worker.register(worker, scope="/")
        registration = await window.navigator.service_worker.ready
        done = trio.Event()
        start = time.perf_counter()

        async def one(i: int) -> None:
            bg = await registration.background_fetch.fetch(f"bench-{i}", urls)
            bg.add_event_listener("progress", on_progress)

        async with trio.open_nursery() as nursery:
            for i in range(fetches):
                nursery.start_soon(one, i)
        while len(handled) < fetches:
            await trio.sleep(0.01)
        done.set()
    return {
        "seconds": handled[-1] - start,
        "first_event_seconds": handled[0] - start,
        "bytes": read,
        "progress_events": progress,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetches", type=int, default=1)
    parser.add_argument("--urls", nargs="*", default=[])
    parser.add_argument("--virtual", help="SIZE,COUNT: files served on the virtual network")
    options = parser.parse_args()
    if options.virtual:
        size, count = map(int, options.virtual.split(","))
        network = bgfetch.VirtualNetwork()
        server = OriginServer()
        body = bytes(range(256)) * (size // 256) + bytes(size % 256)
        urls = [f"{VIRTUAL_ORIGIN}/f{i}" for i in range(count)]
        for i in range(count):
            server.add(f"/f{i}", body, content_type=None)
        network.serve(VIRTUAL_ORIGIN, server)
        clock = trio.testing.MockClock(autojump_threshold=0)
        result = trio.run(run, options.fetches, urls, network, clock=clock)
    else:
        network = bgfetch.RealNetwork(loopback_only=True)
        result = trio.run(run, options.fetches, options.urls, network)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
