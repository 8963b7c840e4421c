"""The demo: a background fetch on the virtual network, shown as a user would see it.

An origin serves three files, one of several MiB throttled so progress is
visible; a page registers a service worker and background-fetches them; the
terminal shows the progress the page hears, each service-worker event as it fires
and what the console says.  It runs on trio's MockClock: simulated seconds pass
``speed`` times faster than real ones (or at once, with ``speed=None``); the rate it
shows is in simulated bytes per simulated second.  Ctrl-C (or SIGTERM) stops it,
quietly, with status 130 (143); so does the reader of stdout going away (``| head``,
141).
"""

from __future__ import annotations

import math
import signal
from typing import Any

import trio
import trio.testing
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.text import Text

import bgfetch
from bgfetch.command.output import EXIT_BROKEN_PIPE, PipeConsole
from bgfetch.console import printed
from bgfetch.editions import EditionName, edition_name, load_edition
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://podcast.example"
EPISODE_SIZE = 6 * 2**20
THROTTLE = 2 * 2**20  # bytes per simulated second
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _files() -> dict[str, bytes]:
    episode = bytes(i % 251 for i in range(EPISODE_SIZE))
    return {
        "/episodes/5.mp3": episode,
        "/episodes/5.jpg": b"\xff\xd8" + b"artwork" * 4000,
        "/episodes/5.txt": b"Episode 5: background fetch, explained.\n",
    }


async def _body_size(response: Any) -> int:
    return len(await response.bytes())


def _worker(console: Console, done: trio.Event, edition: EditionName) -> bgfetch.ServiceWorker:
    """A service worker for *edition*: it shows each event as it fires, and what a
    completion event exposes."""
    worker = bgfetch.ServiceWorker("demo-worker")

    def shown(event: Any) -> None:
        console.print(f"[{trio.current_time():6.1f} s] [bold]service worker:[/] {event.type}")

    async def settled(event: Any) -> None:
        registration = getattr(event, "registration", None)
        if registration is not None and hasattr(registration, "match_all"):
            # Current edition: the records, read from storage.
            for record in await registration.match_all():
                try:
                    response = await record.response_ready
                    size = await _body_size(response)
                    console.print(f"  {record.request.url}: {response.status}, {size:,} bytes")
                except Exception as error:  # a failed record: show why
                    console.print(f"  {record.request.url}: {type(error).__name__}: {error}")
            console.print(
                f"  result={registration.result!r} failure_reason={registration.failure_reason!r}"
            )
        fetches = getattr(event, "fetches", None)
        if fetches is not None:
            # 2017-10-12 edition: the settled fetches.
            for fetch in await fetches.values():
                response = fetch.response
                if response is None:
                    console.print(f"  {fetch.request.url}: no response")
                else:
                    size = await _body_size(response)
                    console.print(f"  {fetch.request.url}: {response.status}, {size:,} bytes")
        if hasattr(event, "update_ui"):
            await event.update_ui(title="Episode 5 (downloaded)")
        done.set()

    events = load_edition(edition).EVENTS
    for name in ("install", "activate", *events):
        worker.add_event_listener(name, shown)
    for name in events:
        if name != "backgroundfetchclick":
            worker.add_event_listener(name, settled)
    return worker


async def run_demo(
    edition: str = "current", console: Console | None = None, *, handle_signals: bool = False
) -> int:
    """Run the demo under *edition*; return the process exit status: 0 success; 141
    when stdout's reader went away (``| head``: the demo then ends, quietly); with
    *handle_signals*, 130 / 143 when SIGINT (Ctrl-C) / SIGTERM stopped it."""
    name = edition_name(edition)  # a clear error for an unknown edition, before anything runs
    if console is None:
        console = PipeConsole()
    status = EXIT_BROKEN_PIPE
    stopped_by: list[int] = []
    with trio.CancelScope() as scope:
        if isinstance(console, PipeConsole):
            console.on_broken.append(scope.cancel)
        async with trio.open_nursery() as nursery:
            if handle_signals:
                await nursery.start(_watch_signals, scope, stopped_by)
            status = await _run_demo(name, console)
            nursery.cancel_scope.cancel()
    if isinstance(console, PipeConsole) and console.broken_pipe:
        return EXIT_BROKEN_PIPE
    if stopped_by:
        console.print(f"bgfetch demo: stopped by {signal.Signals(stopped_by[0]).name}")
        return 128 + stopped_by[0]
    return status


async def _watch_signals(
    scope: trio.CancelScope,
    stopped_by: list[int],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    with trio.open_signal_receiver(*SIGNALS) as signals:
        task_status.started()
        async for number in signals:
            stopped_by.append(number)
            scope.cancel()
            return


async def _run_demo(edition: EditionName, console: Console) -> int:
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    files = _files()
    for path, body in files.items():
        server.add(
            path,
            body,
            throttle=THROTTLE if len(body) > 2**20 else None,
            etag='"ep5-v1"',
            content_type="application/octet-stream",
        )
    network.serve(ORIGIN, server)
    total = sum(len(body) for body in files.values())
    done = trio.Event()
    console.print(
        f"[bold]bgfetch demo[/] (edition {edition}): {len(files)} files, "
        f"{total:,} bytes from {ORIGIN}, in simulated time"
    )

    def say(text: str) -> None:  # what the console says, as it says it
        console.print(Text(text, style="red" if text.startswith("console error") else "yellow"))

    with printed(say):
        async with bgfetch.open_user_agent(network=network, edition=edition) as ua:
            worker = _worker(console, done, edition)
            _, registration = await open_window_with_worker(ua, worker, f"{ORIGIN}/")
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),  # simulated bytes per simulated second: get_time
            )
            # The clock itself (rich reads it from its refresh thread too): simulated time.
            clock = trio.lowlevel.current_clock()
            with Progress(
                *columns, console=console, transient=False, get_time=clock.current_time
            ) as progress:
                task = progress.add_task("Episode 5", total=total)
                bg_fetch = await registration.background_fetch.fetch(
                    "episode-5", list(files), title="Episode 5", download_total=total
                )
                bg_fetch.add_event_listener(
                    "progress", lambda event: progress.update(task, completed=bg_fetch.downloaded)
                )
                await done.wait()
                progress.update(task, completed=bg_fetch.downloaded)
            for display in ua.ui.displays:
                console.print(f"UI: {display!r}")
            if ua.reported_errors:
                return 1  # the console said what raised, with its traceback
            ok = bg_fetch.downloaded == total
            console.print("[green]done[/]" if ok else "[red]incomplete download[/]")
            return 0 if ok else 1


def check_speed(speed: float | None) -> float | None:
    """*speed* (simulated seconds per real second), if it is a positive finite number;
    None (no speed: jump the clock) as is.  ValueError naming it otherwise."""
    if speed is not None and not (math.isfinite(speed) and speed > 0):
        raise ValueError(
            f"the speed must be a positive, finite number of simulated seconds per real "
            f"second, not {speed}"
        )
    return speed


def main(edition: str = "current", speed: float | None = 4.0) -> int:
    """Run the demo on a MockClock at *speed* simulated seconds per real second (None:
    jump the clock), stopping on Ctrl-C or SIGTERM."""
    speed = check_speed(speed)
    clock = (
        trio.testing.MockClock(autojump_threshold=0)
        if speed is None
        else trio.testing.MockClock(rate=speed)
    )
    status: int = trio.run(
        lambda: run_demo(edition, handle_signals=True), clock=clock
    )
    return status
