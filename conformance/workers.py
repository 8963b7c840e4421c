"""The named service-worker behaviours (interface.BEHAVIOURS), in Python, for bgfetch.

Each is the Python twin of a WPT worker script (README.md gives the messages exactly):
the handlers a :class:`bgfetch.ServiceWorker` gets for the edition, and what they post
to the page through a :class:`Client` (WPT's ``source.postMessage``: sw-helpers.js keeps
the source of the 'ready' handshake's message and posts to it), as a worker does:
``Client.post_message``, HTML's structured clone, a message event at the page's
``navigator.service_worker``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

from bgfetch.fetch.request import Request
from bgfetch.sw.registration import ServiceWorker, running_global_scope

from .fixtures import FEATURE_NAME_PATH
from .interface import JSON, Edition

MISSING_PATH = "/background-fetch/resources/missing.txt"


class Client:
    """The page as the worker knows it once the 'ready' handshake ran: sw-helpers.js's
    ``source``, the ``message`` event's source (a bgfetch.sw Client), to which the
    behaviours post with ``post_message`` as WPT's ``source.postMessage``."""

    def __init__(self) -> None:
        self.source: Any = None
        self.answer: Callable[[JSON], None] = self.ready

    def post(self, message: JSON) -> None:
        """``source.postMessage(message)``; a TypeError before the handshake, as
        ``null.postMessage`` is in sw-helpers.js."""
        if self.source is None:
            raise TypeError("sendMessageToDocument before the 'ready' handshake: source is null")
        self.source.post_message(message)

    def listen(self, worker: ServiceWorker) -> None:
        """sw-helpers.js's message listener: any message from the page makes its sender
        the source, and is answered (by default 'ready')."""

        @worker.on("message")
        def on_message(event: Any) -> None:
            self.source = event.source
            self.answer(event.data)

    def ready(self, data: JSON) -> None:
        self.post("ready")


def clone_registration(registration: Any) -> dict[str, JSON]:
    """sw-helpers.js's cloneRegistration: every enumerable non-function property of a
    BackgroundFetchRegistration (its attributes, and onprogress, null)."""
    return {
        "id": registration.id,
        "uploadTotal": registration.upload_total,
        "uploaded": registration.uploaded,
        "downloadTotal": registration.download_total,
        "downloaded": registration.downloaded,
        "result": registration.result,
        "failureReason": registration.failure_reason,
        "recordsAvailable": registration.records_available,
        "onprogress": None,
    }


async def _response_or_null(ready: Any) -> Any:
    try:
        return await ready
    except Exception:
        return None


async def fetch_result(response: Any, *, cors: bool = False) -> JSON:
    """sw.js's getFetchResult once responseReady settled: null, or {url, status, text};
    sw-cors.js adds the response's type and its X-Secret-Header."""
    if response is None:
        return None
    try:
        text = await response.text()
    except Exception:
        text = "error"
    result: dict[str, JSON] = {"url": response.url, "status": response.status, "text": text}
    if cors:
        result["type"] = response.type
        result["xSecretHeader"] = response.headers.get("X-Secret-Header")
    return result


# -- the current edition -----------------------------------------------------------


async def _records_for(registration: Any) -> list[Any]:
    """sw.js's matchFunction by id, and its formatting of what it gives to a list."""
    id = registration.id
    if id == "matchexistingrequest":
        found = await registration.match(FEATURE_NAME_PATH)
        return [] if found is None else [found]
    if id == "matchexistingrequesttwice":
        return [await registration.match(FEATURE_NAME_PATH) for _ in range(2)]
    if id == "matchmissingrequest":
        found = await registration.match(MISSING_PATH)
        return [] if found is None else [found]
    return list(await registration.match_all())


def sw_js(worker: ServiceWorker, client: Client, *, cors: bool = False) -> None:
    async def handle(event: Any) -> None:
        try:
            records = await _records_for(event.registration)
            results = []
            for record in records:
                if record is None:  # getFetchResult(undefined) throws
                    raise TypeError("record is undefined")
                response = await _response_or_null(record.response_ready)
                results.append(await fetch_result(response, cors=cors))
            message: JSON = {
                "type": event.type,
                "eventRegistration": clone_registration(event.registration),
                "results": results,
            }
        except Exception:
            message = {"type": event.type, "eventRegistration": {}, "results": [], "error": True}
        client.post(message)

    for type in ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"):
        worker.add_event_listener(type, handle)


def sw_abort_js(worker: ServiceWorker, client: Client) -> None:
    @worker.on("backgroundfetchabort")
    async def handle(event: Any) -> None:
        results: list[JSON] = []
        for record in await event.registration.match_all():
            try:
                await record.response_ready
            except Exception as error:
                results.append({"response": False, "name": _name(error)})
            else:
                results.append({"response": True, "name": None})
        client.post({"type": event.type, "results": results})


UPDATE_PARAMS = {"update-once": ["Title1"], "update-twice": ["Title1", "Title2"]}


