"""WPT's settled-event-match and settled-event-matchall (removed from the suite, written
for this draft): their intent, under the 2017-10-12 edition."""

from __future__ import annotations

import pytest
import trio

import bgfetch

from .support import FEATURE, page

FEATURE_PATH = "/background-fetch/resources/feature-name.txt"
CHEESE_PATH = "/background-fetch/resources/types_of_cheese.txt"
CHEESE = "Brie\nCheddar\nStilton\n"


async def settled_event(ua, origin_server, handler) -> list[object]:
    origin_server.add(FEATURE_PATH, FEATURE)
    origin_server.add(CHEESE_PATH, CHEESE)
    worker = bgfetch.ServiceWorker()
    results: list[object] = []
    done = trio.Event()

    @worker.on("backgroundfetched")
    async def on_fetched(event) -> None:
        results.extend(await handler(event))
        done.set()

    registration = await page(ua, worker, "https://example.test/background-fetch/page.html")
    await registration.background_fetch.fetch(
        "settled", ["resources/feature-name.txt", "resources/types_of_cheese.txt"]
    )
    with trio.fail_after(60):
        await done.wait()
    return results


@pytest.mark.step("#background-fetch-settled-event")
async def test_settled_event_match(draft_user_agent, origin_server):
    async def match(event) -> list[object]:
        fetch = await event.fetches.match(f"https://example.test{FEATURE_PATH}")
        assert fetch is not None
        return [fetch.request.url, fetch.response.status, await fetch.response.text()]

    assert await settled_event(draft_user_agent, origin_server, match) == [
        f"https://example.test{FEATURE_PATH}",
        200,
        "Background Fetch",
    ]


@pytest.mark.step("#background-fetch-settled-event")
async def test_settled_event_matchall(draft_user_agent, origin_server):
    async def values(event) -> list[object]:
        return [
            (fetch.request.url, fetch.response.status, await fetch.response.text())
            for fetch in await event.fetches.values()
        ]

    assert await settled_event(draft_user_agent, origin_server, values) == [
        (f"https://example.test{FEATURE_PATH}", 200, "Background Fetch"),
        (f"https://example.test{CHEESE_PATH}", 200, CHEESE),
    ]
