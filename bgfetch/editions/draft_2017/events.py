"""The events (#background-fetch-event, #background-fetch-settled-event,
#background-fetch-update-event, #background-fetch-click-event).

Where the draft says TODO, the behaviour is the nearest later revision's, marked
"(filled: <commit>)" and listed in SPEC-NOTES.md §2017.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgfetch.errors import InvalidStateError
from bgfetch.infra import Promise
from bgfetch.sw.events import ExtendableEvent

from .concepts import BackgroundFetch
from .records import BackgroundFetchSettledFetches

BACKGROUND_FETCH_STATES = ("pending", "succeeded", "failed")


def _member(init: Mapping[str, Any], name: str, dictionary: str) -> Any:
    """A required member of an init dictionary: WebIDL throws a TypeError when missing."""
    if name not in init:
        raise TypeError(f"{dictionary}: the required member {name!r} is missing")
    return init[name]


class BackgroundFetchEvent(ExtendableEvent):
    """BackgroundFetchEvent (#background-fetch-event): ``BackgroundFetchEvent(type, init)``.

    The draft's constructor steps are "TODO"; (filled) as every DOM event constructor, it
    initializes each attribute to the init member of the same name (6cf8c42: "must
    return the value it was initialized to").  Constructed, it is untrusted (DOM); the
    user agent's are made by "fire a functional event", which trusts them.
    """

    def __init__(
        self,
        type: str,
        init: Mapping[str, Any],
        *,
        background_fetch: BackgroundFetch | None = None,
    ) -> None:
        """#dom-backgroundfetchevent-backgroundfetchevent: "1. TODO" (filled, see above;
        SPEC-NOTES.md SN-2017-11)."""
        id = _member(init, "id", "BackgroundFetchEventInit")
        if not isinstance(id, str):
            raise TypeError(f"BackgroundFetchEventInit: id must be a string, not {id!r}")
        super().__init__(type)
        # A BackgroundFetchEvent has an associated id, a DOMString.
        self._id = id
        # Not in the IDL: the background fetch the user agent fired this event for
        # (None for a constructed event); updateUI() sets its title.
        self.background_fetch = background_fetch

    @property
    def id(self) -> str:
        return self._id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type!r} id={self._id!r}>"


class BackgroundFetchSettledEvent(BackgroundFetchEvent):
    """BackgroundFetchSettledEvent (#background-fetch-settled-event)."""

    def __init__(
        self,
        type: str,
        init: Mapping[str, Any],
        *,
        background_fetch: BackgroundFetch | None = None,
    ) -> None:
        """#dom-backgroundfetchsettledevent-backgroundfetchsettledevent: "1. TODO"; (filled)
        each attribute is the init member of that name, as BackgroundFetchEvent's."""
        fetches = _member(init, "fetches", "BackgroundFetchSettledEventInit")
        if not isinstance(fetches, BackgroundFetchSettledFetches):
            raise TypeError(
                "BackgroundFetchSettledEventInit: fetches must be a BackgroundFetchSettledFetches"
            )
        super().__init__(type, init, background_fetch=background_fetch)
        self._fetches = fetches

    @property
    def fetches(self) -> BackgroundFetchSettledFetches:
        """The draft: "must return TODO".  (filled: 6cf8c42) the value it was initialized to."""
        return self._fetches


class BackgroundFetchUpdateEvent(BackgroundFetchSettledEvent):
    """BackgroundFetchUpdateEvent (#background-fetch-update-event)."""

    def __init__(
        self,
        type: str,
        init: Mapping[str, Any],
        *,
        background_fetch: BackgroundFetch | None = None,
    ) -> None:
        """#dom-backgroundfetchupdateevent-backgroundfetchupdateevent: "1. TODO"; (filled)
        as BackgroundFetchSettledEvent's."""
        super().__init__(type, init, background_fetch=background_fetch)
        # (filled: b8ba6f9) A UI updated flag, initially unset.
        self.ui_updated = False

    def update_ui(self, title: str) -> Promise[None]:
        """#dom-backgroundfetchupdateevent-updateui (in #background-fetch-update-event): the
        draft's steps are "1. TODO"; (filled: b8ba6f9) the steps of the nearest revision
        that has them, numbered as there (SPEC-NOTES.md SN-2017-14).  Returns a promise:
        ``await`` it, or pass it to ``wait_until``."""
        # Not a step: title's IDL type (DOMString), which this binding checks.
        if not isinstance(title, str):
            return Promise.rejected(TypeError(f"updateUI(): title must be a string, not {title!r}"))
        # 1. If this is untrusted, its UI updated flag is set, or it is not active, throw
        # an InvalidStateError.
        if not self.is_trusted:
            return Promise.rejected(InvalidStateError("updateUI() on an untrusted event"))
        if self.ui_updated:
            return Promise.rejected(InvalidStateError("updateUI may only be called once"))
        if not self.active:
            return Promise.rejected(
                InvalidStateError(f"updateUI(): the {self.type} event is no longer active")
            )
        # 2. Set this's UI updated flag.
        self.ui_updated = True
        # 3. If options is null, return.  (The draft's argument is a DOMString title.)
        # 4. Let bgFetch be this's background fetch.
        bg_fetch = self.background_fetch
        # 5. If options' icons member is present, set bgFetch's icons.  (No icons here.)
        # 6. If options' title member is present, set bgFetch's title to it (here: title).
        if bg_fetch is not None:
            bg_fetch.title = title
        promise: Promise[None] = Promise()
        promise.resolve(None)
        return promise


class BackgroundFetchClickEvent(BackgroundFetchEvent):
    """BackgroundFetchClickEvent (#background-fetch-click-event): ``state`` is "pending",
    "succeeded" or "failed"."""

    def __init__(
        self,
        type: str,
        init: Mapping[str, Any],
        *,
        background_fetch: BackgroundFetch | None = None,
    ) -> None:
        """The draft has no constructor steps for BackgroundFetchClickEvent (only its IDL,
        #background-fetch-click-event); (filled) as BackgroundFetchEvent's."""
        state = _member(init, "state", "BackgroundFetchClickEventInit")
        if state not in BACKGROUND_FETCH_STATES:
            raise TypeError(
                f"BackgroundFetchClickEventInit: {state!r} is not a valid BackgroundFetchState"
            )
        super().__init__(type, init, background_fetch=background_fetch)
        self._state: str = state

    @property
    def state(self) -> str:
        """(filled: 3f05ece) the value it was initialized to."""
        return self._state
