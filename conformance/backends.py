"""The backends a conformance run can use, by name.

``reference`` is bgfetch (conformance/reference.py); ``chromium`` is a real headless
Chromium driven over the DevTools Protocol (conformance/chromium/, its package's
``ChromiumBackend``).  A backend that cannot run here is an :class:`Unavailable` one:
every test on it is skipped with its reason.
"""

from __future__ import annotations

import importlib
from contextlib import AbstractAsyncContextManager
from typing import Any

from .interface import Backend, Page, PageSetup
from .reference import ReferenceBackend

BACKENDS = ("reference", "chromium")


class Unavailable:
    """A backend that is not here: every page of it is skipped, saying why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def skip_reason(self, setup: PageSetup) -> str | None:
        return self.reason

    def open_page(self, setup: PageSetup) -> AbstractAsyncContextManager[Page]:
        raise RuntimeError(f"the {self.name} backend is unavailable: {self.reason}")


def backend_named(name: str) -> Backend:
    """The backend called *name* (one of BACKENDS)."""
    if name == "reference":
        return ReferenceBackend()
    if name == "chromium":
        try:
            module: Any = importlib.import_module("conformance.chromium")
            backend: Backend = module.ChromiumBackend()
        except (ImportError, AttributeError) as error:
            return Unavailable(name, f"the Chromium backend is not built yet ({error})")
        return backend
    raise ValueError(f"unknown backend {name!r}; the backends are {', '.join(BACKENDS)}")


def close_backend(backend: Backend) -> None:
    """End what a backend kept for the whole run (a browser), if it has a ``close()``."""
    close = getattr(backend, "close", None)
    if close is not None:
        close()
