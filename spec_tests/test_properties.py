"""Properties searched with Hypothesis: whatever a flaky server and an unreliable network
do within the user agent's resume budget, a GET background fetch ends in "success" with
every record holding exactly its resource's bytes, and `downloaded` says so."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bgfetch
from bgfetch.editions.current.complete_record import MAX_RESUMES
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://example.test"

resources = st.lists(
    st.fixed_dictionaries(
        {
            "size": st.integers(min_value=1, max_value=40_000),
            "cut_after": st.integers(min_value=0, max_value=30_000),
            "cuts": st.integers(min_value=0, max_value=MAX_RESUMES),
            "ranges": st.booleans(),
            "etag": st.sampled_from([None, '"v1"']),
            "framing": st.sampled_from(["content-length", "chunked"]),
            "throttle": st.sampled_from([None, 5_000, 50_000]),
        }
    ),
    min_size=1,
    max_size=3,
)
# Offline periods: (start, length) in simulated seconds from the fetch's start.
outages = st.lists(
    st.tuples(st.floats(min_value=0, max_value=10), st.floats(min_value=0.01, max_value=30)),
    max_size=3,
)


async def scenario(specs: list[dict], offline: list[tuple[float, float]]) -> None:
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    bodies = {}
    for i, spec in enumerate(specs):
        body = bytes((i * 7 + n) % 256 for n in range(spec["size"]))
        path = f"/r{i}"
        server.add(
            path,
            body,
            cut_after=spec["cut_after"] if spec["cuts"] else None,
            cuts=spec["cuts"],
            ranges=spec["ranges"],
            etag=spec["etag"],
            framing=spec["framing"],
            throttle=spec["throttle"],
        )
        bodies[path] = body
    network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=network) as ua:
        _, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        bg = await registration.background_fetch.fetch("prop", list(bodies))
        start = trio.current_time()
        async with trio.open_nursery() as outages_nursery:
            for begin, length in offline:

                async def outage(begin: float = begin, length: float = length) -> None:
                    await trio.sleep_until(start + begin)
                    network.set_online(False)
                    await trio.sleep(length)
                    network.set_online(True)

                outages_nursery.start_soon(outage)
        with trio.fail_after(3600):
            while bg.result == "":
                await trio.sleep(1)
        assert (bg.result, bg.failure_reason) == ("success", ""), ua.handler_errors
        assert bg.downloaded == sum(len(body) for body in bodies.values())
        records = bg.background_fetch.records
        for record, body in zip(records, bodies.values(), strict=True):
            assert record.response_data.result == "success"
            assert record.response_data.bytes.read(0, len(body) + 1) == body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=resources, offline=outages)
def test_a_get_fetch_survives_cuts_and_outages_with_identical_bytes(specs, offline):
    trio.run(scenario, specs, offline, clock=trio.testing.MockClock(autojump_threshold=0))
