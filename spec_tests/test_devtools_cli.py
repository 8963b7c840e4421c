"""`bgfetch serve` and `bgfetch devtools` (bgfetch.devtools.commands), as processes: the
demo observed over CDP from another process with the `cdp` package's types, then the
log printed from the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import trio
import trio_websocket
from cdp import background_service as bs
from devtools_support import FETCH, CDPClient, http_get


def test_bgfetch_serve_is_a_cdp_endpoint(tmp_path):
    """`bgfetch serve --port 0 --store DIR`: the demo, observed over CDP from another process;
    `bgfetch devtools --store DIR` prints what it logged."""
    store = tmp_path / "store"
    process = subprocess.Popen(
        [sys.executable, "-m", "bgfetch", "serve", "--port", "0", "--store", str(store)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("DevTools listening on ws://127.0.0.1:"), line
        browser_url = line.split()[-1]

        async def observe() -> list[str]:
            port = int(browser_url.split(":")[2].split("/")[0])
            with trio.fail_after(30):
                pages: list = []
                while not pages:  # the scenario opens its window
                    pages = (await http_get(port, "/json/list"))[1]
                    await trio.sleep(0.05)
                async with trio_websocket.open_websocket_url(
                    pages[0]["webSocketDebuggerUrl"]
                ) as ws:
                    client = CDPClient(ws)
                    await client.execute(bs.start_observing(FETCH))
                    await client.execute(bs.set_recording(True, FETCH))
                    # Recording began mid-round: a whole round is the next one.
                    seen: list[tuple[str, str]] = []
                    while True:
                        event = await client.event()
                        if isinstance(event, bs.BackgroundServiceEventReceived):
                            logged = event.background_service_event
                            seen.append((logged.instance_id, logged.event_name))
                            if (logged.instance_id, "Background Fetch registered") in seen and (
                                logged.event_name == "Background Fetch completed"
                            ):
                                return [n for i, n in seen if i == logged.instance_id]

        names = trio.run(observe)
        assert names[:2] == ["Background Fetch registered", "Background Fetch started"]
        assert names[-1] == "Background Fetch completed"
        assert names.count("Request processing completed") in (3, 4)  # (4: a bad-status round)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 128 + 15
    printed = subprocess.run(
        [sys.executable, "-m", "bgfetch", "devtools", "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    events = json.loads(printed.stdout)
    assert "Background Fetch completed" in [e["eventName"] for e in events]
    assert {e["storageKey"] for e in events} == {"https://podcast.example/"}
    table = subprocess.run(
        [sys.executable, "-m", "bgfetch", "devtools", "--store", str(store)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Background Fetch registered" in table and "Total Requests: 3" in table
