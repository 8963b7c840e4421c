"""Write docs/editions.md: the same scenarios under both editions, side by side.

Every scenario runs once per edition on the virtual network, in simulated time
(trio's MockClock), and reports what a web page and its service worker can
observe: the events fired, the responses the worker reads, the registration's
attributes after the fetch settled, what the server was asked, what a promise
rejected with.  Each cell says where its behaviour comes from: the edition's spec
text ("draft", "spec"), a hole the 2017-10-12 draft leaves, filled from the first later
revision that settles it ("fill <commit>"), or bgfetch's own policy where a spec leaves
it to the user agent ("bgfetch SN-..."), as SPEC-NOTES.md says.  ``make docs`` (or
``python scripts/editions_report.py``) regenerates the file;
spec_tests/test_both_editions.py checks it is current.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import trio
import trio.testing

import bgfetch
from bgfetch.editions import load_edition
from bgfetch.testing import OriginServer, open_window_with_worker
from bgfetch.testing.partial_server import PartialServer

EDITIONS = ("current", "2017-10-12")
ORIGIN = "https://example.test"
FEATURE = "Background Fetch"
BODY = bytes(range(256)) * 16  # 4096 bytes
SETTLED = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}
OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "editions.md"

Outcome = dict[str, str]


class Probe:
    """A service worker for either edition that writes down each event it receives and,
    for a settled event, every response it can read (None where there is none)."""

    def __init__(self, edition: str) -> None:
        self.worker = bgfetch.ServiceWorker("probe")
        self.events: list[str] = []
        self.responses: dict[str, list[str]] = {}
        self.clicks: list[str] = []
        self.changed = trio.Event()
        for name in load_edition(edition).EVENTS:
            self.worker.add_event_listener(name, self._on)

    async def _on(self, event: Any) -> None:
        self.events.append(event.type)
        if event.type == "backgroundfetchclick":
            kind = type(event).__name__
            if hasattr(event, "state"):  # 2017-10-12: BackgroundFetchClickEvent
                self.clicks.append(f"{kind}, state {event.state!r}")
            else:  # current: a BackgroundFetchEvent with the registration
                self.clicks.append(f"{kind}, registration.result {event.registration.result!r}")
        else:
            responses: list[Any] = []
            if hasattr(event, "fetches"):  # 2017-10-12: BackgroundFetchSettledFetches
                id = event.id
                responses = [fetch.response for fetch in await event.fetches.values()]
            else:  # current: the registration's records
                id = event.registration.id
                for record in await event.registration.match_all():
                    try:
                        responses.append(await record.response_ready)
                    except Exception as error:
                        responses.append(type(error).__name__)
            self.responses[id] = [await _describe(r) for r in responses]
        self.changed.set()
        self.changed = trio.Event()

    async def settled(self, id: str) -> list[str]:
        with trio.fail_after(600):
            while id not in self.responses:
                await self.changed.wait()
        return self.responses[id]

    async def clicked(self, count: int) -> None:
        with trio.fail_after(60):
            while len(self.clicks) < count:
                await self.changed.wait()


async def _describe(response: Any) -> str:
    if response is None:
        return "null"
    if isinstance(response, str):
        return f"rejects {response}"
    text = await response.text()
    shown = text if len(text) <= 20 else f"{len(text)} bytes"
    return f'{response.status} "{shown}"'


@attrs.define
class Env:
    edition: str
    ua: bgfetch.UserAgent
    network: bgfetch.VirtualNetwork
    server: OriginServer
    probe: Probe
    manager: Any
    registration: Any  # the page's ServiceWorkerRegistration


def _js(value: Any) -> str:
    """A value as JavaScript would show it."""
    if value is None:
        return "undefined"
    if isinstance(value, list):
        return "[" + ", ".join(_js(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _code(values: list[str]) -> str:
    return ", ".join(f"`{v}`" for v in values) if values else "none"


def _settled_attributes(env: Env, bg: Any) -> str:
    parts = [f"downloaded {bg.downloaded}", f"uploaded {bg.uploaded}"]
    if env.edition == "current":
        parts += [f"result {bg.result!r}", f"failureReason {bg.failure_reason!r}"]
    return ", ".join(parts)


async def _settle(env: Env, id: str, bg: Any) -> Outcome:
    responses = await env.probe.settled(id)
    await trio.sleep(1)  # the page's last progress task
    return {
        "events": _code(env.probe.events),
        "responses the worker reads": "; ".join(responses) or "none",
        "registration after settle": _settled_attributes(env, bg),
        "getIds() after settle": _js(await env.manager.get_ids()),
    }


def _requests(env: Env, path: str) -> str:
    requests = env.server.requests_for(path)
    described = []
    for request in requests:
        range, if_range = request.header("range"), request.header("if-range")
        if range is None:
            described.append("no Range")
        else:
            described.append(range + (f" If-Range {if_range}" if if_range else ""))
    return f"{len(requests)}: " + ", ".join(described)


async def _rejection(call: Awaitable[Any]) -> str:
    try:
        value = await call
    except Exception as error:
        return f"rejects {getattr(error, 'name', type(error).__name__)}"
    return "resolves undefined" if value is None else "resolves"


# -- scenarios ------------------------------------------------------------------------


async def success(env: Env) -> Outcome:
    env.server.add("/feature-name.txt", FEATURE)
    bg = await env.manager.fetch("ok", "/feature-name.txt")
    return await _settle(env, "ok", bg)


async def match(env: Env) -> Outcome:
    env.server.add("/feature-name.txt", FEATURE)
    env.server.add("/types_of_cheese.txt", "Brie, Cheddar")
    found: list[str] = []

    async def on_settled(event: Any) -> None:
        url = f"{ORIGIN}/feature-name.txt"
        if hasattr(event, "fetches"):  # 2017-10-12: event.fetches.match(url).response
            fetch = await event.fetches.match(url)
            found.append(await _describe(fetch.response if fetch else None))
        else:  # current: event.registration.match(url).responseReady
            record = await event.registration.match(url)
            found.append(await _describe(await record.response_ready if record else None))

    env.probe.worker.add_event_listener(SETTLED[env.edition], on_settled)
    bg = await env.manager.fetch("match", ["/feature-name.txt", "/types_of_cheese.txt"])
    outcome = await _settle(env, "match", bg)
    return {"events": outcome["events"], "match(feature-name.txt)": "; ".join(found)}


async def not_found(env: Env) -> Outcome:
    env.server.add("/feature-name.txt", FEATURE)
    # The 404 comes a second late, so the 200 is complete first in every run: under
    # 2017-10-12 the 404 abandons the fetch, and a 200 still downloading would be lost.
    env.server.add("/missing.txt", "Not Found", status=404, delay=1.0)
    bg = await env.manager.fetch("404", ["/feature-name.txt", "/missing.txt"])
    return await _settle(env, "404", bg)


async def abort(env: Env) -> Outcome:
    env.server.add("/feature-name.txt", FEATURE)
    env.server.add("/slow.txt", FEATURE, delay=100)
    bg = await env.manager.fetch("abort", ["/feature-name.txt", "/slow.txt"])
    await trio.sleep(1)
    first, second = await bg.abort(), await bg.abort()
    outcome = {"abort(), abort()": f"{first}, {second}".lower()}
    outcome.update(await _settle(env, "abort", bg))
    return outcome


async def cut_connection(env: Env) -> Outcome:
    env.server.add("/big.bin", BODY, cut_after=1000, etag='"v1"')
    bg = await env.manager.fetch("cut", "/big.bin")
    outcome = await _settle(env, "cut", bg)
    outcome["requests to the server"] = _requests(env, "/big.bin")
    return outcome


async def cut_too_often(env: Env) -> Outcome:
    env.server.add("/big.bin", BODY, cut_after=100, cuts=100)
    bg = await env.manager.fetch("cuts", "/big.bin")
    outcome = await _settle(env, "cuts", bg)
    outcome["requests to the server"] = str(len(env.server.requests_for("/big.bin")))
    return outcome


async def changed_while_resuming(env: Env) -> Outcome:
    resource = env.server.add("/big.bin", BODY, cut_after=1000, etag='"v1"')

    def change(step: Any) -> None:
        if step.what == "body stream errored":
            resource.etag = '"v2"'  # the file changes before the resume

    env.ua.observers.subscribe(change)
    bg = await env.manager.fetch("changed", "/big.bin")
    outcome = await _settle(env, "changed", bg)
    outcome["requests to the server"] = _requests(env, "/big.bin")
    return outcome


async def changed_server_ignores_if_range(env: Env) -> Outcome:
    resource = env.server.add("/big.bin", BODY, cut_after=1000, etag='"v1"', honour_if_range=False)

    def change(step: Any) -> None:
        if step.what == "body stream errored":
            resource.etag = '"v2"'  # the file changes before the resume

    env.ua.observers.subscribe(change)
    bg = await env.manager.fetch("spliced", "/big.bin")
    outcome = await _settle(env, "spliced", bg)
    outcome["requests to the server"] = _requests(env, "/big.bin")
    return outcome


async def offline(env: Env) -> Outcome:
    env.server.add("/big.bin", BODY, throttle=1024)
    bg = await env.manager.fetch("offline", "/big.bin")
    await trio.sleep(1.5)
    env.network.set_online(False)
    await trio.sleep(30)
    during = _code(env.probe.events)
    env.network.set_online(True)
    outcome = {"events while offline (30 s)": during}
    outcome.update(await _settle(env, "offline", bg))
    outcome["requests to the server"] = _requests(env, "/big.bin")
    return outcome


async def download_total_exceeded(env: Env) -> Outcome:
    env.server.add("/big.bin", BODY)
    bg = await env.manager.fetch("total", "/big.bin", download_total=100)
    return await _settle(env, "total", bg)


async def upload(env: Env) -> Outcome:
    env.server.add_echo("/upload")
    request = bgfetch.Request(
        f"{ORIGIN}/upload",
        method="POST",
        body="Background Fetch!",
        headers={"Content-Type": "text/plain"},
    )
    bg = await env.manager.fetch("upload", [request])
    outcome = {"uploadTotal after fetch()": str(bg.upload_total)}
    outcome.update(await _settle(env, "upload", bg))
    return outcome


async def upload_network_error(env: Env) -> Outcome:
    request = bgfetch.Request(
        "https://nowhere.test/upload",
        method="POST",
        body="data",
        headers={"Content-Type": "text/plain"},
    )
    bg = await env.manager.fetch("upload-error", [request])
    return await _settle(env, "upload-error", bg)


async def duplicate_id(env: Env) -> Outcome:
    env.server.add("/slow.txt", FEATURE, delay=100)
    first = await _rejection(env.manager.fetch("dup", "/slow.txt"))
    second = await _rejection(env.manager.fetch("dup", "/slow.txt"))
    return {"first fetch()": first, "second fetch(), same id": second}


async def empty_list(env: Env) -> Outcome:
    return {"fetch(id, [])": await _rejection(env.manager.fetch("empty", []))}


async def quota(env: Env) -> Outcome:
    outcome = await _rejection(env.manager.fetch("huge", "/a.txt", download_total=2**53 - 1))
    return {"fetch() with downloadTotal 2^53-1": outcome}


async def get_and_get_ids(env: Env) -> Outcome:
    env.server.add("/feature-name.txt", FEATURE, delay=10)
    before = await env.manager.get("x")
    bg = await env.manager.fetch("x", "/feature-name.txt", download_total=16)
    during = await env.manager.get("x")
    ids = await env.manager.get_ids()
    await env.probe.settled("x")
    return {
        "get() before fetch()": _js(before),
        "get() while active": "the object fetch() resolved with" if during is bg else _js(during),
        "getIds() while active": _js(ids),
        "get() after settle": _js(await env.manager.get("x")),
        "getIds() after settle": _js(await env.manager.get_ids()),
        "get('')": await _rejection(env.manager.get("")),
    }


async def click(env: Env) -> Outcome:
    env.server.add("/slow.txt", FEATURE, delay=10)
    await env.manager.fetch("click", "/slow.txt")
    display = env.ua.ui.find("click")
    display.click()
    await env.probe.clicked(1)
    await env.probe.settled("click")
    display.click()
    await env.probe.clicked(2)
    return {"click while active, then after settle": "; ".join(env.probe.clicks)}


async def click_after_failure(env: Env) -> Outcome:
    await env.manager.fetch("click-fail", "/missing.txt")
    await env.probe.settled("click-fail")
    env.ua.ui.find("click-fail").click()
    await env.probe.clicked(1)
    return {"click after the fetch failed": env.probe.clicks[0], "events": _code(env.probe.events)}


async def short_partial_responses(env: Env) -> Outcome:
    server = PartialServer(BODY, 1500)
    env.network.serve(ORIGIN, server)
    bg = await env.manager.fetch("pieces", "/big.bin")
    outcome = await _settle(env, "pieces", bg)
    described = [
        f"{r['range']} If-Range {r['if-range']}" if "range" in r else "no Range"
        for r in server.requests
    ]
    outcome["requests to the server"] = f"{len(described)}: " + ", ".join(described)
    return outcome


async def _first(matches: Any) -> Any:
    """The first of an awaited match()/matchAll(): a record object, or None."""
    found = await matches
    return found[0] if isinstance(found, list) else found


async def _when_ready(env: Env, record: Any) -> str:
    """When *record*'s responseReady settles, in simulated seconds, and with what."""
    start = trio.current_time()
    try:
        response = await record.response_ready
    except Exception as error:
        return f"rejects {getattr(error, 'name', type(error).__name__)}"
    return f"after {trio.current_time() - start:.0f} s: {await _describe(response)}"


