"""bgfetch as a client: background-fetch URLs through the public API (a window, a
service worker, ``background_fetch.fetch``, a progress listener) on the real network,
in-memory user agent, and iterate each record's body as it arrives.

    python bench/clients/bgfetch_client.py URL [URL ...] [--edition E] [--keep]

Prints one JSON line: seconds from fetch() to the last body byte read, bytes read,
progress events heard.  --keep holds each body in memory (``response.bytes()``).
"""

from __future__ import annotations

import argparse
import json
import time
from urllib.parse import urlsplit

import trio

import bgfetch
from bgfetch.sw.events import Event


async def run(urls: list[str], edition: str, keep: bool) -> dict[str, float]:
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(urls[0]))
    network = bgfetch.RealNetwork(loopback_only=True)
    async with bgfetch.open_user_agent(network=network, edition=edition) as ua:
        window = await ua.open_window(origin)
        await window.navigator.service_worker.register(bgfetch.ServiceWorker(), scope="/")
        registration = await window.navigator.service_worker.ready
        progress = 0

        def on_progress(event: Event) -> None:
            nonlocal progress
            progress += 1

        start = time.perf_counter()
        bg = await registration.background_fetch.fetch("bench", urls)
        bg.add_event_listener("progress", on_progress)
        read = 0
        async with trio.open_nursery() as nursery:

            async def drain(record: object) -> None:
                nonlocal read
                response = await record.response_ready  # type: ignore[attr-defined]
                if keep:
                    read += len(await response.bytes())
                else:
                    async for chunk in response:
                        read += len(chunk)

            for record in await bg.match_all():
                nursery.start_soon(drain, record)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "bytes": read, "progress_events": progress}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--edition", default="current")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    print(json.dumps(trio.run(run, options.urls, options.edition, options.keep)))


if __name__ == "__main__":
    main()
