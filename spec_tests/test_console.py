"""``ua.console`` (issue 11): what DevTools' console would say for each failure the user
agent meets, with its level and the request's URL, collected for tests and logged to
``bgfetch.console``.  Real sockets' failures (refused, TLS) are in
real_network/test_console_loopback.py."""

from __future__ import annotations

import logging

import pytest

from bgfetch.console import ConsoleMessage
from bgfetch.testing import WorkerRecorder, open_window_with_worker, settled
from bgfetch.testing.partial_server import PartialServer

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
ORIGIN = "https://example.test"


async def fetch_and_settle(user_agent, requests, *, page=f"{ORIGIN}/", csp=None, id="x"):
    """Background-fetch *requests* from a window at *page*; the console once settled."""
    recorder = WorkerRecorder.for_edition(user_agent)
    window = await user_agent.open_window(page, csp=csp)
    await window.navigator.service_worker.register(recorder.worker, scope="/")
    registration = await window.navigator.service_worker.ready
    bg = await registration.background_fetch.fetch(id, requests)
    await settled(bg)
    return bg, list(user_agent.console.messages)


def said_about(messages: list[ConsoleMessage], url: str) -> list[ConsoleMessage]:
    return [m for m in messages if m.url == url]


@EDITIONS
async def test_a_missing_cors_header_is_a_console_error_saying_why(
    user_agent, origin_server, virtual_network
):
    from bgfetch.testing import OriginServer

    other = OriginServer()
    other.add("/no-cors.txt", "N")
    other.add("/cors.txt", "Y", cors=ORIGIN)
    virtual_network.serve("https://cdn.test", other)
    bg, messages = await fetch_and_settle(
        user_agent, ["https://cdn.test/no-cors.txt", "https://cdn.test/cors.txt"]
    )
    [message] = said_about(messages, "https://cdn.test/no-cors.txt")
    assert message.level == "error" and message.source == "network" and message.id == "x"
    assert "CORS check failed: the response has no Access-Control-Allow-Origin header" in (
        message.text
    )
    assert said_about(messages, "https://cdn.test/cors.txt") == []  # a success says nothing
    if hasattr(bg, "failure_reason"):
        assert bg.failure_reason == "fetch-error"  # with a visible reason


@EDITIONS
async def test_a_failing_cors_preflight_is_a_console_error(
    user_agent, origin_server, virtual_network
):
    from bgfetch import Request
    from bgfetch.testing import OriginServer

    other = OriginServer()
    other.add("/put", "", cors=ORIGIN, allow_methods="GET")
    virtual_network.serve("https://api.test", other)
    _, messages = await fetch_and_settle(
        user_agent, [Request("https://api.test/put", method="PUT", body=b"up")]
    )
    [message] = said_about(messages, "https://api.test/put")
    assert message.level == "error"
    assert "CORS preflight failed" in message.text and "PUT" in message.text


@EDITIONS
@pytest.mark.parametrize(
    ("url", "csp", "reason"),
    [
        ("http://example.test/a.txt", None, "blocked as mixed content"),
        ("https://example.test:25/a.txt", None, "port 25 is a bad port"),
        (
            "https://elsewhere.test/a.txt",
            "connect-src 'self'",
            "blocked by the Content Security Policy directive \"connect-src 'self'\"",
        ),
        (
            "https://unknown-host.test/a.txt",
            None,
            "cannot connect to https://unknown-host.test: no such host",
        ),
    ],
)
async def test_a_blocked_or_unreachable_request_is_a_console_error_naming_it(
    user_agent, origin_server, url, csp, reason
):
    origin_server.add("/ok.txt", "ok")
    _, messages = await fetch_and_settle(user_agent, [url, "/ok.txt"], csp=csp)
    [message] = said_about(messages, url)
    assert message.level == "error"
    assert message.text.startswith(url) and reason in message.text
    assert said_about(messages, f"{ORIGIN}/ok.txt") == []


@EDITIONS
async def test_an_error_status_is_a_console_error_as_devtools_words_it(user_agent, origin_server):
    origin_server.add("/gone.txt", "gone", status=410)
    _, messages = await fetch_and_settle(user_agent, ["/missing.txt", "/gone.txt"])
    texts = {m.url: (m.level, m.text) for m in messages}
    assert texts[f"{ORIGIN}/missing.txt"] == (
        "error",
        f"{ORIGIN}/missing.txt: Failed to load resource: the server responded with a status "
        "of 404 (Not Found)",
    )
    assert texts[f"{ORIGIN}/gone.txt"][1].endswith("a status of 410 (Gone)")


