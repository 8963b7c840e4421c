"""Attempt a background fetch (#attempt-a-background-fetch-algorithm).

The draft leaves these holes here, each filled from the first later revision that
settles it (SPEC-NOTES.md SN-2017-2, SN-2017-3, SN-2017-7, SN-2017-9, SN-2017-10,
SN-2017-25):

* step 6.6, "TODO: other failure reasons?": a response whose status is not an ok
  status (4a2cc52, 2018-05-23), and bytes past the download total (6cf8c42,
  2018-06-15), set abandoned.
* step 6.7.1, "TODO: Resume download somehow": while the user agent is offline, wait
  until it is not, then fetch again with a range header for the bytes already stored
  (4a2cc52); a 206 that ends before the resource does asks for the rest (d18bb02,
  2018-07-13).
* step 9.1, "TODO: terminate all related fetches" (and abort()'s last step): set
  the background fetch's abort all flag; every record's ongoing fetch is then
  terminated with the aborted flag set (8a2733f, 2018-07-27).
* step 10, what each event's ``fetches`` holds: the background fetch's records, and
  its ``id``, a required member the draft does not list (fdc1747, 2018-07-12).

Step 6.8.5.2 keeps the draft's answer: a body stream that errors sets abandoned
(its TODO, "this could be another resume point", first settled by d18bb02: the
record fails; SPEC-NOTES.md SN-2017-3).
"""

from __future__ import annotations

import trio

from bgfetch.errors import NetworkError
from bgfetch.fetch.response import InternalResponse, strong_validator
from bgfetch.infra import Condition, ParallelQueue, abort_when
from bgfetch.resume import (
    may_ask_for_the_rest,
    stored_bytes_are_complete,
    temporarily_unavailable,
    wait_until_available,
)
from bgfetch.store.base import StorageFull
from bgfetch.sw.events import ExtendableEvent
from bgfetch.sw.registration import ServiceWorkerGlobalScope, fire_functional_event

from .concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    contains,
    registration_extension,
)
from .display import show
from .events import BackgroundFetchSettledEvent, BackgroundFetchUpdateEvent
from .instances import report_progress_for_background_fetch
from .partial import extract_content_range_values, validate_a_partial_response
from .persist import forget
from .records import BackgroundFetchSettledFetches

ANCHOR = "#attempt-a-background-fetch-algorithm"


def failed_cors_check(response: InternalResponse) -> bool:
    """Step 6.6's "response failed due to a failed CORS check".

    The draft's own issue: Fetch does not expose this (whatwg/fetch#605).  bgfetch's
    Fetch marks such a network error ``cors_failure`` (a failed CORS check or
    CORS-preflight, including a preflight that met a network error).  SPEC-NOTES.md
    SN-2017-8.
    """
    return response.is_network_error and response.cors_failure


