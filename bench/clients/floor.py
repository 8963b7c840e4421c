"""The floor: a minimal HTTP/1.1 client on bgfetch's own stack (trio + h11), to show
what bgfetch's layers cost.  Keep-alive connections, CONNECTIONS at a time, 1 MiB reads.

    python bench/clients/floor.py URL [URL ...] [--connections N]

Prints one JSON line: seconds from the first request to the last body byte, bytes read.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import h11
import trio
from common import main


async def client(queue: list[str], counts: list[int]) -> None:
    split = urlsplit(queue[0])
    stream = await trio.open_tcp_stream(split.hostname or "", split.port or 80)
    connection = h11.Connection(h11.CLIENT)
    while queue:
        path = urlsplit(queue.pop()).path
        request = h11.Request(method="GET", target=path, headers=[("Host", split.netloc)])
        await stream.send_all(connection.send(request) + connection.send(h11.EndOfMessage()))
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await stream.receive_some(1 << 20))
            elif isinstance(event, h11.Data):
                counts[0] += len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                connection.start_next_cycle()
                break
    await stream.aclose()


async def run(urls: list[str], connections: int) -> dict[str, float]:
    counts = [0]
    queue = list(reversed(urls))
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(min(connections, len(urls))):
            nursery.start_soon(client, queue, counts)
    return {"seconds": time.perf_counter() - start, "bytes": counts[0]}


if __name__ == "__main__":
    main(__doc__, lambda urls, connections: trio.run(run, urls, connections))
