"""BackgroundFetchEvent (#background-fetch-event) and BackgroundFetchUpdateUIEvent
(#background-fetch-update-ui-event)."""

from __future__ import annotations

from typing import Any

from bgfetch.errors import InvalidStateError
from bgfetch.idl import dom_string, image_resources
from bgfetch.infra import Promise
from bgfetch.sw.events import ExtendableEvent

from .registration import BackgroundFetchRegistration


class BackgroundFetchEvent(ExtendableEvent):
    """BackgroundFetchEvent (#background-fetch-event)."""

    def __init__(
        self, type: str, *, registration: BackgroundFetchRegistration, **event_init: bool
    ) -> None:
        """``new BackgroundFetchEvent(type, init)``, the BackgroundFetchEventInit members as
        keywords (registration, and ExtendableEventInit's).  Constructed, it is untrusted
        (DOM); the user agent's are made by "fire a functional event"."""
        if not isinstance(registration, BackgroundFetchRegistration):
            raise TypeError(
                f"BackgroundFetchEventInit: registration must be a BackgroundFetchRegistration,"
                f" not {registration!r}"
            )
        super().__init__(type, **event_init)
        self._registration = registration
        # The background fetch of the registration it was initialized with.
        self.background_fetch = registration.background_fetch

    @property
    def registration(self) -> BackgroundFetchRegistration:
        return self._registration


class BackgroundFetchUpdateUIEvent(BackgroundFetchEvent):
    """BackgroundFetchUpdateUIEvent (#background-fetch-update-ui-event)."""

    def __init__(
        self, type: str, *, registration: BackgroundFetchRegistration, **event_init: bool
    ) -> None:
        super().__init__(type, registration=registration, **event_init)
        self.ui_updated = False

    def update_ui(
        self, *, title: str | None = None, icons: list[Any] | None = None
    ) -> Promise[None]:
        """#background-fetch-update-ui-event-update-ui.  Returns a promise: ``await`` it, or
        pass it to ``wait_until``.  The checks run at the call, while the event is active
        (SPEC-NOTES.md SN-current-16)."""
        where = f"updateUI() for {self._registration.id!r}"
        # Not a step: the options' IDL types (title a DOMString, icons a
        # sequence<ImageResource>), which this binding checks instead of converting.
        try:
            if title is not None:
                dom_string(title, f"{where}: title")
            if icons is not None:
                icons = image_resources(icons, f"{where}: icons")
        except TypeError as error:
            return Promise.rejected(error)
        # 1. If this is untrusted, its UI updated flag is set, or it is not active, throw
        # an InvalidStateError.
        if not self.is_trusted:
            return Promise.rejected(
                InvalidStateError(f"{where}: the {self.type} event is untrusted")
            )
        if self.ui_updated:
            return Promise.rejected(InvalidStateError(f"{where}: updateUI may only be called once"))
        if not self.active:
            return Promise.rejected(
                InvalidStateError(f"{where}: the {self.type} event is no longer active")
            )
        # 2. Set this's UI updated flag.
        self.ui_updated = True
        # 3. (options is never null here: SPEC-NOTES.md SN-current-20.)  4. Let bgFetch be
        # this's background fetch.
        bg_fetch = self.background_fetch
        # 5. If options' icons member is present, set bgFetch's icons to it.
        if icons is not None:
            bg_fetch.icons = icons
        # 6. If options' title member is present, set bgFetch's title to it.
        if title is not None:
            bg_fetch.title = title
        # 7. Resolve promise.
        promise: Promise[None] = Promise()
        promise.resolve(None)
        return promise
