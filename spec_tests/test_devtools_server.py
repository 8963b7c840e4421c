"""The CDP endpoint (ua.serve_devtools, bgfetch serve) driven as a published CDP client
drives Chrome: the `chrome-devtools-protocol` package's (module ``cdp``) commands and
events over a WebSocket (trio-websocket), on real loopback sockets in real time."""

from __future__ import annotations

import pytest
import trio
import trio_websocket
from cdp import background_service as bs
from cdp import target
from devtools_support import FETCH, CDPClient, http_get

import bgfetch
from bgfetch.devtools.scenario import demo
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker

ORIGIN = "https://example.test"


async def test_a_cdp_client_observes_background_fetches_over_a_websocket():
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    server.add("/ep.mp3", b"m" * 200_000, throttle=1_000_000)
    server.add("/ep.txt", b"transcript")
    network.serve(ORIGIN, server)
    with trio.fail_after(30):
        async with bgfetch.open_user_agent(network=network) as ua:
            endpoint = await ua.serve_devtools(port=0)
            recorder = WorkerRecorder.for_edition(ua)
            window, registration = await open_window_with_worker(ua, recorder)

            status, version = await http_get(endpoint.port, "/json/version")
            assert status == 200 and version["Protocol-Version"] == "1.3"
            assert version["webSocketDebuggerUrl"] == endpoint.browser_url
            status, pages = await http_get(endpoint.port, "/json/list")
            assert [(p["type"], p["url"]) for p in pages] == [("page", f"{ORIGIN}/")]

            async with trio_websocket.open_websocket_url(endpoint.browser_url) as ws:
                client = CDPClient(ws)
                await client.execute(target.set_discover_targets(True))
                created = [e for e in client.events if isinstance(e, target.TargetCreated)]
                assert [e.target_info.url for e in created] == [f"{ORIGIN}/"]
                infos = await client.execute(target.get_targets())
                page = infos[0].target_id
                assert page == pages[0]["id"]
                session = await client.execute(target.attach_to_target(page, flatten=True))
                assert any(isinstance(e, target.AttachedToTarget) for e in client.events)

                client.events.clear()
                await client.execute(bs.start_observing(FETCH), session)
                assert client.events == [bs.RecordingStateChanged(False, FETCH)]
                client.events.clear()
                await client.execute(bs.set_recording(True, FETCH), session)
                assert client.events == [bs.RecordingStateChanged(True, FETCH)]

                # Not in the domain: CDP's "method not found", and the connection goes on.
                missing = await client.raw("Page.enable", session)
                assert missing["error"] == {"code": -32601, "message": "'Page.enable' wasn't found"}
                assert missing["sessionId"] == session

                await registration.background_fetch.fetch("ep", ["/ep.mp3", "/ep.txt"])
                received = []
                while not received or received[-1].event_name != "Background Fetch completed":
                    event = await client.event()
                    assert isinstance(event, bs.BackgroundServiceEventReceived)
                    received.append(event.background_service_event)
                logged = ua.devtools.events()
                assert [e.event_name for e in received] == [e.event_name for e in logged]
                assert [e.event_name for e in received][:2] == [
                    "Background Fetch registered",
                    "Background Fetch started",
                ]
                assert len(received) == 7  # registered, started, 2 + 2 requests, completed
                first = received[0]
                assert (first.origin, first.instance_id) == (f"{ORIGIN}/", "ep")
                assert {(m.key, m.value) for m in first.event_metadata} == {
                    ("Total Requests", "2"),
                    ("Start Paused", "No"),
                }
                assert received[-1].event_metadata == [
                    bs.EventMetadata("Event Type", "BackgroundFetchSuccessEvent")
                ]

                # A second client replays the log...
                async with trio_websocket.open_websocket_url(
                    pages[0]["webSocketDebuggerUrl"]
                ) as ws2:
                    other = CDPClient(ws2)
                    await other.execute(bs.start_observing(FETCH))
                    assert other.events[0] == bs.RecordingStateChanged(True, FETCH)
                    assert [e.background_service_event.event_name for e in other.events[1:]] == [
                        e.event_name for e in received
                    ]

                # ... and after clearEvents, nothing.
                await client.execute(bs.clear_events(FETCH), session)
                await client.execute(bs.stop_observing(FETCH), session)
                client.events.clear()
                await client.execute(bs.start_observing(FETCH), session)
                assert client.events == [bs.RecordingStateChanged(True, FETCH)]
                assert ua.devtools.events() == []
            await recorder.settled("ep")


async def test_the_endpoint_closes_with_the_user_agent():
    async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork()) as ua:
        endpoint = await ua.serve_devtools(port=0)
        assert (await http_get(endpoint.port, "/json/list")) == (200, [])
        assert (await http_get(endpoint.port, "/nothing"))[0] == 404
        port = endpoint.port
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", port)


async def test_the_demo_scenario_runs_rounds(monkeypatch):
    monkeypatch.setattr("bgfetch.devtools.scenario.PAUSE", 0)
    monkeypatch.setattr("bgfetch.devtools.scenario.EPISODE", b"e" * 100_000)
    async with bgfetch.open_user_agent(network=bgfetch.VirtualNetwork()) as ua:
        ua.devtools.set_recording(True)
        with trio.fail_after(30):
            await demo(ua, rounds=3)
    completed = [e for e in ua.devtools.events() if e.event_name == "Background Fetch completed"]
    assert [e.instance_id for e in completed] == [f"episode-5-round-{n}" for n in (1, 2, 3)]
    assert [e.metadata().get("Failure Reason") for e in completed] == [
        None,
        None,
        "BackgroundFetchFailureReason::BAD_STATUS",
    ]
