"""Service workers, their registrations, and firing functional events (Service Workers).

``ServiceWorker`` is what an author writes: handlers per event type.  The spec's
*service worker* concept (state, global object) is :class:`WorkerInstance`, and
its *service worker registration* is :class:`Registration`; the
``ServiceWorkerRegistration`` API object is one per realm over a Registration.
None of this knows any Background Fetch edition: an edition keeps its per-registration
state in ``Registration.extensions`` and makes the ``background_fetch`` manager
through the user agent's edition.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import trio

from bgfetch.dom import create_an_event
from bgfetch.infra import Condition
from bgfetch.sw.environment import Environment
from bgfetch.sw.event_types import check_event_type
from bgfetch.sw.events import ExtendableEvent
from bgfetch.url import URL

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent

Handler = Callable[[Any], Any]
H = TypeVar("H", bound=Handler)
E = TypeVar("E", bound=ExtendableEvent)


class ServiceWorker:
    """A service worker script, in Python: handlers per event type.

    >>> worker = ServiceWorker()
    >>> @worker.on("backgroundfetchsuccess")
    ... async def on_success(event): ...
    """

    def __init__(self, name: str = "service-worker") -> None:
        self.name = name
        self._handlers: dict[str, list[Handler]] = {}

    def on(self, type: str) -> Callable[[H], H]:
        """Decorator: add the function as a listener for *type* events.

        A type no service worker receives is a ValueError naming the closest known one
        (bgfetch.sw.event_types), and ``@worker.on`` without its type a TypeError."""
        if callable(type):
            name = getattr(type, "__name__", "handler")
            raise TypeError(
                f'@worker.on needs the event type: write @worker.on("backgroundfetchsuccess") '
                f"above def {name}(event), not @worker.on"
            )
        check_event_type(type)

        def add(handler: H) -> H:
            self.add_event_listener(type, handler)
            return handler

        return add

    def add_event_listener(self, type: str, handler: Handler) -> None:
        """Add *handler* (a function of the event, sync or async) for *type* events."""
        check_event_type(type)
        if not callable(handler):
            raise TypeError(f"a {type} handler must be callable, not {handler!r}")
        self._handlers.setdefault(type, []).append(handler)

    def handlers(self, type: str) -> list[Handler]:
        return list(self._handlers.get(type, []))

    def event_types(self) -> list[str]:
        """The event types this worker listens for."""
        return list(self._handlers)

    def __repr__(self) -> str:
        return f"<ServiceWorker {self.name}>"


class ServiceWorkerGlobalScope(Environment):
    """The environment a service worker runs in; ``registration`` is its realm's object."""

    kind = "service worker"

    def __init__(self, user_agent: UserAgent, worker: WorkerInstance) -> None:
        super().__init__(user_agent, worker.registration.scope_url)
        self.worker = worker

    @property
    def registration(self) -> ServiceWorkerRegistration:
        return registration_object(self.worker.registration, self)

    def dispatch(self, event: ExtendableEvent) -> None:
        """Dispatch *event* to the script's handlers (run as a task of this event loop)."""
        event.dispatching = True
        event._owner = self.tasks
        for handler in self.worker.script.handlers(event.type):
            if inspect.iscoroutinefunction(handler):
                # An async handler is part of the dispatch until it returns (events.py).
                event.pending_promises += 1
                self.tasks.in_parallel(self._run_handler, handler, event)
                continue
            try:
                result = handler(event)
            except Exception as error:
                self.user_agent.report_handler_error(event, error)
                continue
            if inspect.isawaitable(result):
                event.wait_until(result)
        event.dispatching = False
        event._notify()

    async def _run_handler(self, handler: Handler, event: ExtendableEvent) -> None:
        try:
            await handler(event)
        except Exception as error:
            self.user_agent.report_handler_error(event, error)
        except BaseException:
            event.interrupted = True  # cancelled with this global scope: never handled
            raise
        finally:
            event.pending_promises -= 1
            event._notify()


@attrs.define(eq=False)
class WorkerInstance:
    """The spec's *service worker* concept: a script, a state, a global object."""

    script: ServiceWorker
    registration: Registration
    state: Literal["parsed", "installing", "installed", "activating", "activated", "redundant"] = (
        "parsed"
    )
    global_scope: ServiceWorkerGlobalScope | None = None

    def run(self) -> ServiceWorkerGlobalScope:
        """Run Service Worker: set up its global scope and event loop once."""
        if self.global_scope is None:
            ua = self.registration.user_agent
            self.global_scope = ServiceWorkerGlobalScope(ua, self)
            ua.add_environment(self.global_scope)
        return self.global_scope


