"""The Chromium backend: conformance/interface.py's Page on a real headless Chromium.

Each page is a new tab of one browser per run (browser.py), at the test's WPT page
on ``https://web-platform.test`` (and ``https://www1.web-platform.test`` as the
remote origin), both served by bgfetch's OriginServers on loopback. The page
evaluates page.js once; each Page method is one ``Runtime.evaluate`` of a
``__bgfetch`` call with ``awaitPromise``. The named worker behaviours are the
JavaScript files in workers/, served beside the page at ``service_workers/``.
The DevTools BackgroundService log of the page's fetches is recorded too
(:meth:`ChromiumPage.devtools_events`); closing a page aborts what the test left
running, waits until Chromium logged each abort's completion, and unregisters
the worker, so nothing of one test reaches the next.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import trio

from bgfetch.devtools import protocol
from bgfetch.testing import OriginServer
from conformance import fixtures
from conformance.chromium import cdp
from conformance.chromium.browser import Chromium, ChromiumNotAvailable, executable
from conformance.fixtures import HOST, REMOTE_HOST
from conformance.interface import (
    JSON,
    Attributes,
    Call,
    Edition,
    FetchOptions,
    Handle,
    MatchOptions,
    OriginName,
    PageSetup,
    Progress,
    Rejected,
    RequestSnapshot,
    RequestSpec,
    ResponseSnapshot,
    requests_to_json,
)

ORIGINS: dict[OriginName, str] = {
    "main": f"https://{HOST}",
    "remote": f"https://{REMOTE_HOST}",
    "http": f"http://{HOST}",
}
HERE = Path(__file__).parent
PAGE_JS = (HERE / "page.js").read_text()
WORKERS = {path.name: path.read_text() for path in sorted((HERE / "workers").glob("*.js"))}
BEHAVIOURS = ("sw.js", "sw-abort.js", "sw-update-ui.js", "sw-cors.js", "sw-idl.js")
INTERFACES = (
    # The current spec's window interfaces, then the 2017-10-12 draft's.
    "BackgroundFetchManager",
    "BackgroundFetchRegistration",
    "BackgroundFetchRecord",
    "BackgroundFetchActiveFetches",
    "BackgroundFetchActiveFetch",
    "BackgroundFetchFetch",
)
FETCH = protocol.ServiceName.BACKGROUND_FETCH
CALL_TIMEOUT = 120.0  # seconds a page call may take beyond its own timeout
TIMEOUT = "__timeout__"  # page.js's name for its own timeouts


def js(*args: Any) -> str:
    """Arguments of a page.js call, as JavaScript (JSON; None as undefined where given)."""
    return ", ".join("undefined" if a is None else json.dumps(a) for a in args)


def page_html() -> str:
    """The fixtures' page, with a data: icon: no favicon request in the servers' logs."""
    return fixtures.PAGE_BODY + '<link rel="icon" href="data:,">'


class ChromiumPage:
    """A tab of the run's Chromium at a WPT page, with a worker of a named behaviour."""

    def __init__(
        self,
        setup: PageSetup,
        session: cdp.Session,
        servers: dict[OriginName, OriginServer],
        log: cdp.Subscription,
    ) -> None:
        self.setup = setup
        self.session = session
        self._servers = servers
        self._log = log
        self._events: list[protocol.BackgroundServiceEvent] = []

    # -- the Page interface ------------------------------------------------------------

    @property
    def edition(self) -> Edition:
        return self.setup.edition

    def origin(self, name: OriginName = "main") -> str:
        return ORIGINS[name]

    def server(self, name: OriginName = "main") -> OriginServer:
        return self._servers[name]

    async def registration_state(self) -> dict[str, bool]:
        state: dict[str, bool] = await self._call("__bgfetch.registrationState()")
        return state

    async def fetch(
        self,
        id: str,
        requests: RequestSpec | Sequence[RequestSpec],
        options: FetchOptions | None = None,
    ) -> Handle:
        options_json = (options or FetchOptions()).to_json()
        handle: Handle = await self._call(
            f"__bgfetch.fetch({js(id, requests_to_json(requests), options_json)})"
        )
        return handle

    async def fetch_together(self, calls: Sequence[Call]) -> list[Handle | Rejected]:
        outcomes = await self._call(
            f"__bgfetch.fetchTogether({js([call.to_json() for call in calls])})"
        )
        return [
            Rejected.from_json(o["rejected"]) if "rejected" in o else int(o["value"])
            for o in outcomes
        ]

    async def get(self, id: str | None) -> Handle | None:
        found: Handle | None = await self._call(f"__bgfetch.get({js() if id is None else js(id)})")
        return found

    async def get_ids(self) -> list[str]:
        ids: list[str] = await self._call("__bgfetch.getIds()")
        return ids

    async def attributes(self, registration: Handle) -> Attributes:
        return Attributes.from_json(await self._call(f"__bgfetch.attributes({js(registration)})"))

    async def abort(self, registration: Handle) -> bool:
        return bool(await self._call(f"__bgfetch.abort({js(registration)})"))

    async def match(
        self,
        registration: Handle,
        request: RequestSpec | None = None,
        options: MatchOptions | None = None,
    ) -> Handle | None:
        found: Handle | None = await self._call(
            f"__bgfetch.match({self._query(registration, request, options)})"
        )
        return found

    async def match_all(
        self,
        registration: Handle,
        request: RequestSpec | None = None,
        options: MatchOptions | None = None,
    ) -> list[Handle]:
        found: list[Handle] = await self._call(
            f"__bgfetch.matchAll({self._query(registration, request, options)})"
        )
        return found

    @staticmethod
    def _query(
        registration: Handle, request: RequestSpec | None, options: MatchOptions | None
    ) -> str:
        args: list[Any] = [registration]
        if request is not None or options is not None:
            args.append(None if request is None else requests_to_json(request))
        if options is not None:
            args.append(options.to_json())
        return js(*args)

    async def record_request(self, record: Handle) -> RequestSnapshot:
        return RequestSnapshot.from_json(await self._call(f"__bgfetch.recordRequest({js(record)})"))

    async def record_response(self, record: Handle, *, timeout: float = 60) -> ResponseSnapshot:
        value = await self._call(f"__bgfetch.recordResponse({js(record, timeout)})", timeout)
        return ResponseSnapshot.from_json(value)

    async def listen_progress(
        self, registration: Handle, *, via: Literal["onprogress", "listener"] = "listener"
    ) -> None:
        await self._call(f"__bgfetch.listenProgress({js(registration, via)})")

    async def progress(
        self, registration: Handle, *, at_least: int = 0, timeout: float = 60
    ) -> list[Progress]:
        seen = await self._call(
            f"__bgfetch.progress({js(registration, at_least, timeout)})", timeout
        )
        return [Progress.from_json(event) for event in seen]

    async def next_message(self, *, timeout: float = 60) -> JSON:
        try:
            message: JSON = await self._call(f"__bgfetch.nextMessage({js(timeout)})", timeout)
        except TimeoutError as error:
            raise TimeoutError(f"{error}; {self._log_summary()}") from None
        return message

    def _log_summary(self) -> str:
        """What Chromium's DevTools log says last: whether the completion event was
        dispatched when the worker sent nothing (the answer to "what is it doing?")."""
        events = self.devtools_events()
        if not events:
            return "DevTools logged nothing for the origin"
        last = events[-1]
        details = ", ".join(f"{m.key}: {m.value}" for m in last.event_metadata)
        completed = sum(e.event_name == "Background Fetch completed" for e in events)
        return (
            f"DevTools' last event: {last.event_name}"
            + (f" ({details})" if details else "")
            + f"; completion events logged: {completed}"
        )

    async def post_to_worker(self, message: JSON) -> None:
        await self._call(f"__bgfetch.postToWorker({json.dumps(message)})")

    async def interfaces(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = await self._call(
            f"__bgfetch.interfaces({js(list(INTERFACES))})"
        )
        return found

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    # -- beyond the interface ----------------------------------------------------------

    def devtools_events(self) -> list[protocol.BackgroundServiceEvent]:
        """What Chromium's DevTools BackgroundService log recorded for this page's
        origin so far (backgroundFetch, in order)."""
        while True:
            try:
                event = self._log.receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
            parsed = cdp.background_service_event(event)
            if isinstance(parsed, protocol.BackgroundServiceEventReceived):
                self._events.append(parsed.background_service_event)
        main = ORIGINS["main"] + "/"
        return [e for e in self._events if e.origin == main]

    async def dropped_messages(self) -> list[JSON]:
        """Messages the worker posted while a page call was pending (WPT's page was
        not listening then): lost, as in a browser."""
        dropped: list[JSON] = await self._call("__bgfetch.dropped()")
        return dropped

    # -- helpers -----------------------------------------------------------------------

    async def _call(self, expression: str, timeout: float = 0) -> Any:
        """Evaluate a page.js call: its value, or Rejected as the page saw it."""
        with trio.fail_after(timeout + CALL_TIMEOUT):
            try:
                result = await self.session.evaluate(expression)
            except cdp.JavaScriptError as error:  # thrown synchronously
                raise Rejected(error.name, error.message) from None
        if "rejected" in result:
            rejected = result["rejected"]
            if rejected.get("name") == TIMEOUT:
                raise TimeoutError(rejected.get("message", ""))  # the interface's timeout
            raise Rejected.from_json(rejected)
        return result.get("value")

    async def _open(self) -> None:
        """Load the page and page.js; register the worker (WPT's backgroundFetchTest)."""
        setup = self.setup
        url = ORIGINS["main"] + setup.page
        loaded = self.session.subscribe("Page.loadEventFired")
        await self.session.send("Page.enable")
        navigated = await self.session.send("Page.navigate", {"url": url})
        if navigated.get("errorText"):
            raise ChromiumNotAvailable(f"Chromium could not load {url}: {navigated['errorText']}")
        with trio.fail_after(30):
            await loaded.next()
        self.session.connection.unsubscribe(loaded)
        await self.session.evaluate(PAGE_JS)
        directory = posixpath.dirname(setup.page) + "/"
        script = f"{directory}service_workers/{setup.worker}"
        if setup.activate:
            scope = "service_workers/scope" + setup.page
        else:
            scope, script = "service_workers" + setup.page, script + "?hold-install"
        await self._call(f"__bgfetch.register({js(script, scope, setup.activate)})")
        if setup.activate:
            await self.post_to_worker(None)
            message = await self.next_message(timeout=10)
            if message != "ready":
                raise AssertionError(f"the worker's handshake answered {message!r}, not 'ready'")
        # The page and its worker's scripts are the backend's, not the test's.
        main = self._servers["main"]
        workers = directory + "service_workers/"
        main.requests[:] = [
            r for r in main.requests if r.path != setup.page and not r.path.startswith(workers)
        ]

    async def _close(self) -> None:
        """Abort what the test left running, wait until Chromium logged each abort's
        completion, and unregister the worker."""
        with trio.move_on_after(30):
            aborted: list[str] = await self._call("__bgfetch.abortAll()")
            while aborted:
                done = {
                    e.instance_id
                    for e in self.devtools_events()
                    if e.event_name == "Background Fetch completed"
                }
                if done.issuperset(aborted):
                    break
                await trio.sleep(0.05)
            await self._call("__bgfetch.unregister()")


def _only_exception(error: BaseException) -> BaseException:
    """The one exception inside nested single-exception groups (else the group)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


class ChromiumBackend:
    """Pages on one headless Chromium per run, started at the first page."""

    name = "chromium"

    def __init__(self) -> None:
        self.chromium: Chromium | None = None
        self._warm = False

    def skip_reason(self, setup: PageSetup) -> str | None:
        if setup.edition != "current":
            return "Chromium implements the current spec, not the 2017-10-12 draft"
        if setup.worker not in BEHAVIOURS:
            return f"no JavaScript for the behaviour {setup.worker!r} in the current edition"
        try:
            executable()
        except ChromiumNotAvailable as error:
            return str(error)
        return None

    @asynccontextmanager
    async def open_page(self, setup: PageSetup) -> AsyncIterator[ChromiumPage]:
        if self.chromium is None:
            # Launched from this (the main) thread, which lives as long as the run: the
            # browser dies with it (browser.py); only the wait runs in a worker thread.
            chromium = Chromium.launch((HOST, REMOTE_HOST))
            await trio.to_thread.run_sync(chromium.wait_listening)
            self.chromium = chromium
        if not self._warm:
            await self._warm_up(self.chromium)
            self._warm = True
        try:
            async with self._page(self.chromium, setup) as page:
                yield page
        except BaseExceptionGroup as group:
            # The test's own exception, wrapped by the backend's nurseries on its way
            # out: the test's failure, as the test raised it.
            leaf = _only_exception(group)
            if leaf is group:
                raise
            raise leaf from None

    async def _warm_up(self, chromium: Chromium) -> None:
        """One background fetch, so that the download service's start (~3-7 s after the
        browser's) is not any test's."""
        async with self._page(chromium, PageSetup(page="/background-fetch/warm-up.html")) as page:
            await page.fetch("warm-up", fixtures.FEATURE_NAME_PATH)
            await page.next_message(timeout=60)

    @asynccontextmanager
    async def _page(self, chromium: Chromium, setup: PageSetup) -> AsyncIterator[ChromiumPage]:
        main, remote = OriginServer(), OriginServer()
        fixtures.install(main, remote, setup.page)
        # The page this backend drives, in place of the fixtures' one.
        headers = [] if setup.csp is None else [("Content-Security-Policy", setup.csp)]
        main.add(setup.page, page_html(), content_type="text/html", headers=headers)
        directory = posixpath.dirname(setup.page) + "/"
        for name, source in WORKERS.items():
            main.add(f"{directory}service_workers/{name}", source, content_type="text/javascript")
        servers: dict[OriginName, OriginServer] = {"main": main, "remote": remote, "http": main}
        async with (
            chromium.serve({ORIGINS["main"]: main, ORIGINS["remote"]: remote}),
            chromium.connect() as connection,
        ):
            if not chromium.version:
                chromium.version = str((await connection.send("Browser.getVersion"))["product"])
            session = await cdp.open_page(connection, "about:blank")
            try:
                log = session.subscribe(protocol.BackgroundServiceEventReceived.METHOD)
                for command in (
                    protocol.ClearEvents(FETCH),
                    protocol.StartObserving(FETCH),
                    protocol.SetRecording(True, FETCH),
                ):
                    await session.background_service(command)
                page = ChromiumPage(setup, session, servers, log)
                await page._open()
                try:
                    yield page
                finally:
                    with trio.CancelScope(shield=True):
                        await page._close()
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(10):
                    await cdp.close_page(session)

    def close(self) -> None:
        """End the run's browser (called once, when the run ends)."""
        if self.chromium is not None:
            self.chromium.close()
            self.chromium = None