async def page_match(env: Env) -> Outcome:
    env.server.add("/slow.txt", FEATURE, throttle=4)  # 16 bytes in 4 s
    bg = await env.manager.fetch("page-match", "/slow.txt")
    url = f"{ORIGIN}/slow.txt"
    if env.edition == "2017-10-12":  # the draft: bg.activeFetches.match(url)
        how, match_now = "activeFetches.match(url)", bg.active_fetches.match
    else:  # current: bg.match(url)
        how, match_now = "match(url)", bg.match
    record = await _first(match_now(url))
    outcome = {
        "what the page calls": f"`{how}`",
        "gives": type(record).__name__,
        "its responseReady": await _when_ready(env, record),
    }
    await env.probe.settled("page-match")
    await trio.sleep(1)
    try:
        again = await _first(match_now(url))
    except Exception as error:
        outcome["the same call after settle"] = f"rejects {getattr(error, 'name', error)}"
    else:
        outcome["the same call after settle"] = type(again).__name__
    return outcome


async def get_timing(env: Env) -> Outcome:
    env.server.add("/big.bin", BODY, throttle=1024)
    bg = await env.manager.fetch("timing", "/big.bin")
    scope = env.registration.registration.active_worker.global_scope
    found: list[str] = []

    async def on_settled(event: Any) -> None:
        got = await scope.registration.background_fetch.get("timing")
        found.append("undefined" if got is None else f"a registration, downloaded {got.downloaded}")

    env.probe.worker.add_event_listener(SETTLED[env.edition], on_settled)
    await trio.sleep(2.5)
    start = trio.current_time()
    in_worker = await scope.registration.background_fetch.get("timing")
    resolved = trio.current_time() - start
    stored = sum(len(_stored(r)) for r in bg.background_fetch.records)
    outcome = {
        "worker's get() mid-download: downloaded": f"{in_worker.downloaded} of {stored} stored",
        "it resolves after": f"{resolved:.0f} s",
        "the page's instance then": f"downloaded {bg.downloaded}",
    }
    await env.probe.settled("timing")
    outcome["get() in the settled event's handler"] = "; ".join(found)
    return outcome


