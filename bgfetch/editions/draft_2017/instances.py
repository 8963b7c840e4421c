"""Report progress for background fetch (#report-progress-for-background-fetch-algorithm);
get a BackgroundFetchRegistration instance
(#get-a-backgroundfetchregistration-instance-algorithm)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.dom import fire_an_event
from bgfetch.sw.environment import Environment
from bgfetch.sw.registration import registration_object

from .concepts import BackgroundFetch
from .registration import BackgroundFetchRegistration, InstancesMap

if TYPE_CHECKING:
    from .manager import BackgroundFetchManager

ANCHOR = "#report-progress-for-background-fetch-algorithm"


def report_progress_for_background_fetch(bg_fetch: BackgroundFetch) -> None:
    """#report-progress-for-background-fetch-algorithm

    The ``uploaded`` parts are filled from 3abbda2 (the draft's ``uploaded`` getter
    returns "TODO"): SPEC-NOTES.md SN-2017-12.
    """
    registration = bg_fetch.service_worker_registration
    ua = registration.user_agent

    # Enqueue the following steps to bgFetch's progress handling queue:
    def steps() -> None:
        # 1. Let downloaded be 0.
        # 2. For each record in bgFetch's records, increment downloaded by the number of
        # bytes in response body.  (The sum is kept as the bodies grow, so that this
        # costs nothing at each chunk: BackgroundFetch.response_body_bytes in concepts.py.)
        downloaded = bg_fetch.response_body_bytes()
        # (filled: 3abbda2) Let uploaded be bgFetch's uploaded.
        uploaded = bg_fetch.uploaded
        # 3. If downloaded is equal to bgFetch's last reported download (filled: and
        # uploaded to its last reported upload), then abort these steps.
        if (
            downloaded == bg_fetch.last_reported_download
            and uploaded == bg_fetch.last_reported_upload
        ):
            return
        # 4. Set bgFetch's last reported download to downloaded (filled: and last
        # reported upload to uploaded).
        bg_fetch.last_reported_download = downloaded
        bg_fetch.last_reported_upload = uploaded
        ua.observers.step(
            ANCHOR, "4", "progress", id=bg_fetch.id, downloaded=downloaded, uploaded=uploaded
        )
        # 5. For each environment settings object env whose origin is equal to bgFetch's
        # service worker registration's scope URL's origin, queue a task on env's
        # responsible event loop using the networking task source to run these steps:
        for env in ua.environments:
            if env.origin != registration.origin:
                continue

            def task(env: Environment = env) -> None:
                # 5.1. Let bgFetchRegistration be the instance of BackgroundFetchRegistration
                # within this environment whose background fetch is bgFetch, or null.
                bg_fetch_registration = existing_instance(bg_fetch, env)
                # 5.2. If bgFetchRegistration is not null, then:
                if bg_fetch_registration is not None:
                    # 5.2.1. Set downloaded to downloaded (filled: and uploaded to uploaded).
                    bg_fetch_registration._downloaded = downloaded
                    bg_fetch_registration._uploaded = uploaded
                    # 5.2.2. Fire an event named "progress" at bgFetchRegistration.
                    fire_an_event("progress", bg_fetch_registration)

            env.event_loop.queue_task(task)

    # Coalesced: while earlier steps wait in the queue, not yet begun, these are not
    # enqueued again: those read the values when they begin (SPEC-NOTES.md SN-2017-27).
    bg_fetch.progress_handling_queue.enqueue_coalesced(ANCHOR, steps)


def get_a_background_fetch_registration_instance(
    instances_map: InstancesMap,
    bg_fetch: BackgroundFetch,
    realm: Environment,
) -> BackgroundFetchRegistration:
    """#get-a-backgroundfetchregistration-instance-algorithm

    *instances_map* is a BackgroundFetchManager's BackgroundFetchRegistration instances;
    *realm* is that manager's realm, where a new instance is created.
    """
    # 1. If instancesMap[bgFetch] exists, then return instancesMap[bgFetch].
    existing = instances_map.get(bg_fetch.key)
    if existing is not None:
        return existing
    # 2. Let instance be a new BackgroundFetchRegistration whose background fetch is bgFetch.
    instance = BackgroundFetchRegistration(bg_fetch, realm)
    # 3. Set instancesMap[bgFetch] to instance.
    instances_map[bg_fetch.key] = instance
    bg_fetch.instances.append(instance)
    # 4. Return instance.
    return instance


def existing_instance(
    bg_fetch: BackgroundFetch, realm: Environment
) -> BackgroundFetchRegistration | None:
    """ "The instance of BackgroundFetchRegistration within this environment whose background
    fetch is equal to bgFetch, or null if none exists" (creating none)."""
    return manager_in(bg_fetch, realm).instances.get(bg_fetch.key)


def manager_in(bg_fetch: BackgroundFetch, realm: Environment) -> BackgroundFetchManager:
    """The only BackgroundFetchManager of bgFetch's registration within *realm*."""
    manager: BackgroundFetchManager = registration_object(
        bg_fetch.service_worker_registration, realm
    ).background_fetch
    return manager
