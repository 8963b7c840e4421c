"""DevTools' Background Fetch pane, in a terminal: one row per logged event (time, event,
origin, instance id), its metadata beneath; or the CDP objects as JSON."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bgfetch.devtools.protocol import BackgroundServiceEvent


def timestamp_text(timestamp: float) -> str:
    """As the pane shows it: local date and time, to the millisecond."""
    moment = datetime.datetime.fromtimestamp(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def pane(events: Iterable[BackgroundServiceEvent]) -> Table:
    table = Table(title="Background Fetch", title_justify="left", expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("Timestamp", no_wrap=True)
    table.add_column("Event")
    table.add_column("Origin", no_wrap=True)
    table.add_column("SW", justify="right")
    table.add_column("Instance ID")
    for number, event in enumerate(events, 1):
        name = Text(event.event_name, style="bold")
        for entry in event.event_metadata:
            name.append(f"\n  {entry.key}: ", style="dim")
            name.append(entry.value)
        table.add_row(
            str(number),
            timestamp_text(event.timestamp),
            name,
            event.origin,
            event.service_worker_registration_id,
            event.instance_id,
        )
    return table


def print_pane(console: Console, events: list[BackgroundServiceEvent]) -> None:
    if not events:
        console.print(
            "no Background Fetch events logged: nothing is, unless recording is on (Record "
            "in DevTools' Background Fetch pane, or BackgroundService.setRecording)"
        )
        return
    console.print(pane(events))


def as_json(events: list[BackgroundServiceEvent]) -> str:
    return json.dumps([event.to_json() for event in events], indent=2)
