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
Classification = Literal["bgfetch bug", "browser bug", "spec ambiguity", "WPT bug"]
"""Where a test comes from: WPT upstream; only Chromium's copy of WPT; removed from
WPT (still meaningful); historical (an old file or variant); bgfetch's own
differential cases."""

CURRENT: tuple[Edition, ...] = ("current",)
DRAFT_2017: tuple[Edition, ...] = ("2017-10-12",)
BOTH: tuple[Edition, ...] = EDITIONS

F = TypeVar("F", bound=Callable[..., Any])


def spec_refs(declared: Declared, edition: Edition) -> tuple[str, ...]:
    """The declaration's spec steps in *edition*'s text ("2017-10-12:" ones for the draft)."""
    prefix = f"{edition}:"
    if edition == "current":
        return tuple(ref for ref in declared.spec if ref.startswith("#"))
    return tuple(ref.removeprefix(prefix) for ref in declared.spec if ref.startswith(prefix))


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
    spec: tuple[str, ...] = ()
    """The spec steps it concerns: "#anchor step" ("#complete-a-record-algorithm process
    response 1.1"; the anchor alone for a whole algorithm) of the current edition, or
    "2017-10-12:#anchor step" of the draft."""
    disagreement: Classification = "browser bug"
    """What a backend failing it while the reference passes is (the tests assert the spec)."""
    cause: str = ""
    """What a browser is known to do instead (../shared/reference/chromium-observed.md)."""


def wpt(
    file: str,
    subtest: str,
    *,
    editions: tuple[Edition, ...] = CURRENT,
    source: Source = "upstream",
    network: Network = "virtual",
    slow_in_chromium: bool = False,
    note: str = "",
    spec: tuple[str, ...] = (),
    disagreement: Classification = "browser bug",
    cause: str = "",
) -> Callable[[F], F]:
    """Declare a conformance test: WPT *file* and *subtest* name, the *editions* it
    applies to, its *source*; *network* "loopback" for a network rule's case;
    *slow_in_chromium* for a test that waits on Chromium's 20 s retry timers (``--quick``
    leaves it out there); *note*: where its expectation departs from WPT's, and why;
    *spec*: the spec steps it concerns; *disagreement*: what another backend failing it
    is; *cause*: what a browser is known to do instead."""
    mark = declare(
        file,
        subtest,
        editions=editions,
        source=source,
        network=network,
        slow_in_chromium=slow_in_chromium,
        note=note,
        spec=spec,
        disagreement=disagreement,
        cause=cause,
    )

    def decorate(test: F) -> F:
        return mark(test)  # type: ignore[no-any-return]

    return decorate


def declare(
    file: str,
    subtest: str,
    *,
    editions: tuple[Edition, ...] = CURRENT,
    source: Source = "upstream",
    network: Network = "virtual",
    slow_in_chromium: bool = False,
    note: str = "",
    spec: tuple[str, ...] = (),
    disagreement: Classification = "browser bug",
    cause: str = "",
) -> pytest.MarkDecorator:
    """The mark ``@wpt`` puts on a test, for a parameter of a parametrized one:
    ``pytest.param(url, marks=declare(FILE, "data: fetch should reject"))``."""
    if not editions or any(e not in EDITIONS for e in editions):
        raise ValueError(f"editions must be some of {EDITIONS}, not {editions!r}")
    declared = Declared(
        file, subtest, editions, source, network, slow_in_chromium, note, spec, disagreement, cause
    )
    return pytest.mark.conformance(declared)


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


def success_event(edition: Edition) -> str:
    """The event a successful background fetch fires: 2017-10-12's ``backgroundfetched``."""
    return "backgroundfetchsuccess" if edition == "current" else "backgroundfetched"


async def message(page: Page, timeout: float = 30, *, asked_for: str | None = None) -> Any:
    """WPT's getMessageFromServiceWorker(), as a dict (the worker's messages are objects).

    With *asked_for* (a path of the page's server), a timeout says how often the user
    agent asked for it meanwhile, and with which Range: what it was doing instead."""
    try:
        return await page.next_message(timeout=timeout)
    except TimeoutError as error:
        if asked_for is None:
            raise
        asked = page.server().requests_for(asked_for)
        last = f", the last with Range {asked[-1].header('range')}" if asked else ""
        raise TimeoutError(f"{error}; {asked_for} was asked for {len(asked)} times{last}") from None


async def rejection(call: Any) -> str:
    """The name of the exception an awaited page call rejects with; fails if it resolves."""
    from .interface import Rejected

    try:
        value = await call
    except Rejected as error:
        return error.name
    raise AssertionError(f"expected a rejection, got {value!r}")


async def ends_in_type_error(page: Page, id: str, url: str) -> str:
    """Newer WPT's "must end in TypeError": fetch() rejects with one (returns "fetch()"),
    or it resolves and ``match(url)``'s responseReady rejects with one (returns
    "responseReady"); anything else fails."""
    from .interface import Rejected

    try:
        registration = await page.fetch(id, url)
    except Rejected as error:
        assert error.name == "TypeError", f"fetch() rejected with {error.name}, not TypeError"
        return "fetch()"
    record = await page.match(registration, url)
    assert record is not None, f"no record matches {url!r}"
    try:
        response = await page.record_response(record)
    except Rejected as error:
        assert error.name == "TypeError", f"responseReady rejected with {error.name}"
        return "responseReady"
    raise AssertionError(f"fetch() resolved and responseReady gave {response.status}")


def case(file: str, value: object, subtest: str, **options: Any) -> Any:
    """One subtest of a parametrized test: ``pytest.param(value)`` declared as *subtest*
    of *file* (options as ``@wpt``'s), its id the subtest's name."""
    return pytest.param(value, marks=declare(file, subtest, **options), id=subtest)
