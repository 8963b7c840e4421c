"""Hostile servers, searched with Hypothesis: whatever bytes an origin answers with, the
user agent neither crashes, nor hangs, nor asks again without end.  The background fetch
settles (the record fails with "fetch-error" or "bad-status", or succeeds), and closing
the user agent leaves no connection open."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bgfetch
from bgfetch.testing import open_window_with_worker

ORIGIN = "https://example.test"

# Building blocks of plausible and implausible HTTP/1.1 responses.
status_lines = st.sampled_from(
    [
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 206 Partial Content\r\n",
        b"HTTP/1.1 404 Not Found\r\n",
        b"HTTP/1.1 302 Found\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
        b"HTTP/1.0 200 OK\r\n",
        b"HTTP/1.1 999 What\r\n",
        b"HTTP/2 200\r\n",
        b"garbage\r\n",
        b"",
    ]
)
header_lines = st.lists(
    st.sampled_from(
        [
            b"Content-Length: 5\r\n",
            b"Content-Length: 0\r\n",
            b"Content-Length: -1\r\n",
            b"Content-Length: 5, 6\r\n",
            b"Transfer-Encoding: chunked\r\n",
            b"Transfer-Encoding: gzip\r\n",
            b"Content-Encoding: gzip\r\n",
            b"Content-Encoding: br\r\n",
            b"Content-Range: bytes 0-4/5\r\n",
            b"Content-Range: bytes */5\r\n",
            b"Content-Range: nonsense\r\n",
            b"Location: /elsewhere\r\n",
            b"Location: http://[::1\r\n",
            b"Connection: close\r\n",
            b"X-Folded: a\r\n b\r\n",
            b"Bad Header\r\n",
            b"\x00\xff: \x01\r\n",
        ]
    ),
    max_size=5,
)
bodies = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"ff\r\nshort", b"\x1f\x8b\x08junk"]),
)


RUNAWAY = 200  # no answer can make a user agent send more requests than this


class HostileServer:
    """Reads a request's head, answers with the given bytes, then closes (or goes quiet).

    Past RUNAWAY requests it stops answering, so a user agent that would ask for ever
    fails the test instead of hanging it."""

    def __init__(self, answer: bytes, hang: bool) -> None:
        self.answer = answer
        self.hang = hang
        self.requests = 0

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                data = await stream.receive_some()
                if not data:
                    return
                received += data
            self.requests += 1
            if self.requests > RUNAWAY:
                return
            await stream.send_all(self.answer)
            if self.hang:
                await trio.sleep(30)  # a server that stops talking, then goes away
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await stream.aclose()


async def scenario(answer: bytes, hang: bool) -> None:
    network = bgfetch.VirtualNetwork()
    server = HostileServer(answer, hang)
    network.serve(ORIGIN, server)
    worker = bgfetch.ServiceWorker()
    settled: list[str] = []
    for name in ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"):
        worker.add_event_listener(name, lambda event: settled.append(event.type))
    async with bgfetch.open_user_agent(network=network) as ua:
        _, registration = await open_window_with_worker(ua, worker)
        bg = await registration.background_fetch.fetch("hostile", "/thing")
        with trio.fail_after(24 * 3600):  # simulated: a hang would jump to this
            while not settled:
                await trio.sleep(60)
        assert len(settled) == 1
        assert bg.result in ("success", "failure")
        assert bg.failure_reason in ("", "fetch-error", "bad-status")
        assert not ua.handler_errors
    assert network.open_connections == 0
    assert server.requests <= RUNAWAY


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=status_lines, headers=header_lines, body=bodies, hang=st.booleans())
def test_any_answer_settles_the_fetch_without_crashing(status, headers, body, hang):
    answer = status + b"".join(headers) + (b"\r\n" if status else b"") + body
    trio.run(scenario, answer, hang, clock=trio.testing.MockClock(autojump_threshold=0))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=st.binary(max_size=200), hang=st.booleans())
def test_random_bytes_settle_the_fetch_without_crashing(answer, hang):
    trio.run(scenario, answer, hang, clock=trio.testing.MockClock(autojump_threshold=0))
