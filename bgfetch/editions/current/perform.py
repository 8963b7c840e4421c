"""Perform a background fetch (#perform-a-background-fetch-algorithm)."""

from __future__ import annotations

import trio

from bgfetch.editions.current.complete_record import complete_a_record
from bgfetch.editions.current.concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    contains_background_fetch,
    registration_extension,
)
from bgfetch.editions.current.instances import (
    get_a_background_fetch_registration_instance,
    update_background_fetch_instances,
)
from bgfetch.infra import Condition
from bgfetch.sw.events import ExtendableEvent
from bgfetch.sw.registration import ServiceWorkerGlobalScope, fire_functional_event

ANCHOR = "#perform-a-background-fetch-algorithm"


async def perform_a_background_fetch(bg_fetch: BackgroundFetch) -> None:
    """#perform-a-background-fetch-algorithm

    Runs as a task of the user agent; the records run in this background fetch's
    own nursery, which closes only when every record has stopped.
    """
    from bgfetch.editions.current.api import BackgroundFetchEvent, BackgroundFetchUpdateUIEvent

    ua = bg_fetch.service_worker_registration.user_agent
    # 1. Let swRegistration be bgFetch's service worker registration.
    sw_registration = bg_fetch.service_worker_registration
    # 2. Let settledFetches be 0.
    settled_fetches = 0
    # 3. Let immediateFailure be false.
    immediate_failure = False
    # 4. Let failureReason be the empty string.
    failure_reason = ""
    settled = Condition()
    records_stopped = trio.Event()

    # 5. For each record in bgFetch's records, run these steps in parallel:
    async def settle(record: BackgroundFetchRecord) -> None:
        nonlocal settled_fetches, immediate_failure, failure_reason
        # 5.1. Complete a record for bgFetch and record.
        await complete_a_record(bg_fetch, record)
        # 5.2. Let result be record's response data's result.
        result = record.response_data.result
        # 5.3. If failureReason is the empty string and result is not "success" (the spec
        # says "if failureReason is not the empty string": SPEC-NOTES.md), then:
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
            )

            # 8.13. Fire a functional event named eventName using eventConstructor on
            # swRegistration, with registration: the result of getting a
            # BackgroundFetchRegistration instance for bgFetch in the event's relevant Realm.
            def create_event(realm: ServiceWorkerGlobalScope) -> BackgroundFetchEvent:
                return event_constructor(
                    event_name,
                    registration=get_a_background_fetch_registration_instance(bg_fetch, realm),
                )

            async def release_when_records_stop() -> None:
                await records_stopped.wait()  # no record can append any more
                release_storage(bg_fetch)

            # Then run these steps with dispatchedEvent in parallel:
            async def after_dispatch(dispatched_event: ExtendableEvent) -> None:
                # 8.13.1. Wait until dispatchedEvent is not active.
                await dispatched_event.wait_inactive()
                # 8.13.2. Unset bgFetch's records available flag.
                bg_fetch.records_available = False
                ua.nursery.start_soon(release_when_records_stop)  # SPEC-NOTES.md
                # 8.13.3. Update background fetch instances for bgFetch.
                update_background_fetch_instances(bg_fetch)
                ua.observers.step(ANCHOR, "8.13", "records no longer available", id=id)

            def fire() -> None:
                if not fire_functional_event(
                    sw_registration, event_name, create_event, after_dispatch
                ):
                    # Not a spec step: without an active worker, Fire a functional event does
                    # nothing and 8.13.1-8.13.3 never run; nothing holds the records any
                    # longer, so they are made unavailable at once.
                    bg_fetch.records_available = False
                    ua.nursery.start_soon(release_when_records_stop)
                    update_background_fetch_instances(bg_fetch)

            # Fired from bgFetch's update handling queue, after step 8.7's steps there have
            # queued their tasks, so an instance the worker's realm already holds shows the
            # result when the event is dispatched (SPEC-NOTES.md).
            bg_fetch.update_handling_queue.enqueue(fire)

        registration_extension(sw_registration).active_background_fetches_edit_queue.enqueue(
            settle_background_fetch
        )
    records_stopped.set()


def release_storage(bg_fetch: BackgroundFetch) -> None:
    """Give the origin's quota back the space of bgFetch's stored bytes and request bodies.

    Not a spec step: once the records are no longer available nothing can reach them,
    so the user agent frees their storage (SPEC-NOTES.md).  A Response already handed
    out keeps reading what it holds.
    """
    store = bg_fetch.service_worker_registration.user_agent.store
    for record in bg_fetch.records:
        record.response_data.bytes.release()
    store.release(bg_fetch.service_worker_registration.origin, bg_fetch.upload_total)