async def attempt_a_background_fetch(bg_fetch: BackgroundFetch) -> None:
    """#attempt-a-background-fetch-algorithm

    Runs as a task of bgFetch (``bg_fetch.tasks``); its records run in a nursery of
    this algorithm's, which closes only when every record has stopped.
    """
    ua = bg_fetch.service_worker_registration.user_agent
    network = ua.network
    origin = bg_fetch.service_worker_registration.origin
    step = ua.observers.step
    # 1. Let swRegistration be bgFetch's service worker registration.
    sw_registration = bg_fetch.service_worker_registration
    # 2. Let completeFetches be 0.
    complete_fetches = 0
    # 3. Let abandoned be false.
    abandoned = False
    # 4. Let aborted be false.
    aborted = False
    changed = Condition()  # notified whenever completeFetches, abandoned or aborted change
    # 5. Let completeFetchesEditQueue be the result of starting a new parallel queue.
    complete_fetches_edit_queue = ParallelQueue(f"complete fetches edit queue of {bg_fetch.id!r}")
    complete_fetches_edit_queue.start(bg_fetch.tasks)
    # (filled: 6cf8c42) Let downloadTotal be bgFetch's download total if it is not 0,
    # otherwise infinity (0 here); the stored bytes are those of every record's response
    # body (report progress sums them too).
    download_total = bg_fetch.download_total
    stored_body_bytes = bg_fetch.response_body_bytes

    def record_details(record: BackgroundFetchRecord) -> dict[str, object]:
        """What an observer is told of *record* at its steps (DevTools shows it)."""
        body = record.request.body
        return {
            "key": bg_fetch.key,
            "index": bg_fetch.index_of(record),
            "outcome": record.outcome,
            "status": record.response.status if record.response is not None else 0,
            "size": len(record.response_body),
            "upload_size": (body.length or 0) if body is not None else 0,
        }

    def abandon(
        record: BackgroundFetchRecord,
        at: str,
        why: str,
        *,
        abort: bool = False,
        response: InternalResponse | None = None,
    ) -> None:
        """Set abandoned (and aborted) to true, as step *at* says; *response*, one the
        record does not keep, is the status an observer is told of."""
        nonlocal abandoned, aborted
        if abort:
            aborted = True
        abandoned = True
        record.outcome = "aborted" if abort else "failed"
        details = record_details(record)
        if response is not None:
            details["status"] = response.status
        step(
            ANCHOR,
            at,
            why,
            id=bg_fetch.id,
            url=record.request.url.href,
            aborted=aborted,
            **details,
        )
        changed.notify()

    async def fetch_record_once(record: BackgroundFetchRecord) -> bool:
        """One fetch of *record* (steps 6.1-6.8); False where the record is fetched again
        (filled: 4a2cc52, d18bb02)."""
        # 6.1. Let request be a copy of record's request.
        request = record.request.copy()
        # 6.2. Set request's keepalive flag.
        request.keepalive = True
        # 6.3. Set request's synchronous flag.  (bgfetch's fetch has no such flag: it is
        # what lets step 6.4 wait for the response, which Fetcher.fetch does.)
        # (filled: 4a2cc52; only if not 0: c31eefa) Let rangeStart be the length of
        # record's response body; if it is not 0, add a range header to request with
        # rangeStart.  (Not in any revision:
        # with the stored response's validator, sent as `If-Range`, so a changed resource
        # comes back whole instead of spliced, as in the current edition.)
        range_start = len(record.response_body)
        if range_start != 0:
            request.add_range_header(range_start, if_range=strong_validator(record.response))

        # (filled: 3abbda2) Let lastTransmittedSize be 0.
        last_transmitted_size = 0

        def process_request_body() -> None:
            # (filled: 3abbda2) To process request body:
            nonlocal last_transmitted_size
            assert request.body is not None
            # 1. Let transmittedSize be request's body's transmitted bytes.
            transmitted_size = request.body.transmitted_bytes
            # (Only past lastTransmittedSize: a redirect re-sends the body from 0, as in
            # the current edition; SPEC-NOTES.md SN-current-30.)
            if transmitted_size > last_transmitted_size:
                # 2. Increment bgFetch's uploaded by transmittedSize minus
                # lastTransmittedSize.
                bg_fetch.uploaded += transmitted_size - last_transmitted_size
                # 3. Set lastTransmittedSize to transmittedSize.
                last_transmitted_size = transmitted_size
            # 4. Report progress for background fetch bgFetch.
            report_progress_for_background_fetch(bg_fetch)

        step(
            ANCHOR,
            "6.4",
            "fetch started",
            id=bg_fetch.id,
            url=request.url.href,
            range_start=range_start,
            **record_details(record),
        )
        # 6.4. Let response be the result of fetching request.
        async with ua.fetcher.fetch(request, process_request_body=process_request_body) as fetched:
            response = fetched.response
            step(
                ANCHOR,
                "6.4",
                "response",
                id=bg_fetch.id,
                url=request.url.href,
                status=response.status,
                error=response.error,
            )
            # 6.5. If response's aborted flag is set, set abandoned and aborted to true.
            if response.aborted:
                abandon(record, "6.5", "aborted network error", abort=True)
                return True
            # 6.6. Otherwise, if response failed due to a failed CORS check, or response is
            # a network error and request's method is not `GET`, set abandoned to true.
            if failed_cors_check(response) or (
                response.is_network_error and request.method != "GET"
            ):
                abandon(record, "6.6", f"network error: {response.error}")
                return True
            # (6.6, "TODO: other failure reasons?"; filled: 4a2cc52) or if response's
            # status is not an ok status (SPEC-NOTES.md SN-2017-9).  Not a 416 saying the
            # resource is exactly the rangeStart bytes stored -- a cut after the last byte
            # of a chunked body: the transmission was done (SPEC-NOTES.md SN-2017-4).
            if not response.is_network_error and not response.ok:
                if stored_bytes_are_complete(range_start, response):
                    return transmission_done(record)
                why = f"status {response.status} is not an ok status"
                abandon(record, "6.6", why, response=response)
                return True
            # 6.7. Otherwise, if response wasn't a terminal failure (read: is a network
            # error of a `GET`, which may be retried; SPEC-NOTES.md SN-2017-1):
            if response.is_network_error:
                # 6.7.1. TODO: Resume download somehow.  (filled: 4a2cc52) If the user
                # agent is offline, wait until it is not and fetch again; otherwise set
                # abandoned to true.
                if temporarily_unavailable(network, record, body_cut=False):
                    step(ANCHOR, "6.7.1", "waiting to resume", id=bg_fetch.id, url=request.url.href)
                    await wait_until_available(network)
                    return False
                abandon(record, "6.7.1", f"network error: {response.error}")
                return True
            # 6.8. Otherwise:
            # (filled: 4a2cc52, in the form of 6cf8c42) If response's status is 206, then
            # validate a partial response for rangeStart, response and record's response;
            # invalid abandons.
            if response.status == 206:
                if not validate_a_partial_response(range_start, response, record.response):
                    abandon(record, "6.8", "invalid partial response")
                    return True
            # (filled: 4a2cc52) Otherwise, where bytes were stored, set record's response
            # body to an empty byte sequence: the server sent the whole body again; then
            # report progress for background fetch bgFetch (filled: da54c49).
            elif range_start != 0:
                step(
                    ANCHOR,
                    "6.8",
                    "range not honoured",
                    id=bg_fetch.id,
                    url=request.url.href,
                    status=response.status,
                )
                record.response_body.discard()
                record.response_body = ua.store.new_bytes(origin)
                report_progress_for_background_fetch(bg_fetch)
            # 6.8.1. Set record's response to a copy of response except for its body.
            # (filled: 52c808c) Only if rangeStart is 0 or response's status is not 206,
            # so the first response stays the one exposed, as in the current edition.
            if range_start == 0 or response.status != 206:
                record.response = response.copy()
            # 6.8.2. Let stream be response's body's stream.
            stream = fetched.body
            assert stream is not None
            try:
                # 6.8.3. Whenever one or more bytes are transmitted from stream:
                async for data in stream:
                    # (6.6's "other failure reasons"; filled: 6cf8c42) If bgFetch's
                    # download total is not 0 and the bytes stored with bytes would
                    # exceed it, set abandoned to true; bytes are not appended
                    # (SPEC-NOTES.md SN-2017-9).
                    if download_total and stored_body_bytes() + len(data) > download_total:
                        abandon(record, "6.8.3", "download total exceeded")
                        return True
                    # 6.8.3.1. Append bytes to record's response body.
                    try:
                        record.append(data)
                    except StorageFull as full:
                        # (filled: 3f13703) If that fails due to exceeding a quota limit,
                        # cancel stream and set abandoned to true (SPEC-NOTES.md SN-2017-6).
                        abandon(record, "6.8.3.1", f"quota exceeded: {full}")
                        return True
                    # 6.8.3.2. Report progress for background fetch bgFetch.
                    report_progress_for_background_fetch(bg_fetch)
                # (The bytes transmission is done normally: step 6.8.4, below, once the
                # fetch is closed.)
            except NetworkError as error:
                # 6.8.5. If at any point stream becomes errored, then:
                step(
                    ANCHOR,
                    "6.8.5",
                    "body stream errored",
                    id=bg_fetch.id,
                    url=request.url.href,
                    stored=len(record.response_body),
                    error=str(error),
                )
                # 6.8.5.1. If response's aborted flag is set, then set aborted to true.
                # (An aborted stream is a termination: see run_record.)
                # 6.8.5.2. Set abandoned to true.  TODO: if aborted isn't true, this
                # could be another resume point.  (The draft's answer stands, online or
                # offline: the first revision to settle the TODO, d18bb02, fails the
                # record too; SPEC-NOTES.md SN-2017-3.)
                abandon(record, "6.8.5.2", f"body stream errored: {error}")
                return True
        # 6.8.4. If at any point the bytes transmission for stream is done normally, then
        # (filled: d18bb02) if response's status is 206 and its complete length is null
        # or not the length of record's response body, the server sent less than the
        # rest: fetch the record again, for what is missing (SPEC-NOTES.md SN-2017-25).
        if response.status == 206:
            values = extract_content_range_values(response)
            assert values is not None  # validated above
            complete_length, stored = values[2], len(record.response_body)
            if complete_length is None or complete_length != stored:
                # (Not in any revision: a partial response that brought nothing new spends
                # one of the record's resumes, and one past the complete length fails,
                # as in the current edition; SPEC-NOTES.md SN-2017-25.)
                if may_ask_for_the_rest(record, complete_length, range_start, stored):
                    step(ANCHOR, "6.8.4", "asking for the rest", id=bg_fetch.id, stored=stored)
                    return False
                abandon(record, "6.8.4", f"partial responses end at {stored} bytes")
                return True
        # (6.8.4, continued) enqueue the following steps to completeFetchesEditQueue:
        return transmission_done(record)

    def transmission_done(record: BackgroundFetchRecord) -> bool:
        """Step 6.8.4: the record's bytes are all stored (of an ok status: step 6.6 took
        the others, SPEC-NOTES.md SN-2017-9)."""
        record.outcome = "success"
        step(
            ANCHOR,
            "6.8.4",
            "body complete",
            id=bg_fetch.id,
            url=record.request.url.href,
            bytes=len(record.response_body),
            **record_details(record),  # its status: the response the record keeps
        )

        def increment() -> None:
            nonlocal complete_fetches
            # 6.8.4.1. Increment completeFetches.
            complete_fetches += 1
            changed.notify()

        complete_fetches_edit_queue.enqueue(increment)
        return True

    async def run_record(record: BackgroundFetchRecord) -> None:
        """Step 6 for one record, terminated (with the aborted flag set) by abort all."""
        # Not in the draft: a record a restored background fetch had already finished is
        # not fetched again (SPEC-NOTES.md SN-2017-23).
        if record.outcome == "success" and record.response is not None:
            transmission_done(record)
            return
        if record.outcome in ("failed", "aborted"):
            abandon(record, "6", "restored: it had ended", abort=record.outcome == "aborted")
            return

        async def run() -> None:
            while not await fetch_record_once(record):
                pass  # (filled) resume: fetch again

        terminated = await abort_when(run, bg_fetch.changed, lambda: bg_fetch.abort_all)
        if terminated and record.outcome == "":
            # The fetch was terminated with the aborted flag set: before its response,
            # step 6.5 sees the aborted flag; during its body, step 6.8.5.1 does.
            at = "6.8.5.1" if record.response is not None else "6.5"
            abandon(record, at, "terminated with the aborted flag set", abort=True)

    records_stopped = trio.Event()

    step(ANCHOR, "6", "started", id=bg_fetch.id, key=bg_fetch.key)
    async with trio.open_nursery() as records_nursery:
        # 6. For each record in bgFetch's records, run these steps in parallel:
        for record in bg_fetch.records:
            records_nursery.start_soon(run_record, record)
        # 7. Wait for either abandoned to be true, or completeFetches to be the size of
        # bgFetch's records.
        await changed.wait_for(lambda: abandoned or complete_fetches == len(bg_fetch.records))
        # 8. Let operationAborted be aborted.
        operation_aborted = aborted
        # 9. If abandoned is true:
        if abandoned:
            # 9.1. TODO: terminate all related fetches.  (filled: 8a2733f) Set
            # bgFetch's abort all flag.
            step(ANCHOR, "9.1", "terminate all related fetches", id=bg_fetch.id)
            bg_fetch.abort_all = True

        # 10. Enqueue the following steps to swRegistration's active background
        # fetches edit queue:
        def settle() -> None:
            nonlocal operation_aborted
            # 10.1. Let activeBgFetches be swRegistration's active background fetches.
            active_bg_fetches = registration_extension(sw_registration).active_background_fetches
            # 10.2. Let id be bgFetch's id.
            id = bg_fetch.id
            # 10.3. If activeBgFetches contains bgFetch, then remove activeBgFetches[id].
            if contains(active_bg_fetches, bg_fetch):
                del active_bg_fetches[id]
            # 10.4. Otherwise, set operationAborted to true.  (The abort race: abort()
            # succeeded while a fetch failed; its abort event fires.)
            else:
                if not operation_aborted:
                    step(ANCHOR, "10.4", "abort() won the race", id=id)
                operation_aborted = True
            # 10.5-10.7. Choose the event.
            event_name: str
            if operation_aborted:
                # 10.5. "backgroundfetchabort", using BackgroundFetchSettledEvent.
                at, event_name = "10.5", "backgroundfetchabort"
            elif abandoned:
                # 10.6. "backgroundfetchfail", using BackgroundFetchUpdateEvent.
                at, event_name = "10.6", "backgroundfetchfail"
            else:
                # 10.7. "backgroundfetched", using BackgroundFetchUpdateEvent.
                at, event_name = "10.7", "backgroundfetched"
            bg_fetch.settled_event = event_name
            step(
                ANCHOR,
                at,
                f"fire {event_name}",
                id=id,
                key=bg_fetch.key,
                scope=sw_registration.scope_url.href,
                event=event_name,
            )
            # Fire a functional event named eventName on swRegistration with ...
            fire_the_completion_event(bg_fetch, records_stopped)

        registration_extension(sw_registration).active_background_fetches_edit_queue.enqueue(settle)
    records_stopped.set()
    complete_fetches_edit_queue.close()  # every record has stopped: nothing more to count


