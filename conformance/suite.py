"""How a conformance test is declared: ``@wpt(file, subtest, ...)``.

Each test keeps its WPT file and subtest name, says which editions it applies to and
where it comes from, and takes ``open_page``: a factory of pages of the backend and
edition the run parametrizes it with (conftest.py)::

    @wpt("fetch.https.window.js", "Fetches can have requests with duplicate URLs")
    async def test_duplicate_urls(open_page: OpenPage) -> None:
        async with open_page() as page:
            ...
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol, TypeVar

import attrs
import pytest

from .interface import EDITIONS, Edition, Network, Page

Source = Literal["upstream", "chromium", "removed", "historical", "bgfetch"]
"""Where a test comes from: WPT upstream; only Chromium's copy of WPT; removed from
WPT (still meaningful); historical (an old file or variant); bgfetch's own
differential cases."""

CURRENT: tuple[Edition, ...] = ("current",)
DRAFT_2017: tuple[Edition, ...] = ("2017-10-12",)
BOTH: tuple[Edition, ...] = EDITIONS

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class Declared:
    """What ``@wpt`` says of a test."""

    file: str
    subtest: str
    editions: tuple[Edition, ...]
    source: Source
    network: Network
    slow_in_chromium: bool
    note: str


def wpt(
    file: str,
    subtest: str,
    *,
    editions: tuple[Edition, ...] = CURRENT,
    source: Source = "upstream",
    network: Network = "virtual",
    slow_in_chromium: bool = False,
    note: str = "",
) -> Callable[[F], F]:
    """Declare a conformance test: WPT *file* and *subtest* name, the *editions* it
    applies to, its *source*; *network* "loopback" for a network rule's case;
    *slow_in_chromium* for a test that waits on Chromium's 20 s retry timers (``--quick``
    leaves it out there); *note*: where its expectation departs from WPT's, and why."""
    if not editions or any(e not in EDITIONS for e in editions):
        raise ValueError(f"editions must be some of {EDITIONS}, not {editions!r}")
    declared = Declared(file, subtest, editions, source, network, slow_in_chromium, note)

    def mark(test: F) -> F:
        return pytest.mark.conformance(declared)(test)  # type: ignore[no-any-return]

    return mark


class OpenPage(Protocol):
    """``open_page(worker="sw.js", activate=True, csp=None)``: a page of this run's
    backend and edition, at the test's WPT file's page."""

    def __call__(
        self, *, worker: str = "sw.js", activate: bool = True, csp: str | None = None
    ) -> AbstractAsyncContextManager[Page]: ...


def page_path(file: str) -> str:
    """WPT's page for a test file: ``fetch.https.window.js`` runs at
    ``/background-fetch/fetch.https.window.html``."""
    return "/background-fetch/" + file.removesuffix(".js") + ".html"
