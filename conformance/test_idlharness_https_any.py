"""idlharness.https.any.js (upstream: the current IDL in a service worker; its dedicated
and shared worker variants need globals bgfetch does not have, as do the historical
interfaces.worker.js and interfaces-worker.https.html), and the historical
idlharness.any.js (the current IDL in the page's global), interfaces.https.any.js (the
2017-10-12 draft's IDL in a service worker) and interfaces.html (the draft's, in the
page's global).  Each member of each exposed
interface is a subtest named as idlharness names it; what is checked is that the global
exposes the interface with the member (the IDL's JavaScript-only checks, such as an
operation's length, have no Python counterpart)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import suite
from conformance.idl import Interface, Member, exposed_in
from conformance.interface import Edition, Page
from conformance.suite import CURRENT, DRAFT_2017, OpenPage, message


def cases(file: str, edition: Edition, global_: str, source: str) -> list[Any]:
    params = []
    for interface in exposed_in(edition, global_):
        subtests: list[tuple[Interface, Member | None, str]] = []
        if not interface.partial:
            subtests.append(
                (
                    interface,
                    None,
                    f"{interface.name} interface: existence and properties of interface object",
                )
            )
        subtests += [(interface, m, m.subtest) for m in interface.members]
        for interface_, member, subtest in subtests:
            params.append(
                suite.case(
                    file,
                    (interface_.name, member and member.name),
                    subtest,
                    editions=(edition,),
                    source=source,  # type: ignore[arg-type]
                )
            )
    return params


async def worker_interfaces(page: Page) -> dict[str, list[str]]:
    await page.post_to_worker("interfaces")
    data = await message(page)
    return data["interfaces"]  # type: ignore[no-any-return]


def check(found: dict[str, list[str]], name: str, member: str | None) -> None:
    assert name in found, f"{name} is not exposed: {sorted(found)}"
    if member is not None:
        assert member in found[name], f"{name} has no {member}: {found[name]}"


@pytest.mark.parametrize(
    "what",
    cases("idlharness.https.any.js", "current", "ServiceWorker", "upstream")
    + cases("interfaces.https.any.js", "2017-10-12", "ServiceWorker", "historical"),
)
async def test_service_worker_global(open_page: OpenPage, what: tuple[str, str | None]) -> None:
    async with open_page(worker="sw-idl.js") as page:
        found = await worker_interfaces(page)
    check(found, *what)


@pytest.mark.parametrize(
    "what",
    cases("idlharness.any.js", "current", "Window", "historical")
    + cases("interfaces.html", "2017-10-12", "Window", "historical"),
)
async def test_window_global(open_page: OpenPage, what: tuple[str, str | None]) -> None:
    async with open_page(worker="sw-idl.js") as page:
        found = await page.interfaces()
    check(found, *what)


assert CURRENT and DRAFT_2017  # the editions come from each case's declaration
