"""The 2017-10-12 edition: the WICG Background Fetch draft at 86ad501 (2017-10-12).

One module per spec section, named as its counterpart in the current edition:

======================  ===================================================
concepts.py             #infrastructure (registration extensions, background
                        fetch, background fetch record)
display.py              #privacy-and-bandwidth-use (the UI: abort, click)
perform.py              #attempt-a-background-fetch-algorithm
instances.py            #report-progress-for-background-fetch-algorithm,
                        #get-a-backgroundfetchregistration-instance-algorithm
partial.py              range resume (TODO in the draft: filled from 4a2cc52,
                        in the form of 6cf8c42)
records.py              activeFetches and BackgroundFetchSettledFetches (TODO
                        in the draft: filled from 4e709be, da54c49, f58e51d and
                        79f8417)
manager.py              #background-fetch-manager
registration.py         #background-fetch-registration
events.py               #background-fetch-event, #background-fetch-settled-event,
                        #background-fetch-update-event, #background-fetch-click-event
persist.py              what a stored user agent keeps, and restores (not in
                        the draft: SPEC-NOTES.md SN-2017-23)
======================  ===================================================

Where the draft says TODO, the nearest later revision that settles it decides,
cited by the first revision that does; each such choice is marked "(filled:
<commit>)" in the code and listed in SPEC-NOTES.md §2017 ("2017-10-12 edition").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.editions import name_of
from bgfetch.sw.registration import ServiceWorkerRegistration

from . import persist
from .concepts import registration_cleared
from .events import (
    BackgroundFetchClickEvent,
    BackgroundFetchEvent,
    BackgroundFetchSettledEvent,
    BackgroundFetchUpdateEvent,
)
from .manager import BackgroundFetchManager
from .perform import continue_a_restored_background_fetch
from .records import (
    BackgroundFetchActiveFetch,
    BackgroundFetchActiveFetches,
    BackgroundFetchSettledFetch,
    BackgroundFetchSettledFetches,
)
from .registration import BackgroundFetchRegistration

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent

NAME = name_of(__name__)
EVENTS = (
    "backgroundfetched",
    "backgroundfetchfail",
    "backgroundfetchabort",
    "backgroundfetchclick",
)


def new_manager(registration_object: ServiceWorkerRegistration) -> BackgroundFetchManager:
    """The BackgroundFetchManager of a ServiceWorkerRegistration object."""
    return BackgroundFetchManager(registration_object)


def restore(user_agent: UserAgent) -> None:
    """A stored user agent's start: continue every background fetch its store holds."""
    for bg_fetch in persist.restore(user_agent):
        continue_a_restored_background_fetch(bg_fetch)


__all__ = [
    "BackgroundFetchActiveFetch",
    "BackgroundFetchActiveFetches",
    "BackgroundFetchClickEvent",
    "BackgroundFetchEvent",
    "BackgroundFetchManager",
    "BackgroundFetchRegistration",
    "BackgroundFetchSettledEvent",
    "BackgroundFetchSettledFetch",
    "BackgroundFetchSettledFetches",
    "BackgroundFetchUpdateEvent",
    "new_manager",
    "registration_cleared",
    "restore",
]
