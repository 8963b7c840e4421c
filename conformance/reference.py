"""The reference backend: bgfetch itself, on the virtual network or on loopback sockets.

It implements :class:`~conformance.interface.Page` over a bgfetch window, decoding the
same JSON forms a browser backend sends to JavaScript (so both read one
representation), with the behaviours of workers.py as its service workers.
"""

from __future__ import annotations

import io
import ssl
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import trio
import trustme

import bgfetch
from bgfetch.editions import load_edition
from bgfetch.fetch import FormData
from bgfetch.fetch.request import Request
from bgfetch.net.real import RealNetwork
from bgfetch.sw.registration import ServiceWorkerRegistration
from bgfetch.testing import OriginServer
from bgfetch.useragent import UserAgent

from . import fixtures, idl
from .fixtures import HOST, REMOTE_HOST
from .interface import (
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
from .workers import Client, make_worker


def rejected(error: BaseException) -> Rejected:
    """A Python exception as the page sees a rejection: its JavaScript name (and a
    QuotaExceededError's quota and requested)."""
    return Rejected(
        str(getattr(error, "name", type(error).__name__)),
        str(error),
        quota=getattr(error, "quota", None),
        requested=getattr(error, "requested", None),
    )


# -- the JSON forms, decoded for bgfetch ---------------------------------------------


def body_init(body: JSON) -> Any:
    """A ``{kind, text}`` body as the Python stand-in for that JavaScript BodyInit."""
    assert isinstance(body, dict)
    kind, text = body["kind"], str(body["text"])
    data = text.encode()
    if kind == "string":
        return text
    if kind == "arraybuffer":
        return data
    if kind == "typedarray":
        return bytearray(data)
    if kind == "dataview":
        return memoryview(data)
    if kind in ("blob", "file"):
        return io.BytesIO(data)
    if kind == "urlsearchparams":
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
    if kind == "formdata":
        form = FormData()
        form.append("text", text)
        return form
    raise ValueError(f"unknown body kind {kind!r}")


def request_info(value: JSON, base_url: str) -> str | Request:
    """A RequestInfo from its JSON form: a URL string, or ``{url, init}`` (a Request)."""
    if isinstance(value, str):
        return value
    assert isinstance(value, dict) and isinstance(value["init"], dict)
    init = value["init"]
    options: dict[str, Any] = {}
    for name in ("method", "mode", "credentials"):
        if name in init:
            options[name] = init[name]
    if "headers" in init:
        headers = init["headers"]
        assert isinstance(headers, list)
        options["headers"] = [(str(pair[0]), str(pair[1])) for pair in headers]  # type: ignore[index]
    if "body" in init:
        options["body"] = body_init(init["body"])
    return Request(str(value["url"]), base_url=base_url, **options)


def attributes_of(registration: Any) -> Attributes:
    return Attributes(
        id=registration.id,
        upload_total=registration.upload_total,
        uploaded=registration.uploaded,
        download_total=registration.download_total,
        downloaded=registration.downloaded,
        result=getattr(registration, "result", None),
        failure_reason=getattr(registration, "failure_reason", None),
        records_available=getattr(registration, "records_available", None),
    )


def camel(name: str) -> str:
    """An IDL member's name from its snake_case binding (update_ui -> updateUI)."""
    if name == "update_ui":
        return "updateUI"
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


# -- the page ------------------------------------------------------------------------


class ReferencePage:
    """A bgfetch window with a worker of a named behaviour (interface.Page)."""

    def __init__(
        self,
        setup: PageSetup,
        ua: UserAgent,
        origins: dict[OriginName, str],
        servers: dict[OriginName, OriginServer],
    ) -> None:
        self.setup = setup
        self.ua = ua
        self._origins = origins
        self._servers = servers
        self.client = Client()
        self.window: Any = None
        self.registration: ServiceWorkerRegistration | None = None
        self._objects: list[Any] = []
        self._progress: dict[Handle, list[Progress]] = {}
        self._progress_changed = trio.Event()
        self._messages: list[JSON] = []
        self._messages_changed = trio.Event()
        self._pending_calls = 0  # promise-returning calls not yet resolved
        self.dropped_messages: list[JSON] = []
        self._opened_at = trio.current_time()

    # -- the Page interface ------------------------------------------------------

    @property
    def edition(self) -> Edition:
        return self.setup.edition

    def origin(self, name: OriginName = "main") -> str:
        return self._origins[name]

    def server(self, name: OriginName = "main") -> OriginServer:
        return self._servers[name]

    async def registration_state(self) -> dict[str, bool]:
        assert self.registration is not None
        return {
            "installing": self.registration.installing is not None,
            "waiting": self.registration.waiting is not None,
            "active": self.registration.active is not None,
        }

    @property
    def manager(self) -> Any:
        assert self.registration is not None
        return self.registration.background_fetch

    async def fetch(
        self,
        id: str,
        requests: RequestSpec | Sequence[RequestSpec],
        options: FetchOptions | None = None,
    ) -> Handle:
        return await self._fetch_json(
            id, requests_to_json(requests), (options or FetchOptions()).to_json()
        )

    async def _fetch_json(self, id: str, requests: JSON, options: dict[str, JSON]) -> Handle:
        async with self._call():
            try:
                if isinstance(requests, list):
                    infos: Any = [request_info(r, self.window.url.href) for r in requests]
                else:
                    infos = request_info(requests, self.window.url.href)
                kwargs: dict[str, Any] = {}
                if "downloadTotal" in options:
                    kwargs["download_total"] = options["downloadTotal"]
                if "title" in options:
                    kwargs["title"] = options["title"]
                if "icons" in options:
                    kwargs["icons"] = options["icons"]
                registration = await self.manager.fetch(id, infos, **kwargs)
            except Exception as error:
                raise rejected(error) from error
            return self._handle(registration)

    async def fetch_together(self, calls: Sequence[Call]) -> list[Handle | Rejected]:
        outcomes: list[Handle | Rejected | None] = [None] * len(calls)

        async def one(index: int, call: dict[str, Any]) -> None:
            try:
                outcomes[index] = await self._fetch_json(
                    call["id"], call["requests"], call["options"]
                )
            except Rejected as error:
                outcomes[index] = error

        async with self._call(), trio.open_nursery() as nursery:
            for index, call in enumerate(calls):
                nursery.start_soon(one, index, call.to_json())
        return [outcome for outcome in outcomes if outcome is not None]

    async def get(self, id: str | None) -> Handle | None:
        async with self._call():
            try:
                if id is None:
                    raise TypeError("get(): 1 argument required, but only 0 present")
                registration = await self.manager.get(id)
            except Exception as error:
                raise rejected(error) from error
            return None if registration is None else self._handle(registration)

    async def get_ids(self) -> list[str]:
        async with self._call():
            return list(await self.manager.get_ids())

    async def attributes(self, registration: Handle) -> Attributes:
        return attributes_of(self._objects[registration])

    async def abort(self, registration: Handle) -> bool:
        async with self._call():
            try:
                return bool(await self._objects[registration].abort())
            except Exception as error:
                raise rejected(error) from error

    async def match(
        self,
        registration: Handle,
        request: RequestSpec | None = None,
        options: MatchOptions | None = None,
    ) -> Handle | None:
        async with self._call():
            try:
                record = await self._objects[registration].match(
                    *self._query(request), **self._match_options(options)
                )
            except Exception as error:
                raise rejected(error) from error
            return None if record is None else self._handle(record)

    async def match_all(
        self,
        registration: Handle,
        request: RequestSpec | None = None,
        options: MatchOptions | None = None,
    ) -> list[Handle]:
        async with self._call():
            try:
                records = await self._objects[registration].match_all(
                    *self._query(request), **self._match_options(options)
                )
            except Exception as error:
                raise rejected(error) from error
            return [self._handle(record) for record in records]

    def _query(self, request: RequestSpec | None) -> list[Any]:
        if request is None:
            return []
        return [request_info(requests_to_json(request), self.window.url.href)]

    @staticmethod
    def _match_options(options: MatchOptions | None) -> dict[str, bool]:
        options = options or MatchOptions()
        return {
            "ignore_search": options.ignore_search,
            "ignore_method": options.ignore_method,
            "ignore_vary": options.ignore_vary,
        }

    async def record_request(self, record: Handle) -> RequestSnapshot:
        request = self._objects[record].request
        body_error = None
        try:
            body = await request.bytes()
        except Exception as error:
            body, body_error = b"", rejected(error).name
        return RequestSnapshot(
            url=request.url,
            method=request.method,
            mode=request.mode,
            headers=tuple(request.headers.items()),
            body=body,
            body_error=body_error,
        )

    async def record_response(self, record: Handle, *, timeout: float = 60) -> ResponseSnapshot:
        async with self._call():
            with trio.fail_after(timeout):
                try:
                    response = await self._objects[record].response_ready
                except Exception as error:
                    raise rejected(error) from error
                body_error = None
                try:
                    body = await response.bytes()
                except Exception as error:
                    body, body_error = b"", rejected(error).name
            return ResponseSnapshot(
                url=response.url,
                status=response.status,
                type=response.type,
                headers=tuple(response.headers.items()),
                body=body,
                body_error=body_error,
            )

    async def listen_progress(
        self, registration: Handle, *, via: Literal["onprogress", "listener"] = "listener"
    ) -> None:
        target = self._objects[registration]
        seen = self._progress.setdefault(registration, [])

        def listener(event: Any) -> None:
            event_target = getattr(event, "target", None)
            read = event_target if event_target is not None else target
            seen.append(
                Progress(
                    target_is_registration=event_target is target,
                    type=event.type,
                    is_trusted=getattr(event, "is_trusted", None),
                    attributes=attributes_of(read),
                    time=trio.current_time() - self._opened_at,
                )
            )
            self._progress_changed.set()
            self._progress_changed = trio.Event()

        if via == "onprogress":
            target.onprogress = listener
        else:
            target.add_event_listener("progress", listener)

    async def progress(
        self, registration: Handle, *, at_least: int = 0, timeout: float = 60
    ) -> list[Progress]:
        seen = self._progress.setdefault(registration, [])
        with trio.move_on_after(timeout):
            while len(seen) < at_least:
                await self._progress_changed.wait()
        return list(seen)

    async def next_message(self, *, timeout: float = 60) -> JSON:
        with trio.move_on_after(timeout):
            while not self._messages:
                await self._messages_changed.wait()
        if not self._messages:
            dropped = f"; dropped while a call was pending: {self.dropped_messages}"
            raise TimeoutError(
                f"no message from the worker in {timeout} s"
                + (dropped if self.dropped_messages else "")
            )
        return self._messages.pop(0)

    async def post_to_worker(self, message: JSON) -> None:
        assert self.registration is not None
        active = self.registration.active
        if active is None:
            raise Rejected("TypeError", "the registration has no active worker")
        active.post_message(message)

    def _on_message(self, event: Any) -> None:
        """navigator.serviceWorker's message listener (sw-helpers.js's page side)."""
        self._deliver(event.data)

    def _deliver(self, data: JSON) -> None:
        if self._pending_calls:
            self.dropped_messages.append(data)  # WPT's page listens only between calls
            return
        self._messages.append(data)
        self._messages_changed.set()
        self._messages_changed = trio.Event()

    async def interfaces(self) -> dict[str, list[str]]:
        return exposed_interfaces(self.setup.edition, worker=False)

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    # -- helpers -----------------------------------------------------------------

    def _handle(self, obj: Any) -> Handle:
        for index, known in enumerate(self._objects):
            if known is obj:
                return index
        self._objects.append(obj)
        return len(self._objects) - 1

    @asynccontextmanager
    async def _call(self) -> AsyncIterator[None]:
        """A promise-returning call: messages that arrive until it resolves are lost."""
        self._pending_calls += 1
        try:
            yield
        finally:
            self._pending_calls -= 1


NOT_IDL = {
    "dispatch_event",
    "add_event_listener",
    "remove_event_listener",
    "listeners",
    "call_listener",
}


def exposed_interfaces(edition: Edition, *, worker: bool) -> dict[str, list[str]]:
    """The edition's interfaces a global exposes (the IDL's [Exposed], idl.py), each with
    the IDL names of the members its class defines; the service worker global's event
    handler attributes are the edition's event types (a bgfetch ServiceWorker listens to
    any of them)."""
    module = load_edition(edition)
    found: dict[str, list[str]] = {}
    for interface in idl.exposed_in(edition, "ServiceWorker" if worker else "Window"):
        name = interface.name
        if name == "ServiceWorkerRegistration":
            has = hasattr(ServiceWorkerRegistration, "background_fetch")
            found[name] = ["backgroundFetch"] if has else []
            continue
        if name == "ServiceWorkerGlobalScope":
            found[name] = sorted(f"on{type}" for type in module.EVENTS)
            continue
        cls = edition_class(module, name)
        if cls is None:
            continue
        members = {camel(m) for m in vars(cls) if not m.startswith("_") and m not in NOT_IDL}
        if name == "BackgroundFetchRegistration":
            members.add("onprogress")  # an event handler attribute, set per instance
        found[name] = sorted(members)
    return found


def edition_class(module: Any, name: str) -> type | None:
    """The edition's class for interface *name*: exported, or in one of its modules."""
    for place in (module, module.records, module.events, module.registration, module.manager):
        cls = getattr(place, name, None)
        if isinstance(cls, type):
            return cls
    return None


# -- the backend ---------------------------------------------------------------------


class ReferenceBackend:
    """bgfetch on the virtual network (in simulated time: run on trio's MockClock), or
    on loopback sockets for setups with ``network="loopback"``."""

    name = "reference"

    def skip_reason(self, setup: PageSetup) -> str | None:
        return None

    @asynccontextmanager
    async def open_page(self, setup: PageSetup) -> AsyncIterator[ReferencePage]:
        try:
            async with self._open_page(setup) as page:
                yield page
        except BaseExceptionGroup as group:
            raise _single(group) from None

    @asynccontextmanager
    async def _open_page(self, setup: PageSetup) -> AsyncIterator[ReferencePage]:
        main, remote = OriginServer(), OriginServer()
        fixtures.install(main, remote, setup.page)
        servers: dict[OriginName, OriginServer] = {"main": main, "remote": remote, "http": main}
        async with trio.open_nursery() as nursery:
            network: Any
            if setup.network == "virtual":
                origins: dict[OriginName, str] = {
                    "main": f"https://{HOST}",
                    "remote": f"https://{REMOTE_HOST}",
                    "http": f"http://{HOST}",
                }
                network = bgfetch.VirtualNetwork()
                for name, origin in origins.items():
                    network.serve(origin, servers[name])
            else:
                origins, network = await _loopback(nursery, main, remote)
            async with bgfetch.open_user_agent(network=network, edition=setup.edition) as ua:
                page = ReferencePage(setup, ua, origins, servers)
                await _open(page)
                yield page
                errors = list(ua.reported_errors)
            nursery.cancel_scope.cancel()
        if errors:
            lines = "; ".join(f"{e.source} ({e.event_type}): {e.error!r}" for e in errors)
            raise AssertionError(f"bgfetch reported exceptions: {lines}")


def _single(group: BaseExceptionGroup) -> BaseException:
    """The one exception a nursery wrapped (a test's assertion), or the group."""
    while isinstance(group, BaseExceptionGroup) and len(group.exceptions) == 1:
        group = group.exceptions[0]  # type: ignore[assignment]
    return group


async def _open(page: ReferencePage) -> None:
    """Open the window, register the behaviour's worker and (WPT's backgroundFetchTest)
    wait until it is activated, then the 'ready' handshake."""
    setup, ua = page.setup, page.ua
    page.window = await ua.open_window(page.origin() + setup.page, csp=setup.csp)
    page.window.navigator.service_worker.add_event_listener("message", page._on_message)
    worker = make_worker(
        setup.worker,
        setup.edition,
        page.client,
        lambda: dict(exposed_interfaces(setup.edition, worker=True)),  # type: ignore[arg-type]
    )
    path = setup.page
    if not setup.activate:
        hold = trio.Event()  # never set: the install event stays extended

        @worker.on("install")
        def installing(event: Any) -> None:
            event.wait_until(hold.wait())

        scope = "service_workers" + path
        page.registration = await page.window.navigator.service_worker.register(worker, scope=scope)
        return
    scope = "service_workers/scope" + path
    page.registration = await page.window.navigator.service_worker.register(worker, scope=scope)
    concept = page.registration.registration
    await concept.changed.wait_for(
        lambda: concept.active_worker is not None and concept.active_worker.state == "activated"
    )
    await page.post_to_worker(None)
    message = await page.next_message(timeout=10)
    if message != "ready":
        raise AssertionError(f"the worker's handshake answered {message!r}, not 'ready'")


_CA: trustme.CA | None = None


async def _loopback(
    nursery: trio.Nursery, main: OriginServer, remote: OriginServer
) -> tuple[dict[OriginName, str], RealNetwork]:
    """Serve the origins on loopback (https with a trustme certificate, the http origin
    on its own port), and a loopback-only RealNetwork mapping the WPT host names."""
    global _CA
    if _CA is None:
        _CA = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _CA.issue_cert(HOST, REMOTE_HOST, "127.0.0.1", "localhost").configure_cert(context)

    async def serve(server: OriginServer, tls: ssl.SSLContext | None) -> int:
        listeners = await nursery.start(
            lambda task_status: server.serve_tcp(
                0, host="127.0.0.1", ssl_context=tls, task_status=task_status
            )
        )
        port: int = listeners[0].socket.getsockname()[1]
        return port

    origins: dict[OriginName, str] = {
        "main": f"https://{HOST}:{await serve(main, context)}",
        "remote": f"https://{REMOTE_HOST}:{await serve(remote, context)}",
        "http": f"http://{HOST}:{await serve(main, None)}",
    }
    network = RealNetwork(
        ca_certs=[_CA.cert_pem.bytes()],
        hosts={HOST: "127.0.0.1", REMOTE_HOST: "127.0.0.1"},
        loopback_only=True,
    )
    return origins, network
