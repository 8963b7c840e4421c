"""``navigator.service_worker``: register a worker, wait until one is ready."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.errors import SecurityError
from bgfetch.fetch.checks import is_potentially_trustworthy_origin
from bgfetch.sw.event_types import check_for_edition
from bgfetch.sw.registration import (
    Registration,
    ServiceWorker,
    ServiceWorkerRegistration,
    registration_object,
)
from bgfetch.waits import waiting_for

if TYPE_CHECKING:
    from bgfetch.sw.environment import Window


class ServiceWorkerContainer:
    """ServiceWorkerContainer, for a window."""

    def __init__(self, window: Window) -> None:
        self.window = window

    async def register(
        self, script: ServiceWorker, *, scope: str = "/"
    ) -> ServiceWorkerRegistration:
        """Register *script* for *scope* (a URL relative to the window's URL).

        Resolves once the registration has an installing worker, as the web's
        ``register()`` does; installing and activating go on in the background.
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
        registration = ua.registrations.get(scope_url.href)
        if registration is None:
            registration = Registration(ua, scope_url)
            ua.registrations[scope_url.href] = registration
        ua.tasks.in_parallel(registration.install, script)
        await registration.changed.wait_for(
            lambda: (
                registration.installing_worker is not None or registration.active_worker is not None
            )
        )
        return registration_object(registration, self.window)

    def matching_registration(self) -> Registration | None:
        """Match Service Worker Registration for the window's URL: the longest scope prefix."""
        url = self.window.url.href
        matches = [
            reg
            for scope, reg in self.window.user_agent.registrations.items()
            if url.startswith(scope)
        ]
        return max(matches, key=lambda reg: len(reg.scope_url.href), default=None)

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
