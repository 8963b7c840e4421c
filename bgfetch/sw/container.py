"""``navigator.service_worker``: register a worker, wait until one is ready, hear the
messages the service worker sends (ServiceWorkerContainer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bgfetch.dom import Event, EventHandler, EventTarget
from bgfetch.errors import SecurityError
from bgfetch.fetch.checks import is_potentially_trustworthy_origin
from bgfetch.infra import Promise
from bgfetch.sw.event_types import check_for_edition
from bgfetch.sw.lifecycle import match_service_worker_registration, register, schedule_job
from bgfetch.sw.registration import (
    Registration,
    ServiceWorker,
    ServiceWorkerRegistration,
    registration_object,
)
from bgfetch.waits import waiting_for

if TYPE_CHECKING:
    from bgfetch.sw.environment import Window
    from bgfetch.sw.objects import ServiceWorkerObject


class ServiceWorkerContainer(EventTarget):
    """ServiceWorkerContainer (Service Workers #serviceworkercontainer-interface), for a
    window: its ``message`` and ``controllerchange`` events, with ``onmessage``.

    Its client message queue is enabled from the start: a bgfetch window's document
    has finished loading when ``open_window()`` returns (HTML enables it then;
    SPEC-NOTES.md SN-sw-3)."""

    onmessage = EventHandler("message")
    onmessageerror = EventHandler("messageerror")
    oncontrollerchange = EventHandler("controllerchange")

    def __init__(self, window: Window) -> None:
        super().__init__()
        self.window = window

    def call_listener(self, callback: Callable[[Event], Any], event: Event) -> None:
        """A listener runs on the window's event loop (bgfetch.dom)."""
        self.window.event_loop.call_listener(callback, event)

    @property
    def controller(self) -> ServiceWorkerObject | None:
        """Service Workers #navigator-service-worker-controller"""
        from bgfetch.sw.objects import service_worker_object

        # 1. Let client be this's service worker client.
        client = self.window
        # 2. If client's active service worker is null, then return null.
        if client.active_service_worker is None:
            return None
        # 3. Return the service worker object that represents it in this's realm.
        return service_worker_object(client.active_service_worker, self.window)

    async def register(
        self, script: ServiceWorker, *, scope: str = "/"
    ) -> ServiceWorkerRegistration:
        """Register *script* for *scope* (a URL relative to the window's URL).

        Resolves once the registration has an installing worker (or, registering the
        script it already has, at once), as the web's ``register()`` does; installing
        and activating go on in the background.  Registering another script at a scope
        that has one is an update: the new worker waits until no window uses the old
        one, unless it calls ``worker.skip_waiting()``.
        """
        if not isinstance(script, ServiceWorker):
            raise TypeError(f"register() takes a bgfetch.ServiceWorker, not {script!r}")
        # Service Workers' Register, step 1: a script URL whose origin is not potentially
        # trustworthy is a SecurityError (the script is Python here: its URL's origin is
        # the window's).
        if not is_potentially_trustworthy_origin(self.window.origin):
            raise SecurityError(
                f"register(): {self.window.origin.serialize()} is not a potentially "
                "trustworthy origin (https, or http on localhost or a loopback address)"
            )
        check_for_edition(script, script.event_types(), self.window.user_agent.edition)
        scope_url = self.window.parse(scope)
        if scope_url.origin != self.window.origin:
            raise TypeError(
                f"scope {scope_url.href} is not of the window's origin {self.window.origin}"
            )
        ua = self.window.user_agent
        promise: Promise[Registration] = Promise()
        schedule_job(ua, scope_url, lambda: register(ua, scope_url, script, promise))
        registration = await promise
        return registration_object(registration, self.window)

    def matching_registration(self) -> Registration | None:
        """Match Service Worker Registration for the window's URL: the longest scope prefix."""
        return match_service_worker_registration(self.window.user_agent, self.window.url)

    async def get_registration(self) -> ServiceWorkerRegistration | None:
        registration = self.matching_registration()
        return registration_object(registration, self.window) if registration else None

    @property
    async def ready(self) -> ServiceWorkerRegistration:
        """Resolves with the matching registration once it has an active worker."""
        ua = self.window.user_agent

        def active() -> Registration | None:
            registration = self.matching_registration()
            return registration if registration and registration.active_worker else None

        with waiting_for(self._why_not_ready):
            await ua.registrations_changed.wait_for(lambda: active() is not None)
        registration = active()
        assert registration is not None
        return registration_object(registration, self.window)

    def start_messages(self) -> None:
        """Service Workers #navigator-service-worker-startMessages (enabled already)."""

    def _why_not_ready(self) -> str:
        """Why ``ready`` has not resolved (bgfetch.waits): what a stuck test is told."""
        url = self.window.url.href
        scopes = sorted(self.window.user_agent.registrations)
        registration = self.matching_registration()
        if not scopes:
            why = "no service worker is registered (a forgotten register()?)"
        elif registration is None:
            why = f"no registration's scope covers {url} (the scopes: {', '.join(scopes)})"
        elif registration.installing_worker is not None:
            why = (
                f"the worker of scope {registration.scope_url.href} is still installing "
                "(an install handler or its wait_until() has not finished)"
            )
        else:
            why = f"the registration of scope {registration.scope_url.href} has no active worker"
        return f"service_worker.ready: {why}"
