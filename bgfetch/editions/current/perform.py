"""Perform a background fetch (#perform-a-background-fetch-algorithm) and complete a
record (#complete-a-record-algorithm), which it runs for each record.

Where the spec calls "complete a record" again (its last step), the steps run
again in a loop, without growing the stack.

"Temporarily unavailable" is the user agent's belief, and so is what a 416 to a
resume means: both are :mod:`bgfetch.resume`, shared with the 2017-10-12 edition.
Past the resume budget, a cut is a "fetch-error".
"""

from __future__ import annotations

import math

import trio

from bgfetch.errors import NetworkError
from bgfetch.fetch.response import strong_validator
from bgfetch.infra import Condition, abort_when
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
    BackgroundFetchFailureReason,
    BackgroundFetchRecord,
    BackgroundFetchResponse,
    contains_background_fetch,
    registration_extension,
)
from .display import display
from .events import BackgroundFetchEvent, BackgroundFetchUpdateUIEvent
from .instances import (
    get_a_background_fetch_registration_instance,
    update_background_fetch_instances,
)
from .partial import (
    extract_content_range_values,
    validate_a_partial_response,
)
from .persist import forget

ANCHOR = "#perform-a-background-fetch-algorithm"
COMPLETE_A_RECORD = "#complete-a-record-algorithm"


async def perform_a_background_fetch(bg_fetch: BackgroundFetch) -> None:
    """#perform-a-background-fetch-algorithm

    Runs as a task of bgFetch (``bg_fetch.tasks``); its records run in a nursery of
    this algorithm's, which closes only when every record has stopped.
    """
    # 1. Let swRegistration be bgFetch's service worker registration.
    sw_registration = bg_fetch.service_worker_registration
    # 2. Let settledFetches be 0.
    settled_fetches = 0
    # 3. Let immediateFailure be false.
    immediate_failure = False
    # 4. Let failureReason be the empty string.
    failure_reason: BackgroundFetchFailureReason = ""
    settled = Condition()
    records_stopped = trio.Event()

    # 5. For each record in bgFetch's records, run these steps in parallel:
    async def settle(record: BackgroundFetchRecord) -> None:
        nonlocal settled_fetches, immediate_failure, failure_reason
        # 5.1. Complete a record for bgFetch and record.  (Not one that a restored
        # background fetch had already completed: SPEC-NOTES.md SN-current-24.)
        if record.response_data.result == "":
            await complete_a_record(bg_fetch, record)
        # 5.2. Let result be record's response data's result.
        result = record.response_data.result
        # 5.3. If failureReason is the empty string and result is not "success" (the spec
        # says "if failureReason is not the empty string": SPEC-NOTES.md SN-current-1), then:
        if failure_reason == "" and result != "success":
            # 5.3.1. Assert: result is not "redundant".
            assert result != "redundant"
            # 5.3.2. Set failureReason to result.
            failure_reason = result
        # 5.4. Increment settledFetches by 1.
        settled_fetches += 1
        # 5.5. If result is "download-total-exceeded", then set immediateFailure to true.
        if result == "download-total-exceeded":
            immediate_failure = True
        settled.notify()

    sw_registration.user_agent.observers.step(
        ANCHOR, "5", "started", id=bg_fetch.id, key=bg_fetch.key
    )
    async with trio.open_nursery() as records_nursery:
        for record in bg_fetch.records:
            records_nursery.start_soon(settle, record)
        # 6. Wait for settledFetches to be bgFetch's records' size, or immediateFailure to be
        # true.
        await settled.wait_for(
            lambda: settled_fetches == len(bg_fetch.records) or immediate_failure
        )
        # 7. If immediateFailure is true, set bgFetch's abort all flag.
        if immediate_failure:
            bg_fetch.abort_all = True

        # 8. Enqueue the following steps to swRegistration's active background fetches edit queue:
        def settle_background_fetch() -> None:
            nonlocal failure_reason
            # 8.1. Let activeBgFetches be swRegistration's active background fetches.
            active_bg_fetches = registration_extension(sw_registration).active_background_fetches
            # 8.2. Let id be bgFetch's id.
            id = bg_fetch.id
            # 8.3. If activeBgFetches contains background fetch bgFetch, remove activeBgFetches[id].
            if contains_background_fetch(active_bg_fetches, bg_fetch):
                del active_bg_fetches[id]
            # 8.4. Otherwise, set failureReason to "aborted".
            else:
                failure_reason = "aborted"
            # 8.5. If failureReason is not the empty string, then:
            if failure_reason != "":
                # 8.5.1. Set bgFetch's result to "failure".
                bg_fetch.result = "failure"
                # 8.5.2. Set bgFetch's failure reason to failureReason.
                bg_fetch.failure_reason = failure_reason
            # 8.6. Otherwise, set bgFetch's result to "success".
            else:
                bg_fetch.result = "success"
            # 8.7. Update background fetch instances for bgFetch.
            update_background_fetch_instances(bg_fetch)
            # 8.8-8.13: the completion event.
            fire_the_completion_event(bg_fetch, failure_reason, records_stopped)

        registration_extension(sw_registration).active_background_fetches_edit_queue.enqueue(
            settle_background_fetch
        )
    records_stopped.set()


