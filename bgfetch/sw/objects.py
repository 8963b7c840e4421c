"""The ServiceWorker interface (Service Workers #serviceworker-interface): one object
per service worker per realm, as ``registration.installing / waiting / active`` and
``navigator.service_worker.controller`` give it, and ``post_message()`` to the worker.

(``bgfetch.ServiceWorker`` is the script an author writes; this is the interface a
realm sees of a running one, hence its name.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bgfetch.dom import create_an_event
from bgfetch.sw.clone import structured_clone
from bgfetch.sw.environment import Environment, Window
from bgfetch.sw.messages import ExtendableMessageEvent
from bgfetch.sw.registration import ServiceWorkerGlobalScope, WorkerInstance

if TYPE_CHECKING:
    from bgfetch.sw.registration import ServiceWorker, State


class ServiceWorkerObject:
    """A realm's ServiceWorker object for a service worker: its ``state`` (read from the
    worker, as the realm's tasks would set it: SPEC-NOTES.md SN-sw-3), ``post_message()``."""

    def __init__(self, worker: WorkerInstance, environment: Environment) -> None:
        self.worker = worker
        self.environment = environment

    @property
    def state(self) -> State:
        """Service Workers #service-worker-state"""
        return self.worker.state

    @property
    def script(self) -> ServiceWorker:
        """The script this worker runs (bgfetch's stand-in for ``scriptURL``)."""
        return self.worker.script

    @property
    def global_scope(self) -> ServiceWorkerGlobalScope | None:
        """The worker's global scope, for tests that look inside it (not web API)."""
        return self.worker.global_scope

    def post_message(self, message: Any) -> None:
        """Service Workers #service-worker-postmessage-options (no transfer list)."""
        from bgfetch.sw.clients import create_window_client

        # 1. Let serviceWorker be the service worker represented by this.
        service_worker = self.worker
        # 2-3. Let incumbentSettings be the incumbent settings object (this object's realm,
        # the one that got it), and incumbentGlobal its global object.
        incumbent_settings = self.environment
        # 4. Let serializeWithTransferResult be StructuredSerializeWithTransfer(message).
        # Rethrow any exceptions.  (Serialized and deserialized in one: clone.py.)
        message_clone = structured_clone(message)
        # 5. (Should Skip Event: bgfetch dispatches every event.)

        # 6. Run these substeps in parallel:
        async def steps() -> None:
            # 6.1. If Run Service Worker with serviceWorker is failure, return.
            scope = service_worker.run_or_fail()
            if scope is None:
                return

            # 6.2. Queue a task on the DOM manipulation task source to run these steps:
            def task() -> None:
                # 6.2.1. Let source be, for a ServiceWorkerGlobalScope, the ServiceWorker
                # object of its worker in the destination's realm; for a Window, a new
                # WindowClient of it.
                source: Any
                if isinstance(incumbent_settings, ServiceWorkerGlobalScope):
                    source = service_worker_object(incumbent_settings.worker, scope)
                else:
                    assert isinstance(incumbent_settings, Window)
                    source = create_window_client(incumbent_settings, scope)
                # 6.2.2. Let origin be incumbentSettings's origin.
                origin = incumbent_settings.origin
                # 6.2.3. Let destination be the ServiceWorkerGlobalScope of serviceWorker.
                destination = scope
                # 6.2.4-6.2.5. Let e be a new ExtendableMessageEvent "message" with origin,
                # source, data (the deserialized clone) and ports.
                event = create_an_event(
                    ExtendableMessageEvent(
                        "message", data=message_clone, origin=origin, source=source
                    )
                )
                # 6.2.6. Dispatch e at destination.  6.2.7. Update Service Worker Extended
                # Events Set with serviceWorker and e (dispatch does).
                destination.dispatch(event)

            scope.event_loop.queue_task(task)

        incumbent_settings.tasks.in_parallel(steps)

    def __repr__(self) -> str:
        return f"<ServiceWorker object {self.worker.script.name} {self.state}>"


def service_worker_object(worker: WorkerInstance, environment: Environment) -> ServiceWorkerObject:
    """Get the service worker object (#service-worker-creation-algorithm) representing
    *worker* in *environment*: its service worker object map's, made on first use."""
    return environment.platform_object(
        "ServiceWorker", worker, lambda: ServiceWorkerObject(worker, environment)
    )
