"""The rows a stored user agent keeps of a background fetch: what both editions'
``persist.py`` share.  Each edition says which fields its concepts have (a row is a
JSON object); this module saves the rows as the concepts change, forgets them when
the background fetch is over, and reads them back after a restart.

Kinds of rows (:meth:`bgfetch.store.sqlite.SQLiteStore.save`):

* ``registration``, by scope URL: a service worker registration;
* ``background fetch``, by the background fetch's key;
* ``record``, by "<key>/<index>": one of its records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from bgfetch.sw.registration import Registration
from bgfetch.url import parse_url

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent

REGISTRATION, BACKGROUND_FETCH, RECORD = "registration", "background fetch", "record"

Row = dict[str, Any]


class Saved(Protocol):
    """A concept object whose assignments call its ``saver`` (infra.Watched)."""

    saver: Callable[[], None] | None


class Kept(Saved, Protocol):
    """A background fetch, of either edition, as far as its rows go."""

    key: str
    service_worker_registration: Registration

    @property
    def records(self) -> list[Any]: ...


def remember(
    bg_fetch: Kept,
    *,
    fetch_row: Callable[[], Row],
    record_row: Callable[[Any], Row],
    parts: Callable[[Any], Iterable[Saved]] = lambda record: (record,),
) -> None:
    """Save *bg_fetch* (``fetch_row()``), each of its records (``record_row(record)``)
    and its registration, and save each again whenever it changes: assigning a field
    of the background fetch, or of any of ``parts(record)`` (the record and what it
    holds), saves its row.  Nothing for a user agent whose store is in memory."""
    registration = bg_fetch.service_worker_registration
    store = registration.user_agent.store
    if not store.persistent:
        return
    store.save(REGISTRATION, registration.scope_url.href, {"scope": registration.scope_url.href})
    for index, record in enumerate(bg_fetch.records):
        _keep_saved(record, f"{bg_fetch.key}/{index}", store, record_row, parts)
    bg_fetch.saver = lambda: store.save(BACKGROUND_FETCH, bg_fetch.key, fetch_row())
    bg_fetch.saver()


def _keep_saved(
    record: Any,
    key: str,
    store: Any,
    record_row: Callable[[Any], Row],
    parts: Callable[[Any], Iterable[Saved]],
) -> None:
    """Save *record*'s row under *key* now, and again whenever it or one of its parts
    changes.  (A function of its own, so that each record's saver is its own: a closure
    made in remember()'s loop would see the loop's last ``save``, and a record given a
    new part would then save another record's row instead of its own.)"""

    def save() -> None:
        for part in parts(record):  # again each time: a part may have been replaced
            part.saver = save
        store.save(RECORD, key, record_row(record))

    save()


def forget(
    bg_fetch: Kept, *, parts: Callable[[Any], Iterable[Saved]] = lambda record: (record,)
) -> None:
    """The background fetch is over: the store no longer keeps its rows."""
    store = bg_fetch.service_worker_registration.user_agent.store
    if not store.persistent:
        return
    bg_fetch.saver = None
    for index, record in enumerate(bg_fetch.records):
        for part in parts(record):
            part.saver = None
        store.delete(RECORD, f"{bg_fetch.key}/{index}")
    store.delete(BACKGROUND_FETCH, bg_fetch.key)


def kept_background_fetches(user_agent: UserAgent) -> Iterator[tuple[str, Row, list[Row]]]:
    """After a restart: each stored background fetch's key, row and record rows, in
    the order they were first stored, once its service worker registration is back
    (without a worker: the host program registers it again)."""
    store = user_agent.store
    for scope in store.load(REGISTRATION):
        if scope not in user_agent.registrations:
            user_agent.registrations[scope] = Registration(user_agent, parse_url(scope))
    records = store.load(RECORD)
    for key, row in store.load(BACKGROUND_FETCH).items():
        yield key, row, [records[f"{key}/{index}"] for index in range(row["records"])]
