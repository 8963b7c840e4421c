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

import contextvars
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs

from bgfetch.dom import create_an_event
from bgfetch.infra import Condition, Promise
from bgfetch.sw.environment import Environment
from bgfetch.sw.event_types import check_event_type
from bgfetch.sw.events import ExtendableEvent
from bgfetch.url import URL

if TYPE_CHECKING:
    from bgfetch.sw.caches import CacheStorage
    from bgfetch.sw.clients import Clients
    from bgfetch.sw.objects import ServiceWorkerObject
    from bgfetch.useragent import UserAgent

Handler = Callable[[Any], Any]
H = TypeVar("H", bound=Handler)
E = TypeVar("E", bound=ExtendableEvent)


class _EventHandlerListener:
    """The listener an event handler attribute adds: it stands for the attribute's value
    (ServiceWorker.handlers() gives the value)."""

    def __init__(self, type: str) -> None:
        self.type = type

    def __call__(self, event: Any) -> None:  # pragma: no cover - handlers() resolves it
        raise AssertionError("an event handler's listener is never called itself")


class EventHandlerAttribute:
    """An event handler IDL attribute (HTML #event-handler-attributes) on a ServiceWorker
    script: set to a function, its listener is added where the list then ends (at the
    first set, "activate an event handler"); set again, the value changes in place; set
    to None, the listener is removed ("deactivate")."""

    type: str

    def __set_name__(self, owner: object, name: str) -> None:
        self.type = name.removeprefix("on")

    @overload
    def __get__(self, obj: None, owner: object) -> EventHandlerAttribute: ...
    @overload
    def __get__(self, obj: ServiceWorker, owner: object) -> Handler | None: ...
    def __get__(
        self, obj: ServiceWorker | None, owner: object
    ) -> EventHandlerAttribute | Handler | None:
        if obj is None:
            return self
        return obj._event_handlers.get(self.type)

    def __set__(self, obj: ServiceWorker, value: Handler | None) -> None:
        if value is not None and not callable(value):
            raise TypeError(f"on{self.type} must be a function or None, not {value!r}")
        listeners = obj._handlers.setdefault(self.type, [])
        active = any(isinstance(h, _EventHandlerListener) for h in listeners)
        if value is None:
            obj._event_handlers.pop(self.type, None)
            listeners[:] = [h for h in listeners if not isinstance(h, _EventHandlerListener)]
            if not listeners:
                del obj._handlers[self.type]  # it listens for the type no more
            return
        obj._event_handlers[self.type] = value
        if not active:
            listeners.append(_EventHandlerListener(self.type))


class ServiceWorker:
    """A service worker script, in Python: handlers per event type.

    >>> worker = ServiceWorker()
    >>> @worker.on("backgroundfetchsuccess")
    ... async def on_success(event): ...
    """

    def __init__(self, name: str = "service-worker") -> None:
        self.name = name
        self._handlers: dict[str, list[Handler]] = {}
        self._event_handlers: dict[str, Handler] = {}  # the on<type> attributes set

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
        return [
            self._event_handlers[type] if isinstance(handler, _EventHandlerListener) else handler
            for handler in self._handlers.get(type, [])
        ]

    # The global scope's event handler attributes (Service Workers
    # #service-worker-global-scope-event-handlers, and Background Fetch's: the current
    # edition's, then the 2017-10-12 draft's backgroundfetched), as HTML defines them:
    # ``worker.onbackgroundfetchsuccess = handler``.
    oninstall = EventHandlerAttribute()
    onactivate = EventHandlerAttribute()
    onmessage = EventHandlerAttribute()
    onbackgroundfetchsuccess = EventHandlerAttribute()
    onbackgroundfetchfail = EventHandlerAttribute()
    onbackgroundfetchabort = EventHandlerAttribute()
    onbackgroundfetchclick = EventHandlerAttribute()
    onbackgroundfetched = EventHandlerAttribute()

    # The running realm's ``self``: what a handler of this worker sees of the global scope
    # it runs in (this object may run in several user agents at once; each handler sees
    # its own realm's).
    @property
    def registration(self) -> ServiceWorkerRegistration:
        """``self.registration`` of the global scope the calling handler runs in."""
        return self._running_scope("registration").registration

    @property
    def caches(self) -> CacheStorage:
        """``self.caches`` of the global scope the calling handler runs in."""
        return self._running_scope("caches").caches

    @property
    def clients(self) -> Clients:
        """``self.clients`` of the global scope the calling handler runs in."""
        return self._running_scope("clients").clients

    def skip_waiting(self) -> Promise[None]:
        """``self.skipWaiting()`` of the global scope the calling handler runs in."""
        return self._running_scope("skip_waiting()").skip_waiting()

    def _running_scope(self, what: str) -> ServiceWorkerGlobalScope:
        scope = running_global_scope.get()
        if scope is None:
            raise RuntimeError(
                f"worker.{what} is the running service worker's: it can be used only in "
                f"a handler of {self!r} (or what it calls) while an event is dispatched; on "
                "a page use the window's (window.caches, window.navigator.service_worker)"
            )
        if scope.worker.script is not self:
            raise RuntimeError(
                f"worker.{what} of {self!r} used in a handler of {scope.worker.script!r}: "
                "each worker's global scope is its own"
            )
        return scope

    def event_types(self) -> list[str]:
        """The event types this worker listens for."""
        return list(self._handlers)

    def __repr__(self) -> str:
        return f"<ServiceWorker {self.name}>"


