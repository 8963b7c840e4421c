"""httpx (async, streaming): GET each URL, CONNECTIONS at a time, bodies iterated.

python bench/clients/httpx_client.py URL [URL ...] [--connections N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


async def run(urls: list[str], connections: int) -> dict[str, float]:
    read = 0
    queue = list(reversed(urls))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=None) as client:

        async def worker() -> None:
            nonlocal read
            while queue:
                async with client.stream("GET", queue.pop()) as response:
                    async for chunk in response.aiter_raw(1 << 20):
                        read += len(chunk)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(connections, len(urls)))))
        return {"seconds": time.perf_counter() - start, "bytes": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--connections", type=int, default=6)
    options = parser.parse_args()
    print(json.dumps(asyncio.run(run(options.urls, options.connections))))


if __name__ == "__main__":
    main()
