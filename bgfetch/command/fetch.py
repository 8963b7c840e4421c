"""``bgfetch fetch URL... --id ID``: a background fetch on the real network.

What a page and its service worker would do, in a user agent of its own: open a
window at the first URL's origin, register the service worker at scope "/", wait for
``ready``; then ``registration.background_fetch.get(ID)``, and, when there is no such
background fetch yet, ``fetch(ID, URLS, download_total=..., title=...)``.  With a store
(the default; either edition), a command run again after it was stopped, or killed,
goes on with the one it started: complete records are not fetched again, the others
resume with a range request, and a completion event not yet handled is delivered to
this run's service worker.  The command ends once the fetch settled and its completion
event was handled (every handler returned, every ``wait_until`` settled), the user
agent closed.

Exit status: 0 success; 1 the fetch failed or was aborted (or a handler raised); 2 bad
usage or input; 130 / 143 stopped by SIGINT / SIGTERM; 141 stdout's reader went away.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import attrs
import trio
from rich.text import Text

import bgfetch
from bgfetch.console import printed
from bgfetch.editions import edition_name, load_edition
from bgfetch.fetch.checks import is_potentially_trustworthy_origin
from bgfetch.sw.event_types import check_for_edition
from bgfetch.sw.registration import ServiceWorker
from bgfetch.url import parse_url

from .output import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output, UsageError
from .progress import (
    LiveView,
    RecordState,
    Snapshot,
    View,
    make_view,
    record_states,
    snapshot,
)
from .stored import open_agent
from .workers import CompletionWatch, SavedRecord, SavingWorker, is_draft, load_worker

TICK = 0.1  # seconds between refreshes of the per-request progress
OVER_TIMEOUT = 5.0  # seconds the user agent gets to finish with a handled fetch
SIGNALS = (signal.SIGINT, signal.SIGTERM)


@attrs.define
class FetchOptions:
    """``bgfetch fetch``'s options, as the command line gives them."""

    urls: list[str]
    id: str
    download_total: int = 0
    title: str | None = None
    out: Path = attrs.field(factory=Path.cwd)
    store: Path | None = None  # None: no store (the background fetch ends with the command)
    edition: str = "current"
    worker: str | None = None  # MODULE:OBJECT, else the built-in SavingWorker
    json: bool = False
    quiet: bool = False
    ca_certs: list[str] = attrs.field(factory=list)  # PEM, trusted besides the system's


@attrs.define
class Prepared:
    """The options, checked: what the run needs."""

    edition: ModuleType
    urls: list[str]  # parsed and serialized
    page: str  # the window's URL: the first URL's origin, "/"
    out: Path
    worker: ServiceWorker
    saving: SavingWorker | None  # the built-in worker, or None for --worker's


def prepare(options: FetchOptions) -> Prepared:
    """Check *options*; UsageError naming the first bad one."""
    try:
        edition = load_edition(edition_name(options.edition))
    except ValueError as error:
        raise UsageError(f"--edition: {error}") from None
    if options.id == "":
        raise UsageError("--id: a background fetch id cannot be empty")
    if options.download_total < 0:
        raise UsageError(f"--download-total: {options.download_total} is negative")
    if not options.urls:
        raise UsageError("no URL to fetch")
    urls = []
    for url in options.urls:
        try:
            parsed = parse_url(url)
        except TypeError:
            raise UsageError(f"bad URL {url!r}: not a valid URL") from None
        if parsed.scheme not in ("http", "https") or parsed.origin is None:
            raise UsageError(f"bad URL {url!r}: only http and https URLs can be fetched")
        urls.append(parsed.href)
    first = parse_url(urls[0]).origin
    assert first is not None
    if not is_potentially_trustworthy_origin(first):
        raise UsageError(
            f"bad URL {urls[0]!r}: a background fetch needs a secure context, and its page "
            f"would be at {first.serialize()}, which is not potentially trustworthy (use "
            "https, or http on localhost or a loopback address)"
        )
    out = options.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: {error.strerror or error}") from None
    saving = None
    if options.worker is not None:
        worker = load_worker(options.worker)
        try:  # as register() would, before anything runs
            check_for_edition(worker, worker.event_types(), edition)
        except ValueError as error:
            raise UsageError(f"--worker {options.worker}: {error}") from None
    else:
        saving = SavingWorker(edition, out, sha256=bool(options.json))
        worker = saving.worker
    return Prepared(edition, urls, first.serialize() + "/", out, worker, saving)


@attrs.define(eq=False)
class Stop:
    """Why the run stopped early, if it did: a signal, or stdout's reader went away."""

    scope: trio.CancelScope
    signal: int | None = None
    broken_pipe: bool = False

    def on_signal(self, number: int) -> None:
        self.signal = number
        self.scope.cancel()

    def on_broken_pipe(self) -> None:
        self.broken_pipe = True
        self.scope.cancel()