# The global scope whose event a handler is running for: set by each dispatch (and
# copied into the tasks a handler starts), so ``worker.caches`` is that realm's.
running_global_scope: contextvars.ContextVar[ServiceWorkerGlobalScope | None] = (
    contextvars.ContextVar("running_global_scope", default=None)
)


class ServiceWorkerGlobalScope(Environment):
    """The environment a service worker runs in: ``self.registration``, ``self.caches``,
    ``self.clients`` of its realm (which the running handler reads as ``worker.*``)."""

    kind = "service worker"

    def __init__(self, user_agent: UserAgent, worker: WorkerInstance) -> None:
        super().__init__(user_agent, worker.registration.scope_url)
        self.worker = worker
        self._dispatching: ExtendableEvent | None = None

    def handling(self) -> list[ExtendableEvent]:
        """The events this global scope is handling: being dispatched, or extended."""
        events = list(self.worker.set_of_extended_events)
        if self._dispatching is not None:
            events.append(self._dispatching)
        return [event for event in events if event.active]

    @property
    def registration(self) -> ServiceWorkerRegistration:
        """Service Workers #service-worker-global-scope-registration"""
        return registration_object(self.worker.registration, self)

    @property
    def clients(self) -> Clients:
        """Service Workers #service-worker-global-scope-clients"""
        from bgfetch.sw.clients import Clients

        return self.platform_object("Clients", self, lambda: Clients(self))

    def skip_waiting(self) -> Promise[None]:
        """Service Workers #service-worker-global-scope-skipwaiting"""
        from bgfetch.sw.lifecycle import try_activate

        # 1. Let promise be a new promise.
        promise: Promise[None] = Promise()
        worker = self.worker

        # 2. Run the following substeps in parallel:
        async def steps() -> None:
            # 2.1. Set service worker's skip waiting flag.
            worker.skip_waiting_flag = True
            # 2.2. Invoke Try Activate with service worker's containing registration.
            try_activate(worker.registration)
            # 2.3. Queue a task on service worker's event loop to resolve promise.
            self.event_loop.queue_task(lambda: promise.resolve(None))

        self.tasks.in_parallel(steps)
        # 3. Return promise.
        return promise

    def dispatch(self, event: ExtendableEvent) -> None:
        """Dispatch *event* to the script's handlers (run as a task of this event loop),
        each running with this global scope as the running realm's."""
        event.dispatching = True
        event._owner = self.tasks
        token = running_global_scope.set(self)
        self._dispatching = event
        try:
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
        finally:
            running_global_scope.reset(token)
            self._dispatching = None
        event.dispatching = False
        event._notify()
        update_service_worker_extended_events_set(self.worker, event)

    async def _run_handler(self, handler: Handler, event: ExtendableEvent) -> None:
        running_global_scope.set(self)  # this task's own context
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


def update_service_worker_extended_events_set(
    worker: WorkerInstance, event: ExtendableEvent
) -> None:
    """Service Workers #update-service-worker-extended-events-set-algorithm (and, as the
    notes of Install and Unregister say, Activate and Clear Registration are tried again
    once the extended events settle)."""
    from bgfetch.sw.lifecycle import extended_events_settled

    # 1. Assert: event's dispatch flag is unset.
    assert not event.dispatching
    # 2. For each item of worker's set of extended events: remove it if not active.
    worker.set_of_extended_events = [e for e in worker.set_of_extended_events if e.active]
    # 3. If event is active, append event to worker's set of extended events.
    if event.active:
        worker.set_of_extended_events.append(event)

        def settled() -> None:
            # Not a spec step: an event no longer active leaves the set at once (the
            # spec removes it at the next update; SPEC-NOTES.md SN-sw-5).
            if event in worker.set_of_extended_events:
                worker.set_of_extended_events.remove(event)
            extended_events_settled(worker)

        event.when_inactive(settled)


State = Literal["parsed", "installing", "installed", "activating", "activated", "redundant"]


