"""The current edition: the WICG Background Fetch spec today (index.bs at a1f0bc2).

One module per spec section; the 2017-10-12 edition has the same modules (but
automation.py), each holding its counterpart, so ``make diff`` is the spec change:

======================  ===================================================
concepts.py             #infrastructure (registration extensions, background
                        fetch, record, response; contains background fetch);
                        clearing a registration (#privacy-and-bandwidth-use)
display.py              #background-fetch-display-algorithm
perform.py              #perform-a-background-fetch-algorithm,
                        #complete-a-record-algorithm
instances.py            #update-background-fetch-instance-algorithm,
                        #fire-a-background-fetch-click-event-algorithm,
                        #get-a-backgroundfetchregistration-instance-algorithm
partial.py              #validate-partial-response-algorithm,
                        #extract-content-range-values-algorithm
records.py              #create-settled-fetches-algorithm,
                        #background-fetch-record-interface
manager.py              #background-fetch-manager
registration.py         #background-fetch-registration
events.py               #background-fetch-event, #background-fetch-update-ui-event
persist.py              what a stored user agent keeps, and restores (not in
                        the spec: SPEC-NOTES.md SN-current-24)
automation.py           #automation-click (WebDriver extension command)
======================  ===================================================

What changed from the previous edition (2017-10-12, 86ad501)
-----------------------------------------------------------
* "Attempt a background fetch" became "perform a background fetch", which runs
  "complete a record" for each record (perform.py).  A record's response data
  now has a result ("success", "bad-status", "fetch-error", "aborted",
  "quota-exceeded", "download-total-exceeded", "redundant"), and a background
  fetch has a result and a failure reason, which BackgroundFetchRegistration
  exposes with ``records_available``.
* Downloads resume: a cut GET is fetched again with a range header, validated
  by "validate a partial response" (partial.py); the draft said "TODO: Resume
  download somehow".  A background fetch can be paused, and ``downloadTotal``
  is enforced ("download-total-exceeded").
* "Report progress" became "update background fetch instances", run on the
  background fetch's update handling queue (instances.py); progress events now
  also carry ``uploaded``, ``result`` and ``failureReason``.
* The events: ``backgroundfetched`` became ``backgroundfetchsuccess``;
  BackgroundFetchSettledEvent and its ``fetches`` are gone: every event has a
  ``registration``, whose ``match()``/``matchAll()`` give BackgroundFetchRecord
  objects with ``responseReady`` (records.py, registration.py, events.py);
  ``updateUI()`` takes ``{title, icons}``.  ``backgroundfetchclick`` is a
  BackgroundFetchEvent fired by "fire a background fetch click event".
* ``fetch()`` asks for the "background-fetch" permission, reads request
  bodies (streams allowed), and displays the background fetch (display.py);
  the WebDriver "background fetch click" command is new (automation.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.editions import name_of
from bgfetch.sw.registration import ServiceWorkerRegistration

from . import persist
from .concepts import registration_cleared
from .events import BackgroundFetchEvent, BackgroundFetchUpdateUIEvent
from .manager import BackgroundFetchManager
from .perform import continue_a_restored_background_fetch
from .records import BackgroundFetchRecord
from .registration import BackgroundFetchRegistration

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent

NAME = name_of(__name__)
EVENTS = (
    "backgroundfetchsuccess",
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
    "BackgroundFetchEvent",
    "BackgroundFetchManager",
    "BackgroundFetchRecord",
    "BackgroundFetchRegistration",
    "BackgroundFetchUpdateUIEvent",
    "new_manager",
    "registration_cleared",
    "restore",
]
