"""What a stored user agent keeps of this edition's concepts, and how it restores them
(not in the spec, which has no restarts: SPEC-NOTES.md SN-current-24).

A background fetch's row holds every field of the concept, whether it is in its
registration's active background fetches, and whether its completion event was
fired and handled; a record's row its request (with its body) and its response data:
the stored bytes (by number), the response (without body) and the result
(:mod:`bgfetch.store.rows` saves them as they change).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.infra import ParallelQueue
from bgfetch.store import rows
from bgfetch.store.codec import (
    request_from_json,
    request_to_json,
    response_from_json,
    response_to_json,
)
from bgfetch.store.rows import Row, Saved

from .concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    BackgroundFetchResponse,
    contains_background_fetch,
    registration_extension,
)

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent


def _parts(record: BackgroundFetchRecord) -> tuple[Saved, ...]:
    return (record, record.response_data)


def remember(bg_fetch: BackgroundFetch) -> None:
    """Keep *bg_fetch* in a stored user agent's store from now on."""
    rows.remember(
        bg_fetch,
        fetch_row=lambda: _fetch_row(bg_fetch),
        record_row=_record_row,
        parts=_parts,
    )


def forget(bg_fetch: BackgroundFetch) -> None:
    """The background fetch is over: the store no longer keeps it."""
    rows.forget(bg_fetch, parts=_parts)


def _fetch_row(bg_fetch: BackgroundFetch) -> Row:
    registration = bg_fetch.service_worker_registration
    active = registration_extension(registration).active_background_fetches
    return {
        "scope": registration.scope_url.href,
        "id": bg_fetch.id,
        "records": len(bg_fetch.records),
        "title": bg_fetch.title,
        "download_total": bg_fetch.download_total,
        "upload_total": bg_fetch.upload_total,
        "icons": bg_fetch.icons,
        "uploaded": bg_fetch.uploaded,
        "result": bg_fetch.result,
        "failure_reason": bg_fetch.failure_reason,
        "records_available": bg_fetch.records_available,
        "paused": bg_fetch.paused,
        "abort_all": bg_fetch.abort_all,
        "active": contains_background_fetch(active, bg_fetch),
        "completion_event": bg_fetch.completion_event,
    }


def _record_row(record: BackgroundFetchRecord) -> Row:
    response_data = record.response_data
    if response_data.result in ("success", "bad-status"):
        response_data.bytes.sync()  # a complete record's bytes are durable before it says so
    return {
        "request": request_to_json(record.request),
        "bytes": response_data.bytes.id,
        "response": response_to_json(response_data.response),
        "result": response_data.result,
        "resumes": record.resumes,
    }


def restore(user_agent: UserAgent) -> list[BackgroundFetch]:
    """Every background fetch the store holds, as this edition's concepts."""
    store = user_agent.store
    restored = []
    for key, row, record_rows in rows.kept_background_fetches(user_agent):
        registration = user_agent.registrations[row["scope"]]
        records = [
            BackgroundFetchRecord(
                request=request_from_json(record["request"]),
                response_data=BackgroundFetchResponse(
                    store.bytes_by_id(record["bytes"]),
                    response=response_from_json(record["response"]),
                    result=record["result"],
                ),
                resumes=record["resumes"],
            )
            for record in record_rows
        ]
        bg_fetch = BackgroundFetch(
            id=row["id"],
            records=records,
            title=row["title"],
            download_total=row["download_total"],
            upload_total=row["upload_total"],
            icons=row["icons"],
            service_worker_registration=registration,
            update_handling_queue=ParallelQueue(f"update handling queue of {row['id']!r}"),
            tasks=user_agent.tasks.child(f"background fetch {row['id']!r}", until="idle"),
            uploaded=row["uploaded"],
            result=row["result"],
            failure_reason=row["failure_reason"],
            records_available=row["records_available"],
            paused=row["paused"],
            abort_all=row["abort_all"],
            key=key,
            completion_event=row["completion_event"],
            restored=True,
        )
        if row["active"]:
            registration_extension(registration).active_background_fetches[bg_fetch.id] = bg_fetch
        remember(bg_fetch)
        restored.append(bg_fetch)
    return restored