@attrs.define(eq=False)
class WorkerInstance:
    """The spec's *service worker* concept: a script, a state, a global object."""

    script: ServiceWorker
    registration: Registration
    state: State = "parsed"
    global_scope: ServiceWorkerGlobalScope | None = None
    skip_waiting_flag: bool = False
    set_of_extended_events: list[ExtendableEvent] = attrs.field(factory=list, repr=False)

    def run(self) -> ServiceWorkerGlobalScope:
        """Run Service Worker: set up its global scope and event loop once."""
        if self.global_scope is None:
            ua = self.registration.user_agent
            self.global_scope = ServiceWorkerGlobalScope(ua, self)
            ua.add_environment(self.global_scope)
        return self.global_scope

    def run_or_fail(self) -> ServiceWorkerGlobalScope | None:
        """Run Service Worker, whose result is *failure* (None) for a worker that is
        redundant: terminated, it runs no more."""
        return None if self.state == "redundant" else self.run()

    def terminate(self) -> None:
        """Terminate Service Worker: its global scope's event loop and tasks end (its
        handlers are cancelled: an event they were handling was never handled)."""
        scope, self.global_scope = self.global_scope, None
        if scope is not None:
            ua = self.registration.user_agent
            if scope in ua.environments:
                ua.environments.remove(scope)
            scope.discarded = True
            scope.event_loop.close()
            scope.tasks.close()
        self.set_of_extended_events = []

    def __repr__(self) -> str:
        return f"<WorkerInstance {self.script.name} {self.state}>"


@attrs.define(eq=False)
class Registration:
    """The spec's *service worker registration* concept.  It is *unregistered* once the
    user agent's registration map no longer holds it."""

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

    @property
    def unregistered(self) -> bool:
        return self.user_agent.registrations.get(self.scope_url.href) is not self


def fire_functional_event(
    registration: Registration,
    name: str,
    create_event: Callable[[ServiceWorkerGlobalScope], E],
    then: Callable[[E], None] | None = None,
) -> bool:
    """Fire a functional event (Service Workers #fire-functional-event-algorithm).

    *create_event* builds the event in the worker's realm (its global scope);
    *then*, if given, is called with the dispatched event ("then run these steps with
    dispatchedEvent in parallel": the caller starts them in parallel, as a task of
    whoever owns them).  Returns False when there is no active worker to receive it.
    """
    # 1. Assert: registration's active worker is not null.  (A caller may fire at a
    # registration without one: nothing happens, and it is told so.)
    # 2. Let activeWorker be registration's active worker.
    active_worker = registration.active_worker
    if active_worker is None:
        return False
    # 3. (Should Skip Event: bgfetch dispatches every event, listened to or not.)

    def queue() -> None:
        # 5. Run Service Worker; if that is failure (it became redundant), return.
        scope = active_worker.run_or_fail()
        if scope is None:
            return

        # 6. Queue a task to create, initialize and dispatch the event.
        def task() -> None:
            # 6.1-6.2. Let event be the result of creating an event with eventConstructor,
            # in the relevant realm of activeWorker's global object (the user agent's:
            # trusted), with initialization.
            event = create_an_event(create_event(scope))
            assert event.type == name, f"{name} fired with an event of type {event.type}"
            # 6.3. Dispatch event on activeWorker's global object.  6.4. Update Service
            # Worker Extended Events Set (dispatch does).
            scope.dispatch(event)
            # 6.5. If postDispatchSteps is not null, run them with event.
            if then is not None:
                then(event)

        scope.event_loop.queue_task(task)

    # 4. If activeWorker's state is "activating", wait for it to become "activated".  (The
    # wait is a task of its global scope, which Activate runs: a worker terminated
    # meanwhile discards the event with it.)
    if active_worker.state == "activating":
        activating_scope = active_worker.run_or_fail()
        if activating_scope is None:
            return True

        async def when_activated() -> None:
            await registration.changed.wait_for(
                lambda: active_worker.state in ("activated", "redundant")
            )
            queue()

        activating_scope.tasks.in_parallel(when_activated)
    else:
        queue()
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

    def _worker(self, worker: WorkerInstance | None) -> ServiceWorkerObject | None:
        from bgfetch.sw.objects import service_worker_object

        return None if worker is None else service_worker_object(worker, self.environment)

    @property
    def installing(self) -> ServiceWorkerObject | None:
        """Service Workers #navigator-service-worker-installing"""
        return self._worker(self.registration.installing_worker)

    @property
    def waiting(self) -> ServiceWorkerObject | None:
        """Service Workers #navigator-service-worker-waiting"""
        return self._worker(self.registration.waiting_worker)

    @property
    def active(self) -> ServiceWorkerObject | None:
        """Service Workers #navigator-service-worker-active"""
        return self._worker(self.registration.active_worker)

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

    async def unregister(self) -> bool:
        """Service Workers #navigator-service-worker-unregister"""
        from bgfetch.sw.lifecycle import schedule_job, unregister

        # 1. Let registration be the service worker registration.
        registration = self.registration
        # 2. Let promise be a new promise.
        promise: Promise[bool] = Promise()

        # 3-4. Create an unregister job and schedule it.
        async def job() -> None:
            unregister(registration.user_agent, registration.scope_url, promise)

        schedule_job(registration.user_agent, registration.scope_url, job)
        # 5. Return promise.
        return await promise

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
