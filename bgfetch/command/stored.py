"""``bgfetch list``, ``show ID`` and ``abort ID``: the background fetches in a store.

A store is the directory where a stored user agent (``bgfetch.open_user_agent(
store=DIR)``) keeps its background fetches across runs; ``bgfetch fetch`` keeps them in
one by default (:func:`default_store`).  These commands open that user agent only to
look: on a network that is offline (:func:`offline_network`), so a restored background
fetch waits, as it would for any offline period, and nothing is downloaded; and with
no service worker registered, so no completion event is delivered (each waits for the
next ``bgfetch fetch``, whose worker gets it).  A store that does not exist yet holds
nothing: looking does not create it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import platformdirs
import trio

import bgfetch
from bgfetch.ui import UserInterface

from .output import EXIT_FAILED, EXIT_OK, Output, UsageError


def default_store(edition: str = "current") -> Path:
    """Where background fetches are kept by default: ``bgfetch/store`` in the user's
    data directory, ``store-<edition>`` for another edition (a store holds one
    edition's state)."""
    name = "store" if edition == "current" else f"store-{edition}"
    return Path(platformdirs.user_data_dir("bgfetch")) / name


def resolve_store(given: str | None, edition: str = "current") -> Path:
    """The store to use: *given* (``--store DIR``), else the edition's default one."""
    return Path(given) if given is not None else default_store(edition)


def offline_network() -> bgfetch.VirtualNetwork:
    """A network that is offline, and serves nothing: a user agent on it fetches nothing."""
    network = bgfetch.VirtualNetwork()
    network.set_online(False)
    return network


@asynccontextmanager
async def open_agent(store: Path | None, *, hint: str = "", **options: Any) -> AsyncIterator[Any]:
    """``bgfetch.open_user_agent(store=store, **options)``; a store that cannot be
    opened (another edition's, another version's, damaged) is a UsageError naming it,
    followed by *hint*."""
    if store is not None:
        options["store"] = str(store)
    async with AsyncExitStack() as stack:
        try:
            ua = await stack.enter_async_context(bgfetch.open_user_agent(**options))
        except Exception as error:
            if store is None:
                raise
            raise UsageError(f"the store {store}: {_leaves(error)}{hint}") from None
        yield ua


def _leaves(error: BaseException) -> str:
    """What went wrong, without the exception groups around it."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_leaves(e) for e in error.exceptions)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


# -- what a display shows, in either edition ----------------------------------------------


def display_result(display: Any) -> str:
    """The display's result: "", "success" or "failure" (2017-10-12: from its state)."""
    if hasattr(display, "result"):
        return str(display.result)
    return {"pending": "", "succeeded": "success"}.get(display.state, "failure")


def describe(display: Any) -> dict[str, Any]:
    return {
        "id": display.id,
        "origin": display.origin,
        "title": display.title,
        "downloaded": display.downloaded,
        "download_total": display.download_total,
        "result": display_result(display),
    }


def list_lines(displays: list[Any]) -> list[str]:
    """One line per display: id, origin, title, downloaded/total, result."""
    lines = []
    for display in displays:
        row = describe(display)
        total = f"{row['download_total']:,}" if row["download_total"] else "?"
        lines.append(
            f"{row['id']}\t{row['origin']}\t{row['title'] or '-'}\t"
            f"{row['downloaded']:,}/{total}\t{row['result'] or 'running'}"
        )
    return lines


async def abort_display(display: Any, *, poll: float = 0.05) -> str:
    """Cancel *display*'s background fetch, as its user would, and wait until it
    settled (in a stored user agent, the store then says so); return its result."""
    display.cancel()
    while display_result(display) == "":
        await trio.sleep(poll)
    return display_result(display)


# -- the commands --------------------------------------------------------------------------


@asynccontextmanager
async def looking_at(store: Path, edition: str) -> AsyncIterator[UserInterface]:
    """The UI of *store*'s user agent, opened offline and without a service worker
    (nothing is fetched, no completion event delivered); an empty UI when there is no
    such store yet (and none is created)."""
    if not store.exists():
        yield UserInterface()
        return
    async with open_agent(store, edition=edition, network=offline_network()) as ua:
        yield ua.ui


async def run_stored(
    command: str,
    store: Path,
    out: Output,
    err: Output,
    *,
    id: str | None = None,
    edition: str = "current",
    as_json: bool = False,
) -> int:
    """``list``, ``show`` or ``abort`` (*command*) over the user agent of *store*."""
    async with looking_at(store, edition) as ui:
        displays = list(ui.displays)
        if command == "list":
            if as_json:
                out.write(json.dumps([describe(d) for d in displays]) + "\n")
            else:
                for line in list_lines(displays) or ["no background fetches"]:
                    out.line(line)
            return EXIT_OK
        assert id is not None
        try:
            display = ui.find(id)
        except KeyError as error:
            err.write(f"bgfetch {command}: {error.args[0]}\n")
            return EXIT_FAILED
        if command == "show":
            if as_json:
                out.write(json.dumps(describe(display)) + "\n")
            else:
                for key, value in describe(display).items():
                    out.line(f"{key}: {value}")
            return EXIT_OK
        if display_result(display) != "":
            err.write(f"bgfetch abort: {id!r} has already settled ({display_result(display)})\n")
            return EXIT_FAILED
        await abort_display(display)
        out.line(
            f"{id}: aborted; its service worker gets backgroundfetchabort at the next "
            f"bgfetch fetch from {display.origin}"
        )
        return EXIT_OK
