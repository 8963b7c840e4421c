"""Update background fetch instances; fire a background fetch click event; get a
BackgroundFetchRegistration instance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.dom import fire_an_event
from bgfetch.sw.environment import Environment
from bgfetch.sw.registration import (
    ServiceWorkerRegistration,
    fire_functional_event,
    registration_object,
)

from .concepts import BackgroundFetch
from .events import BackgroundFetchEvent
from .registration import BackgroundFetchRegistration

if TYPE_CHECKING:
    from .manager import BackgroundFetchManager

ANCHOR = "#update-background-fetch-instance-algorithm"


def update_background_fetch_instances(bg_fetch: BackgroundFetch) -> None:
    """#update-background-fetch-instance-algorithm"""
    registration = bg_fetch.service_worker_registration

    # Enqueue the following steps to bgFetch's update handling queue:
    def steps() -> None:
        # 1. Let downloaded be bgFetch's stored body bytes total.
        downloaded = bg_fetch.stored_body_bytes_total()
        # 2. Let uploaded be bgFetch's uploaded.
        uploaded = bg_fetch.uploaded
        # 3. Let result be bgFetch's result.
        result = bg_fetch.result
        # 4. Let failureReason be bgFetch's failure reason.
        failure_reason = bg_fetch.failure_reason
        # 5. Let recordsAvailable be true if bgFetch's records available flag is set,
        # otherwise false.
        records_available = bg_fetch.records_available
        # 6. For each environment settings object env whose origin is equal to bgFetch's
        # service worker registration's scope URL's origin, queue a bgfetch task on env's
        # responsible event loop to run these steps:
        for env in registration.user_agent.environments:
            if env.origin != registration.origin:
                continue

            def task(env: Environment = env) -> None:
                # 6.1. Let bgFetchRegistration be the instance of BackgroundFetchRegistration
                # within the relevant realm whose background fetch is bgFetch, or null if none
                # exists.
                bg_fetch_registration = existing_instance(bg_fetch, env)
                # 6.2. If bgFetchRegistration is null, then abort these steps.
                if bg_fetch_registration is None:
                    return
                # 6.3. If recordsAvailable is false and bgFetchRegistration's records
                # available flag is set, then unset it.
                if not records_available and bg_fetch_registration._records_available:
                    bg_fetch_registration._records_available = False
                # 6.4. If bgFetchRegistration's result is not the empty string, then abort
                # these steps.
                if bg_fetch_registration._result != "":
                    return
                # 6.5. If bgFetchRegistration's downloaded, uploaded, result and failure
                # reason equal downloaded, uploaded, result and failureReason, then abort
                # these steps.
                if (
                    bg_fetch_registration._downloaded == downloaded
                    and bg_fetch_registration._uploaded == uploaded
                    and bg_fetch_registration._result == result
                    and bg_fetch_registration._failure_reason == failure_reason
                ):
                    return
                # 6.6. Set bgFetchRegistration's downloaded to downloaded.
                bg_fetch_registration._downloaded = downloaded
                # 6.7. Set bgFetchRegistration's uploaded to uploaded.
                bg_fetch_registration._uploaded = uploaded
                # 6.8. Set bgFetchRegistration's result to result.
                bg_fetch_registration._result = result
                # 6.9. Set bgFetchRegistration's failure reason to failureReason.
                bg_fetch_registration._failure_reason = failure_reason
                # 6.10. Fire an event named "progress" at bgFetchRegistration.
                fire_an_event("progress", bg_fetch_registration)

            env.event_loop.queue_task(task)

    # Not a spec step: once the background fetch is over its update handling queue is
    # closed (perform.py), and every instance has its result, so step 6.4 would abort
    # the steps anyway (SPEC-NOTES.md SN-current-22).
    # Coalesced: while earlier steps wait in the queue, not yet begun, these are not
    # enqueued again: those read the values when they begin (the spec's Issue: "debounce
    # this"; SPEC-NOTES.md SN-current-34).
    if not bg_fetch.update_handling_queue.closed:
        bg_fetch.update_handling_queue.enqueue_coalesced(ANCHOR, steps)


def fire_a_background_fetch_click_event(bg_fetch: BackgroundFetch) -> None:
    """#fire-a-background-fetch-click-event-algorithm"""
    # Fire a functional event named "backgroundfetchclick" using BackgroundFetchEvent on
    # bgFetch's service worker registration with registration: the result of getting a
    # BackgroundFetchRegistration instance for bgFetch in the event object's relevant Realm.
    fire_functional_event(
        bg_fetch.service_worker_registration,
        "backgroundfetchclick",
        lambda realm: BackgroundFetchEvent(
            "backgroundfetchclick",
            registration=get_a_background_fetch_registration_instance(bg_fetch, realm),
        ),
    )


def get_a_background_fetch_registration_instance(
    bg_fetch: BackgroundFetch, realm: Environment
) -> BackgroundFetchRegistration:
    """#get-a-backgroundfetchregistration-instance-algorithm"""
    # 1. Let instancesMap be the BackgroundFetchRegistration instances of the only
    # instance of BackgroundFetchManager within this realm.
    instances_map = _manager_in(bg_fetch, realm).instances
    # 2. If instancesMap[bgFetch] exists, then return instancesMap[bgFetch].
    existing = instances_map.get(bg_fetch.key)
    if existing is not None:
        return existing
    # 3. Let instance be a new BackgroundFetchRegistration in realm, with its background
    # fetch set to bgFetch.
    instance = BackgroundFetchRegistration(bg_fetch, realm)
    # 4. Set instancesMap[bgFetch] to instance.
    instances_map[bg_fetch.key] = instance
    bg_fetch.instances.append(instance)
    # 5. Return instance.
    return instance


def existing_instance(
    bg_fetch: BackgroundFetch, realm: Environment
) -> BackgroundFetchRegistration | None:
    """The instance for *bg_fetch* within *realm*, or null if none exists (creating none)."""
    return _manager_in(bg_fetch, realm).instances.get(bg_fetch.key)


def _manager_in(bg_fetch: BackgroundFetch, realm: Environment) -> BackgroundFetchManager:
    registration: ServiceWorkerRegistration = registration_object(
        bg_fetch.service_worker_registration, realm
    )
    manager: BackgroundFetchManager = registration.background_fetch
    return manager