def _stored(record: Any) -> Any:
    """A record's stored response bytes, in either edition's concepts."""
    data = getattr(record, "response_data", None)
    return data.bytes if data is not None else record.response_body


Sources = dict[str, dict[str, str]]


def sources(current: dict[str, str] | None = None, draft: dict[str, str] | None = None) -> Sources:
    """Where each aspect's behaviour comes from, by edition: its spec text ("spec",
    "draft") unless *current* or *draft* says otherwise for an aspect ("*": every one)."""
    return {
        "current": {"*": "spec", **(current or {})},
        "2017-10-12": {"*": "draft", **(draft or {})},
    }


FETCHES = "fill fdc1747, 79f8417"  # the events' fetches are bgFetch's records; values()
NULL_UNLESS_COMPLETE = "fill 79f8417"  # a settled fetch's response only if its body is complete
UPLOADED = "draft; uploaded: fill 8334a1e, 3abbda2"
RESUME_ONLINE = "spec; resuming a cut while online: bgfetch SN-current-11"
IF_RANGE = "spec; If-Range: bgfetch SN-fetch-5"


@attrs.frozen
class Scenario:
    title: str
    what: str  # a sentence
    run: Callable[[Env], Awaitable[Outcome]]
    headline: str = "events"  # the aspect the summary table shows
    sources: Sources = attrs.field(factory=sources)

    def source(self, edition: str, aspect: str) -> str:
        by_aspect = self.sources[edition]
        return by_aspect.get(aspect, by_aspect["*"])


