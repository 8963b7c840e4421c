"""BackgroundFetchManager (#background-fetch-manager).

Names are the IDL's in snake_case; methods returning a promise are ``async``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

import trio

from bgfetch.errors import NotAllowedError, QuotaExceededError
from bgfetch.fetch.csp import PolicyContainer
from bgfetch.fetch.request import Request, RequestInfo
from bgfetch.idl import dom_string, image_resources, sequence, unsigned_long_long
from bgfetch.infra import Condition, ParallelQueue, Promise, abort_when
from bgfetch.store.base import StorageFull
from bgfetch.sw.environment import Environment
from bgfetch.sw.registration import ServiceWorkerRegistration

from .concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    BackgroundFetchResponse,
    registration_extension,
)
from .display import display
from .instances import get_a_background_fetch_registration_instance
from .perform import perform_a_background_fetch
from .persist import remember
from .registration import BackgroundFetchRegistration, InstancesMap


class BackgroundFetchManager:
    """BackgroundFetchManager (#background-fetch-manager), one per registration per realm."""

    def __init__(self, registration_object: ServiceWorkerRegistration) -> None:
        # The service worker registration (the concept) and this object's realm.
        self.registration = registration_object.registration
        self.environment: Environment = registration_object.environment
        # BackgroundFetchRegistration instances: background fetch -> instance.
        # (Weak, by the background fetch's key: an instance lives as long as its
        # background fetch, or the page, holds it; SPEC-NOTES.md SN-current-21.)
        self.instances: InstancesMap = weakref.WeakValueDictionary()

    async def fetch(
        self,
        id: str,
        requests: RequestInfo | Iterable[RequestInfo],
        *,
        download_total: int = 0,
        title: str | None = None,
        icons: list[Any] | None = None,
    ) -> BackgroundFetchRegistration:
        """#background-fetch-manager-fetch"""
        # (IDL argument conversion, which this binding checks instead: id is a DOMString;
        # requests a RequestInfo or a sequence of them; options' downloadTotal an unsigned
        # long long, title a DOMString, icons a sequence<ImageResource>.  A bad argument
        # is a TypeError naming it, here, never an error in the steps below.)
        dom_string(id, "a background fetch id")
        download_total = unsigned_long_long(download_total, "downloadTotal")
        if title is not None:
            dom_string(title, "title")
        icons = image_resources(icons, "icons") if icons is not None else None
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
        # 1. Let registration be this's service worker registration.
        registration = self.registration
        # 2. Let records be a new list.
        records: list[BackgroundFetchRecord] = []
        # 3. Let uploadTotal be 0.
        upload_total = 0
        # 4. If requests is a RequestInfo, set requests to « requests ».
        if isinstance(requests, str | Request):
            requests = [requests]
        requests = list(requests)
        # 5. If requests is empty, then return a promise rejected with a TypeError.
        if not requests:
            raise TypeError(f"background fetch {id!r}: at least one request must be given")
        # 6. For each request of requests:
        for request in requests:
            # 6.1. Let internalRequest be the request of invoking the Request constructor
            # with request.  If this throws an exception, return a promise rejected with it.
            internal_request = Request(request, base_url=env.api_base_url).request
            # 6.2. If internalRequest's mode is "no-cors", reject with a TypeError.
            if internal_request.mode == "no-cors":
                raise TypeError(
                    f"background fetch {id!r}: {internal_request.url.href}: "
                    "the request mode must not be no-cors"
                )
            # 6.3. Set internalRequest's client to null.
            internal_request.client = None
            # With no client, Fetch could not know who asks: the request's origin and
            # policy container are the window's, for CORS, mixed content and CSP
            # (SPEC-NOTES.md SN-fetch-1).
            internal_request.origin = env.origin
            internal_request.policy_container = PolicyContainer.from_csp_header(env.csp)
            # 6.4. Let record be a new background fetch record.
            # 6.5. Set record's request to internalRequest.
            record = BackgroundFetchRecord(
                request=internal_request,
                response_data=BackgroundFetchResponse(ua.store.new_bytes(env.origin)),
            )
            # 6.6. Append record to records.
            records.append(record)
        # 7. Let promise be a new promise.
        promise: Promise[BackgroundFetchRegistration] = Promise()
        extension = registration_extension(registration)

        # 8. Enqueue the following steps to registration's active background fetches edit queue:
        async def steps() -> None:
            nonlocal upload_total
            # 8.1. Let permission be the permission state for "background-fetch" and this's
            # relevant settings object.
            permission = ua.permissions.state("background-fetch", env.origin)
            # 8.2. If permission is "denied", reject with a NotAllowedError.
            if permission == "denied":
                promise.reject(
                    NotAllowedError(
                        f"background fetch {id!r}: the background-fetch permission is denied "
                        f"for {env.origin}"
                    )
                )
                return
            # 8.3. Let bgFetchMap be registration's active background fetches.
            bg_fetch_map = extension.active_background_fetches
            # 8.4. If registration's active worker is null, reject with a TypeError.
            if registration.active_worker is None:
                promise.reject(
                    TypeError(
                        f"background fetch {id!r}: the service worker registration for "
                        f"{registration.scope_url.href} has no active worker"
                    )
                )
                return
            # 8.5. If bgFetchMap[id] exists, reject with a TypeError.
            if id in bg_fetch_map:
                promise.reject(
                    TypeError(
                        f"background fetch {id!r}: there already is an active background fetch "
                        "with this id"
                    )
                )
                return
            # 8.6. Let requestBodiesRemaining be the size of requests.  (Counted over the
            # requests that have a body: SPEC-NOTES.md SN-current-6.)
            request_bodies_remaining = sum(1 for r in records if r.request.body is not None)
            # 8.7. Let requestReadFailed be false.  (None, or the error that failed a read.)
            request_read_failed: BaseException | None = None
            reads_changed = Condition()  # notified when either of the two changes
            async with trio.open_nursery() as reads:
                # 8.8. For each request of requests (each record's request):
                for record in records:
                    body = record.request.body
                    # 8.8.1. If request's body is null, then continue.
                    if body is None:
                        continue

                    # 8.8.2. Let stream be request's body's stream.  (body.wait() reads it.)
                    # 8.8.3. Run these steps in parallel:
                    async def read(body: Any = body) -> None:
                        nonlocal upload_total, request_bodies_remaining

                        # 8.8.3.1. Run these steps but abort when requestReadFailed is true:
                        async def wait_for_body() -> None:
                            nonlocal request_read_failed
                            try:
                                # 8.8.3.1.1. Wait for request's body.
                                await body.wait()
                            except Exception as error:
                                # 8.8.3.1.2. If stream has errored, then set requestReadFailed
                                # to true.
                                request_read_failed = error
                                reads_changed.notify()

                        aborted = await abort_when(
                            wait_for_body, reads_changed, lambda: request_read_failed is not None
                        )
                        # 8.8.3.2. If aborted and stream is readable, then error stream with
                        # an AbortError and abort these steps.  (An aborted read is cancelled;
                        # its stream is left as it is.  The read that failed stops here too:
                        # step 8.11 rejects.)
                        if aborted or request_read_failed is not None:
                            return
                        # 8.8.3.3. Increment uploadTotal by request's body's length.
                        upload_total += body.length
                        # 8.8.3.4. Decrement requestBodiesRemaining by 1.
                        request_bodies_remaining -= 1
                        reads_changed.notify()

                    reads.start_soon(read)
                # 8.9. If at any point storing requests fails due to exceeding a quota limit,
                # reject promise with a QuotaExceededError.  (The requests are stored once
                # their bodies are read: after step 8.11, below.)
                # 8.10. Wait for requestBodiesRemaining to be 0, or requestReadFailed to be
                # true.
                await reads_changed.wait_for(
                    lambda: request_bodies_remaining == 0 or request_read_failed is not None
                )
            # 8.11. If requestReadFailed is true, then reject promise with a TypeError.
            if request_read_failed is not None:
                promise.reject(
                    TypeError(
                        f"background fetch {id!r}: reading a request body failed: "
                        f"{request_read_failed!r}"
                    )
                )
                return
            # (Step 8.9's storing: the request bodies, with room for downloadTotal, as WPT
            # and Chromium expect; SPEC-NOTES.md SN-current-7.)
            try:
                ua.store.reserve(env.origin, upload_total + download_total)
            except StorageFull as full:
                promise.reject(QuotaExceededError(f"background fetch {id!r}: {full}"))
                return
            ua.store.release(env.origin, download_total)  # only the request bodies stay stored
            # 8.12. Let bgFetch be a new background fetch.
            bg_fetch = BackgroundFetch(
                id=id,
                records=records,
                download_total=download_total,
                upload_total=upload_total,
                icons=list(icons) if icons is not None else [],
                title=title if title is not None else "",
                service_worker_registration=registration,
                update_handling_queue=ParallelQueue(f"update handling queue of {id!r}"),
                tasks=ua.tasks.child(f"background fetch {id!r}", until="idle"),
            )
            bg_fetch.update_handling_queue.start(bg_fetch.tasks)
            # 8.13. Set bgFetchMap[id] to bgFetch.
            bg_fetch_map[id] = bg_fetch
            # (Not a spec step: a stored user agent keeps it from here on, so it survives
            # a restart; SPEC-NOTES.md SN-current-24.)
            remember(bg_fetch)
            # 8.14. Queue a bgfetch task to resolve promise with the result of getting a
            # BackgroundFetchRegistration instance for bgFetch in this's relevant Realm.
            env.event_loop.queue_task(
                lambda: promise.resolve(get_a_background_fetch_registration_instance(bg_fetch, env))
            )
            # 8.15. In parallel, display bgFetch from this's relevant settings object.
            # (Run first, so a "prompt" permission pauses the fetch before it starts.)
            display(bg_fetch, env)
            # 8.16. In parallel, perform a background fetch with bgFetch.
            bg_fetch.tasks.in_parallel(perform_a_background_fetch, bg_fetch)

        extension.active_background_fetches_edit_queue.enqueue(steps)
        # 9. Return promise.
        return await promise

    async def get(self, id: str) -> BackgroundFetchRegistration | None:
        """#background-fetch-manager-get"""
        if not isinstance(id, str) or id == "":
            # Not in the spec; WPT and Chromium reject an empty id (SPEC-NOTES.md SN-current-8).
            raise TypeError(f"get(): the provided id {id!r} is invalid")
        promise: Promise[BackgroundFetchRegistration | None] = Promise()
        # 1. Let registration be this's associated service worker registration.
        registration = self.registration
        # 2. Let bgFetch be registration's active background fetches[id].
        bg_fetch = registration_extension(registration).active_background_fetches.get(id)
        # 3. If bgFetch is undefined, then resolve promise with undefined and abort these steps.
        if bg_fetch is None:
            return None
        env = self.environment
        done = trio.Event()

        # 4. Enqueue the following steps to bgFetch's update handling queue:
        async def steps() -> None:
            # 4.1. Queue a bgfetch task, task, to run these steps:
            def task() -> None:
                # 4.1.1. Let bgFetchRegistration be the result of getting a
                # BackgroundFetchRegistration instance for bgFetch in this's relevant Realm.
                bg_fetch_registration = get_a_background_fetch_registration_instance(bg_fetch, env)
                # 4.1.2. Resolve promise with bgFetchRegistration.
                promise.resolve(bg_fetch_registration)
                done.set()

            env.event_loop.queue_task(task)
            # 4.2. Wait for task to complete.
            await done.wait()

        bg_fetch.update_handling_queue.enqueue(steps)
        return await promise

    async def get_ids(self) -> list[str]:
        """#background-fetch-manager-get-ids"""
        # 1. Let registration be this's associated service worker registration.
        registration = self.registration
        # 2. Resolve promise with the keys of registration's active background fetches.
        return list(registration_extension(registration).active_background_fetches)
