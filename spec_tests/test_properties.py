"""Properties searched with Hypothesis: whatever a flaky server and an unreliable network
do within the user agent's resume budget, a GET background fetch succeeds (current
edition) with every record holding exactly its resource's bytes, and `downloaded` says
so.  The 2017-10-12 draft resumes no body cut mid-way (SPEC-NOTES.md SN-2017-3): there a
cut fails the fetch, and a fetch that succeeds holds exactly the resources' bytes."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bgfetch
from bgfetch.resume import MAX_RESUMES
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


SUCCESS_EVENT = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}


def stored_bytes(record: object) -> bytes:
    """A record's stored bytes, in either edition's concept."""
    data = getattr(record, "response_data", None)
    stored = data.bytes if data is not None else record.response_body  # type: ignore[attr-defined]
    return stored.read(0, len(stored))


async def scenario(edition: str, specs: list[dict], offline: list[tuple[float, float]]) -> None:
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
    worker = bgfetch.ServiceWorker()
    settled: list[str] = []
    for name in (
        "backgroundfetchsuccess",
        "backgroundfetched",
        "backgroundfetchfail",
        "backgroundfetchabort",
    ):
        worker.add_event_listener(name, lambda event: settled.append(event.type))
    async with bgfetch.open_user_agent(network=network, edition=edition) as ua:
        _, registration = await open_window_with_worker(ua, worker)
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
            while not settled:
                await trio.sleep(1)
        assert not ua.handler_errors
        if edition == "2017-10-12":
            # The server's cut ends the connection: before the body's end, or before a
            # chunked body's last chunk, the stream errors and the fetch is abandoned.
            if any(
                s["cuts"] and (s["cut_after"] < s["size"] or s["framing"] == "chunked")
                for s in specs
            ):
                assert settled == ["backgroundfetchfail"]
                return
            if offline:  # an outage during a body abandons; before a request, it waits
                assert settled in (["backgroundfetched"], ["backgroundfetchfail"])
                if settled == ["backgroundfetchfail"]:
                    return
        assert settled == [SUCCESS_EVENT[edition]]
        await trio.sleep(1)  # the last progress update reaches the page
        assert bg.downloaded == sum(len(body) for body in bodies.values())
        records = bg.background_fetch.records
        for record, body in zip(records, bodies.values(), strict=True):
            assert stored_bytes(record) == body


@pytest.mark.parametrize("edition", ["current", "2017-10-12"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=resources, offline=outages)
def test_a_get_fetch_survives_cuts_and_outages_with_identical_bytes(edition, specs, offline):
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(scenario, edition, specs, offline, clock=clock)


# User actions at random simulated times: (time, action).
actions = st.lists(
    st.tuples(st.floats(min_value=0, max_value=20), st.sampled_from(["pause", "resume"])),
    max_size=6,
)


async def pausing_scenario(specs: list[dict], toggles: list[tuple[float, str]]) -> None:
    """The current edition: the user pauses and resumes at random; the fetch ends paused
    or, once resumed for good, in "success" with identical bytes."""
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    bodies = {}
    for i, spec in enumerate(specs):
        body = bytes((i * 7 + n) % 256 for n in range(spec["size"]))
        server.add(
            f"/r{i}",
            body,
            cut_after=spec["cut_after"] if spec["cuts"] else None,
            cuts=spec["cuts"],
            ranges=spec["ranges"],
            etag=spec["etag"],
            framing=spec["framing"],
            throttle=spec["throttle"],
        )
        bodies[f"/r{i}"] = body
    network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=network) as ua:
        _, registration = await open_window_with_worker(ua, bgfetch.ServiceWorker())
        bg = await registration.background_fetch.fetch("pausing", list(bodies))
        display = ua.ui.find("pausing")
        start = trio.current_time()
        for at, action in sorted(toggles):
            await trio.sleep_until(start + at)
            getattr(display, action)()
        display.resume()
        with trio.fail_after(3600):
            while bg.result == "":
                await trio.sleep(1)
        assert (bg.result, bg.failure_reason) == ("success", "")
        for record, body in zip(bg.background_fetch.records, bodies.values(), strict=True):
            assert stored_bytes(record) == body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=resources, toggles=actions)
def test_pausing_and_resuming_at_any_time_loses_no_byte(specs, toggles):
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(pausing_scenario, specs, toggles, clock=clock)


async def aborting_scenario(size: int, throttle: int, abort_at: float) -> None:
    """abort() at any time: it returns true exactly when the fetch ends with the abort
    event and failure reason "aborted"; no record holds more than its resource."""
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    body = bytes(n % 256 for n in range(size))
    server.add("/r", body, throttle=throttle)
    network.serve(ORIGIN, server)
    events: list[str] = []
    worker = bgfetch.ServiceWorker()
    for name in ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"):
        worker.add_event_listener(name, lambda event: events.append(event.type))
    async with bgfetch.open_user_agent(network=network) as ua:
        _, registration = await open_window_with_worker(ua, worker)
        bg = await registration.background_fetch.fetch("aborting", "/r")
        await trio.sleep(abort_at)
        aborted = await bg.abort()
        with trio.fail_after(3600):
            while not events:
                await trio.sleep(1)
        if aborted:
            assert events == ["backgroundfetchabort"]
            assert (bg.result, bg.failure_reason) == ("failure", "aborted")
        else:
            assert events == ["backgroundfetchsuccess"]
            assert bg.result == "success"
        stored = stored_bytes(bg.background_fetch.records[0])
        assert body.startswith(stored)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(min_value=1, max_value=20_000),
    throttle=st.sampled_from([1_000, 10_000, 100_000]),
    abort_at=st.floats(min_value=0, max_value=25),
)
def test_abort_at_any_time_is_an_abort_exactly_when_it_returns_true(size, throttle, abort_at):
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(aborting_scenario, size, throttle, abort_at, clock=clock)