def short_206_then(user_agent, then: tuple[str, list[str], bytes]) -> PartialServer:
    """ORIGIN answers a 206 of the first 1,500 of 4,000 bytes, then *then*: how the 2017
    draft comes to resume, as it abandons a cut body (SPEC-NOTES.md SN-2017-3)."""
    server = PartialServer(b"e" * 4000, 1500)
    first = server.answer
    server.answer = lambda headers: then if server.requests[1:] else first(headers)  # type: ignore[method-assign]
    user_agent.network.serve(ORIGIN, server)
    return server


@EDITIONS
async def test_a_cut_body_warns_and_a_refused_range_warns_that_it_starts_over(
    user_agent, origin_server
):
    if user_agent.edition.NAME == "2017-10-12":
        short_206_then(user_agent, ("200 OK", [], b"e" * 4000))
        _, messages = await fetch_and_settle(user_agent, ["/cut.bin"])
        [about] = said_about(messages, f"{ORIGIN}/cut.bin")
        assert about.level == "warning" and "the download starts over" in about.text
        origin_server.add("/cut.bin", b"c" * 4000, throttle=2000, cut_after=1500)
        user_agent.network.serve(ORIGIN, origin_server)
        bg, messages = await fetch_and_settle(user_agent, ["/cut.bin"], id="cut")
        about = said_about(messages, f"{ORIGIN}/cut.bin")[1:]
        assert [m.level for m in about] == ["warning"]  # and the draft abandons it
        assert "the response body broke off after 1,500 bytes" in about[0].text
        return
    origin_server.add("/cut.bin", b"c" * 4000, throttle=2000, cut_after=1500, ranges=False)
    _, messages = await fetch_and_settle(user_agent, ["/cut.bin"])
    about = said_about(messages, f"{ORIGIN}/cut.bin")
    assert [m.level for m in about] == ["warning", "warning"]
    assert "the response body broke off after 1,500 bytes" in about[0].text
    assert "answered the range request for the rest with the whole resource (status 200)" in (
        about[1].text
    )
    assert "the download starts over" in about[1].text


@EDITIONS
async def test_a_partial_response_that_does_not_continue_is_a_resume_refused_error(
    user_agent, origin_server
):
    def answer_from_the_start(resource):
        resource.ranges = False
        resource.status = 206
        resource.headers = [("Content-Range", "bytes 0-3999/4000")]

    if user_agent.edition.NAME == "2017-10-12":
        fields = ["Content-Range: bytes 0-3999/4000"]
        short_206_then(user_agent, ("206 Partial Content", fields, b"e" * 4000))
    else:
        origin_server.add(
            "/ep.bin", b"e" * 4000, throttle=2000, cut_after=1500, on_cut=answer_from_the_start
        )
    bg, messages = await fetch_and_settle(user_agent, ["/ep.bin"])
    errors = [m for m in said_about(messages, f"{ORIGIN}/ep.bin") if m.level == "error"]
    assert len(errors) == 1
    assert "resuming failed: the server's partial response does not continue the stored" in (
        errors[0].text
    )
    if user_agent.edition.NAME == "current":  # the 2017 draft's steps do not keep the header
        assert "(Content-Range: bytes 0-3999/4000)" in errors[0].text
        assert bg.failure_reason == "fetch-error"


async def test_going_over_the_quota_is_a_console_error(user_agent, origin_server):
    origin_server.add("/big.bin", b"b" * 50_000, throttle=10_000)
    window, registration = await open_window_with_worker(user_agent, WorkerRecorder())
    user_agent.store.quota = 20_000
    bg = await registration.background_fetch.fetch("big", "/big.bin")
    await settled(bg)
    [message] = user_agent.console.find("quota exceeded")
    assert message.level == "error" and message.id == "big"


async def test_console_messages_are_logged_as_they_happen(user_agent, origin_server, caplog):
    caplog.set_level(logging.INFO, logger="bgfetch.console")
    heard = []
    origin_server.add("/a.txt", "A")

    def on_step(step):
        if step.what == "record settled":
            heard.append(list(caplog.records))

    user_agent.observers.subscribe(on_step)
    await fetch_and_settle(user_agent, ["/missing.txt"])
    # Logged before the record settled: as it happened, not at the end.
    [record] = heard[0]
    assert record.name == "bgfetch.console" and record.levelno == logging.ERROR
    assert record.console == user_agent.console.messages[0]  # the message itself, for handlers
    assert "status of 404 (Not Found)" in record.getMessage()
    user_agent.console.clear()
    assert list(user_agent.console.messages) == []
