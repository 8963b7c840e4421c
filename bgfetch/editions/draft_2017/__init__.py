"""The 2017-10-12 edition: the WICG Background Fetch draft at 86ad501 (2017-10-12).

One module per spec section:

======================  ===================================================
concepts.py             #infrastructure (registration extensions, background
                        fetch, background fetch record)
attempt.py              #attempt-a-background-fetch-algorithm
report_progress.py      #report-progress-for-background-fetch-algorithm
instances.py            #get-a-backgroundfetchregistration-instance-algorithm
api.py                  #api (manager, registration, events)
fetches.py              activeFetches and BackgroundFetchSettledFetches (TODO
                        in the draft: filled from 4e709be and 0a1eaad)
partial.py              range resume (TODO in the draft: filled from 0a1eaad)
privacy.py              #privacy-and-bandwidth-use (the UI: abort, click)
======================  ===================================================

Where the draft says TODO, the nearest later revision that settles it decides;
each such choice is marked "(filled: <commit>)" in the code and listed in
SPEC-NOTES.md under "2017-10-12 edition".
"""

from __future__ import annotations

from bgfetch.editions.draft_2017.api import (
    BackgroundFetchClickEvent,
    BackgroundFetchEvent,
    BackgroundFetchManager,
    BackgroundFetchRegistration,
    BackgroundFetchSettledEvent,
    BackgroundFetchUpdateEvent,
)
from bgfetch.editions.draft_2017.fetches import (
    BackgroundFetchActiveFetch,
    BackgroundFetchActiveFetches,
    BackgroundFetchSettledFetch,
    BackgroundFetchSettledFetches,
)
from bgfetch.sw.registration import ServiceWorkerRegistration

NAME = "2017-10-12"
EVENTS = (
    "backgroundfetched",
    "backgroundfetchfail",
    "backgroundfetchabort",
    "backgroundfetchclick",
)


def new_manager(registration_object: ServiceWorkerRegistration) -> BackgroundFetchManager:
    """The BackgroundFetchManager of a ServiceWorkerRegistration object."""
    return BackgroundFetchManager(registration_object)


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
]
