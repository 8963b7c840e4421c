"""What a stored user agent remembers of this edition's concepts, and how it restores
them (not in the draft, which has no restarts: SPEC-NOTES.md SN-2017-23).

The store (:mod:`bgfetch.store.sqlite`) keeps, per (kind, key), a JSON value:

* ``registration``, by scope URL: a service worker registration;
* ``background fetch``, by the background fetch's key: every field of the concept,
  whether it is in its registration's active background fetches, and whether its
  settled event was fired and handled;
* ``record``, by "<key>/<index>": the record's request (with its body), its response
  body's stored bytes (by number), response (without body) and outcome.

Every assignment to a concept's field saves its row (:class:`~bgfetch.infra.Watched`);
appended bytes keep their own length in the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bgfetch.infra import ParallelQueue
from bgfetch.store.base import Store
from bgfetch.store.codec import (
    request_from_json,
    request_to_json,
    response_from_json,
    response_to_json,
)
from bgfetch.sw.registration import Registration
from bgfetch.url import parse_url

from .concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    contains,
    registration_extension,
)

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent

REGISTRATION, BACKGROUND_FETCH, RECORD = "registration", "background fetch", "record"


def remember(bg_fetch: BackgroundFetch) -> None:
    """Save *bg_fetch*, its records and its registration, and save each again whenever
    it changes.  Nothing for a user agent whose store is in memory."""
    store = bg_fetch.service_worker_registration.user_agent.store
    if not store.persistent:
        return
    registration = bg_fetch.service_worker_registration
    store.save(REGISTRATION, registration.scope_url.href, {"scope": registration.scope_url.href})
    for index, record in enumerate(bg_fetch.records):
        _watch_record(bg_fetch, index, record)
    bg_fetch.saver = lambda: _save_background_fetch(bg_fetch)
    _save_background_fetch(bg_fetch)


def forget(bg_fetch: BackgroundFetch) -> None:
    """The background fetch is over: the store no longer keeps it."""
    store = bg_fetch.service_worker_registration.user_agent.store
    if not store.persistent:
        return
    bg_fetch.saver = None
    for index, record in enumerate(bg_fetch.records):
        record.saver = None
        store.delete(RECORD, f"{bg_fetch.key}/{index}")
    store.delete(BACKGROUND_FETCH, bg_fetch.key)


def _watch_record(bg_fetch: BackgroundFetch, index: int, record: BackgroundFetchRecord) -> None:
    def save() -> None:
        _save_record(bg_fetch, index, record)

    record.saver = save
    save()


def _save_background_fetch(bg_fetch: BackgroundFetch) -> None:
    registration = bg_fetch.service_worker_registration
    active = registration_extension(registration).active_background_fetches
    registration.user_agent.store.save(
        BACKGROUND_FETCH,
        bg_fetch.key,
        {
            "scope": registration.scope_url.href,
            "id": bg_fetch.id,
            "records": len(bg_fetch.records),
            "title": bg_fetch.title,
            "download_total": bg_fetch.download_total,
            "upload_total": bg_fetch.upload_total,
            "icons": bg_fetch.icons,
            "last_reported_download": bg_fetch.last_reported_download,
            "uploaded": bg_fetch.uploaded,
            "last_reported_upload": bg_fetch.last_reported_upload,
            "abort_all": bg_fetch.abort_all,
            "settled_event": bg_fetch.settled_event,
            "active": contains(active, bg_fetch),
            "completion_event": bg_fetch.completion_event,
        },
    )


def _save_record(bg_fetch: BackgroundFetch, index: int, record: BackgroundFetchRecord) -> None:
    store = bg_fetch.service_worker_registration.user_agent.store
    if record.outcome == "success":
        record.response_body.sync()  # a complete record's bytes are durable before it says so
    store.save(
        RECORD,
        f"{bg_fetch.key}/{index}",
        {
            "request": request_to_json(record.request),
            "bytes": record.response_body.id,
            "response": response_to_json(record.response),
            "outcome": record.outcome,
            "resumes": record.resumes,
        },
    )


def restore(user_agent: UserAgent) -> list[BackgroundFetch]:
    """Every background fetch the store holds, as this edition's concepts, with their
    service worker registrations (without workers: the host registers them again)."""
    store = user_agent.store
    for scope in store.load(REGISTRATION):
        if scope not in user_agent.registrations:
            user_agent.registrations[scope] = Registration(user_agent, parse_url(scope))
    records = store.load(RECORD)
    restored = []
    for key, row in store.load(BACKGROUND_FETCH).items():
        registration = user_agent.registrations[row["scope"]]
        bg_fetch = BackgroundFetch(
            id=row["id"],
            records=[_record(store, records[f"{key}/{i}"]) for i in range(row["records"])],
            title=row["title"],
            download_total=row["download_total"],
            upload_total=row["upload_total"],
            icons=row["icons"],
            service_worker_registration=registration,
            progress_handling_queue=ParallelQueue(f"progress handling queue of {row['id']!r}"),
            tasks=user_agent.tasks.child(f"background fetch {row['id']!r}", until="idle"),
            last_reported_download=row["last_reported_download"],
            uploaded=row["uploaded"],
            last_reported_upload=row["last_reported_upload"],
            abort_all=row["abort_all"],
            settled_event=row["settled_event"],
            key=key,
            completion_event=row["completion_event"],
            restored=True,
        )
        if row["active"]:
            registration_extension(registration).active_background_fetches[bg_fetch.id] = bg_fetch
        remember(bg_fetch)
        restored.append(bg_fetch)
    return restored


def _record(store: Store, row: dict[str, Any]) -> BackgroundFetchRecord:
    return BackgroundFetchRecord(
        request=request_from_json(row["request"]),
        response_body=store.bytes_by_id(row["bytes"]),
        response=response_from_json(row["response"]),
        outcome=row["outcome"],
        resumes=row["resumes"],
    )
