"""A service worker's lifecycle (Service Workers, Appendix A): jobs, Register, Update,
Install, Activate, Try Activate, Unregister, Clear Registration, Try Clear Registration,
and the service worker clients that keep an old worker active.

What the spec fetches and compares (a script URL and its bytes) is a Python
:class:`~bgfetch.sw.registration.ServiceWorker` object here: registering the same object
again at a scope is no update; registering another one is (SPEC-NOTES.md SN-sw-2).  Its
jobs run one at a time per scope (the scope to job queue map), on a parallel queue of
the user agent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

import trio

from bgfetch.dom import create_an_event, fire_an_event
from bgfetch.infra import ParallelQueue, Promise
from bgfetch.sw.environment import Environment
from bgfetch.sw.events import ExtendableEvent
from bgfetch.sw.registration import (
    Registration,
    ServiceWorker,
    ServiceWorkerGlobalScope,
    State,
    WorkerInstance,
)
from bgfetch.url import URL

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent


def schedule_job(user_agent: UserAgent, scope_url: URL, job: Callable[[], Awaitable[None]]) -> None:
    """Schedule Job (#schedule-job-algorithm): *job* runs once every earlier job of the
    same scope has finished (its job queue runs them in order)."""
    queues: dict[str, ParallelQueue] = user_agent.job_queues
    queue = queues.get(scope_url.href)
    if queue is None:
        queue = queues[scope_url.href] = ParallelQueue(f"job queue {scope_url.href}")
        queue.start(user_agent.tasks)
    queue.enqueue(job)


def get_registration(user_agent: UserAgent, scope_url: URL) -> Registration | None:
    """Get Registration (#get-registration-algorithm), by the scope's serialization."""
    return user_agent.registrations.get(scope_url.href)


def get_newest_worker(registration: Registration) -> WorkerInstance | None:
    """Get Newest Worker (#get-newest-worker-algorithm)"""
    return (
        registration.installing_worker
        or registration.waiting_worker
        or (registration.active_worker)
    )


async def register(
    user_agent: UserAgent, scope_url: URL, script: ServiceWorker, promise: Promise[Registration]
) -> None:
    """Register (#register-algorithm), steps 4-7 (the origin checks are register()'s)."""
    # 4. Let registration be the result of running Get Registration.
    registration = get_registration(user_agent, scope_url)
    # 5. If registration is not null, then:
    if registration is not None:
        # 5.1. Let newestWorker be the result of running Get Newest Worker.
        newest_worker = get_newest_worker(registration)
        # 5.2. If newestWorker is not null and its script is the job's, resolve the job
        # promise with registration and finish the job.
        if newest_worker is not None and newest_worker.script is script:
            promise.resolve(registration)
            return
    # 6. Else: invoke Set Registration.
    else:
        registration = Registration(user_agent, scope_url)
        user_agent.registrations[scope_url.href] = registration
        registration.changed.notify()
    # 7. Invoke Update.
    await update(registration, script, promise)


async def update(
    registration: Registration, script: ServiceWorker, promise: Promise[Registration]
) -> None:
    """Update (#update-algorithm), for a script that is a Python object: it has updated
    resources unless it is the newest worker's script."""
    # 1-2. (registration is the job's, not null.)  3. Let newestWorker be Get Newest Worker.
    newest_worker = get_newest_worker(registration)
    # 7-8. hasUpdatedResources: newestWorker is null, or its script is another.
    has_updated_resources = newest_worker is None or newest_worker.script is not script
    # 10. If hasUpdatedResources is false, resolve the job promise and finish the job.
    if not has_updated_resources:
        promise.resolve(registration)
        return
    # 11-12. Let worker be a new service worker, with the job's script.
    worker = WorkerInstance(script, registration)
    # 16. Let runResult be the result of running Run Service Worker with worker.
    # 18. Else, invoke Install with job, worker, and registration.
    await install(worker, registration, promise)


async def install(
    worker: WorkerInstance, registration: Registration, promise: Promise[Registration]
) -> None:
    """Install (#installation-algorithm)"""
    # 1. Let installFailed be false.
    install_failed = False
    # 2. Let newestWorker be the result of running Get Newest Worker.
    newest_worker = get_newest_worker(registration)
    # 4. Run Update Registration State with registration, "installing" and worker.
    update_registration_state(registration, "installing", worker)
    # 5. Run Update Worker State with registration's installing worker and "installing".
    update_worker_state(worker, "installing")
    # 6-7. Resolve the job promise with registration.  (8-9: no updatefound events.)
    promise.resolve(registration)
    # 10. Let installingWorker be registration's installing worker.
    installing_worker = worker
    # 11. (Should Skip Event: never.)  11.2. Run Service Worker with installingWorker.
    scope = installing_worker.run_or_fail()
    if scope is None:
        install_failed = True
    else:
        # 11.3.1. Queue a task to dispatch an InstallEvent "install" and wait until it is
        # not active; a rejected extension (or a raising handler) fails the install.
        # 11.3.2-11.3.3. Wait for the task and the extensions.
        install_failed = not await fire_lifecycle_event(
            scope, create_an_event(ExtendableEvent("install"))
        )
    # 12. If installFailed is true, then:
    if install_failed:
        # 12.1. Run Update Worker State with the installing worker and "redundant".
        update_worker_state(worker, "redundant")
        worker.terminate()
        # 12.2. Run Update Registration State with registration, "installing" and null.
        update_registration_state(registration, "installing", None)
        # 12.3. If newestWorker is null, remove the registration map's entry.
        if newest_worker is None and not registration.unregistered:
            remove_registration(registration)
        # 12.4. Finish the job and abort these steps.
        return
    # 13-14. (The script resource map: bgfetch's scripts are Python objects.)
    # 15. If registration's waiting worker is not null, then:
    if registration.waiting_worker is not None:
        # 15.1. Terminate registration's waiting worker.
        registration.waiting_worker.terminate()
        # 15.2. Run Update Worker State with it and "redundant".
        update_worker_state(registration.waiting_worker, "redundant")
    # 16. Run Update Registration State with registration, "waiting" and the installing
    # worker.
    update_registration_state(registration, "waiting", worker)
    # 17. Run Update Registration State with registration, "installing" and null.
    update_registration_state(registration, "installing", None)
    # 18. Run Update Worker State with registration's waiting worker and "installed".
    update_worker_state(worker, "installed")
    # 19. Invoke Finish Job with job.  20. (Update Worker State queues no tasks here.)
    # 21. Invoke Try Activate with registration.
    try_activate(registration)


async def activate(registration: Registration) -> None:
    """Activate (#activation-algorithm)"""
    # 1. If registration's waiting worker is null, abort these steps.
    if registration.waiting_worker is None:
        return
    # 2. If registration's active worker is not null, then:
    if registration.active_worker is not None:
        # 2.1. Terminate registration's active worker.
        registration.active_worker.terminate()
        # 2.2. Run Update Worker State with it and "redundant".
        update_worker_state(registration.active_worker, "redundant")
    # 3. Run Update Registration State with registration, "active" and its waiting worker.
    active_worker = registration.waiting_worker
    update_registration_state(registration, "active", active_worker)
    # 4. Run Update Registration State with registration, "waiting" and null.
    update_registration_state(registration, "waiting", None)
    # 5. Run Update Worker State with registration's active worker and "activating".
    update_worker_state(active_worker, "activating")
    # 6-7. (The matching clients' ready promises resolve: ``ready`` waits for this.)
    # 8. For each service worker client who is using registration:
    for client in clients_using(registration):
        # 8.1. Set client's active worker to registration's active worker.
        client.active_service_worker = active_worker
        # 8.2. Invoke Notify Controller Change with client.
        notify_controller_change(client)
    # 9. Let activeWorker be registration's active worker.
    # 10. (Should Skip Event: never.)  10.1. Run Service Worker with activeWorker.
    scope = active_worker.run_or_fail()
    if scope is not None:
        # 10.1.1. Queue a task to dispatch an ExtendableEvent "activate".
        # 10.1.2-10.1.3. Wait for the task and for the event not to be active.
        await fire_lifecycle_event(scope, create_an_event(ExtendableEvent("activate")))
    # 11. Run Update Worker State with registration's active worker and "activated".
    # (Unless it went on: a newer worker activated, or the registration was cleared.)
    if registration.active_worker is active_worker:
        update_worker_state(active_worker, "activated")


def try_activate(registration: Registration) -> None:
    """Try Activate (#try-activate-algorithm); Activate runs in parallel."""
    # 1. If registration's waiting worker is null, return.
    if registration.waiting_worker is None:
        return
    active_worker = registration.active_worker
    # 2. If registration's active worker is not null and its state is "activating", return.
    if active_worker is not None and active_worker.state == "activating":
        return
    # 3. Invoke Activate if registration's active worker is null, or if it has no pending
    # events and no client uses registration (or the waiting worker's skip waiting flag
    # is set).
    if active_worker is None or (
        service_worker_has_no_pending_events(active_worker)
        and (not clients_using(registration) or registration.waiting_worker.skip_waiting_flag)
    ):
        registration.user_agent.tasks.in_parallel(activate, registration)


def service_worker_has_no_pending_events(worker: WorkerInstance) -> bool:
    """Service Worker Has No Pending Events (#service-worker-has-no-pending-events-algorithm)"""
    # 1. For each event of worker's set of extended events: if it is active, return false.
    # 2. Return true.
    return not any(event.active for event in worker.set_of_extended_events)


def extended_events_settled(worker: WorkerInstance) -> None:
    """An extended event of *worker* is no longer active: as the notes of Install and
    Unregister say, Clear Registration and Activate are tried again."""
    registration = worker.registration
    if registration.unregistered:
        try_clear_registration(registration)
    try_activate(registration)


async def fire_lifecycle_event(scope: ServiceWorkerGlobalScope, event: ExtendableEvent) -> bool:
    """Dispatch install or activate and wait until it is not active; False if a handler
    raised or an extension rejected, or the task was discarded (the worker terminated)."""
    done = trio.Event()

    def task() -> None:
        scope.dispatch(event)
        done.set()

    if not await scope.event_loop.run_task(task):
        return False
    await done.wait()
    await event.wait_inactive()
    return (
        not event.errors
        and not event.interrupted
        and not (scope.user_agent.handler_errors_for(event))
    )


def update_registration_state(
    registration: Registration,
    target: Literal["installing", "waiting", "active"],
    source: WorkerInstance | None,
) -> None:
    """Update Registration State (#update-registration-state-algorithm).  The
    ServiceWorkerRegistration objects read the registration's workers themselves."""
    if target == "installing":
        registration.installing_worker = source
    elif target == "waiting":
        registration.waiting_worker = source
    else:
        registration.active_worker = source
    registration.changed.notify()


def update_worker_state(worker: WorkerInstance, state: State) -> None:
    """Update Worker State (#update-state-algorithm).  The ServiceWorker objects read the
    worker's state themselves (no statechange events)."""
    # 1. Assert: state is not "parsed".
    assert state != "parsed"
    # 2. Set worker's state to state.
    worker.state = state
    worker.registration.changed.notify()


def clients_using(registration: Registration) -> list[Environment]:
    """The service worker clients *using* registration: those whose active service
    worker is one of its workers."""
    return [
        env
        for env in registration.user_agent.environments
        if env.active_service_worker is not None
        and env.active_service_worker.registration is registration
        and not env.discarded
    ]


def notify_controller_change(client: Environment) -> None:
    """Notify Controller Change (#notify-controller-change-algorithm)"""
    from bgfetch.sw.container import ServiceWorkerContainer

    container = getattr(getattr(client, "navigator", None), "service_worker", None)
    # 2. If client is an environment settings object, queue a task to fire an event
    # named controllerchange at its ServiceWorkerContainer.
    if isinstance(container, ServiceWorkerContainer):
        client.event_loop.queue_task(lambda: fire_an_event("controllerchange", container))


def unregister(user_agent: UserAgent, scope_url: URL, promise: Promise[bool]) -> None:
    """Unregister (#unregister-algorithm)"""
    # 1. Let registration be the result of running Get Registration.
    registration = get_registration(user_agent, scope_url)
    # 2. If registration is null, resolve the job promise with false and finish the job.
    if registration is None:
        promise.resolve(False)
        return
    # 3. Remove registration map[(registration's storage key, job's scope url)].
    remove_registration(registration)
    # 4. Invoke Resolve Job Promise with job and true.
    promise.resolve(True)
    # 5. Invoke Try Clear Registration with registration.
    try_clear_registration(registration)


def remove_registration(registration: Registration) -> None:
    """Remove *registration* from the registration map (and from a stored user agent's
    store, which would bring it back at the next start)."""
    from bgfetch.store.rows import REGISTRATION

    user_agent = registration.user_agent
    scope = registration.scope_url.href
    if user_agent.registrations.get(scope) is registration:
        del user_agent.registrations[scope]
        user_agent.store.delete(REGISTRATION, scope)
        registration.changed.notify()


def try_clear_registration(registration: Registration) -> None:
    """Try Clear Registration (#try-clear-registration-algorithm)"""
    # Invoke Clear Registration if no service worker client is using registration and
    # each of its workers is null or has no pending events.
    if clients_using(registration):
        return
    workers = (
        registration.installing_worker,
        registration.waiting_worker,
        registration.active_worker,
    )
    if all(w is None or service_worker_has_no_pending_events(w) for w in workers):
        clear_registration(registration)


def clear_registration(registration: Registration) -> None:
    """Clear Registration (#clear-registration-algorithm)"""
    # 1. Run the following steps atomically.
    # 2-4. For the installing, waiting and active worker, if not null: terminate it, run
    # Update Worker State with it and "redundant", and Update Registration State with null.
    targets: tuple[Literal["installing", "waiting", "active"], ...] = (
        "installing",
        "waiting",
        "active",
    )
    for target in targets:
        worker: WorkerInstance | None = getattr(registration, f"{target}_worker")
        if worker is not None:
            worker.terminate()
            update_worker_state(worker, "redundant")
            update_registration_state(registration, target, None)
    # Specifications that extend a registration clear what they keep of it: Background
    # Fetch's "clearing a service worker registration will clear all associated background
    # fetches" is the user agent's edition's.
    registration.user_agent.edition.registration_cleared(registration)


def handle_service_worker_client_unload(client: Environment) -> None:
    """Handle Service Worker Client Unload (#on-client-unload-algorithm)"""
    # 1. Run the following steps atomically.
    # 2. Let registration be the service worker registration used by client.
    worker = client.active_service_worker
    # 3. If registration is null, abort these steps.
    if worker is None:
        return
    registration = worker.registration
    # 4. If any other service worker client is using registration, abort these steps.
    if any(other is not client for other in clients_using(registration)):
        return
    # 5. If registration is unregistered, invoke Try Clear Registration with it.
    if registration.unregistered:
        try_clear_registration(registration)
    # 6. Invoke Try Activate with registration.
    try_activate(registration)


def match_service_worker_registration(user_agent: UserAgent, url: URL) -> Registration | None:
    """Match Service Worker Registration (#scope-match-algorithm): the registration whose
    scope is the longest prefix of *url*'s serialization."""
    client_url = url.href
    matches = [
        registration
        for scope, registration in user_agent.registrations.items()
        if client_url.startswith(scope)
    ]
    return max(matches, key=lambda reg: len(reg.scope_url.href), default=None)


def control_new_window(window: Environment) -> None:
    """A window opened (navigated to) at a URL a registration with an active worker
    matches is controlled by that worker (Handle Fetch, for its navigation request: the
    reserved client's active service worker; SPEC-NOTES.md SN-sw-3)."""
    registration = match_service_worker_registration(window.user_agent, window.url)
    if registration is not None and registration.active_worker is not None:
        window.active_service_worker = registration.active_worker
