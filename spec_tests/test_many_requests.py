"""The cost of a background fetch grows with the number of its requests, not with its
square (issue 9, "pages and workers").  Counted in operations, never in time: how often
the records' stored bytes are measured, and how often a waiter wakes to re-check its
condition, per request.  (The timing is bench/many_requests.py.)"""

from __future__ import annotations

import pytest
import trio

import bgfetch.store.memory as memory
from bgfetch.infra import Condition
from bgfetch.testing import WorkerRecorder, open_window_with_worker
from bgfetch.testing.partial_server import PartialServer

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
BODY = b"x" * 3000  # three chunks at the throttle below


class Counts:
    def __init__(self, monkeypatch):
        self.lengths = 0
        self.wakeups = 0
        length = memory.MemoryBytes.__len__
        wait_for = Condition.wait_for

        def counted_length(stored):
            self.lengths += 1
            return length(stored)

        async def counted_wait_for(condition, predicate):
            def counted():
                self.wakeups += 1
                return predicate()

            await wait_for(condition, counted)

        monkeypatch.setattr(memory.MemoryBytes, "__len__", counted_length)
        monkeypatch.setattr(Condition, "wait_for", counted_wait_for)

    def reset(self):
        self.lengths = self.wakeups = 0


async def fetch_many(user_agent, origin_server, recorder, registration, counts, n):
    paths = [f"/{n}/{i}" for i in range(n)]
    for path in paths:
        origin_server.add(path, BODY, throttle=10_000)
    counts.reset()
    await registration.background_fetch.fetch(f"many-{n}", paths)
    seen = await recorder.settled(f"many-{n}", within=3600)
    assert seen.bodies() == [BODY] * n
    await trio.sleep(1)
    return counts.lengths / n, counts.wakeups / n


@EDITIONS
async def test_measuring_and_waking_per_request_do_not_grow_with_the_requests(
    user_agent, origin_server, monkeypatch
):
    counts = Counts(monkeypatch)
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    small = await fetch_many(user_agent, origin_server, recorder, registration, counts, 20)
    large = await fetch_many(user_agent, origin_server, recorder, registration, counts, 160)
    # Eight times the requests: as many operations per request (give or take the few that
    # are per background fetch), where the square would make eight times as many.
    assert large[0] <= 1.5 * small[0], (small, large)
    assert large[1] <= 1.5 * small[1], (small, large)


@pytest.mark.parametrize("bgfetch_edition", ["current"])
@pytest.mark.step("#background-fetch-stored-body-bytes-total")
async def test_the_kept_stored_body_bytes_total_is_what_the_steps_sum(user_agent, origin_server):
    # A server that cuts each body once and then ignores ranges: the record's response
    # data is replaced ("process response" 3), and its old bytes no longer count.
    origin_server.add("/cut", BODY, throttle=1000, cut_after=1500, ranges=False)
    origin_server.add("/whole", BODY, throttle=1000)
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    bg = await registration.background_fetch.fetch("total", ["/cut", "/whole", "/cut?2"])
    concept = bg.background_fetch
    totals = []

    def check(event):
        totals.append(concept.stored_body_bytes_total())
        assert concept.stored_body_bytes_total() == concept.stored_body_bytes_total_by_the_steps()

    bg.add_event_listener("progress", check)
    assert (await recorder.settled("total")).bodies() == [BODY] * 3
    assert concept.stored_body_bytes_total() == concept.stored_body_bytes_total_by_the_steps()
    assert concept.stored_body_bytes_total() == 3 * len(BODY)
    assert totals and max(totals) <= 3 * len(BODY)


@pytest.mark.parametrize("bgfetch_edition", ["2017-10-12"])
@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "2")
async def test_the_kept_response_body_bytes_are_what_report_progress_sums(
    user_agent, origin_server
):
    # A 206 that ends short, then a full response to the range request: the record's
    # response body is replaced, and the kept sum goes down with it.
    served = {"n": 0}

    def answer(headers):
        served["n"] += 1
        if served["n"] == 1:
            return "206 Partial Content", [f"Content-Range: bytes 0-1499/{len(BODY)}"], BODY[:1500]
        return "200 OK", [], BODY

    pieces = PartialServer(BODY, 1500)
    pieces.answer = answer  # type: ignore[method-assign]
    user_agent.network.serve("https://pieces.test", pieces)
    origin_server.add("/whole", BODY, throttle=1000)
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(user_agent, recorder)
    bg = await registration.background_fetch.fetch(
        "total", ["https://pieces.test/cut", "/whole", "/whole?2"]
    )
    concept = bg.background_fetch
    heard = []

    def check(event):
        heard.append(bg.downloaded)
        assert concept.response_body_bytes() == concept.response_body_bytes_by_the_steps()

    bg.add_event_listener("progress", check)
    assert (await recorder.settled("total")).bodies() == [BODY] * 3
    assert concept.response_body_bytes() == concept.response_body_bytes_by_the_steps()
    assert concept.response_body_bytes() == 3 * len(BODY)
    assert heard and heard[-1] == 3 * len(BODY)