def fire_the_completion_event(
    bg_fetch: BackgroundFetch,
    failure_reason: BackgroundFetchFailureReason,
    records_stopped: trio.Event,
) -> None:
    """#perform-a-background-fetch-algorithm, steps 8.8-8.13: the event that tells the
    service worker how the background fetch ended, and the records' end.

    A function of its own so that a background fetch restored after a restart, whose
    event was not yet handled, can fire it again (SPEC-NOTES.md SN-current-24).
    *records_stopped* is set once no record of bgFetch can append any more.
    """
    ua = bg_fetch.service_worker_registration.user_agent
    sw_registration = bg_fetch.service_worker_registration
    id = bg_fetch.id

    def end_when_records_stop() -> None:
        """Not a spec step: once the records are no longer available and no record can
        append any more, the user agent frees their storage (SPEC-NOTES.md SN-current-19)
        and the background fetch is over: its update handling queue closes after the steps
        already enqueued, and with it the last of bgFetch's tasks (SPEC-NOTES.md
        SN-current-22)."""

        async def end() -> None:
            await records_stopped.wait()
            release_storage(bg_fetch)
            forget(bg_fetch)
            bg_fetch.update_handling_queue.close()

        bg_fetch.tasks.in_parallel(end)

    # 8.8. Let eventName be the empty string.
    event_name = ""
    # 8.9. Let eventConstructor be null.  (Declared only: every branch below sets it.)
    event_constructor: type[BackgroundFetchEvent]
    # 8.10. If failureReason is "aborted", then:
    if failure_reason == "aborted":
        # 8.10.1. Set eventName to "backgroundfetchabort".
        event_name = "backgroundfetchabort"
        # 8.10.2. Set eventConstructor to BackgroundFetchEvent.
        event_constructor = BackgroundFetchEvent
    # 8.11. Otherwise, if failureReason is not the empty string, then:
    elif failure_reason != "":
        # 8.11.1. Set eventName to "backgroundfetchfail".
        event_name = "backgroundfetchfail"
        # 8.11.2. Set eventConstructor to BackgroundFetchUpdateUIEvent.
        event_constructor = BackgroundFetchUpdateUIEvent
    # 8.12. Otherwise:
    else:
        # 8.12.1. Set eventName to "backgroundfetchsuccess".
        event_name = "backgroundfetchsuccess"
        # 8.12.2. Set eventConstructor to BackgroundFetchUpdateUIEvent.
        event_constructor = BackgroundFetchUpdateUIEvent
    ua.observers.step(
        ANCHOR,
        "8.13",
        f"fire {event_name}",
        id=id,
        result=bg_fetch.result,
        failure_reason=bg_fetch.failure_reason,
        key=bg_fetch.key,
        scope=sw_registration.scope_url.href,
        event=event_name,
    )

    # 8.13. Fire a functional event named eventName using eventConstructor on
    # swRegistration, with registration: the result of getting a
    # BackgroundFetchRegistration instance for bgFetch in the event's relevant Realm.
    def create_event(realm: ServiceWorkerGlobalScope) -> BackgroundFetchEvent:
        return event_constructor(
            event_name,
            registration=get_a_background_fetch_registration_instance(bg_fetch, realm),
        )

    # Then run these steps with dispatchedEvent in parallel:
    async def after_dispatch(dispatched_event: ExtendableEvent) -> None:
        # 8.13.1. Wait until dispatchedEvent is not active.  (It was marked handled as
        # it became inactive, see fire(): a restart delivers it no more.)
        await dispatched_event.wait_inactive()
        # 8.13.2. Unset bgFetch's records available flag.
        bg_fetch.records_available = False
        # 8.13.3. Update background fetch instances for bgFetch.
        update_background_fetch_instances(bg_fetch)
        ua.observers.step(ANCHOR, "8.13", "records no longer available", id=id)
        end_when_records_stop()

    def handled() -> None:
        """Not a spec step: the event is no longer active, and a restart from now on does
        not deliver it again (SPEC-NOTES.md SN-current-24).  Noted in the very step in
        which it became inactive, so that no restart can come in between."""
        bg_fetch.completion_event = "handled"

    def then_in_parallel(dispatched_event: ExtendableEvent) -> None:
        dispatched_event.when_inactive(handled)
        bg_fetch.tasks.in_parallel(after_dispatch, dispatched_event)

    async def fire() -> None:
        if bg_fetch.restored:
            # Not a spec step: after a restart the host program registers its service
            # worker again; a restored background fetch's event waits for it
            # (SPEC-NOTES.md SN-current-24), unless the registration is cleared
            # (SPEC-NOTES.md SN-current-28).
            extension = registration_extension(sw_registration)
            await sw_registration.changed.wait_for(
                lambda: sw_registration.active_worker is not None or extension.cleared
            )
        bg_fetch.completion_event = "fired"  # due again after a crash until handled
        if not fire_functional_event(
            sw_registration,
            event_name,
            create_event,
            then_in_parallel,
        ):
            # Not a spec step: without an active worker, Fire a functional event does
            # nothing and 8.13.1-8.13.3 never run; nothing holds the records any
            # longer, so they are made unavailable at once (SPEC-NOTES.md
            # SN-current-14).
            bg_fetch.records_available = False
            update_background_fetch_instances(bg_fetch)
            end_when_records_stop()

    # Fired from bgFetch's update handling queue, after step 8.7's steps there have
    # queued their tasks, so an instance the worker's realm already holds shows the
    # result when the event is dispatched (SPEC-NOTES.md SN-current-2).
    bg_fetch.update_handling_queue.enqueue(fire)


