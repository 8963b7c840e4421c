"""The demo: a background fetch on the virtual network, shown as a user would see it.

An origin serves three files, one of several MiB throttled so progress is
visible; a page registers a service worker and background-fetches them; the
terminal shows the progress the page hears and every service-worker event.
It runs on trio's MockClock: simulated seconds pass ``speed`` times faster than
real ones (or at once, with ``speed=None``).
"""

from __future__ import annotations

import inspect
from typing import Any

import trio
import trio.testing
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

import bgfetch
from bgfetch.command.output import EXIT_BROKEN_PIPE, PipeConsole
from bgfetch.editions import EditionName, edition_name
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://podcast.example"
EPISODE_SIZE = 6 * 2**20
THROTTLE = 2 * 2**20  # bytes per simulated second


def _files() -> dict[str, bytes]:
    episode = bytes(i % 251 for i in range(EPISODE_SIZE))
    return {
        "/episodes/5.mp3": episode,
        "/episodes/5.jpg": b"\xff\xd8" + b"artwork" * 4000,
        "/episodes/5.txt": b"Episode 5: background fetch, explained.\n",
    }


async def _body_size(response: Any) -> int:
    return len(await response.bytes())


def _worker(console: Console, done: trio.Event) -> bgfetch.ServiceWorker:
    """A service worker that handles both editions' events."""
    worker = bgfetch.ServiceWorker("demo-worker")

    async def settled(event: Any) -> None:
        console.print(f"[bold]service worker:[/] {event.type}")
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
            values = fetches.values()
            for fetch in await values if inspect.isawaitable(values) else values:
                response = fetch.response
                if response is None:
                    console.print(f"  {fetch.request.url}: no response")
                else:
                    size = await _body_size(response)
                    console.print(f"  {fetch.request.url}: {response.status}, {size:,} bytes")
        if hasattr(event, "update_ui"):
            await event.update_ui(title="Episode 5 (downloaded)")
        done.set()

    for name in (
        "backgroundfetchsuccess",
        "backgroundfetched",
        "backgroundfetchfail",
        "backgroundfetchabort",
    ):
        worker.add_event_listener(name, settled)
    return worker


async def run_demo(edition: str = "current", console: Console | None = None) -> int:
    """Run the demo under *edition*; return the process exit status (0: success; 141
    when stdout's reader went away, ``| head``: the demo then ends, quietly)."""
    name = edition_name(edition)  # a clear error for an unknown edition, before anything runs
    if console is None:
        console = PipeConsole()
    status = EXIT_BROKEN_PIPE
    with trio.CancelScope() as scope:
        if isinstance(console, PipeConsole):
            console.on_broken.append(scope.cancel)
        status = await _run_demo(name, console)
    if isinstance(console, PipeConsole) and console.broken_pipe:
        return EXIT_BROKEN_PIPE
    return status


async def _run_demo(edition: EditionName, console: Console) -> int:
    name = edition
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
        f"{total:,} bytes from {ORIGIN}"
    )

    async with bgfetch.open_user_agent(network=network, edition=name) as ua:
        _, registration = await open_window_with_worker(ua, _worker(console, done), f"{ORIGIN}/")
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as progress:
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
        if ua.handler_errors:
            for error in ua.handler_errors:
                console.print(f"[red]handler error in {error.event_type}: {error.error!r}")
            return 1
        ok = bg_fetch.downloaded == total
        console.print("[green]done[/]" if ok else "[red]incomplete download[/]")
        return 0 if ok else 1


def main(edition: str = "current", speed: float | None = 4.0) -> int:
    """Run the demo on a MockClock at *speed* simulated seconds per real second."""
    clock = (
        trio.testing.MockClock(autojump_threshold=0)
        if speed is None
        else trio.testing.MockClock(rate=speed)
    )
    return trio.run(run_demo, edition, clock=clock)
