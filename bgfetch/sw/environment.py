"""Environment settings objects (HTML): windows and service worker global scopes.

Each environment is also its own realm: it keeps the platform objects it has
created for shared concepts (one ServiceWorkerRegistration object per
registration, and through it one BackgroundFetchManager), and it has an event
loop on which tasks are queued.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bgfetch.fetch.checks import is_potentially_trustworthy_url
from bgfetch.fetch.request import Request as FetchRequest
from bgfetch.infra import EventLoop, TaskOwner
from bgfetch.url import URL, Origin, parse_url

if TYPE_CHECKING:
    from bgfetch.sw.caches import CacheStorage
    from bgfetch.sw.container import ServiceWorkerContainer
    from bgfetch.sw.registration import WorkerInstance
    from bgfetch.useragent import UserAgent

T = TypeVar("T")
_creation_order = itertools.count(1)


class Environment:
    """An environment settings object, with its realm and responsible event loop."""

    kind = "environment"

    def __init__(self, user_agent: UserAgent, url: URL, *, csp: str | None = None) -> None:
        origin = url.origin
        if origin is None:
            raise TypeError(f"{url.href} has an opaque origin; an environment needs a tuple origin")
        self.user_agent = user_agent
        self.url = url  # the creation URL, which is also the API base URL
        self.origin: Origin = origin
        self.csp = csp  # a Content-Security-Policy header value, if the window has one
        self.event_loop = EventLoop(f"{self.kind} {url.href}")
        # Its tasks: the event loop, listeners and whatever runs in parallel for it
        # (set when the user agent adds it).
        self.tasks: TaskOwner = TaskOwner(f"{self.kind} {url.href} (not started)")
        self._realm: dict[tuple[str, int], Any] = {}
        # HTML's environment id, and the service worker client's concepts (Service
        # Workers #dfn-service-worker-client): its active service worker (the worker that
        # controls it) and its discarded flag.  Its execution ready flag is set at once.
        self.id = str(uuid.uuid4())
        self.creation_order = next(_creation_order)
        self.active_service_worker: WorkerInstance | None = None
        self.discarded = False

    @property
    def api_base_url(self) -> URL:
        return self.url

    @property
    def is_secure_context(self) -> bool:
        """HTML #secure-context: its top-level creation URL (a window's URL; a service
        worker's, whose registration needed a potentially trustworthy origin) is a
        potentially trustworthy URL (Secure Contexts)."""
        return is_potentially_trustworthy_url(self.url)

    def require_secure_context(self, member: str) -> None:
        """A [SecureContext] member is not exposed in an environment that is not a secure
        context: an AttributeError, as the member is undefined in JavaScript there."""
        if not self.is_secure_context:
            raise AttributeError(
                f"{member} is [SecureContext]: {self.origin.serialize()} is not a potentially "
                "trustworthy origin (https, or http on localhost or a loopback address)"
            )

    @property
    def caches(self) -> CacheStorage:
        """``self.caches`` (WindowOrWorkerGlobalScope), [SecureContext]: this realm's
        CacheStorage."""
        from bgfetch.sw.caches import cache_storage

        self.require_secure_context("caches")
        return cache_storage(self)

    def parse(self, url: str) -> URL:
        """Parse *url* against this environment's API base URL."""
        return parse_url(url, self.api_base_url)

    def Request(self, input: str | FetchRequest, **init: Any) -> FetchRequest:
        """This realm's ``Request`` constructor: ``new Request(input, init)`` as this
        page (or worker) would call it, a relative URL parsed against its API base URL.
        *init*: ``method``, ``headers``, ``body``, ``mode``, ``credentials``."""
        return FetchRequest(input, base_url=self.api_base_url, **init)

    def platform_object(self, kind: str, concept: object, create: Callable[[], T]) -> T:
        """The one platform object of *kind* for *concept* in this realm, made on first use."""
        key = (kind, id(concept))
        if key not in self._realm:
            self._realm[key] = (concept, create())  # keep the concept alive with its id
        made: T = self._realm[key][1]
        return made

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url.href}>"


class Navigator:
    def __init__(self, window: Window, service_worker: ServiceWorkerContainer) -> None:
        self._window = window
        self._service_worker = service_worker

    @property
    def service_worker(self) -> ServiceWorkerContainer:
        """``navigator.serviceWorker``, [SecureContext] (Service Workers)."""
        self._window.require_secure_context("navigator.service_worker")
        return self._service_worker


class Window(Environment):
    """A window (a document's environment): ``window.navigator.service_worker``."""

    kind = "window"

    def __init__(self, user_agent: UserAgent, url: URL, *, csp: str | None = None) -> None:
        super().__init__(user_agent, url, csp=csp)
        from bgfetch.sw.container import ServiceWorkerContainer

        self.navigator = Navigator(self, ServiceWorkerContainer(self))
        # Its browsing context's focus: when it was last focused (0: never), for
        # WindowClient's focus state and Clients.matchAll()'s order.
        self.focused_at = 0

    @property
    def focused(self) -> bool:
        """HTML's "has focus steps": the window focused most recently has focus."""
        windows = [env for env in self.user_agent.environments if isinstance(env, Window)]
        latest = max(windows, key=lambda window: window.focused_at, default=None)
        return latest is self and self.focused_at > 0

    def focus(self) -> None:
        """HTML's focusing steps, for this window's browsing context."""
        self.focused_at = next(_creation_order)

    async def close(self) -> None:
        """Close the window: it stops receiving tasks (progress events, promises)."""
        from bgfetch.sw.lifecycle import handle_service_worker_client_unload

        self.user_agent.environments.remove(self)
        self.discarded = True
        self.event_loop.close()
        self.tasks.close()  # its listeners and the record objects' work end with it
        handle_service_worker_client_unload(self)