SETTLED_FETCHES = {"responses the worker reads": FETCHES, "registration after settle": UPLOADED}
NO_RESUME = "draft (6.8.5.2: abandoned; SN-2017-3)"
CUT = {"*": NO_RESUME, "responses the worker reads": NULL_UNLESS_COMPLETE}  # a cut, 2017
RESUMED = {"*": RESUME_ONLINE, "requests to the server": IF_RANGE}  # a cut, current

SCENARIOS = (
    Scenario(
        "Success",
        "Fetch one file; the worker reads every response.",
        success,
        sources=sources(draft=SETTLED_FETCHES),
    ),
    Scenario(
        "match() in the settled event",
        "Fetch two files; the worker matches one by URL (WPT's settled-event-match).",
        match,
        sources=sources(draft={"match(feature-name.txt)": "fill f58e51d"}),
    ),
    Scenario(
        "A 404",
        "Fetch a file and a missing one.",
        not_found,
        sources=sources(
            draft={
                "events": "fill 4a2cc52",
                "responses the worker reads": "fill 4a2cc52 (not kept), 79f8417",
                "registration after settle": UPLOADED,
            }
        ),
    ),
    Scenario(
        "abort()",
        "Call abort() twice while one of two files is still pending.",
        abort,
        sources=sources(
            draft={
                "responses the worker reads": f"{FETCHES}; null: {NULL_UNLESS_COMPLETE}",
                "registration after settle": UPLOADED,
            }
        ),
    ),
    Scenario(
        "Cut connection",
        "The server cuts the body after 1000 of 4096 bytes, once.",
        cut_connection,
        sources=sources(current=RESUMED, draft=CUT),
    ),
    Scenario(
        "Cut every time",
        "The server cuts the body after 100 bytes, every time.",
        cut_too_often,
        sources=sources(
            current={"*": "spec; 15 resumes of a cut while online: bgfetch SN-current-11"},
            draft=CUT,
        ),
    ),
    Scenario(
        "Changed while resuming",
        "The server cuts the body after 1000 bytes; the resource (its ETag) changes before "
        "the resume.",
        changed_while_resuming,
        sources=sources(current=RESUMED, draft=CUT),
    ),
    Scenario(
        "Changed, If-Range ignored",
        "As above, but the server ignores If-Range: it answers 206 with the new ETag.",
        changed_server_ignores_if_range,
        sources=sources(current=RESUMED, draft=CUT),
    ),
    Scenario(
        "Partial responses that end short",
        "The server answers every request with a 206 of at most 1500 bytes from where its "
        "Range asks (the first one too).",
        short_partial_responses,
        sources=sources(
            current={"requests to the server": IF_RANGE},
            draft={
                "*": "fill d18bb02 (SN-2017-25)",
                "responses the worker reads": f"{FETCHES}; the first response: fill 52c808c",
                "requests to the server": "fill 4a2cc52, d18bb02; If-Range: bgfetch SN-2017-2",
                "getIds() after settle": "draft",
            },
        ),
    ),
    Scenario(
        "Offline, then online",
        "The network goes offline mid-body for 30 s.",
        offline,
        sources=sources(
            current={"requests to the server": "spec; no If-Range: no ETag to send"},
            draft=CUT,
        ),
    ),
    Scenario(
        "downloadTotal exceeded",
        "The page says downloadTotal 100 for a 4096-byte file.",
        download_total_exceeded,
        sources=sources(
            draft={
                "events": "fill 6cf8c42",
                "responses the worker reads": NULL_UNLESS_COMPLETE,
                "registration after settle": "fill 6cf8c42; uploaded: fill 8334a1e",
            }
        ),
    ),
    Scenario(
        "Upload",
        "POST a 17-byte body to a resource that echoes it.",
        upload,
        sources=sources(draft=SETTLED_FETCHES),
    ),
    Scenario(
        "Upload network error",
        "POST to a host that does not exist.",
        upload_network_error,
        sources=sources(draft=SETTLED_FETCHES),
    ),
    Scenario(
        "Duplicate id",
        "Call fetch() twice with one id while the first is active.",
        duplicate_id,
        headline="second fetch(), same id",
    ),
    Scenario("Empty list", "Call fetch() with no requests.", empty_list, headline="fetch(id, [])"),
    Scenario(
        "Quota exceeded",
        "Ask for a downloadTotal larger than the origin's quota.",
        quota,
        headline="fetch() with downloadTotal 2^53-1",
        sources=sources(
            current={"*": "bgfetch SN-current-7 (WPT's and Chromium's reading)"},
            draft={"*": "draft (storing bgFetch stores its request bodies; SN-2017-17)"},
        ),
    ),
    Scenario(
        "get() and getIds()",
        "Call get() and getIds() before, during and after a background fetch, and get('').",
        get_and_get_ids,
        headline="get('')",
        sources=sources(current={"get('')": "bgfetch SN-current-8 (WPT's and Chromium's)"}),
    ),
    Scenario(
        "get() timing",
        "The worker calls get() 2.5 s into a 4 s download (a new instance there), and again "
        "in its settled event's handler.",
        get_timing,
        headline="get() in the settled event's handler",
        sources=sources(
            draft={"worker's get() mid-download: downloaded": "draft (step 4; SN-2017-18)"}
        ),
    ),
    Scenario(
        "Records from the page",
        "While a 16-byte file downloads in 4 s, the page looks its record up by URL and "
        "waits for its response; then again after the fetch settled.",
        page_match,
        headline="what the page calls",
        sources=sources(
            draft={
                "*": "fill 4e709be (SN-2017-13)",
                "what the page calls": "draft (IDL: activeFetches)",
                "gives": "draft (IDL)",
                "its responseReady": "fill da54c49 (create record objects)",
            }
        ),
    ),
    Scenario(
        "UI click",
        "The user clicks the background fetch's UI while it is active, then after success.",
        click,
        headline="click while active, then after settle",
        sources=sources(draft={"*": "fill 8f16aef (firing), 1a5d253 (state); SN-2017-15"}),
    ),
    Scenario(
        "UI click after a failure",
        "The user clicks the UI of a background fetch that failed (a 404).",
        click_after_failure,
        headline="click after the fetch failed",
        sources=sources(
            draft={
                "*": "fill 8f16aef (firing), 1a5d253 (state); SN-2017-15",
                "events": "fill 4a2cc52; click: fill 8f16aef",
            }
        ),
    ),
)


