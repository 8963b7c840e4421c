"""Hostile inputs, searched with Hypothesis: whatever a page passes to fetch(), the user
agent answers as the web does -- a TypeError (or another DOMException of the API) naming
the input, or a background fetch that settles -- and never any other exception."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bgfetch
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://example.test"

url_parts = st.sampled_from(
    [
        "https://",
        "http://",
        "//",
        "/",
        "\\",
        "?",
        "#",
        ":",
        "@",
        "[",
        "]",
        "%",
        "%zz",
        "\n",
        "\t",
        "<",
        ">",
        " ",
        "example.test",
        "localhost",
        "127.0.0.1",
        "[::1]",
        ":0",
        ":587",
        ":443",
        "data:",
        "file:",
        "wss:",
        "javascript:",
        "blob:",
        "a",
        "..",
        "é",
        "\x00",
        "\u2028",
    ]
)
urls = st.one_of(st.text(max_size=30), st.lists(url_parts, max_size=8).map("".join))
methods = st.sampled_from(
    ["GET", "POST", "PUT", "HEAD", "get", "TRACE", "CONNECT", "PATCH", "X Y", ""]
)
header_names = st.sampled_from(["X-Custom", "Content-Type", "Range", "bad name", "", "Ä"])
header_values = st.sampled_from(["a", "text/json", "bytes=0-", "\r\n", "x\x00", ""])


async def scenario(requests: list[dict], download_total: int, id: str) -> None:
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    server.add("/a", "A")
    network.serve(ORIGIN, server)
    settled = trio.Event()
    worker = bgfetch.ServiceWorker()
    for name in ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"):
        worker.add_event_listener(name, lambda event: settled.set())
    async with bgfetch.open_user_agent(network=network) as ua:
        _, registration = await open_window_with_worker(ua, worker)
        try:
            objects = [
                bgfetch.Request(
                    r["url"], method=r["method"], headers=r["headers"], base_url=ORIGIN + "/"
                )
                if r["object"]
                else r["url"]
                for r in requests
            ]
            bg = await registration.background_fetch.fetch(
                id, objects, download_total=download_total
            )
        except (TypeError, bgfetch.DOMException) as error:
            assert str(error)  # every rejection says why
            event(f"rejected: {type(error).__name__}")
            return
        with trio.fail_after(24 * 3600):
            await settled.wait()
        assert bg.result in ("success", "failure")
        event(f"settled: {bg.result} {bg.failure_reason}".strip())
        assert not ua.handler_errors


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    requests=st.lists(
        st.fixed_dictionaries(
            {
                "url": urls,
                "object": st.booleans(),
                "method": methods,
                "headers": st.lists(st.tuples(header_names, header_values), max_size=2),
            }
        ),
        max_size=3,
    ),
    download_total=st.integers(min_value=-1, max_value=2**64),
    id=st.text(max_size=5),
)
def test_any_fetch_input_is_rejected_clearly_or_settles(requests, download_total, id):
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(scenario, requests, download_total, id, clock=clock)
