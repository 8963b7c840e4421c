"""Service workers: registrations, environments, functional events.  Edition-agnostic."""

from bgfetch.dom import Event
from bgfetch.sw.environment import Environment, Window
from bgfetch.sw.events import ExtendableEvent
from bgfetch.sw.registration import (
    Registration,
    ServiceWorker,
    ServiceWorkerGlobalScope,
    ServiceWorkerRegistration,
    fire_functional_event,
)

__all__ = [
    "Environment",
    "Event",
    "ExtendableEvent",
    "Registration",
    "ServiceWorker",
    "ServiceWorkerGlobalScope",
    "ServiceWorkerRegistration",
    "Window",
    "fire_functional_event",
]