def fire_the_completion_event(bg_fetch: BackgroundFetch, records_stopped: trio.Event) -> None:
    """#attempt-a-background-fetch-algorithm, step 10's last: fire bgFetch's settled event
    (its ``settled_event``), and the records' end.

    A function of its own so that a background fetch restored after a restart, whose
    event was not yet handled, can fire it again (SPEC-NOTES.md SN-2017-23).
    *records_stopped* is set once no record of bgFetch can append any more.
    """
    sw_registration = bg_fetch.service_worker_registration
    id, event_name = bg_fetch.id, bg_fetch.settled_event
    extension = registration_extension(sw_registration)
    if bg_fetch.restored and sw_registration.active_worker is None and not extension.cleared:
        # Not in the draft: after a restart the host program registers its service
        # worker again; a restored background fetch's event waits for it
        # (SPEC-NOTES.md SN-2017-23), unless the registration is cleared (SN-2017-26).
        async def when_the_worker_is_back() -> None:
            await sw_registration.changed.wait_for(
                lambda: sw_registration.active_worker is not None or extension.cleared
            )
            fire_the_completion_event(bg_fetch, records_stopped)

        bg_fetch.tasks.in_parallel(when_the_worker_is_back)
        return

    def end_when_records_stop(event: ExtendableEvent | None) -> None:
        """Not in the draft: once the settled event (if one was fired) is no longer active
        and no record can append any more, the records' storage goes back to the quota
        (SPEC-NOTES.md SN-2017-5) and the background fetch is over: its progress handling
        queue closes after the steps already enqueued, and with it the last of bgFetch's
        tasks (SPEC-NOTES.md SN-2017-21)."""

        def handled() -> None:
            # A restart from now on does not deliver it again; noted in the very step in
            # which the event became inactive, so that no restart can come in between.
            bg_fetch.completion_event = "handled"

        if event is not None:
            event.when_inactive(handled)

        async def end() -> None:
            if event is not None:
                await event.wait_inactive()
            await records_stopped.wait()
            release_storage(bg_fetch)
            forget(bg_fetch)
            bg_fetch.progress_handling_queue.close()

        bg_fetch.tasks.in_parallel(end)

    # (Step 10's last:) Fire a functional event named eventName on swRegistration with:
    # id: id (filled: d18bb02); fetches: a new BackgroundFetchSettledFetches whose
    # records are bgFetch's records (filled: 0a1eaad).
    def create_event(realm: ServiceWorkerGlobalScope) -> ExtendableEvent:
        init = {
            "id": id,
            "fetches": BackgroundFetchSettledFetches(bg_fetch.records, realm),
        }
        constructor = (
            BackgroundFetchSettledEvent
            if event_name == "backgroundfetchabort"
            else BackgroundFetchUpdateEvent
        )
        return constructor(event_name, init, background_fetch=bg_fetch)

    bg_fetch.completion_event = "fired"  # due again after a crash until handled
    if not fire_functional_event(sw_registration, event_name, create_event, end_when_records_stop):
        end_when_records_stop(None)


