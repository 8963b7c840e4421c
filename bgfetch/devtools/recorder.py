"""What the user agent logs for DevTools' Background Fetch pane: Chromium's events,
from the algorithm steps both editions observe.

The recorder subscribes to ``ua.observers`` and never steers.  Chromium's names,
metadata keys and value formats (BackgroundFetchScheduler and
BackgroundFetchEventDispatcher in Chromium's content/browser/background_fetch/):

==================================================  ====================================
event                                               logged at
==================================================  ====================================
Background Fetch registered                         fetch(): the background fetch is
  Total Requests, Start Paused ("Yes"/"No")           stored and displayed, before the
                                                      promise resolves
Background Fetch resuming after browser restart     a stored user agent continues an
  Completed Requests, Active Requests                 unsettled one after a restart
Background Fetch started                            its records start
Request processing started                          a record's first fetch (not its
  URL, Request Index, Upload Size (bytes) if not 0    resumes; not after a restart)
Request processing completed                        a record settles, unless aborted
  URL, Request Index, Response Status ("0": no
  response), Response Size (bytes), Upload Size
Background Fetch completed                          the completion event is fired
  Event Type, Failure Reason if not none
==================================================  ====================================

Event Type is Chromium's name for the completion event (BackgroundFetchSuccessEvent,
BackgroundFetchFailEvent, BackgroundFetchAbortEvent); for the 2017-10-12 edition it
is the draft's event interface (BackgroundFetchUpdateEvent for backgroundfetched and
backgroundfetchfail, BackgroundFetchSettledEvent for backgroundfetchabort), and the
draft, which has no failure reasons, gives no Failure Reason.  Failure reasons are
Chromium's ``BackgroundFetchFailureReason::...`` names; "aborted" is
CANCELLED_BY_DEVELOPER after ``abort()`` and CANCELLED_FROM_UI after the user's
cancel (or refusing a prompt).

Where Chromium's order is its scheduler's (two downloads at a time), bgfetch's is the
spec's: every record starts at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from bgfetch.devtools.context import BackgroundServicesContext
from bgfetch.devtools.protocol import ServiceName
from bgfetch.observe import Step
from bgfetch.url import parse_url

SERVICE = ServiceName.BACKGROUND_FETCH

REGISTERED = "Background Fetch registered"
RESUMED = "Background Fetch resuming after browser restart"
STARTED = "Background Fetch started"
REQUEST_STARTED = "Request processing started"
REQUEST_COMPLETED = "Request processing completed"
COMPLETED = "Background Fetch completed"

EVENT_TYPES: dict[str, dict[str, str]] = {
    "current": {
        "backgroundfetchsuccess": "BackgroundFetchSuccessEvent",
        "backgroundfetchfail": "BackgroundFetchFailEvent",
        "backgroundfetchabort": "BackgroundFetchAbortEvent",
    },
    "2017-10-12": {
        "backgroundfetched": "BackgroundFetchUpdateEvent",
        "backgroundfetchfail": "BackgroundFetchUpdateEvent",
        "backgroundfetchabort": "BackgroundFetchSettledEvent",
    },
}

FAILURE_REASONS = {
    "bad-status": "BAD_STATUS",
    "fetch-error": "FETCH_ERROR",
    "quota-exceeded": "QUOTA_EXCEEDED",
    "download-total-exceeded": "DOWNLOAD_TOTAL_EXCEEDED",
}
BY_DEVELOPER = "CANCELLED_BY_DEVELOPER"
FROM_UI = "CANCELLED_FROM_UI"


@attrs.define
class _Fetch:
    """What the recorder remembers of one background fetch while it runs."""

    id: str
    scope: str
    started: set[int] = attrs.field(factory=set)  # records whose start was logged
    completed: set[int] = attrs.field(factory=set)  # records whose completion was logged
    aborted_by: str = ""  # BY_DEVELOPER or FROM_UI, whoever aborted first


class BackgroundFetchRecorder:
    """Turns observed steps of *edition* into the Background Fetch events *context* logs."""

    def __init__(self, context: BackgroundServicesContext, edition: str) -> None:
        self.context = context
        self.edition = edition
        self._fetches: dict[str, _Fetch] = {}
        self._handlers: dict[str, Callable[[Step, str], None]] = {
            "displayed": self._registered,
            "resuming after a restart": self._resumed,
            "started": self._started,
            "fetch started": self._request_started,
            "record settled": self._request_completed,  # current
            "body complete": self._request_completed,  # 2017-10-12
            "abort all": lambda step, key: self._aborted(key, BY_DEVELOPER),
            "user abort": lambda step, key: self._aborted(key, FROM_UI),
        }

    def __call__(self, step: Step) -> None:
        key = step.details.get("key")
        if not isinstance(key, str):
            return
        handler = self._handlers.get(step.what)
        if handler is not None:
            handler(step, key)
        elif step.what.startswith("fire "):
            self._completed(step, key)
        elif step.details.get("outcome") == "failed":  # 2017-10-12: a record abandoned
            self._request_completed(step, key)

    def _log(self, fetch: _Fetch, event_name: str, metadata: dict[str, str]) -> None:
        if not self.context.is_recording(SERVICE):
            return  # (the log would drop it: nothing to make for it)
        origin = parse_url(fetch.scope).origin
        assert origin is not None
        self.context.log(
            service=SERVICE,
            scope=fetch.scope,
            origin=origin.serialize(),
            event_name=event_name,
            instance_id=fetch.id,
            metadata=metadata,
        )

    def _registered(self, step: Step, key: str) -> None:
        if step.details["restored"]:
            return  # shown again after a restart: "resuming" says so, if it goes on
        fetch = self._fetches[key] = _Fetch(step.id, step.details["scope"])
        self._log(
            fetch,
            REGISTERED,
            {
                "Total Requests": str(step.details["requests"]),
                "Start Paused": "Yes" if step.details["paused"] else "No",
            },
        )

    def _resumed(self, step: Step, key: str) -> None:
        completed = set(step.details["completed"])
        requests: int = step.details["requests"]
        # Every record that had not settled was fetching (the spec starts them all at
        # once): they go on, without a new "Request processing started".
        fetch = self._fetches[key] = _Fetch(
            step.id, step.details["scope"], started=set(range(requests)), completed=completed
        )
        self._log(
            fetch,
            RESUMED,
            {
                "Completed Requests": str(len(completed)),
                "Active Requests": str(requests - len(completed)),
            },
        )

    def _started(self, step: Step, key: str) -> None:
        fetch = self._fetches.get(key)
        if fetch is not None and not fetch.started:  # (a restored one is not started again)
            self._log(fetch, STARTED, {})

    def _request_started(self, step: Step, key: str) -> None:
        fetch = self._fetches.get(key)
        index: int = step.details["index"]
        if fetch is None or index in fetch.started:
            return  # a resume of a record already fetching
        fetch.started.add(index)
        self._log(fetch, REQUEST_STARTED, _request_metadata(step.details))

    def _request_completed(self, step: Step, key: str) -> None:
        fetch = self._fetches.get(key)
        index: int = step.details["index"]
        if fetch is None or index in fetch.completed:
            return
        if step.details.get("result") == "aborted":
            return  # Chromium logs no completion for an aborted request
        fetch.completed.add(index)
        metadata = _request_metadata(step.details)
        metadata["Response Status"] = str(step.details["status"])
        metadata["Response Size (bytes)"] = str(step.details["size"])
        self._log(fetch, REQUEST_COMPLETED, metadata)

    def _aborted(self, key: str, by: str) -> None:
        fetch = self._fetches.get(key)
        if fetch is not None and not fetch.aborted_by:
            fetch.aborted_by = by

    def _completed(self, step: Step, key: str) -> None:
        # The background fetch is over for the log: what it remembered goes.
        fetch = self._fetches.pop(key, None) or _Fetch(step.id, step.details["scope"])
        event: str = step.details["event"]
        metadata = {"Event Type": EVENT_TYPES[self.edition].get(event, event)}
        reason = step.details.get("failure_reason", "")
        if self.edition == "current" and reason:
            name = FAILURE_REASONS.get(reason) or fetch.aborted_by or BY_DEVELOPER
            metadata["Failure Reason"] = f"BackgroundFetchFailureReason::{name}"
        self._log(fetch, COMPLETED, metadata)

    def forget(self) -> None:
        self._fetches.clear()


def _request_metadata(details: dict[str, Any]) -> dict[str, str]:
    metadata = {"URL": str(details["url"]), "Request Index": str(details["index"])}
    if details.get("upload_size"):
        metadata["Upload Size (bytes)"] = str(details["upload_size"])
    return metadata
