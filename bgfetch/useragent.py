"""The simulated browser: a user agent owning every task, connection and window it opens.

>>> async with bgfetch.open_user_agent(network=net) as ua:
...     window = await ua.open_window("https://example.test/")
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import attrs
import trio

from bgfetch.console import Console, Source
from bgfetch.devtools import DevTools
from bgfetch.dom import Event
from bgfetch.editions import EditionName, load_edition
from bgfetch.fetch.fetching import Fetcher
from bgfetch.fetch.http import ConnectionPool
from bgfetch.infra import Condition, ParallelQueue, TaskOwner
from bgfetch.net.base import Transport
from bgfetch.observe import Observers, Step
from bgfetch.permissions import Permissions, PermissionState
from bgfetch.store.base import DEFAULT_QUOTA, Store
from bgfetch.store.memory import MemoryStore
from bgfetch.store.sqlite import SQLiteStore, StoreError
from bgfetch.sw.caches import CacheBottles
from bgfetch.sw.environment import Environment, Window
from bgfetch.sw.lifecycle import control_new_window
from bgfetch.sw.registration import Registration
from bgfetch.ui import UserInterface
from bgfetch.url import parse_url

if TYPE_CHECKING:
    from bgfetch.devtools.server import DevToolsServer


@attrs.frozen
class ReportedError:
    """An exception the user agent reported (DOM's "report the exception") instead of letting
    it take the user agent down, kept so a test (or the host program) can see it.

    *source* says whose code raised: a service worker's ``"handler"``, a page's event
    ``"listener"`` (``onprogress`` too), or an ``"observer"`` (``ua.observers``
    subscriber).  *event_type* is the type of the event being dispatched (for an
    observer, the observed step's ``what``), *where* the environment or subscriber.
    """

    event_type: str
    error: BaseException
    event: Any = attrs.field(default=None, repr=False, eq=False)
    source: Literal["handler", "listener", "observer"] = "handler"
    where: str = ""


HandlerError = ReportedError  # its name before pages' and observers' exceptions were reported

# Where a reported exception was raised, as the console says it.
IN = {
    "handler": "in a service worker's {event_type} handler",
    "listener": "in a {event_type} listener of {where}",
    "observer": "in the ua.observers subscriber {where}, at the step {event_type!r}",
}
CONSOLE_SOURCES: dict[str, Source] = {
    "handler": "worker",
    "listener": "javascript",
    "observer": "other",
}


class UserAgent:
    def __init__(
        self,
        nursery: trio.Nursery,
        *,
        network: Transport,
        edition: ModuleType,
        store: Store,
        permissions: Permissions,
    ) -> None:
        # Work of the user agent's own (registrations, connections) and the parent of every
        # environment's and background fetch's tasks.
        self.tasks = TaskOwner.root("user agent", nursery)
        self.network = network
        self.edition = edition
        self.store = store
        self.permissions = permissions
        self.pool = ConnectionPool(network, nursery)
        self.fetcher = Fetcher(self.pool)
        self.observers = Observers(report=self.report_observer_error)
        self.ui = UserInterface()
        self.environments: list[Environment] = []
        self.registrations: dict[str, Registration] = {}
        self.registrations_changed = Condition()
        # Service Workers' scope to job queue map: register and unregister jobs, by scope.
        self.job_queues: dict[str, ParallelQueue] = {}
        # Every origin's caches (Cache Storage), read back from a stored user agent's store.
        self.cache_bottles = CacheBottles(store)
        # Every exception reported instead of raised (report_exception), in order.
        self.reported_errors: list[ReportedError] = []
        # The same list, by its first name: once only service workers' handler errors.
        self.handler_errors = self.reported_errors
        # DevTools' Background Services log, recorded from the observed steps (kept in the
        # store, so it survives a restart: bgfetch.devtools).
        self.devtools = DevTools(self)
        # What DevTools' console would say: from the observed steps and report_exception.
        self.console = Console(self.observers)

    async def open_window(self, url: str, *, csp: str | None = None) -> Window:
        """Open a window (a document) at *url*; *csp* is its Content-Security-Policy."""
        window = Window(self, parse_url(url), csp=csp)
        self.add_environment(window)
        control_new_window(window)
        return window

    def add_environment(self, environment: Environment) -> None:
        """Start *environment*'s event loop, as a task of its own (ended by its close())."""
        environment.tasks = self.tasks.child(repr(environment), until="closed")
        environment.event_loop.report = lambda error, listener, event: self.report_exception(
            error, source="listener", event=event, where=repr(environment)
        )
        environment.event_loop.start(environment.tasks)
        self.environments.append(environment)

    def report_exception(
        self,
        error: BaseException,
        *,
        source: Literal["handler", "listener", "observer"],
        event: Any = None,
        event_type: str | None = None,
        where: str = "",
    ) -> None:
        """DOM's "report the exception": keep *error* where the host can see it, and go
        on (the next listener, the next step)."""
        if event_type is None:
            event_type = getattr(event, "type", "")
        self.reported_errors.append(ReportedError(event_type, error, event, source, where))
        # As it happens, with its traceback, as a browser's console shows it.
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        self.console.say(
            "error",
            f"Uncaught {what} ({IN[source].format(event_type=event_type, where=where)})",
            source=CONSOLE_SOURCES[source],
            error=error,
        )

    def report_handler_error(self, event: Event, error: BaseException) -> None:
        self.report_exception(error, source="handler", event=event)

    def report_observer_error(self, step: Step, subscriber: object, error: BaseException) -> None:
        self.report_exception(
            error, source="observer", event=step, event_type=step.what, where=repr(subscriber)
        )

    def handler_errors_for(self, event: Event) -> list[ReportedError]:
        return [e for e in self.reported_errors if e.event is event]

    async def serve_devtools(self, *, port: int = 0, host: str = "127.0.0.1") -> DevToolsServer:
        """Serve this user agent over the Chrome DevTools Protocol on *host*:*port* (0: any
        free port): ``/json/version``, ``/json/list`` and WebSocket sessions, as a task of
        the user agent, so it closes with it (bgfetch.devtools.server)."""
        from bgfetch.devtools.server import serve

        return await serve(self, host=host, port=port)

    async def aclose(self) -> None:
        """Close every connection and cancel every task this user agent owns."""
        await self.pool.close()
        self.tasks.close()


@asynccontextmanager
async def open_user_agent(
    *,
    network: Transport | None = None,
    edition: EditionName = "current",
    store: str | os.PathLike[str] | None = None,
    quota: int | None | Literal["default"] = "default",
    permission: PermissionState = "granted",
) -> AsyncIterator[UserAgent]:
    """A user agent for the block's duration; leaving the block cancels and cleans up everything.

    *network*: a :class:`bgfetch.VirtualNetwork`, or None for the real network.
    *edition*: "current" (the WICG spec today) or "2017-10-12" (the draft).
    *store*: a directory where the user agent keeps its state and the bytes it
    downloads, so that it survives a restart (or a crash): opening the same store
    again restores every background fetch and continues it (:mod:`bgfetch.store.sqlite`).
    None keeps everything in memory, for the block's duration.
    *quota*: bytes of storage per origin; None: unlimited; "default": 64 GiB in
    memory, and for a stored user agent half the free space of the store's disk.
    It can be changed while running (``ua.store.quota = ...``).
    *permission*: the default "background-fetch" permission state for every origin
    ("granted", "denied" or "prompt").
    """
    edition_module = load_edition(edition)
    if network is None:
        from bgfetch.net.real import RealNetwork

        network = RealNetwork()
    permissions = Permissions(permission)
    if store is None:
        kept: Store = MemoryStore(DEFAULT_QUOTA if quota == "default" else quota)
    else:
        kept = SQLiteStore(store, edition=edition, quota=quota)
    unrestorable: StoreError | None = None
    try:
        async with trio.open_nursery() as nursery:
            ua = UserAgent(
                nursery,
                network=network,
                edition=edition_module,
                store=kept,
                permissions=permissions,
            )
            try:
                try:
                    edition_module.restore(ua)
                except StoreError as error:
                    unrestorable = error
                except Exception as error:  # state this bgfetch cannot make sense of
                    unrestorable = StoreError(f"the store {store} cannot be restored: {error!r}")
                else:
                    yield ua
            finally:
                with trio.CancelScope(shield=True):
                    await ua.aclose()
    finally:
        kept.close()  # once no task of the user agent can touch it
    if unrestorable is not None:
        raise unrestorable