@attrs.define(eq=False)
class Registration:
    """The spec's *service worker registration* concept."""

    user_agent: UserAgent = attrs.field(repr=False)
    scope_url: URL
    installing_worker: WorkerInstance | None = None
    waiting_worker: WorkerInstance | None = None
    active_worker: WorkerInstance | None = None
    changed: Condition = attrs.field(
        default=attrs.Factory(lambda self: self.user_agent.registrations_changed, takes_self=True),
        repr=False,
    )
    # Specifications that extend a registration keep their state here, by name.
    extensions: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def origin(self) -> Any:
        return self.scope_url.origin

    async def install(self, script: ServiceWorker) -> None:
        """Install then Activate (Service Workers #installation-algorithm, #activation-algorithm):
        fire ``install`` and ``activate``, each awaited until no longer active."""
        worker = WorkerInstance(script, self)
        self.installing_worker = worker
        worker.state = "installing"
        self.changed.notify()
        scope = worker.run()
        if not await _fire_and_wait(scope, create_an_event(ExtendableEvent("install"))):
            worker.state = "redundant"
            self.installing_worker = None
            self.changed.notify()
            return
        self.installing_worker = None
        self.waiting_worker = worker
        worker.state = "installed"
        self.changed.notify()
        self.waiting_worker = None
        self.active_worker = worker
        worker.state = "activating"
        self.changed.notify()
        await _fire_and_wait(scope, create_an_event(ExtendableEvent("activate")))
        worker.state = "activated"
        self.changed.notify()


async def _fire_and_wait(scope: ServiceWorkerGlobalScope, event: ExtendableEvent) -> bool:
    """Dispatch a lifecycle event; False if a handler or wait_until promise failed."""
    done = trio.Event()

    def task() -> None:
        scope.dispatch(event)
        done.set()

    scope.event_loop.queue_task(task)
    await done.wait()
    await event.wait_inactive()
    return not event.errors and not scope.user_agent.handler_errors_for(event)


def fire_functional_event(
    registration: Registration,
    name: str,
    create_event: Callable[[ServiceWorkerGlobalScope], E],
    then: Callable[[E], None] | None = None,
) -> bool:
    """Fire a functional event (Service Workers #fire-functional-event).

    *create_event* builds the event in the worker's realm (its global scope);
    *then*, if given, is called with the dispatched event ("then run these steps with
    dispatchedEvent in parallel": the caller starts them in parallel, as a task of
    whoever owns them).  Returns False when there is no active worker to receive it.
    """
    # 1-2. Let activeWorker be registration's active worker; nothing to do without one.
    active_worker = registration.active_worker
    if active_worker is None:
        return False
    # 3. Run Service Worker (its global scope and event loop).
    scope = active_worker.run()

    # 4. Queue a task on activeWorker's event loop to create, initialize and dispatch the event.
    def task() -> None:
        # 4.1-4.2. Let event be the result of creating an event with eventConstructor, in
        # the relevant realm of activeWorker's global object (the user agent's: trusted).
        event = create_an_event(create_event(scope))
        assert event.type == name, f"{name} fired with an event of type {event.type}"
        scope.dispatch(event)
        if then is not None:
            then(event)

    scope.event_loop.queue_task(task)
    return True


class ServiceWorkerRegistration:
    """The ServiceWorkerRegistration interface, one per registration per realm."""

    def __init__(self, registration: Registration, environment: Environment) -> None:
        self.registration = registration
        self.environment = environment
        self._background_fetch: Any = None

    @property
    def scope(self) -> str:
        return self.registration.scope_url.href

    @property
    def installing(self) -> WorkerInstance | None:
        return self.registration.installing_worker

    @property
    def waiting(self) -> WorkerInstance | None:
        return self.registration.waiting_worker

    @property
    def active(self) -> WorkerInstance | None:
        return self.registration.active_worker

    @property
    def background_fetch(self) -> Any:
        """``registration.backgroundFetch``: this registration's BackgroundFetchManager,
        of the user agent's edition.  Only in a secure context: ServiceWorkerRegistration
        is [SecureContext] (Service Workers), so are the members of its partial
        interfaces (SPEC-NOTES.md SN-current-29)."""
        self.environment.require_secure_context("registration.background_fetch")
        if self._background_fetch is None:
            edition = self.registration.user_agent.edition
            self._background_fetch = edition.new_manager(self)
        return self._background_fetch

    def __repr__(self) -> str:
        return f"<ServiceWorkerRegistration scope={self.scope}>"


def registration_object(
    registration: Registration, environment: Environment
) -> ServiceWorkerRegistration:
    """Get the service worker registration object for *registration* in *environment*'s realm."""
    return environment.platform_object(
        "ServiceWorkerRegistration",
        registration,
        lambda: ServiceWorkerRegistration(registration, environment),
    )
