"""Spec editions: each a self-contained package of concepts, algorithms and API.

An edition module offers ``NAME``, ``EVENTS`` (its service-worker events) and
``new_manager(registration_object)``, the BackgroundFetchManager a
ServiceWorkerRegistration object exposes.  Everything
outside ``editions/`` knows no edition.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Literal

EditionName = Literal["current", "2017-10-12"]

EDITIONS: dict[EditionName, str] = {
    "current": "bgfetch.editions.current",
    "2017-10-12": "bgfetch.editions.draft_2017",
}


def edition_name(name: str) -> EditionName:
    """*name* as an edition name; ValueError naming it and the known ones otherwise."""
    for known in EDITIONS:
        if name == known:
            return known
    names = ", ".join(repr(n) for n in EDITIONS)
    raise ValueError(f"unknown spec edition {name!r}; known editions: {names}")


def name_of(package: str) -> EditionName:
    """The edition name of the edition *package* (an edition's ``__name__``)."""
    for name, module in EDITIONS.items():
        if module == package:
            return name
    raise ValueError(f"{package} is not an edition package")


def load_edition(name: str) -> ModuleType:
    return importlib.import_module(EDITIONS[edition_name(name)])


@functools.cache
def event_editions() -> dict[str, tuple[EditionName, ...]]:
    """Each service-worker event type an edition fires, with the editions that fire it."""
    events: dict[str, tuple[EditionName, ...]] = {}
    for name in EDITIONS:
        for event in load_edition(name).EVENTS:
            events[event] = (*events.get(event, ()), name)
    return events
