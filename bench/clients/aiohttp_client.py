"""aiohttp (streaming): GET each URL, CONNECTIONS at a time, bodies iterated.

python bench/clients/aiohttp_client.py URL [URL ...] [--connections N]
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from common import main, timed_workers


async def run(urls: list[str], connections: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

        async def chunks(url: str) -> AsyncIterator[bytes]:
            async with session.get(url) as response:
                async for chunk in response.content.iter_chunked(1 << 20):
                    yield chunk

        return await timed_workers(urls, connections, chunks)


if __name__ == "__main__":
    main(__doc__, lambda urls, connections: asyncio.run(run(urls, connections)))
