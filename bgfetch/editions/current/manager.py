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
from bgfetch.store.base import StorageFull, check_quota
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
        if id == "":
            # Not in the spec: an empty id could never be got back, as get('') rejects;
            # Chromium refuses it too (SPEC-NOTES.md SN-current-8).
            raise TypeError("fetch(): the provided id '' is invalid: an id cannot be empty")
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

        edit_queue = extension.active_background_fetches_edit_queue
        request_bodies_remaining = 0
        request_read_failed: BaseException | None = None
        # Not a spec step: set while this fetch() reads its request bodies, outside the
        # edit queue (SPEC-NOTES.md SN-current-25).
        reading: trio.Event | None = None

        # 8. Enqueue the following steps to registration's active background fetches edit queue:
        def steps() -> None:
            nonlocal request_bodies_remaining, request_read_failed, reading
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
            # Not a spec step: an earlier fetch() of this id still reading its request
            # bodies outside the edit queue decides whether bgFetchMap[id] will exist; these
            # steps run again once it has (SPEC-NOTES.md SN-current-25).
            earlier = extension.reading.get(id)
            if earlier is not None:

                async def when_read() -> None:
                    await earlier.wait()
                    edit_queue.enqueue(steps)

                ua.tasks.in_parallel(when_read)
                return
            # 8.6. Let requestBodiesRemaining be the size of requests.  (Counted over the
            # requests that have a body: SPEC-NOTES.md SN-current-6.)
            request_bodies_remaining = sum(1 for r in records if r.request.body is not None)
            # 8.7. Let requestReadFailed be false.  (None, or the error that failed a read.)
            request_read_failed = None
            if request_bodies_remaining == 0:
                # Nothing to read: the steps go on here, in the edit queue.
                store_and_start()
                return
            # Steps 8.8-8.10 wait for the bodies: in parallel, as a task of this realm,
            # whose streams they read, and never in the edit queue, which a slow or endless
            # stream would hold; step 8.11 on run in the edit queue again (SPEC-NOTES.md
            # SN-current-25).
            if env.tasks.done or env.event_loop.closed:
                return  # the page and its streams are gone: nothing is stored
            reading = extension.reading[id] = trio.Event()
            env.tasks.in_parallel(read_request_bodies)

        async def read_request_bodies() -> None:
            """Steps 8.8-8.10 of #background-fetch-manager-fetch, outside the edit queue."""
            nonlocal upload_total, request_bodies_remaining, request_read_failed
            read_so_far = 0

            def count(size: int) -> None:
                """Step 8.9, as the bodies are read: the bytes read so far, with room for
                downloadTotal (SPEC-NOTES.md SN-current-7), must fit in what the origin's
                quota leaves; StorageFull once they do not."""
                nonlocal read_so_far
                read_so_far += size
                check_quota(
                    env.origin,
                    ua.store.usage(env.origin),
                    read_so_far + download_total,
                    ua.store.quota,
                )

            reads_changed = Condition()  # notified when either of the two changes
            finished = False
            try:
                async with trio.open_nursery() as reads:
                    # 8.8. For each request of requests (each record's request):
                    for record in records:
                        body = record.request.body
                        # 8.8.1. If request's body is null, then continue.
                        if body is None:
                            continue

                        # 8.8.2. Let stream be request's body's stream.  (body.wait() reads
                        # it, telling count() of each chunk.)
                        # 8.8.3. Run these steps in parallel:
                        async def read(body: Any = body) -> None:
                            nonlocal upload_total, request_bodies_remaining

                            # 8.8.3.1. Run these steps but abort when requestReadFailed is
                            # true:
                            async def wait_for_body() -> None:
                                nonlocal request_read_failed
                                try:
                                    # 8.8.3.1.1. Wait for request's body.
                                    if body.source is not None:
                                        count(len(body.source))
                                    await body.wait(count)
                                except StorageFull as full:
                                    # (Step 8.9, at once: the reads that remain abort.)
                                    promise.reject(
                                        QuotaExceededError(f"background fetch {id!r}: {full}")
                                    )
                                    request_read_failed = full
                                    reads_changed.notify()
                                except Exception as error:
                                    # 8.8.3.1.2. If stream has errored, then set
                                    # requestReadFailed to true.
                                    request_read_failed = error
                                    reads_changed.notify()

                            aborted = await abort_when(
                                wait_for_body,
                                reads_changed,
                                lambda: request_read_failed is not None,
                            )
                            # 8.8.3.2. If aborted and stream is readable, then error stream
                            # with an AbortError and abort these steps.  (An aborted read is
                            # cancelled; its stream is left as it is.  The read that failed
                            # stops here too: step 8.11 rejects.)
                            if aborted or request_read_failed is not None:
                                return
                            # 8.8.3.3. Increment uploadTotal by request's body's length.
                            upload_total += body.length
                            # 8.8.3.4. Decrement requestBodiesRemaining by 1.
                            request_bodies_remaining -= 1
                            reads_changed.notify()

                        reads.start_soon(read)
                    # 8.9. If at any point storing requests fails due to exceeding a quota
                    # limit, reject promise with a QuotaExceededError.  (Checked as each
                    # chunk is read, by count(); the requests are stored once their bodies
                    # are read: after step 8.11.)
                    # 8.10. Wait for requestBodiesRemaining to be 0, or requestReadFailed to
                    # be true.
                    await reads_changed.wait_for(
                        lambda: request_bodies_remaining == 0 or request_read_failed is not None
                    )
                finished = True
            finally:
                if finished:
                    edit_queue.enqueue(store_and_start)
                else:  # cancelled with the page: nothing is stored
                    done_reading()

        def done_reading() -> None:
            """Not a spec step: a later fetch() of this id may now run its steps."""
            if reading is not None:
                if extension.reading.get(id) is reading:
                    del extension.reading[id]
                reading.set()

        def store_and_start() -> None:
            """Steps 8.11-8.16 of #background-fetch-manager-fetch, in the edit queue; then a
            later fetch() of this id runs its steps."""
            try:
                start_background_fetch()
            finally:
                done_reading()

        def start_background_fetch() -> None:
            """Steps 8.11-8.16 of #background-fetch-manager-fetch."""
            bg_fetch_map = extension.active_background_fetches
            # 8.11. If requestReadFailed is true, then reject promise with a TypeError.
            # (Unless step 8.9 rejected it already.)
            if request_read_failed is not None:
                promise.reject(
                    TypeError(
                        f"background fetch {id!r}: reading a request body failed: "
                        f"{request_read_failed!r}"
                    )
                )
                return
            # Not a spec step: the registration was cleared while the request bodies were
            # read outside the edit queue (SPEC-NOTES.md SN-current-25, SN-current-28): step
            # 8.4 would now reject.
            if extension.cleared:
                promise.reject(
                    TypeError(
                        f"background fetch {id!r}: the service worker registration for "
                        f"{registration.scope_url.href} was cleared"
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

        edit_queue.enqueue(steps)
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

        # 4. Enqueue the following steps to bgFetch's update handling queue:
        async def steps() -> None:
            # 4.1. Queue a bgfetch task, task, to run these steps:
            def task() -> None:
                # 4.1.1. Let bgFetchRegistration be the result of getting a
                # BackgroundFetchRegistration instance for bgFetch in this's relevant Realm.
                bg_fetch_registration = get_a_background_fetch_registration_instance(bg_fetch, env)
                # 4.1.2. Resolve promise with bgFetchRegistration.
                promise.resolve(bg_fetch_registration)

            # 4.2. Wait for task to complete.  (Or for it to be dropped: a window closed
            # before the task ran discards it, and it never completes; waiting would stop
            # bgFetch's queue for good: SPEC-NOTES.md SN-current-26.)
            await env.event_loop.run_task(task)

        bg_fetch.update_handling_queue.enqueue(steps)
        return await promise

    async def get_ids(self) -> list[str]:
        """#background-fetch-manager-get-ids"""
        # 1. Let registration be this's associated service worker registration.
        registration = self.registration
        # 2. Resolve promise with the keys of registration's active background fetches.
        return list(registration_extension(registration).active_background_fetches)
