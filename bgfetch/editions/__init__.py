"""Spec editions: each a self-contained package of concepts, algorithms and API.

An edition module offers ``NAME`` and ``new_manager(registration_object)``, the
BackgroundFetchManager a ServiceWorkerRegistration object exposes.  Everything
outside ``editions/`` knows no edition.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EDITIONS = {
    "current": "bgfetch.editions.current",
    "2017-10-12": "bgfetch.editions.draft_2017",
}


def load_edition(name: str) -> ModuleType:
    if name not in EDITIONS:
        known = ", ".join(repr(n) for n in EDITIONS)
        raise ValueError(f"unknown spec edition {name!r}; known editions: {known}")
    return importlib.import_module(EDITIONS[name])
