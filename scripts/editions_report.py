"""Write docs/editions.md: the same scenarios under both editions, side by side.

Every scenario runs once per edition on the virtual network, in simulated time
(trio's MockClock), and reports what a web page and its service worker can
observe: the events fired, the responses the worker reads, the registration's
attributes after the fetch settled, what the server was asked, what a promise
rejected with.  ``make docs`` (or ``python scripts/editions_report.py``)
regenerates the file; spec_tests/test_both_editions.py checks it is current.
"""

from __future__ import annotations

import argparse
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
            if hasattr(event, "state"):  # 2017-10-12: BackgroundFetchClickEvent
                self.clicks.append(f"state {event.state!r}")
            else:  # current: a BackgroundFetchEvent with the registration
                self.clicks.append(f"registration.result {event.registration.result!r}")
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


@attrs.frozen
class Scenario:
    title: str
    what: str  # a sentence
    run: Callable[[Env], Awaitable[Outcome]]
    headline: str = "events"  # the aspect the summary table shows


SCENARIOS = (
    Scenario("Success", "Fetch one file; the worker reads every response.", success),
    Scenario(
        "match() in the settled event",
        "Fetch two files; the worker matches one by URL (WPT's settled-event-match).",
        match,
    ),
    Scenario("A 404", "Fetch a file and a missing one.", not_found),
    Scenario("abort()", "Call abort() twice while one of two files is still pending.", abort),
    Scenario(
        "Cut connection",
        "The server cuts the body after 1000 of 4096 bytes, once.",
        cut_connection,
    ),
    Scenario(
        "Cut every time", "The server cuts the body after 100 bytes, every time.", cut_too_often
    ),
    Scenario(
        "Changed while resuming",
        "The server cuts the body after 1000 bytes; the resource (its ETag) changes before "
        "the resume.",
        changed_while_resuming,
    ),
    Scenario(
        "Changed, If-Range ignored",
        "As above, but the server ignores If-Range: it answers 206 with the new ETag.",
        changed_server_ignores_if_range,
    ),
    Scenario("Offline, then online", "The network goes offline mid-body for 30 s.", offline),
    Scenario(
        "downloadTotal exceeded",
        "The page says downloadTotal 100 for a 4096-byte file.",
        download_total_exceeded,
    ),
    Scenario("Upload", "POST a 17-byte body to a resource that echoes it.", upload),
    Scenario("Upload network error", "POST to a host that does not exist.", upload_network_error),
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
    ),
    Scenario(
        "get() and getIds()",
        "Call get() and getIds() before, during and after a background fetch, and get('').",
        get_and_get_ids,
        headline="get('')",
    ),
    Scenario(
        "UI click",
        "The user clicks the background fetch's UI while it is active, then after success.",
        click,
        headline="click while active, then after settle",
    ),
)


async def _run(scenario: Scenario, edition: str) -> Outcome:
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=network, edition=edition) as ua:
        probe = Probe(edition)
        _, registration = await open_window_with_worker(ua, probe.worker, f"{ORIGIN}/")
        env = Env(edition, ua, network, server, probe, registration.background_fetch)
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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


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
        "## Summary",
        "",
        "| Scenario | current | 2017-10-12 |",
        "|---|---|---|",
    ]
    for scenario, by_edition in results:
        cells = [_cell(by_edition[e].get(scenario.headline, "—")) for e in EDITIONS]
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
            cells = [_cell(by_edition[e].get(aspect, "—")) for e in EDITIONS]
            lines.append(f"| {aspect} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    text = render(collect())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(SCENARIOS)} scenarios, editions {', '.join(EDITIONS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
