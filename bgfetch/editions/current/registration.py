"""BackgroundFetchRegistration (#background-fetch-registration).

Names are the IDL's in snake_case; methods returning a promise are ``async``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from bgfetch.dom import Event, EventHandler, EventTarget
from bgfetch.errors import InvalidStateError
from bgfetch.fetch.request import RequestInfo
from bgfetch.infra import Promise
from bgfetch.sw.cache import query_request, request_matches_cached_item
from bgfetch.sw.environment import Environment

from . import concepts
from .concepts import BackgroundFetch, does_not_contain_background_fetch, registration_extension
from .records import BackgroundFetchRecord, create_record_objects


class BackgroundFetchRegistration(EventTarget):
    """BackgroundFetchRegistration (#background-fetch-registration).

    Its values are copies, updated by "update background fetch instances", so they
    read synchronously; ``add_event_listener("progress", cb)`` or ``onprogress``
    hears each update.
    """

    def __init__(self, bg_fetch: BackgroundFetch, realm: Environment) -> None:
        super().__init__()
        self.background_fetch = bg_fetch
        self.realm = realm
        self._downloaded = bg_fetch.stored_body_bytes_total()
        self._uploaded = bg_fetch.uploaded
        self._result = bg_fetch.result
        self._failure_reason = bg_fetch.failure_reason
        self._id = bg_fetch.id
        self._upload_total = bg_fetch.upload_total
        self._download_total = bg_fetch.download_total
        self._records_available = bg_fetch.records_available

    id = property(lambda self: self._id)
    upload_total = property(lambda self: self._upload_total)
    download_total = property(lambda self: self._download_total)
    uploaded = property(lambda self: self._uploaded)
    downloaded = property(lambda self: self._downloaded)
    result = property(lambda self: self._result)
    failure_reason = property(lambda self: self._failure_reason)
    records_available = property(lambda self: self._records_available)

    onprogress = EventHandler("progress")

    def call_listener(self, callback: Callable[[Event], Any], event: Event) -> None:
        """A listener runs on this object's realm's event loop (bgfetch.dom)."""
        self.realm.event_loop.call_listener(callback, event)

    async def abort(self) -> bool:
        """#background-fetch-registration-abort"""
        promise: Promise[bool] = Promise()
        # 1. Let bgFetch be this's associated background fetch.
        bg_fetch = self.background_fetch
        # 2. Let swRegistration be bgFetch's service worker registration.
        sw_registration = bg_fetch.service_worker_registration
        extension = registration_extension(sw_registration)

        # 3. Enqueue the following steps to swRegistration's active background fetches edit queue:
        def steps() -> None:
            # 3.1. Let activeBgFetches be swRegistration's active background fetches.
            active_bg_fetches = extension.active_background_fetches
            # 3.2. Let id be bgFetch's id.
            id = bg_fetch.id
            # 3.3. If activeBgFetches does not contain background fetch bgFetch, resolve
            # promise with false and abort these steps.
            if does_not_contain_background_fetch(active_bg_fetches, bg_fetch):
                promise.resolve(False)
                return
            # 3.4. Remove activeBgFetches[id].
            del active_bg_fetches[id]
            # 3.5. Resolve promise with true.
            promise.resolve(True)
            # 3.6. Set bgFetch's abort all flag.
            sw_registration.user_agent.observers.step(
                "#background-fetch-registration-abort", "3.6", "abort all", id=id, key=bg_fetch.key
            )
            bg_fetch.abort_all = True

        extension.active_background_fetches_edit_queue.enqueue(steps)
        return await promise

    async def match(
        self,
        request: RequestInfo,
        *,
        ignore_search: bool = False,
        ignore_method: bool = False,
        ignore_vary: bool = False,
    ) -> BackgroundFetchRecord | None:
        """#background-fetch-registration-match"""
        # 1. Let promise be the result of calling matchAll() with request and options.
        matches = await self.match_all(
            request,
            ignore_search=ignore_search,
            ignore_method=ignore_method,
            ignore_vary=ignore_vary,
        )
        # 2. React to promise: return matches[0] (undefined when there is none).
        return matches[0] if matches else None

    async def match_all(
        self,
        request: RequestInfo | None = None,
        *,
        ignore_search: bool = False,
        ignore_method: bool = False,
        ignore_vary: bool = False,
    ) -> list[BackgroundFetchRecord]:
        """#background-fetch-registration-match-all"""
        # 1. If this's records available flag is unset, reject with an InvalidStateError.
        if not self._records_available:
            raise InvalidStateError(
                f"the records of background fetch {self._id!r} are no longer available"
            )
        # Not a spec step: request is a RequestInfo or undefined, and "request matches cached
        # item" takes a request.  The query is made as Cache's matchAll makes it: a Request
        # from the RequestInfo; a non-GET query matches nothing unless ignoreMethod; an
        # undefined request matches every record (SPEC-NOTES.md SN-current-15).
        query = query_request(request, self.realm.api_base_url, ignore_method=ignore_method)
        if query is False:
            return []
        # 2. Let promise be a new promise.
        promise: Promise[list[BackgroundFetchRecord]] = Promise()
        # 3. Run these steps in parallel:
        # 3.1. Let matchingRecords be an empty list.
        matching_records: list[concepts.BackgroundFetchRecord] = []
        # 3.2. For each record of this's background fetch's records:
        for record in self.background_fetch.records:
            # 3.2.1. If request matches cached item for request, record's request, record's
            # response data's response, and options returns true, then append record to
            # matchingRecords.
            if query is None or request_matches_cached_item(
                query,
                record.request,
                record.response_data.response,
                ignore_search=ignore_search,
                ignore_method=ignore_method,
                ignore_vary=ignore_vary,
            ):
                matching_records.append(record)
        # 3.3. Queue a bgfetch task to resolve promise with the result of creating record
        # objects from matchingRecords in this's relevant Realm.
        realm = self.realm
        realm.event_loop.queue_task(
            lambda: promise.resolve(create_record_objects(matching_records, realm))
        )
        # 4. Return promise.
        return await promise

    def __repr__(self) -> str:
        return (
            f"<BackgroundFetchRegistration {self._id!r} downloaded={self._downloaded} "
            f"result={self._result!r} failure_reason={self._failure_reason!r}>"
        )


# A BackgroundFetchManager's BackgroundFetchRegistration instances, by background fetch
# (by its key: the map holds neither, see BackgroundFetch.instances).
InstancesMap = weakref.WeakValueDictionary[str, BackgroundFetchRegistration]
