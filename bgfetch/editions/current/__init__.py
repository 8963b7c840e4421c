"""The current edition: the WICG Background Fetch spec today (index.bs at a1f0bc2).

One module per spec section:

======================  ===================================================
concepts.py             #infrastructure (background fetch, record, response)
display.py              #background-fetch-display-algorithm
perform.py              #perform-a-background-fetch-algorithm
complete_record.py      #complete-a-record-algorithm
instances.py            #update-background-fetch-instance-algorithm,
                        #fire-a-background-fetch-click-event-algorithm,
                        #get-a-backgroundfetchregistration-instance-algorithm
partial.py              #validate-partial-response-algorithm,
                        #extract-content-range-values-algorithm
records.py              #create-settled-fetches-algorithm
api.py                  #api (manager, registration, events)
automation.py           #automation-click (WebDriver extension command)
======================  ===================================================
"""

from __future__ import annotations

from bgfetch.editions.current.api import (
    BackgroundFetchEvent,
    BackgroundFetchManager,
    BackgroundFetchRegistration,
    BackgroundFetchUpdateUIEvent,
)
from bgfetch.editions.current.records import BackgroundFetchRecord
from bgfetch.sw.registration import ServiceWorkerRegistration

NAME = "current"
EVENTS = (
    "backgroundfetchsuccess",
    "backgroundfetchfail",
    "backgroundfetchabort",
    "backgroundfetchclick",
)


def new_manager(registration_object: ServiceWorkerRegistration) -> BackgroundFetchManager:
    """The BackgroundFetchManager of a ServiceWorkerRegistration object."""
    return BackgroundFetchManager(registration_object)


__all__ = [
    "BackgroundFetchEvent",
    "BackgroundFetchManager",
    "BackgroundFetchRecord",
    "BackgroundFetchRegistration",
    "BackgroundFetchUpdateUIEvent",
    "new_manager",
]
