"""httpx (async, streaming): GET each URL, CONNECTIONS at a time, bodies iterated.

python bench/clients/httpx_client.py URL [URL ...] [--connections N]
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from common import main, timed_workers


async def run(urls: list[str], connections: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=None) as client:

        async def chunks(url: str) -> AsyncIterator[bytes]:
            async with client.stream("GET", url) as response:
                async for chunk in response.aiter_raw(1 << 20):
                    yield chunk

        return await timed_workers(urls, connections, chunks)


if __name__ == "__main__":
    main(__doc__, lambda urls, connections: asyncio.run(run(urls, connections)))
