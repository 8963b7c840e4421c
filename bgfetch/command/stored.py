"""``bgfetch list``, ``show ID`` and ``abort ID``: the background fetches in a store.

They need a user agent that keeps its background fetches across runs:
``bgfetch.open_user_agent(store=path)``.  Until bgfetch has that keyword, every
command that needs a store says so and exits with status 2 (:func:`require_store`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import platformdirs
import trio

import bgfetch

from .output import EXIT_FAILED, EXIT_OK, Output, UsageError

NO_STORE = (
    "this bgfetch has no store yet (bgfetch.open_user_agent() takes no store=), so "
    "background fetches do not outlive the command"
)


def store_supported() -> bool:
    """Whether ``bgfetch.open_user_agent`` takes ``store=``."""
    return "store" in inspect.signature(bgfetch.open_user_agent).parameters


DEFAULT_STORE_EDITIONS = ("current",)
"""The editions that get a store by default.  The 2017-10-12 edition refuses a store
for now (its persist.py): it runs without one unless ``--store`` asks for one."""


def default_store(edition: str = "current") -> Path | None:
    """Where background fetches are kept by default: ``bgfetch/store`` in the user's
    data directory (``store-<edition>`` for another edition: a store holds one edition's
    state), or None for an edition that keeps no store."""
    if edition not in DEFAULT_STORE_EDITIONS:
        return None
    name = "store" if edition == "current" else f"store-{edition}"
    return Path(platformdirs.user_data_dir("bgfetch")) / name


def resolve_store(given: str | None, edition: str = "current") -> Path | None:
    """The store to use: *given* (``--store DIR``), else the default one, else None when
    bgfetch has no store.  UsageError when *given* but bgfetch has no store."""
    if not store_supported():
        if given is not None:
            raise UsageError(f"--store {given}: {NO_STORE}")
        return None
    return Path(given) if given is not None else default_store(edition)


def require_store(given: str | None, command: str, edition: str = "current") -> Path:
    """The store *command* (list, show, abort) opens; UsageError if there is none."""
    if not store_supported():
        raise UsageError(f"{command}: {NO_STORE}")
    store = resolve_store(given, edition)
    if store is None:
        raise UsageError(f"{command}: the {edition} edition keeps no store (see --store)")
    return store


@asynccontextmanager
async def open_agent(store: Path | None, **options: Any) -> AsyncIterator[Any]:
    """``bgfetch.open_user_agent(store=store, **options)``; a store that cannot be
    opened (another edition's, another version's, damaged) is a UsageError naming it."""
    if store is not None:
        options["store"] = str(store)
    async with AsyncExitStack() as stack:
        try:
            ua = await stack.enter_async_context(bgfetch.open_user_agent(**options))
        except Exception as error:
            if store is None:
                raise
            raise UsageError(
                f"the store {store}: {_leaves(error)} (--no-store keeps nothing across runs)"
            ) from None
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
    settled; return its result."""
    display.cancel()
    while display_result(display) == "":
        await trio.sleep(poll)
    return display_result(display)


# -- the commands --------------------------------------------------------------------------


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
    async with open_agent(store, edition=edition) as ua:
        displays = list(ua.ui.displays)
        if command == "list":
            if as_json:
                out.write(json.dumps([describe(d) for d in displays]) + "\n")
            else:
                for line in list_lines(displays) or ["no background fetches"]:
                    out.line(line)
            return EXIT_OK
        assert id is not None
        try:
            display = ua.ui.find(id)
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
        result = await abort_display(display)
        out.line(f"{id}: aborted ({result})")
        return EXIT_OK