async def run_fetch(
    options: FetchOptions,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    handle_signals: bool = False,
) -> int:
    """Run ``bgfetch fetch`` with *options*; return the exit status.

    Progress and the summary go to *stdout* (to *stderr* with ``json``, where stdout
    gets only the JSON object); errors to *stderr*.  *handle_signals*: stop cleanly on
    SIGINT and SIGTERM (only in the main thread: the command does, tests need not).
    """
    out = Output(stdout or sys.stdout)
    err = Output(stderr or sys.stderr)
    human = Output(err.stream if options.json else out.stream, quiet=options.quiet)
    try:
        prepared = prepare(options)
    except UsageError as error:
        err.write(f"bgfetch fetch: {error}\n")
        return EXIT_USAGE
    run = FetchRun(options, prepared, human, err)
    with trio.CancelScope() as scope:
        stop = Stop(scope)
        for output in (out, human):
            output.on_broken.append(stop.on_broken_pipe)
        status = EXIT_FAILED  # unless the run finishes
        async with trio.open_nursery() as nursery:
            if handle_signals:
                await nursery.start(_watch_signals, stop)
            try:
                status = await run.run()
            except UsageError as error:  # a store that cannot be opened
                err.write(f"bgfetch fetch: {error}\n")
                status = EXIT_USAGE
            nursery.cancel_scope.cancel()
    if stop.broken_pipe:
        return EXIT_BROKEN_PIPE
    if stop.signal is not None:
        human.line(f"bgfetch fetch: stopped by {signal.Signals(stop.signal).name}")
        status = 128 + stop.signal
    if options.json and status != EXIT_USAGE:
        out.write(json.dumps(run.summary()) + "\n")
        if out.broken:
            return EXIT_BROKEN_PIPE
    return status


async def _watch_signals(
    stop: Stop, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    with trio.open_signal_receiver(*SIGNALS) as signals:
        task_status.started()
        async for number in signals:
            stop.on_signal(number)
            return


class FetchRun:
    """One run of the command: the user agent, the background fetch, what was seen."""

    def __init__(self, options: FetchOptions, prepared: Prepared, human: Output, err: Output):
        self.options = options
        self.prepared = prepared
        self.human = human
        self.err = err
        self.bg: Any = None  # the BackgroundFetchRegistration
        self.display: Any = None
        self.event: Any = None  # the completion event, once it arrived
        self.records: list[RecordState] = []  # as they were when the completion event arrived
        self.view: View | None = None

    async def run(self) -> int:
        # What the console says (a failed request and why, a handler's exception), as it
        # says it: errors only with --quiet.
        with printed(self._say, level="error" if self.options.quiet else "info"):
            return await self._run()

    def _say(self, text: str) -> None:
        if isinstance(self.view, LiveView):  # above the bars, not through them
            self.view.progress.console.print(Text(text))
        else:
            self.err.write(text + "\n")

    async def _run(self) -> int:
        options, prepared = self.options, self.prepared
        network = bgfetch.RealNetwork(ca_certs=options.ca_certs)
        watch = CompletionWatch(prepared.worker, prepared.edition, self._arrived)
        async with open_agent(
            options.store,
            hint=" (--no-store keeps nothing across runs)",
            network=network,
            edition=prepared.edition.NAME,
        ) as ua:
            window = await ua.open_window(prepared.page)
            container = window.navigator.service_worker
            await container.register(prepared.worker, scope="/")
            registration = await container.ready
            manager = registration.background_fetch
            # With a store, the user agent restored what an earlier run left: a background
            # fetch still active (get() finds it), or one that settled but whose completion
            # event was not handled (only its display shows it; the event comes again, and
            # may have come, even been handled, as the worker became active above).
            restored = _find_display(ua, options.id)
            self.bg = await manager.get(options.id)
            if self.bg is not None:
                self.human.line(f"{options.id}: resuming the background fetch started earlier")
            elif restored is not None and (
                _event_pending(restored) or watch.heard(restored.bg_fetch)
            ):
                self.bg = SettledEarlier(restored)
                self.human.line(
                    f"{options.id}: the background fetch started earlier has settled; "
                    "handling its completion event"
                )
            else:
                try:
                    self.bg = await manager.fetch(
                        options.id,
                        prepared.urls,
                        download_total=options.download_total,
                        title=options.title,
                    )
                except TypeError as error:
                    self.err.write(f"bgfetch fetch: fetch() rejected the input: {error}\n")
                    return EXIT_USAGE
                except Exception as error:
                    self.err.write(f"bgfetch fetch: fetch() rejected: {_why(error)}\n")
                    return EXIT_FAILED
            concept = self.bg.background_fetch
            self.display = next((d for d in ua.ui.displays if d.bg_fetch is concept), None)
            watch.expect(concept)
            self.view = make_view(self.human, options.id, options.title or "", quiet=options.quiet)
            self.view.start(self.now())
            self.bg.add_event_listener("progress", lambda event: self._refresh())
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._tick)
                try:
                    await watch.handled()
                    await _wait_until_over(concept)
                finally:
                    nursery.cancel_scope.cancel()
                    self.view.stop(self.now())
            errors = list(ua.handler_errors)
        return self._report(errors)

    def now(self) -> Snapshot:
        if self.display is None:
            return Snapshot(int(self.bg.downloaded), int(self.bg.download_total), [])
        return snapshot(self.bg, self.display)

    def _arrived(self, event: Any) -> None:
        self.event = event
        if isinstance(self.bg, SettledEarlier) and hasattr(event, "registration"):
            self.bg = event.registration  # the numbers, as a page sees them
        if self.display is not None:
            self.records = record_states(self.display)

    def _refresh(self) -> None:
        if self.view is not None:
            self.view.update(self.now())

    async def _tick(self) -> None:
        while True:
            await trio.sleep(TICK)
            self._refresh()

    # -- the outcome ---------------------------------------------------------------------

    def result(self) -> tuple[str, str | None]:
        """The result and failure reason; the 2017-10-12 edition has neither: its result
        is read from the event (``backgroundfetched``: success), its reason is None."""
        event = self.event.type if self.event is not None else None
        if is_draft(self.prepared.edition):
            if event is None:
                return "", None
            return ("success" if event == "backgroundfetched" else "failure"), None
        if self.bg is None:
            return "", ""
        return str(self.bg.result), str(self.bg.failure_reason)

    def saved(self) -> list[SavedRecord]:
        saving = self.prepared.saving
        if saving is None or self.bg is None:
            return []
        return saving.saved.get(self.bg.background_fetch, [])

    def summary(self) -> dict[str, Any]:
        """What ``--json`` prints."""
        result, failure_reason = self.result()
        bg = self.bg
        states = self.records or (self.now().records if bg is not None else [])
        saved = self.saved()
        records = []
        for index, state in enumerate(states):
            record = saved[index] if index < len(saved) else None
            records.append(
                {
                    "url": state.url,
                    "status": state.status,
                    "size": record.size if record and record.size is not None else state.received,
                    "sha256": record.sha256 if record else None,
                    "path": str(record.path) if record and record.path else None,
                }
            )
        return {
            "id": self.options.id,
            "edition": self.prepared.edition.NAME,
            "result": result,
            "failure_reason": failure_reason,
            "event": self.event.type if self.event is not None else None,
            "downloaded": int(bg.downloaded) if bg is not None else 0,
            "download_total": int(bg.download_total) if bg is not None else 0,
            "uploaded": int(bg.uploaded) if bg is not None else 0,
            "upload_total": int(bg.upload_total) if bg is not None else 0,
            "records": records,
        }

    def _report(self, errors: list[Any]) -> int:
        """Say how it ended (the summary unless quiet, failures always); the exit status."""
        id = self.options.id
        result, failure_reason = self.result()
        event = self.event.type if self.event is not None else "no event"
        self.human.line(f"{id}: {result or 'unsettled'} ({event}), {self.bg.downloaded:,} bytes")
        for record in self.saved():
            if record.path is not None:
                self.human.line(f"  saved {record.path} ({record.size:,} bytes)")
            else:
                self.human.line(f"  {record.url}: {record.error}")
        for error in errors:
            self.err.write(
                f"bgfetch fetch: the service worker's {error.event_type} handler raised "
                f"{_why(error.error)}\n"
            )
        if result != "success":
            reason = f": {failure_reason}" if failure_reason else f" ({event})"
            self.err.write(f"bgfetch fetch: background fetch {id!r} failed{reason}\n")
            return EXIT_FAILED
        return EXIT_FAILED if errors else EXIT_OK


