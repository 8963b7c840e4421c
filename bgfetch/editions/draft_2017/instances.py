"""Get a BackgroundFetchRegistration instance
(#get-a-backgroundfetchregistration-instance-algorithm)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.editions.draft_2017.concepts import BackgroundFetch
from bgfetch.sw.environment import Environment

if TYPE_CHECKING:
    from bgfetch.editions.draft_2017.api import BackgroundFetchManager, BackgroundFetchRegistration


def get_a_background_fetch_registration_instance(
    instances_map: dict[BackgroundFetch, BackgroundFetchRegistration],
    bg_fetch: BackgroundFetch,
    realm: Environment,
) -> BackgroundFetchRegistration:
    """#get-a-backgroundfetchregistration-instance-algorithm

    *instances_map* is a BackgroundFetchManager's BackgroundFetchRegistration instances;
    *realm* is that manager's realm, where a new instance is created.
    """
    from bgfetch.editions.draft_2017.api import BackgroundFetchRegistration

    # 1. If instancesMap[bgFetch] exists, then return instancesMap[bgFetch].
    if bg_fetch in instances_map:
        return instances_map[bg_fetch]
    # 2. Let instance be a new BackgroundFetchRegistration whose background fetch is bgFetch.
    instance = BackgroundFetchRegistration(bg_fetch, realm)
    # 3. Set instancesMap[bgFetch] to instance.
    instances_map[bg_fetch] = instance
    # 4. Return instance.
    return instance


def existing_instance(
    bg_fetch: BackgroundFetch, realm: Environment
) -> BackgroundFetchRegistration | None:
    """ "The instance of BackgroundFetchRegistration within this environment whose background
    fetch is equal to bgFetch, or null if none exists" (creating none)."""
    return manager_in(bg_fetch, realm).instances.get(bg_fetch)


def manager_in(bg_fetch: BackgroundFetch, realm: Environment) -> BackgroundFetchManager:
    """The only BackgroundFetchManager of bgFetch's registration within *realm*."""
    from bgfetch.sw.registration import registration_object

    manager: BackgroundFetchManager = registration_object(
        bg_fetch.service_worker_registration, realm
    ).background_fetch
    return manager
