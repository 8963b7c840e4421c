"""What ``bgfetch serve`` does while DevTools watches, unless told otherwise: the demo's
podcast, background-fetched round after round on the virtual network until stopped.

A scenario is any ``async def scenario(ua)`` (``bgfetch serve module:function``); it may
return, and the endpoint goes on serving.  This one runs in real time: each round
takes a few seconds (one file is throttled), and every third round asks for a file the
origin does not have, so the pane shows a failure too.
"""

from __future__ import annotations

from typing import Any

import trio

import bgfetch
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker

ORIGIN = "https://podcast.example"
EPISODE = bytes(i % 251 for i in range(3 * 2**20))
THROTTLE = 2**20  # bytes per second
PAUSE = 2.0  # seconds between rounds


def podcast_server() -> OriginServer:
    server = OriginServer()
    server.add("/episodes/5.mp3", EPISODE, throttle=THROTTLE, etag='"ep5"')
    server.add("/episodes/5.jpg", b"\xff\xd8" + b"artwork" * 4000)
    server.add("/episodes/5.txt", b"Episode 5: background fetch, explained.\n")
    return server


async def demo(ua: Any, *, rounds: int | None = None) -> None:
    """Background-fetch the podcast, *rounds* times (None: until cancelled)."""
    if not isinstance(ua.network, bgfetch.VirtualNetwork):
        raise TypeError("the demo scenario needs the virtual network (bgfetch serve does)")
    ua.network.serve(ORIGIN, podcast_server())
    recorder = WorkerRecorder.for_edition(ua)
    _, registration = await open_window_with_worker(ua, recorder, f"{ORIGIN}/")
    manager = registration.background_fetch
    round = 0
    while rounds is None or round < rounds:
        round += 1
        id = f"episode-5-round-{round}"
        if id in await manager.get_ids():  # resumed from the store: let it finish
            await recorder.settled(id)
            continue
        files = ["/episodes/5.mp3", "/episodes/5.jpg", "/episodes/5.txt"]
        if round % 3 == 0:
            files.append("/episodes/6.mp3")  # not there yet: bad-status
        await manager.fetch(id, files, title=f"Episode 5 (round {round})")
        await recorder.settled(id)
        await trio.sleep(PAUSE)