def sw_update_ui_js(worker: ServiceWorker, client: Client, edition: Edition) -> None:
    settled = "backgroundfetchsuccess" if edition == "current" else "backgroundfetched"

    def update_ui(event: Any, title: str) -> Any:
        return event.update_ui(title=title) if edition == "current" else event.update_ui(title)

    def event_id(event: Any) -> str:
        return str(event.registration.id if edition == "current" else event.id)

    @worker.on(settled)
    def handle(event: Any) -> None:
        if event_id(event) == "update-inactive":
            # A task after the handler returned, outside waitUntil: the event is inactive.
            async def later() -> None:
                await trio.sleep(0.001)
                try:
                    await update_ui(event, "New title")
                except Exception as error:
                    client.post({"type": event.type, "update": _name(error)})

            realm = running_global_scope.get()  # setTimeout: a task of the worker's realm
            assert realm is not None
            realm.tasks.in_parallel(later)
            return

        async def update() -> None:
            # Promise.all of every call, made in the same turn; the first rejection's name.
            promises = [update_ui(event, title) for title in UPDATE_PARAMS.get(event_id(event), [])]
            outcome = "update success"
            for promise in promises:
                try:
                    await promise
                except Exception as error:
                    outcome = _name(error) if outcome == "update success" else outcome
            client.post({"type": event.type, "update": outcome})

        event.wait_until(update())


# -- the 2017-10-12 edition --------------------------------------------------------


def sw_js_2017(worker: ServiceWorker, client: Client, *, cors: bool = False) -> None:
    """sw.js in the draft's terms: the settled fetches of backgroundfetched and
    backgroundfetchfail (``event.fetches.values()``), none for backgroundfetchabort; the
    event has an id and no registration (eventRegistration is ``{id}``)."""

    async def handle(event: Any) -> None:
        try:
            results = []
            fetches = getattr(event, "fetches", None)
            for settled in await fetches.values() if fetches is not None else []:
                results.append(await fetch_result(settled.response, cors=cors))
            message: JSON = {
                "type": event.type,
                "eventRegistration": {"id": event.id},
                "results": results,
            }
        except Exception:
            message = {"type": event.type, "eventRegistration": {}, "results": [], "error": True}
        client.post(message)

    for type in ("backgroundfetched", "backgroundfetchfail", "backgroundfetchabort"):
        worker.add_event_listener(type, handle)


def sw_settled_match_js(worker: ServiceWorker, client: Client) -> None:
    """The removed settled-event-match(all) workers, in the draft's names: in
    backgroundfetched, ``event.fetches.match(new Request(feature-name.txt))`` and the
    settled fetches of ``event.fetches.values()`` whose request matches it (the draft
    has no matchAll(request): values() filtered by URL)."""

    @worker.on("backgroundfetched")
    async def handle(event: Any) -> None:
        request = Request(FEATURE_NAME_PATH, base_url=client_base_url(event))
        match = await event.fetches.match(request)
        matches = [
            await fetch_result(settled.response)
            for settled in await event.fetches.values()
            if settled.request.url == request.url
        ]
        client.post(
            {
                "type": event.type,
                "match": None if match is None else await fetch_result(match.response),
                "matches": matches,
            }
        )


def client_base_url(event: Any) -> str:
    """The worker's base URL (its scope's origin is the page's)."""
    return str(event.background_fetch.service_worker_registration.scope_url.href)


# -- interfaces ---------------------------------------------------------------------


def sw_idl_js(worker: ServiceWorker, client: Client, interfaces: Callable[[], JSON]) -> None:
    """Answers the message 'interfaces' with the members of the worker's global."""

    def answer(data: JSON) -> None:
        if data == "interfaces":
            client.post({"interfaces": interfaces()})
        else:
            client.ready(data)

    client.answer = answer


def _name(error: BaseException) -> str:
    """A JavaScript exception's ``name``: a DOMException's, or the Python class's
    (TypeError is JavaScript's TypeError)."""
    return str(getattr(error, "name", type(error).__name__))


def make_worker(
    name: str, edition: Edition, client: Client, interfaces: Callable[[], JSON]
) -> ServiceWorker:
    """The ServiceWorker of behaviour *name* for *edition*."""
    worker = ServiceWorker(name)
    client.listen(worker)
    if name == "sw.js":
        (sw_js if edition == "current" else sw_js_2017)(worker, client)
    elif name == "sw-cors.js":
        (sw_js if edition == "current" else sw_js_2017)(worker, client, cors=True)
    elif name == "sw-abort.js" and edition == "current":
        sw_abort_js(worker, client)
    elif name == "sw-update-ui.js":
        sw_update_ui_js(worker, client, edition)
    elif name == "sw-settled-match.js" and edition == "2017-10-12":
        sw_settled_match_js(worker, client)
    elif name == "sw-idl.js":
        sw_idl_js(worker, client, interfaces)
    else:
        raise ValueError(f"no behaviour {name!r} for the {edition} edition")
    return worker
