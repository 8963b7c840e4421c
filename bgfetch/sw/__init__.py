"""Service workers: registrations and their lifecycle, environments, functional events,
Cache Storage, clients and messages.  Edition-agnostic."""

from bgfetch.dom import Event
from bgfetch.sw.caches import Cache, CacheStorage
from bgfetch.sw.clients import Client, Clients, WindowClient
from bgfetch.sw.clone import structured_clone
from bgfetch.sw.environment import Environment, Window
from bgfetch.sw.events import ExtendableEvent
from bgfetch.sw.messages import ExtendableMessageEvent, MessageEvent
from bgfetch.sw.objects import ServiceWorkerObject
from bgfetch.sw.registration import (
    Registration,
    ServiceWorker,
    ServiceWorkerGlobalScope,
    ServiceWorkerRegistration,
    fire_functional_event,
)

__all__ = [
    "Cache",
    "CacheStorage",
    "Client",
    "Clients",
    "Environment",
    "Event",
    "ExtendableEvent",
    "ExtendableMessageEvent",
    "MessageEvent",
    "Registration",
    "ServiceWorker",
    "ServiceWorkerGlobalScope",
    "ServiceWorkerObject",
    "ServiceWorkerRegistration",
    "Window",
    "WindowClient",
    "fire_functional_event",
    "structured_clone",
]
