"""``bgfetch serve`` and ``bgfetch devtools``: a user agent served over CDP while a
scenario runs, and the DevTools log printed as the Background Fetch pane shows it."""

from __future__ import annotations

import argparse
import importlib
import inspect
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from bgfetch.command.output import EXIT_USAGE, PipeConsole, UsageError
from bgfetch.devtools.context import KIND, load_saved_events

SERVE_DESCRIPTION = """\
Run a user agent and serve it over the Chrome DevTools Protocol, as a browser started
with --remote-debugging-port does: GET /json/version and /json/list (a page target per
window), and WebSocket connections to /devtools/browser/<id> or /devtools/page/<id>
with the Target domain's flat sessions and the BackgroundService domain (any other
method gets CDP's "method not found").  "DevTools listening on ws://..." on stderr says
where.  Meanwhile SCENARIO runs: an async function taking the user agent, given as
MODULE:FUNCTION (imported, from the current directory too); by default the demo's
podcast, background-fetched round after round on the virtual network (every third
round fails with bad-status) until stopped.  Chromium's DevTools front end connects
with inspector.html?ws=HOST:PORT/devtools/page/<id>; Application -> Background Fetch ->
Record lists bgfetch's events.  Ctrl-C or SIGTERM stops it (exit 130 / 143).
"""

DEVTOOLS_DESCRIPTION = """\
Print the DevTools Background Services log kept in the store (what `bgfetch serve
--store DIR`, `bgfetch fetch` or any stored user agent logged while recording was on
for backgroundFetch: Record in DevTools, or BackgroundService.setRecording), one row
per event as DevTools' Background Fetch pane shows it: time, event, origin, service
worker registration, instance id, and the event's metadata beneath.  --json prints the
CDP BackgroundServiceEvent objects instead.  The store is only read.
"""


def add_parsers(
    commands: Any, edition_option: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``serve`` and ``devtools`` to the ``bgfetch`` command's subparsers."""
    serve = commands.add_parser(
        "serve",
        help="serve a user agent over the Chrome DevTools Protocol while a scenario runs",
        description=SERVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("scenario", nargs="?", metavar="SCENARIO", help="MODULE:FUNCTION")
    serve.add_argument("--port", type=int, default=9222, help="0: any free port (default 9222)")
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    serve.add_argument(
        "--store",
        metavar="DIR",
        help="keep the user agent's state (its background fetches, the DevTools log and "
        "recording state) in DIR across runs (default: in memory)",
    )
    serve.add_argument(
        "--network",
        choices=["virtual", "real"],
        default="virtual",
        help="the virtual network (the demo's) or the real one (default: virtual)",
    )
    edition_option(serve)
    devtools = commands.add_parser(
        "devtools",
        help="print the DevTools Background Fetch log kept in the store",
        description=DEVTOOLS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    devtools.add_argument(
        "--store", metavar="DIR", help="the store (default: bgfetch fetch's default store)"
    )
    edition_option(devtools)
    devtools.add_argument("--json", action="store_true", help="print the CDP objects")


def run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return trio.run(serve_command, args)
    return devtools_command(args)


Scenario = Callable[[Any], Awaitable[object]]


def load_scenario(name: str | None) -> Scenario:
    if name is None:
        from bgfetch.devtools.scenario import demo

        return demo
    module_name, _, attribute = name.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"SCENARIO must be MODULE:FUNCTION, not {name!r}")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
        scenario = getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise UsageError(f"cannot load scenario {name}: {error}") from None
    if not inspect.iscoroutinefunction(scenario):
        raise UsageError(f"scenario {name} is not an async function taking the user agent")
    result: Scenario = scenario
    return result


async def serve_command(args: argparse.Namespace) -> int:
    import bgfetch

    scenario = load_scenario(args.scenario)
    network: Any = bgfetch.VirtualNetwork() if args.network == "virtual" else None
    status = 0
    async with trio.open_nursery() as nursery:

        async def stop_on_signals() -> None:
            nonlocal status
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for number in signals:
                    status = 128 + number
                    nursery.cancel_scope.cancel()
                    return

        async def serve() -> None:
            nonlocal status
            async with bgfetch.open_user_agent(
                network=network, edition=args.edition, store=args.store
            ) as ua:
                try:
                    server = await ua.serve_devtools(port=args.port, host=args.host)
                except OSError as error:
                    print(f"bgfetch serve: cannot listen on {args.host}:{args.port}: "
                          f"{error.strerror}", file=sys.stderr)
                    status = EXIT_USAGE
                    nursery.cancel_scope.cancel()
                    return
                print(f"DevTools listening on {server.browser_url}", file=sys.stderr, flush=True)
                try:
                    await scenario(ua)
                except Exception as error:
                    print(f"bgfetch serve: the scenario raised {error!r}", file=sys.stderr)
                    status = 1
                    nursery.cancel_scope.cancel()
                    return
                await trio.sleep_forever()  # the scenario is over: go on serving

        nursery.start_soon(stop_on_signals)
        nursery.start_soon(serve)
    return status


def read_log(directory: Path) -> list[Any]:
    """The events a store's DevTools log holds, read without writing to it."""
    path = directory / "state.sqlite3"
    if not path.exists():
        return []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT key, value FROM state WHERE kind = ? ORDER BY rowid", (KIND,)
            ).fetchall()
        finally:
            db.close()
        import json

        return load_saved_events({key: json.loads(value) for key, value in rows})
    except (sqlite3.DatabaseError, ValueError) as error:
        raise UsageError(f"cannot read the store {directory}: {error}") from None


def devtools_command(args: argparse.Namespace) -> int:
    from bgfetch.command.stored import resolve_store
    from bgfetch.devtools.pane import as_json, print_pane

    store = resolve_store(args.store, args.edition)
    if store is None:
        raise UsageError("there is no store to read (see --store)")
    events = read_log(Path(store))
    if args.json:
        print(as_json(events))
    else:
        print_pane(PipeConsole() if sys.stdout.isatty() else PipeConsole(width=160), events)
    return 0