class SettledEarlier:
    """A background fetch that settled before a restart, its completion event not yet
    handled: what a BackgroundFetchRegistration would say, read from its display."""

    def __init__(self, display: Any) -> None:
        self.display = display
        self.background_fetch = display.bg_fetch

    downloaded = property(lambda self: self.display.downloaded)
    download_total = property(lambda self: self.display.download_total)
    uploaded = property(lambda self: getattr(self.display, "uploaded", 0))
    upload_total = property(lambda self: getattr(self.display, "upload_total", 0))
    result = property(lambda self: self.background_fetch.result)
    failure_reason = property(lambda self: self.background_fetch.failure_reason)

    def add_event_listener(self, type: str, listener: Any) -> None:
        """No progress comes: it is over."""


async def _wait_until_over(bg_fetch: Any, *, poll: float = 0.01) -> None:
    """After *bg_fetch*'s completion event was handled, before the user agent closes:
    let it note that the event was handled (else a restart would deliver it again) and
    finish with the background fetch (a store then forgets it: ``bgfetch list`` no
    longer shows it).  At most OVER_TIMEOUT seconds."""
    with trio.move_on_after(OVER_TIMEOUT):
        await bg_fetch.changed.wait_for(
            lambda: getattr(bg_fetch, "completion_event", "handled") == "handled"
        )
        while not bg_fetch.tasks.done:  # its last steps (freeing, forgetting) are running
            await trio.sleep(poll)


def _event_pending(display: Any) -> bool:
    """Whether *display*'s background fetch still has a completion event to handle."""
    return getattr(display.bg_fetch, "completion_event", "handled") != "handled"


def _find_display(ua: Any, id: str) -> Any:
    try:
        return ua.ui.find(id)
    except KeyError:
        return None


def _why(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