async def _run(scenario: Scenario, edition: str) -> Outcome:
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=network, edition=edition) as ua:
        probe = Probe(edition)
        _, registration = await open_window_with_worker(ua, probe.worker, f"{ORIGIN}/")
        env = Env(edition, ua, network, server, probe, registration.background_fetch, registration)
        outcome = await scenario.run(env)
        if ua.handler_errors:
            outcome["service worker errors"] = "; ".join(repr(e.error) for e in ua.handler_errors)
        return outcome


def collect() -> list[tuple[Scenario, dict[str, Outcome]]]:
    """Run every scenario under every edition, each in its own trio run on a MockClock."""
    results = []
    for scenario in SCENARIOS:
        by_edition = {}
        for edition in EDITIONS:
            clock = trio.testing.MockClock(autojump_threshold=0)
            by_edition[edition] = trio.run(_run, scenario, edition, clock=clock)
        results.append((scenario, by_edition))
    return results


def _cell(text: str, source: str | None = None) -> str:
    """A table cell: *text*, and where it comes from in italics."""
    cell = text.replace("|", "\\|").replace("\n", " ")
    return f"{cell} *[{source.replace('|', '/')}]*" if source else cell


def render(results: list[tuple[Scenario, dict[str, Outcome]]]) -> str:
    lines = [
        "# Background Fetch editions side by side",
        "",
        "<!-- Generated by scripts/editions_report.py (`make docs`). Do not edit. -->",
        "",
        "The same scenarios run under each spec edition bgfetch implements: **current**",
        "(the WICG spec today) and **2017-10-12** (the draft the project started from).",
        "Each runs on the virtual network in simulated time and reports what a page and",
        "its service worker observe. Where the 2017-10-12 draft says TODO, bgfetch follows",
        'the nearest later revision that settles it (SPEC-NOTES.md, "2017-10-12 edition").',
        "",
        "Each cell says, in brackets, where its behaviour comes from:",
        "",
        "- *[draft]*: the 2017-10-12 draft's own text; *[spec]*: the current spec's text.",
        "- *[fill 4a2cc52]*: a hole the draft leaves (a TODO, or nothing at all), filled from",
        "  the first later revision of the spec that settles it (WICG/background-fetch",
        '  commits; SPEC-NOTES.md, "2017-10-12 edition", says what each fill takes).',
        "- *[bgfetch SN-...]*: bgfetch's own policy where the spec leaves the choice to the",
        "  user agent, or where the web-platform-tests read it otherwise (the SPEC-NOTES.md",
        "  entry says why).",
        "",
        "## Summary",
        "",
        "| Scenario | current | 2017-10-12 |",
        "|---|---|---|",
    ]
    for scenario, by_edition in results:
        cells = [_described(scenario, by_edition, e, scenario.headline) for e in EDITIONS]
        aspect = "" if scenario.headline == "events" else f": {scenario.headline}"
        lines.append(f"| {scenario.title}{aspect} | {cells[0]} | {cells[1]} |")
    for scenario, by_edition in results:
        lines += [
            "",
            f"## {scenario.title}",
            "",
            scenario.what,
            "",
        ]
        lines += ["| | current | 2017-10-12 |", "|---|---|---|"]
        aspects: list[str] = []
        for edition in EDITIONS:
            aspects += [a for a in by_edition[edition] if a not in aspects]
        for aspect in aspects:
            cells = [_described(scenario, by_edition, e, aspect) for e in EDITIONS]
            lines.append(f"| {aspect} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def _described(
    scenario: Scenario, by_edition: dict[str, Outcome], edition: str, aspect: str
) -> str:
    """The cell of *aspect* under *edition*, with its source; "—" where it has none."""
    if aspect not in by_edition[edition]:
        return "—"
    source = None if aspect == "service worker errors" else scenario.source(edition, aspect)
    return _cell(by_edition[edition][aspect], source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    logging.getLogger("bgfetch.console").addHandler(logging.NullHandler())  # said in the cells
    text = render(collect())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(SCENARIOS)} scenarios, editions {', '.join(EDITIONS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