def release_storage(bg_fetch: BackgroundFetch) -> None:
    """Give the origin's quota back the space of bgFetch's stored bytes and request bodies.

    Not in the draft (SPEC-NOTES.md SN-2017-5): once its settled event is over nothing
    keeps the records for the user agent; a Response already handed out keeps reading
    what it holds.
    """
    registration = bg_fetch.service_worker_registration
    store = registration.user_agent.store
    for record in bg_fetch.records:
        record.response_body.release()
    store.release(registration.origin, bg_fetch.upload_total)


def continue_a_restored_background_fetch(bg_fetch: BackgroundFetch) -> None:
    """Not in the draft: carry on with a background fetch a stored user agent restored
    after a restart, from where its stored state says (SPEC-NOTES.md SN-2017-23).
    Records already complete are not fetched again; the others resume with a range
    request; a settled event that was due, or whose handler was running at the crash,
    is fired (again).  A record of another method that had not finished may have been
    sent already: it is not sent again, but abandoned as a non-`GET` network error is
    (step 6.6)."""
    bg_fetch.progress_handling_queue.start(bg_fetch.tasks)
    show(bg_fetch, None)
    if bg_fetch.settled_event == "":
        for record in bg_fetch.records:
            if record.outcome == "" and record.request.method != "GET":
                record.outcome = "failed"
        bg_fetch.service_worker_registration.user_agent.observers.step(
            ANCHOR,
            "",
            "resuming after a restart",
            id=bg_fetch.id,
            key=bg_fetch.key,
            scope=bg_fetch.service_worker_registration.scope_url.href,
            requests=len(bg_fetch.records),
            completed=[i for i, r in enumerate(bg_fetch.records) if r.outcome != ""],
        )
        bg_fetch.tasks.in_parallel(attempt_a_background_fetch, bg_fetch)
        return
    records_stopped = trio.Event()
    records_stopped.set()  # no record runs after a restart
    if bg_fetch.completion_event != "handled":
        fire_the_completion_event(bg_fetch, records_stopped)
    else:  # it was over but for forgetting it
        release_storage(bg_fetch)
        forget(bg_fetch)
        bg_fetch.progress_handling_queue.close()
