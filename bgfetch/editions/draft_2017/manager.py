"""BackgroundFetchManager (#background-fetch-manager).

Names are the IDL's in snake_case; methods returning a promise are ``async``.
Where the draft says TODO, the behaviour is the nearest later revision's, marked
"(filled: <commit>)" and listed in SPEC-NOTES.md §2017.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from bgfetch.errors import QuotaExceededError
from bgfetch.fetch.csp import PolicyContainer
from bgfetch.fetch.request import Request, RequestInfo
from bgfetch.idl import dictionaries, dom_string, sequence, unsigned_long_long
from bgfetch.infra import ParallelQueue, Promise
from bgfetch.store.base import StorageFull
from bgfetch.sw.environment import Environment
from bgfetch.sw.registration import ServiceWorkerRegistration

from .concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    registration_extension,
)
from .display import show
from .instances import get_a_background_fetch_registration_instance
from .perform import attempt_a_background_fetch
from .persist import remember
from .registration import BackgroundFetchRegistration, InstancesMap


class BackgroundFetchManager:
    """BackgroundFetchManager (#background-fetch-manager), one per ServiceWorkerRegistration
    object: its service worker registration, and its BackgroundFetchRegistration instances."""

    def __init__(self, registration_object: ServiceWorkerRegistration) -> None:
        # Its service worker registration is the ServiceWorkerRegistration's registration.
        self.registration = registration_object.registration
        self.environment: Environment = registration_object.environment
        # BackgroundFetchRegistration instances: background fetch -> instance, initially empty.
        # (Weak, by the background fetch's key: an instance lives as long as its
        # background fetch, or the page, holds it; SPEC-NOTES.md SN-2017-20.)
        self.instances: InstancesMap = weakref.WeakValueDictionary()

    async def fetch(
        self,
        id: str,
        requests: RequestInfo | Iterable[RequestInfo],
        *,
        icons: list[Any] | None = None,
        title: str | None = "",
        download_total: int = 0,
    ) -> BackgroundFetchRegistration:
        """#background-fetch-manager-fetch"""
        # Not a step: the arguments' IDL types, which this Python binding checks instead
        # of converting: id is a DOMString; requests a RequestInfo or a sequence of them;
        # options' icons a sequence<IconDefinition>, title a DOMString, totalDownloadSize
        # an unsigned long long.  A bad argument is a TypeError naming it, here, never an
        # error in the steps below.
        dom_string(id, "a background fetch id")
        download_total = unsigned_long_long(download_total, "downloadTotal")
        title = "" if title is None else dom_string(title, "title")  # None: the default
        if icons is not None:
            icons = dictionaries(
                icons,
                "icons",
                name="IconDefinition",
                members={"src": None, "sizes": "", "type": ""},
            )
        if not isinstance(requests, str | Request):
            requests = sequence(requests, "requests")
            for index, item in enumerate(requests):
                if not isinstance(item, str | Request):
                    raise TypeError(
                        f"requests[{index}] must be a URL string or a Request, not "
                        f"{type(item).__name__}"
                    )
        env = self.environment
        ua = env.user_agent
        # 1. Let registration be the context object's service worker registration.
        registration = self.registration
        # 2. Let bgFetchInstances be context object's BackgroundFetchRegistration instances.
        bg_fetch_instances = self.instances
        # 3. Let records be a new list.
        records: list[BackgroundFetchRecord] = []
        # 4. Let uploadTotal be 0.
        upload_total = 0
        # 5. If requests is a RequestInfo, set requests to « requests ».
        if isinstance(requests, str | Request):
            requests = [requests]
        requests = list(requests)
        # 6. If requests is empty, then return a promise rejected with a TypeError.
        if not requests:
            raise TypeError(f"background fetch {id!r}: at least one request must be given")
        # 7. For each request of requests:
        for request in requests:
            # 7.1. Let internalRequest be the request of the result of invoking the Request
            # constructor with request.  (An exception it throws rejects the promise.)
            internal_request = Request(request, base_url=env.api_base_url).request
            # 7.2. If internalRequest's mode is "no-cors", reject with a TypeError.
            if internal_request.mode == "no-cors":
                raise TypeError(
                    f"background fetch {id!r}: {internal_request.url.href}: "
                    "the request mode must not be no-cors"
                )
            # 7.3. If internalRequest's body is not null, then:
            if internal_request.body is not None:
                # 7.3.1. If its body's source is a ReadableStream, reject with a TypeError.
                if internal_request.body.source is None:
                    raise TypeError(
                        f"background fetch {id!r}: {internal_request.url.href}: "
                        "a request body that is a stream (ReadableStream) is not supported"
                    )
                # 7.3.2. Increment uploadTotal by its body's total bytes.
                upload_total += len(internal_request.body.source)
            # 7.4. Set internalRequest's client to null.
            internal_request.client = None
            # With no client, Fetch could not know who asks: the request's origin and
            # policy container are the window's, for CORS, mixed content and CSP (as the
            # current edition does; SPEC-NOTES.md SN-fetch-1).
            internal_request.origin = env.origin
            internal_request.policy_container = PolicyContainer.from_csp_header(env.csp)
            # 7.5. Let record be a new background fetch record.
            # 7.6. Set record's request to internalRequest.
            record = BackgroundFetchRecord(
                request=internal_request, response_body=ua.store.new_bytes(env.origin)
            )
            # 7.7. Append record to records.
            records.append(record)
        # 8. Let promise be a new promise.
        promise: Promise[BackgroundFetchRegistration] = Promise()
        extension = registration_extension(registration)

        # 9. Enqueue the following steps to registration's active background fetches edit queue:
        def steps() -> None:
            # 9.1. Let bgFetchMap be registration's active background fetches.
            bg_fetch_map = extension.active_background_fetches
            # 9.2. If registration's active worker is null, reject with a TypeError.
            if registration.active_worker is None:
                promise.reject(
                    TypeError(
                        f"background fetch {id!r}: the service worker registration for "
                        f"{registration.scope_url.href} has no active worker"
                    )
                )
                return
            # 9.3. If bgFetchMap[id] exists, reject promise with a TypeError.
            if id in bg_fetch_map:
                promise.reject(
                    TypeError(
                        f"background fetch {id!r}: there already is an active background fetch "
                        "with this id"
                    )
                )
                return
            # 9.4. Let bgFetch be a new background fetch.
            bg_fetch = BackgroundFetch(
                id=id,
                records=records,
                download_total=download_total,
                upload_total=upload_total,
                icons=list(icons) if icons is not None else [],
                title=title,
                service_worker_registration=registration,
                progress_handling_queue=ParallelQueue(f"progress handling queue of {id!r}"),
                tasks=ua.tasks.child(f"background fetch {id!r}", until="idle"),
            )
            bg_fetch.progress_handling_queue.start(bg_fetch.tasks)
            # 9.5. Set bgFetchMap[id] to bgFetch.
            bg_fetch_map[id] = bg_fetch
            # 9.6. If storing bgFetch fails due to exceeding a quota limit, reject promise
            # with a QuotaExceededError.  Storing it takes its request bodies (its download
            # total is a number, not bytes to store: no revision reserves room for it),
            # and the rejected bgFetch leaves bgFetchMap again (SPEC-NOTES.md SN-2017-17).
            try:
                ua.store.reserve(env.origin, upload_total)
            except StorageFull as full:
                del bg_fetch_map[id]
                promise.reject(QuotaExceededError(f"background fetch {id!r}: {full}"))
                return
            # (Not in the draft: a stored user agent keeps it from here on, so it survives
            # a restart; SPEC-NOTES.md SN-2017-23.)
            remember(bg_fetch)
            # 9.7. Resolve promise with the result of getting a BackgroundFetchRegistration
            # instance passing bgFetchInstances and bgFetch.
            promise.resolve(
                get_a_background_fetch_registration_instance(bg_fetch_instances, bg_fetch, env)
            )
            # Not a step: the privacy section wants background fetches "highly visible
            # and easily abortable"; the UI shows it (privacy.py).
            show(bg_fetch, env)
            # 9.8. Attempt a background fetch with bgFetch.  (In parallel, as 7a628ca says:
            # run here, it would hold the edit queue until every fetch ended;
            # SPEC-NOTES.md SN-2017-16.)
            bg_fetch.tasks.in_parallel(attempt_a_background_fetch, bg_fetch)

        extension.active_background_fetches_edit_queue.enqueue(steps)
        # 10. Return promise.
        return await promise

    async def get(self, id: str) -> BackgroundFetchRegistration | None:
        """#background-fetch-manager-get.  Any id is looked up, '' too (SPEC-NOTES.md
        SN-2017-19)."""
        promise: Promise[BackgroundFetchRegistration | None] = Promise()
        # 1. Let registration be the context object's associated service worker registration.
        registration = self.registration
        # 2. Let bgFetch be registration's active background fetches[id].
        bg_fetch = registration_extension(registration).active_background_fetches.get(id)
        # 3. If bgFetch is nothing, then resolve promise with undefined and abort these steps.
        if bg_fetch is None:
            return None
        # 4. Let downloaded be bgFetch's last reported download.
        downloaded = bg_fetch.last_reported_download
        env = self.environment

        # 5. Enqueue the following steps to bgFetch's progress handling queue:
        async def steps() -> None:
            # 5.1. Queue a task task to run the following steps:
            def task() -> None:
                # 5.1.1. Let bgFetchRegistration be the result of getting a
                # BackgroundFetchRegistration instance passing the context object's
                # BackgroundFetchRegistration instances and bgFetch.
                bg_fetch_registration = get_a_background_fetch_registration_instance(
                    self.instances, bg_fetch, env
                )
                # 5.1.2. Set bgFetchRegistration's downloaded to downloaded.  (Read at step
                # 4, it may be older than what the instance heard: SPEC-NOTES.md SN-2017-18.)
                bg_fetch_registration._downloaded = downloaded
                # 5.1.3. Resolve promise with bgFetchRegistration.
                promise.resolve(bg_fetch_registration)

            # 5.2. Wait for task to complete.  (Or for it to be dropped: a window closed
            # before the task ran discards it, and it never completes; waiting would stop
            # bgFetch's queue for good: SPEC-NOTES.md SN-2017-24.)
            await env.event_loop.run_task(task)

        bg_fetch.progress_handling_queue.enqueue(steps)
        return await promise

    async def get_ids(self) -> list[str]:
        """#background-fetch-manager-get-ids"""
        # 1. Let registration be the context object's associated service worker registration.
        registration = self.registration
        # 2. Let ids be the result of getting the keys of registration's active background
        # fetches.
        ids = list(registration_extension(registration).active_background_fetches)
        # 3. Resolve promise with ids.
        return ids