async def complete_a_record(bg_fetch: BackgroundFetch, record: BackgroundFetchRecord) -> None:
    """#complete-a-record-algorithm"""
    # The last step calls this algorithm again while the result is empty: a loop here.
    while not await _complete_a_record_once(bg_fetch, record):
        pass


async def _complete_a_record_once(bg_fetch: BackgroundFetch, record: BackgroundFetchRecord) -> bool:
    """Steps 1-15 of #complete-a-record-algorithm; False where step 15 calls it again."""
    ua = bg_fetch.service_worker_registration.user_agent
    network = ua.network
    origin = bg_fetch.service_worker_registration.origin
    step = ua.observers.step
    # 1. Let responseData be record's response data.
    response_data = record.response_data
    # 2. Let downloadTotal be bgFetch's download total if it is not 0, otherwise infinity.
    download_total = bg_fetch.download_total if bg_fetch.download_total != 0 else math.inf
    # 3. Wait for bgFetch's paused flag to be unset.  (Or the abort all flag to be set:
    # a paused fetch can be aborted; see SPEC-NOTES.md SN-current-3.)
    await bg_fetch.changed.wait_for(lambda: not bg_fetch.paused or bg_fetch.abort_all)
    # 4. Let request be a copy of record's request.
    request = record.request.copy()
    # 5. Set request's keepalive to true.
    request.keepalive = True
    # 6. Set request's service-workers mode to "none".
    request.service_workers_mode = "none"
    # 7. Let rangeStart be the length of responseData's bytes.
    range_start = len(response_data.bytes)
    # 8. If rangeStart is not 0, then add a range header to request with rangeStart.
    # (Not in the spec: with the stored response's validator, sent as `If-Range`, so a
    # changed resource comes back whole instead of spliced; SPEC-NOTES.md SN-fetch-5.)
    if range_start != 0:
        request.add_range_header(range_start, if_range=strong_validator(response_data.response))
    # 9. Let fetchAttemptComplete be false.
    fetch_attempt_complete = False
    # 10. Let lastTransmittedSize be 0.
    last_transmitted_size = 0

    # 11. Fetch request.  (The fetch runs in step 13, under its "abort when".)
    async def fetch() -> None:
        nonlocal response_data, fetch_attempt_complete, last_transmitted_size

        # To process request body for request:
        def process_request_body() -> None:
            nonlocal last_transmitted_size
            assert request.body is not None
            # 1. Let transmittedSize be request's body's transmitted bytes.
            transmitted_size = request.body.transmitted_bytes
            # (Only past lastTransmittedSize: a 307 or 308 sends the body again, its
            # transmitted bytes starting again from 0, and uploaded would go down, then
            # count the body twice; SPEC-NOTES.md SN-current-30.)
            if transmitted_size > last_transmitted_size:
                # 2. Increment bgFetch's uploaded by transmittedSize minus
                # lastTransmittedSize.
                bg_fetch.uploaded += transmitted_size - last_transmitted_size
                # 3. Set lastTransmittedSize to transmittedSize.
                last_transmitted_size = transmitted_size
            # 4. Update background fetch instances for bgFetch.
            update_background_fetch_instances(bg_fetch)

        step(
            COMPLETE_A_RECORD,
            "11",
            "fetch started",
            id=bg_fetch.id,
            url=request.url.href,
            range_start=range_start,
            key=bg_fetch.key,
            index=bg_fetch.index_of(record),
            upload_size=(record.request.body.length or 0) if record.request.body else 0,
        )
        async with ua.fetcher.fetch(request, process_request_body=process_request_body) as (
            fetched
        ):
            # To process response for response:
            response = fetched.response
            step(
                COMPLETE_A_RECORD,
                "11",
                "response",
                id=bg_fetch.id,
                url=request.url.href,
                status=response.status,
                error=response.error,
            )
            # 1. If response is a network error, then:
            if response.is_network_error:
                # 1.1. If the resource is temporarily unavailable and request's method is
                # `GET`, wait until it is not, then set fetchAttemptComplete to true.
                if (
                    temporarily_unavailable(network, record, body_cut=False)
                    and request.method == "GET"
                ):
                    await wait_until_available(network)
                    fetch_attempt_complete = True
                    return
                # 1.2. "aborted" for an aborted network error, otherwise "fetch-error".
                response_data.result = "aborted" if response.aborted else "fetch-error"
                # 1.3. Set fetchAttemptComplete to true, and abort these steps.
                fetch_attempt_complete = True
                return
            # (Not in the spec: a 416 saying the resource is exactly the rangeStart bytes
            # already stored -- a cut after the last byte of a chunked body -- completes
            # the record instead of restarting it; SPEC-NOTES.md SN-current-12.)
            if stored_bytes_are_complete(range_start, response):
                response_data.result = "success"
                fetch_attempt_complete = True
                return
            # 2. If response's status is 206, then:
            if response.status == 206:
                # 2.1. If validate a partial response for rangeStart, response, and
                # responseData's response returns invalid, then:
                if not validate_a_partial_response(range_start, response, response_data.response):
                    step(
                        COMPLETE_A_RECORD,
                        "11",
                        "invalid partial response",
                        id=bg_fetch.id,
                        url=request.url.href,
                        content_range=response.unfiltered.header_list.get("Content-Range"),
                    )
                    # 2.1.1. Set responseData's result to "fetch-error".
                    response_data.result = "fetch-error"
                    # 2.1.2. Set fetchAttemptComplete to true.
                    fetch_attempt_complete = True
                    # 2.1.3. Terminate the ongoing fetch, and abort these steps.  (Leaving
                    # the fetch's context terminates it.)
                    return
            # 3. Otherwise (only where an earlier attempt gave responseData a response:
            # SPEC-NOTES.md SN-current-4):
            elif response_data.response is not None:
                if range_start != 0:
                    step(
                        COMPLETE_A_RECORD,
                        "11",
                        "range not honoured",
                        id=bg_fetch.id,
                        url=request.url.href,
                        status=response.status,
                    )
                # 3.1. Set responseData's result to "redundant".
                response_data.result = "redundant"
                # (Redundant bytes are never exposed again: give their space back to the
                # origin's quota, or the restart would be charged for them twice;
                # SPEC-NOTES.md SN-current-17.)
                response_data.bytes.discard()
                # 3.2. Set responseData to a new background fetch response.
                response_data = BackgroundFetchResponse(ua.store.new_bytes(origin))
                # 3.3. Set record's response data to responseData.
                record.response_data = response_data
                # 3.4. Update background fetch instances for bgFetch.
                update_background_fetch_instances(bg_fetch)
            # 4. If rangeStart is 0 or response's status is not 206, then set
            # responseData's response to a copy of response except for its body.
            if range_start == 0 or response.status != 206:
                response_data.response = response.copy()
            # 5. Let stream be the response body's stream.
            stream = fetched.body
            assert stream is not None
            try:
                # 6. Whenever one or more bytes are transmitted from stream:
                async for data in stream:
                    # 6.1. If the stored body bytes total plus the size of bytes is
                    # greater than downloadTotal, then:
                    if bg_fetch.stored_body_bytes_total() + len(data) > download_total:
                        # 6.1.1. Cancel stream.  (Leaving the fetch's context cancels it.)
                        # 6.1.2. Set responseData's result to "download-total-exceeded",
                        # fetchAttemptComplete to true, and abort these steps.
                        response_data.result = "download-total-exceeded"
                        fetch_attempt_complete = True
                        return
                    # 6.2. Append bytes to responseData's bytes.
                    try:
                        response_data.append(data)
                    except StorageFull as full:
                        # 6.3. If the previous step fails due to exceeding a quota limit, set
                        # responseData's result to "quota-exceeded", fetchAttemptComplete to
                        # true, and abort these steps.
                        step(
                            COMPLETE_A_RECORD,
                            "11",
                            "quota exceeded",
                            id=bg_fetch.id,
                            reason=str(full),
                        )
                        response_data.result = "quota-exceeded"
                        fetch_attempt_complete = True
                        return
                    # 6.4. Update background fetch instances for bgFetch.
                    update_background_fetch_instances(bg_fetch)
            except NetworkError as error:
                stream_error: NetworkError | None = error
            else:
                stream_error = None
            # 7. If at any point the bytes transmission for stream is done normally, then:
            if stream_error is None:
                # 7.1. If response's status is 206, then:
                if response.status == 206:
                    # 7.1.1. Let firstBytePos, lastBytePos, and completeLength be the result of
                    # extracting content-range values from response.
                    values = extract_content_range_values(response)
                    assert values is not None  # validated in step 2
                    complete_length = values[2]
                    # 7.1.2. If completeLength is not null, and equal to the length of
                    # responseData's bytes, set responseData's result to "success".
                    if complete_length is not None and complete_length == len(response_data.bytes):
                        response_data.result = "success"
                    # (Not in the spec: the record would otherwise ask for the rest for ever
                    # of a server whose partial responses bring nothing new, or more bytes
                    # than the resource has; SPEC-NOTES.md SN-current-18.)
                    elif not may_ask_for_the_rest(
                        record, complete_length, range_start, len(response_data.bytes)
                    ):
                        response_data.result = "fetch-error"
                # 7.2. Otherwise, if response's status is not an ok status, set
                # responseData's result to "bad-status".
                elif not response.ok:
                    response_data.result = "bad-status"
                # 7.3. Otherwise, set responseData's result to "success".
                else:
                    response_data.result = "success"
                # 7.4. Set fetchAttemptComplete to true.
                fetch_attempt_complete = True
                return
            # 8. If at any point stream becomes errored, then:
            step(
                COMPLETE_A_RECORD,
                "11",
                "body stream errored",
                id=bg_fetch.id,
                url=request.url.href,
                stored=len(response_data.bytes),
                error=str(stream_error),
            )
            # 8.1. If the resource is temporarily unavailable and request's method is `GET`,
            # then wait until the resource is not temporarily unavailable, then set
            # fetchAttemptComplete to true.  (What the user agent believes: SPEC-NOTES.md
            # SN-current-11; a body that does not decode is not a cut: SN-fetch-9.)
            if (
                temporarily_unavailable(network, record, body_cut=True, error=stream_error)
                and request.method == "GET"
            ):
                await wait_until_available(network)
                fetch_attempt_complete = True
            # 8.2. Otherwise, set responseData's result to "fetch-error" and
            # fetchAttemptComplete to true.
            else:
                response_data.result = "fetch-error"
                fetch_attempt_complete = True

    # 12. Let result be the empty string.
    result = ""

    # 13. Run these steps, but abort when bgFetch's paused flag or abort all flag is set:
    async def steps() -> None:
        # 13.1. Wait for fetchAttemptComplete to be true.
        await fetch()
        assert fetch_attempt_complete

    # (Aborting cancels the fetch: step 14.4 below, "terminate the ongoing fetch".)
    aborted = await abort_when(
        steps, bg_fetch.changed, lambda: bg_fetch.paused or bg_fetch.abort_all
    )
    if not aborted:
        # 13.2. Set result to responseData's result.
        result = response_data.result
    # 14. If aborted, then:
    else:
        # 14.1. If bgFetch's paused flag is set, then assert request's method is `GET`.
        # (Not when the abort all flag is set too: a "prompt" permission pauses a fetch of
        # any method (display), and refusing it sets the abort all flag; SPEC-NOTES.md
        # SN-current-13.)
        if bg_fetch.paused and not bg_fetch.abort_all:
            assert request.method == "GET", "only a fetch of GET requests can be paused"
        # 14.2. If bgFetch's abort all flag is set, set responseData's result to "aborted".
        if bg_fetch.abort_all:
            response_data.result = "aborted"
        # 14.3. Set result to responseData's result.
        result = response_data.result
        # 14.4. Terminate the ongoing fetch.  (abort_when cancelled it.)
        step(
            COMPLETE_A_RECORD,
            "14",
            "aborted" if bg_fetch.abort_all else "paused",
            id=bg_fetch.id,
            url=request.url.href,
        )
    # 15. If result is the empty string, then complete a record for bgFetch and record.
    if result == "":
        return False
    step(
        COMPLETE_A_RECORD,
        "15",
        "record settled",
        id=bg_fetch.id,
        url=request.url.href,
        result=result,
        key=bg_fetch.key,
        index=bg_fetch.index_of(record),
        status=response_data.response.status if response_data.response is not None else 0,
        size=len(response_data.bytes),
        upload_size=(record.request.body.length or 0) if record.request.body else 0,
    )
    return True


