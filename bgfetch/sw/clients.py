"""Clients, Client and WindowClient (Service Workers #clients-interface,
#client-interface): what a service worker sees of the windows of its origin, and how it
tells them something.

A bgfetch window is a top-level browsing context, always visible, whose document is
its environment; it has focus once focused (``focus()``, or ``open_window``) until
another window is.  "Window interaction" (HTML's transient activation, which
``open_window()`` and ``focus()`` need): the user's click on a background fetch's
display, while its ``backgroundfetchclick`` event is active (SPEC-NOTES.md SN-sw-1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from bgfetch.dom import create_an_event, dispatch
from bgfetch.errors import InvalidAccessError, InvalidStateError
from bgfetch.idl import dom_string
from bgfetch.infra import Promise
from bgfetch.sw.clone import structured_clone
from bgfetch.sw.environment import Environment, Window
from bgfetch.sw.messages import MessageEvent
from bgfetch.url import parse_url

if TYPE_CHECKING:
    from bgfetch.sw.registration import ServiceWorkerGlobalScope

ClientType = Literal["window", "worker", "sharedworker", "all"]
CLIENT_TYPES = ("window", "worker", "sharedworker", "all")
# The events whose handling gives the worker's origin "window interaction"
# (SPEC-NOTES.md SN-sw-1).
WINDOW_INTERACTION_EVENTS = frozenset({"backgroundfetchclick", "notificationclick"})


class Client:
    """The Client interface (#client-interface), over a service worker client."""

    def __init__(self, client: Environment, realm: ServiceWorkerGlobalScope) -> None:
        self._client = client
        self._realm = realm
        self.frame_type: str = "none"

    @property
    def url(self) -> str:
        """Service Workers #client-url: the client's serialized creation URL."""
        return self._client.url.href

    @property
    def id(self) -> str:
        """Service Workers #client-id"""
        return self._client.id

    @property
    def type(self) -> ClientType:
        """Service Workers #client-type"""
        return "window" if isinstance(self._client, Window) else "worker"

    def post_message(self, message: Any) -> None:
        """Service Workers #client-postmessage-options (no transfer list)."""
        from bgfetch.sw.objects import service_worker_object

        # 1. Let contextObject be this.  2. Let sourceSettings be its relevant settings
        # object (the worker's global scope).
        source_settings = self._realm
        # 3. Let serializeWithTransferResult be StructuredSerializeWithTransfer(message).
        # Rethrow any exceptions.
        message_clone = structured_clone(message)
        context_client = self._client

        # 4. Run the following steps in parallel:
        async def steps() -> None:
            # 4.1-4.3. Let targetClient be the context object's service worker client, if
            # it still is one (not discarded); else return.
            if context_client.discarded or not isinstance(context_client, Window):
                return
            target_client = context_client
            # 4.4. Let destination be the ServiceWorkerContainer of targetClient.
            destination = target_client.navigator.service_worker

            # 4.5. Add a task to destination's client message queue (enabled: it is the
            # window's event loop) that runs these steps:
            def task() -> None:
                # 4.5.1. Let origin be sourceSettings's origin.
                origin = source_settings.origin.serialize()
                # 4.5.2. Let source be the service worker object of the worker in
                # targetClient.
                source = service_worker_object(source_settings.worker, target_client)
                # 4.5.3-4.5.5. Deserialize (cloned already); no ports.
                # 4.5.6. Dispatch a MessageEvent "message" at destination.
                event = MessageEvent("message", data=message_clone, origin=origin, source=source)
                dispatch(create_an_event(event), destination)

            target_client.event_loop.queue_task(task)

        source_settings.tasks.in_parallel(steps)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


class WindowClient(Client):
    """The WindowClient interface (#client-interface): a window, as a snapshot of its
    visibility and focus when the object was made."""

    def __init__(
        self,
        client: Window,
        realm: ServiceWorkerGlobalScope,
        *,
        frame_type: str,
        visibility_state: str,
        focus_state: bool,
        ancestor_origins: list[str],
    ) -> None:
        super().__init__(client, realm)
        self.window = client
        self.frame_type = frame_type
        self.visibility_state = visibility_state
        self.focused = focus_state
        self.ancestor_origins = tuple(ancestor_origins)

    async def focus(self) -> WindowClient:
        """Service Workers #client-focus"""
        realm = self._realm
        # 1. If no Window in this origin has transient activation, reject with an
        # InvalidAccessError.
        if not has_window_interaction(realm):
            raise InvalidAccessError(
                "WindowClient.focus() is allowed only while handling a click "
                "(backgroundfetchclick): no window of this origin has transient activation"
            )
        # 2. Let serviceWorkerEventLoop be the surrounding agent's event loop.
        # 3. Let promise be a new promise.
        promise: Promise[WindowClient] = Promise()
        window = self.window

        # 4. Queue a task on the client's event loop (user interaction task source):
        def task() -> None:
            # 4.1. Run the focusing steps with this's browsing context.
            window.focus()
            # 4.2-4.5. Let frameType, visibilityState, focusState, ancestorOriginsList be
            # the browsing context's.
            focus_state = window.focused

            # 4.6. Queue a task on serviceWorkerEventLoop to run these steps:
            def back() -> None:
                # 4.6.1. Let windowClient be the result of Create Window Client.
                window_client = create_window_client(window, realm, focus_state=focus_state)
                # 4.6.2. If windowClient's focus state is true, resolve promise with it.
                if window_client.focused:
                    promise.resolve(window_client)
                # 4.6.3. Else, reject promise with a TypeError.
                else:
                    promise.reject(TypeError(f"{window.url.href} could not be focused"))

            realm.event_loop.queue_task(back)

        if window.discarded:
            raise TypeError(f"the window at {window.url.href} is closed")
        window.event_loop.queue_task(task)
        # 5. Return promise.
        return await promise


def create_window_client(
    client: Window, realm: ServiceWorkerGlobalScope, *, focus_state: bool | None = None
) -> WindowClient:
    """Create Window Client (#create-windowclient-algorithm), with a top-level, visible
    browsing context's frame type and visibility state."""
    return WindowClient(
        client,
        realm,
        frame_type="top-level",
        visibility_state="visible",
        focus_state=client.focused if focus_state is None else focus_state,
        ancestor_origins=[],
    )


def has_window_interaction(realm: ServiceWorkerGlobalScope) -> bool:
    """Whether the worker's origin has "transient activation": it is handling a trusted
    click on a display (SPEC-NOTES.md SN-sw-1)."""
    return any(
        event.type in WINDOW_INTERACTION_EVENTS and event.is_trusted and event.active
        for event in realm.handling()
    )


class Clients:
    """The Clients interface (#clients-interface) of a service worker's global scope."""

    def __init__(self, realm: ServiceWorkerGlobalScope) -> None:
        self._realm = realm

    def _clients(self) -> list[Environment]:
        """Each service worker client whose storage key (origin) is the registration's,
        its execution ready flag set and not discarded."""
        origin = self._realm.worker.registration.origin
        return [
            env
            for env in self._realm.user_agent.environments
            if isinstance(env, Window) and env.origin == origin and not env.discarded
        ]

    async def get(self, id: str) -> Client | None:
        """Service Workers #clients-get"""
        id = dom_string(id, "Clients.get(): id")
        # 1. Let promise be a new promise.
        promise: Promise[Client | None] = Promise()
        realm = self._realm
        # 2. Run these substeps in parallel:
        # 2.1. For each service worker client client of the registration's storage key:
        # 2.1.1. If client's id is not id, continue.
        found = next((client for client in self._clients() if client.id == id), None)
        if isinstance(found, Window):
            window = found
            # 2.1.2-2.1.3. (Execution ready.)  Queue a task to Resolve Get Client Promise.
            realm.event_loop.queue_task(
                lambda: promise.resolve(create_window_client(window, realm))
            )
            return await promise
        # 2.2. Queue a task to resolve promise with undefined.
        realm.event_loop.queue_task(lambda: promise.resolve(None))
        # 3. Return promise.
        return await promise

    async def match_all(
        self, *, include_uncontrolled: bool = False, type: ClientType = "window"
    ) -> list[Client]:
        """Service Workers #clients-matchall"""
        if type not in CLIENT_TYPES:
            raise TypeError(f"{type!r} is not a ClientType (one of {', '.join(CLIENT_TYPES)})")
        realm = self._realm
        worker = realm.worker
        # 1. Let promise be a new promise.
        promise: Promise[list[Client]] = Promise()
        # 2. Run the following steps in parallel:
        # 2.1. Let targetClients be a new list.
        target_clients: list[Window] = []
        # 2.2. For each service worker client client of the registration's storage key:
        for client in self._clients():
            # 2.2.1. (Execution ready and not discarded.)
            # 2.2.2. If client is not a secure context, continue.
            if not client.is_secure_context:
                continue
            # 2.2.3. If includeUncontrolled is false and client's active service worker is
            # not the associated service worker, continue.
            if not include_uncontrolled and client.active_service_worker is not worker:
                continue
            # 2.2.4. Add client to targetClients.
            assert isinstance(client, Window)
            target_clients.append(client)
        # 2.3. Let matchedWindowData be a new list.  2.4. (matchedClients: bgfetch has no
        # worker clients.)
        matched_window_data: list[tuple[Window, bool]] = []
        # 2.5. For each client in targetClients: windows, for "window" or "all".
        if type in ("window", "all"):
            for client in target_clients:
                # 2.5.1.1-2.5.1.7. windowData: its frame type, visibility and focus state.
                matched_window_data.append((client, client.focused))

        # 2.6. Queue a task on promise's event loop to run these steps:
        def task() -> None:
            # 2.6.1-2.6.2. Let clientObjects be a WindowClient for each windowData.
            # 2.6.4. Sort: focused windows first, most recently focused first, then the
            # others in creation order.
            ordered = sorted(
                matched_window_data,
                key=lambda data: (-data[0].focused_at, data[0].creation_order),
            )
            client_objects: list[Client] = [
                create_window_client(client, realm, focus_state=focus_state)
                for client, focus_state in ordered
            ]
            # 2.6.5. Resolve promise with a new frozen array of clientObjects.
            promise.resolve(client_objects)

        realm.event_loop.queue_task(task)
        # 3. Return promise.
        return await promise

    async def open_window(self, url: str) -> WindowClient | None:
        """Service Workers #clients-openwindow"""
        realm = self._realm
        # 1. Let url be the result of parsing url with this's API base URL.
        # 2. If url is failure, reject with a TypeError (parse_url's names the URL).
        parsed = parse_url(dom_string(url, "Clients.open_window(): url"), realm.api_base_url)
        # 3. If url is about:blank, reject with a TypeError.
        if parsed.href == "about:blank":
            raise TypeError("Clients.open_window() cannot open about:blank")
        # 4. If no Window in this origin has transient activation, reject with an
        # InvalidAccessError.
        if not has_window_interaction(realm):
            raise InvalidAccessError(
                "Clients.open_window() is allowed only while handling a click "
                "(backgroundfetchclick): no window of this origin has transient activation"
            )
        # 5. Let serviceWorkerEventLoop be the current global object's event loop.
        # 6. Let promise be a new promise.
        promise: Promise[WindowClient | None] = Promise()
        ua = realm.user_agent
        # 7. Run these substeps in parallel:
        # 7.1. Let newContext be a new top-level browsing context.
        # 7.2. Queue a task on its event loop: 7.2.1. navigate it to url.
        new_window = await ua.open_window(parsed.href)
        # 7.2.3-7.2.6. Its frame type, visibility and focus state (a new window has focus).
        new_window.focus()

        # 7.2.7. Queue a task on serviceWorkerEventLoop to run these steps:
        def task() -> None:
            # 7.2.7.1. If newContext's storage key is not the registration's, resolve
            # promise with null.
            if new_window.origin != realm.worker.registration.origin:
                promise.resolve(None)
                return
            # 7.2.7.2. Let client be the result of Create Window Client.
            # 7.2.7.3. Resolve promise with client.
            promise.resolve(create_window_client(new_window, realm))

        new_window.event_loop.queue_task(lambda: realm.event_loop.queue_task(task))
        # 8. Return promise.
        return await promise

    async def claim(self) -> None:
        """Service Workers #clients-claim"""
        from bgfetch.sw.lifecycle import (
            handle_service_worker_client_unload,
            match_service_worker_registration,
            notify_controller_change,
        )

        realm = self._realm
        worker = realm.worker
        registration = worker.registration
        # 1. If the service worker is not an active worker, reject with InvalidStateError.
        if registration.active_worker is not worker:
            raise InvalidStateError("Clients.claim(): this service worker is not active")
        # 2. Let promise be a new promise.
        promise: Promise[None] = Promise()
        # 3. Run the following substeps in parallel:
        # 3.1. For each service worker client client of the registration's storage key:
        for client in self._clients():
            # 3.1.1. (Execution ready and not discarded.)
            # 3.1.2. If client is not a secure context, continue.
            if not client.is_secure_context:
                continue
            # 3.1.4. Let registration be Match Service Worker Registration for its URL.
            # 3.1.5. If it is not the worker's containing registration, continue.
            if match_service_worker_registration(realm.user_agent, client.url) is not (
                registration
            ):
                continue
            # 3.1.6. If client's active service worker is not the service worker, then:
            if client.active_service_worker is not worker:
                # 3.1.6.1. Invoke Handle Service Worker Client Unload with client.
                handle_service_worker_client_unload(client)
                # 3.1.6.2. Set client's active service worker to the service worker.
                client.active_service_worker = worker
                # 3.1.6.3. Invoke Notify Controller Change with client.
                notify_controller_change(client)
        # 3.2. Queue a task to resolve promise with undefined.
        realm.event_loop.queue_task(lambda: promise.resolve(None))
        # 4. Return promise.
        await promise
