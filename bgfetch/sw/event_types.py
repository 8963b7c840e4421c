"""The event types a service worker can listen for, in one place, so that a listener for a
type nothing fires is an error at once (a misspelling, ``@worker.on`` without its type,
the other edition's event) instead of a handler that silently never runs.

The known types are the Service Workers events bgfetch fires at a worker
(:data:`SERVICE_WORKER_EVENTS`: code that fires another adds it there) and each
edition's own (``EVENTS`` in its package; :func:`bgfetch.editions.event_editions`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from types import ModuleType

from bgfetch.editions import event_editions

SERVICE_WORKER_EVENTS: set[str] = {"install", "activate", "message"}
"""The Service Workers spec's events bgfetch fires at a service worker's global scope."""


def known_event_types() -> list[str]:
    """Every event type a service worker may receive, under some edition, sorted."""
    return sorted(SERVICE_WORKER_EVENTS | set(event_editions()))


def check_event_type(type: object) -> str:
    """*type* if a service worker can receive events of that type; otherwise TypeError
    (not a str) or ValueError naming the known types and the closest one."""
    if not isinstance(type, str):
        raise TypeError(f"an event type is a str, such as 'backgroundfetchsuccess', not {type!r}")
    known = known_event_types()
    if type in known:
        return type
    closest = difflib.get_close_matches(type.lower(), known, n=1)
    hint = f"; did you mean {closest[0]!r}?" if closest else ""
    raise ValueError(
        f"bgfetch fires no {type!r} event at a service worker{hint} "
        f"(the events it fires: {', '.join(known)})"
    )


def check_for_edition(worker: object, types: Iterable[str], edition: ModuleType) -> None:
    """ValueError when *worker*, about to be registered in a user agent of *edition*,
    listens for an event only other editions fire (*types*: the types it listens for)
    and for none that only *edition* fires: it was written for another edition, and
    those handlers would never run.  A worker for both editions listens for both."""
    editions = event_editions()
    types = set(types)
    own = set(edition.EVENTS)
    foreign = sorted(t for t in types if t in editions and t not in own)
    only_here = sorted(e for e in own if editions[e] == (edition.NAME,))
    if not foreign or types & set(only_here):
        return
    first = foreign[0]
    written_for = " and ".join(editions[first])
    raise ValueError(
        f"{worker!r} listens for {first!r}, an event of the {written_for} edition, but this "
        f"user agent runs the {edition.NAME} edition, which never fires it (its events: "
        f"{', '.join(edition.EVENTS)}); a worker for both editions also listens for "
        f"{', '.join(repr(e) for e in only_here)}"
    )