def release_storage(bg_fetch: BackgroundFetch) -> None:
    """Give the origin's quota back the space of bgFetch's stored bytes and request bodies.

    Not a spec step: once the records are no longer available nothing can reach them,
    so the user agent frees their storage (SPEC-NOTES.md SN-current-19).  A Response
    already handed out keeps reading what it holds.
    """
    store = bg_fetch.service_worker_registration.user_agent.store
    for record in bg_fetch.records:
        record.response_data.bytes.release()
    store.release(bg_fetch.service_worker_registration.origin, bg_fetch.upload_total)


def continue_a_restored_background_fetch(bg_fetch: BackgroundFetch) -> None:
    """Not a spec algorithm: carry on with a background fetch a stored user agent
    restored after a restart, from where its stored state says (SPEC-NOTES.md
    SN-current-24).  Records already complete are not fetched again; the others
    resume with a range request; a completion event that was due, or whose handler
    was running at the crash, is fired (again).  A record of another method that had
    not finished may have been sent already: it is not sent again, but fails as a
    non-`GET` whose connection was cut does ("fetch-error")."""
    bg_fetch.update_handling_queue.start(bg_fetch.tasks)
    display(bg_fetch, None)
    if bg_fetch.result == "":
        for record in bg_fetch.records:
            if record.response_data.result == "" and record.request.method != "GET":
                record.response_data.result = "fetch-error"
        bg_fetch.service_worker_registration.user_agent.observers.step(
            ANCHOR,
            "",
            "resuming after a restart",
            id=bg_fetch.id,
            key=bg_fetch.key,
            scope=bg_fetch.service_worker_registration.scope_url.href,
            requests=len(bg_fetch.records),
            completed=[
                i for i, r in enumerate(bg_fetch.records) if r.response_data.result != ""
            ],
        )
        bg_fetch.tasks.in_parallel(perform_a_background_fetch, bg_fetch)
        return
    records_stopped = trio.Event()
    records_stopped.set()  # no record runs after a restart
    if bg_fetch.completion_event != "handled":
        fire_the_completion_event(bg_fetch, bg_fetch.failure_reason, records_stopped)
    else:  # it was over but for forgetting it
        release_storage(bg_fetch)
        forget(bg_fetch)
        bg_fetch.update_handling_queue.close()
