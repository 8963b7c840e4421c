"""BackgroundFetchRegistration (#background-fetch-registration).

Names are the IDL's in snake_case; methods returning a promise are ``async``.
Where the draft says TODO, the behaviour is the nearest later revision's, marked
"(filled: <commit>)" and listed in SPEC-NOTES.md §2017.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from bgfetch.dom import Event, EventHandler, EventTarget
from bgfetch.infra import Promise
from bgfetch.sw.environment import Environment

from .concepts import BackgroundFetch, contains, registration_extension
from .records import BackgroundFetchActiveFetches


class BackgroundFetchRegistration(EventTarget):
    """BackgroundFetchRegistration (#background-fetch-registration).

    ``add_event_listener("progress", cb)`` or ``onprogress`` hears each report of progress.
    """

    def __init__(self, bg_fetch: BackgroundFetch, realm: Environment) -> None:
        super().__init__()
        # An associated background fetch.
        self.background_fetch = bg_fetch
        self.realm = realm
        # An associated downloaded, initially 0.
        self._downloaded = 0
        # (filled: 8334a1e) An associated uploaded, initially 0 (3abbda2 reports it).
        self._uploaded = 0
        # id, uploadTotal and downloadTotal, copied from the background fetch.
        self._id = bg_fetch.id
        self._upload_total = bg_fetch.upload_total
        self._download_total = bg_fetch.download_total
        # (filled: 4e709be) the active fetches: this background fetch's records.
        self._active_fetches = BackgroundFetchActiveFetches(bg_fetch.records, realm)

    @property
    def id(self) -> str:
        return self._id

    @property
    def upload_total(self) -> int:
        return self._upload_total

    @property
    def uploaded(self) -> int:
        """The draft: "must return TODO".  (filled: 8334a1e, 3abbda2) this instance's
        uploaded, which report progress updates."""
        return self._uploaded

    @property
    def download_total(self) -> int:
        return self._download_total

    @property
    def downloaded(self) -> int:
        return self._downloaded

    @property
    def active_fetches(self) -> BackgroundFetchActiveFetches:
        """The draft: "the context object's background fetch's TODO".  (filled: 4e709be)"""
        return self._active_fetches

    onprogress = EventHandler("progress")

    def call_listener(self, callback: Callable[[Event], Any], event: Event) -> None:
        """A listener runs on this object's realm's event loop (bgfetch.dom)."""
        self.realm.event_loop.call_listener(callback, event)

    async def abort(self) -> bool:
        """#background-fetch-registration-abort"""
        promise: Promise[bool] = Promise()
        # 1. Let bgFetch be the context object's associated background fetch.
        bg_fetch = self.background_fetch
        # 2. Let swRegistration be bgFetch's service worker registration.
        sw_registration = bg_fetch.service_worker_registration
        extension = registration_extension(sw_registration)

        # 3. Enqueue the following steps to swRegistration's active background fetches edit queue:
        def steps() -> None:
            # 3.1. Let activeBgFetches be swRegistration's active background fetches.
            active_bg_fetches = extension.active_background_fetches
            # 3.2. Let id be bgFetch's id.
            id = bg_fetch.id
            # 3.3. If activeBgFetches does not contain bgFetch, resolve promise with false.
            if not contains(active_bg_fetches, bg_fetch):
                promise.resolve(False)
                return
            # 3.4. Remove activeBgFetches[id].
            del active_bg_fetches[id]
            # 3.5. Resolve promise with true.
            promise.resolve(True)
            # 3.6. TODO: Terminate related fetches with the aborted flag set.  (filled:
            # 8a2733f) Set bgFetch's abort all flag.
            sw_registration.user_agent.observers.step(
                "#background-fetch-registration-abort", "3.6", "abort all", id=id, key=bg_fetch.key
            )
            bg_fetch.abort_all = True

        extension.active_background_fetches_edit_queue.enqueue(steps)
        return await promise

    def __repr__(self) -> str:
        return (
            f"<BackgroundFetchRegistration {self._id!r} downloaded={self._downloaded}"
            f"/{self._download_total} uploaded={self._uploaded}/{self._upload_total}>"
        )


# A BackgroundFetchManager's BackgroundFetchRegistration instances, by background fetch
# (by its key: the map holds neither, see BackgroundFetch.instances).
InstancesMap = weakref.WeakValueDictionary[str, BackgroundFetchRegistration]
