"""What the competitor clients share: their command line and their one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any


def main(doc: str, run: Callable[[list[str], int], dict[str, Any]]) -> None:
    """Parse ``URL [URL ...] [--connections N]``, call *run(urls, connections)* and print
    what it returns (its ``seconds`` from the first request to the last body byte, and
    the ``bytes`` read) as one JSON line."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--connections", type=int, default=6)
    options = parser.parse_args()
    print(json.dumps(run(options.urls, options.connections)))


async def timed_workers(
    urls: list[str], connections: int, chunks: Callable[[str], AsyncIterator[bytes]]
) -> dict[str, Any]:
    """asyncio: *connections* workers taking the URLs in turn, each body's *chunks(url)*
    counted; the seconds from the first request to the last byte, and the bytes read."""
    read = 0
    queue = list(reversed(urls))

    async def worker() -> None:
        nonlocal read
        while queue:
            async for chunk in chunks(queue.pop()):
                read += len(chunk)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(connections, len(urls)))))
    return {"seconds": time.perf_counter() - start, "bytes": read}
