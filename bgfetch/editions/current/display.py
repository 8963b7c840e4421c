"""Display (#background-fetch-display-algorithm): the UI the spec requires, as a model.

A :class:`BackgroundFetchDisplay` is what the user sees of one background fetch,
and its methods are what the user can do.  ``ua.ui.find(id)`` finds it.
"""

from __future__ import annotations

from bgfetch.errors import InvalidStateError
from bgfetch.sw.environment import Environment
from bgfetch.ui import DisplayBase

from .concepts import BackgroundFetch
from .instances import fire_a_background_fetch_click_event

ANCHOR = "#background-fetch-display-algorithm"


class BackgroundFetchDisplay(DisplayBase):
    """The UI of one background fetch: the origin (prominently), title and icons
    (ui.DisplayBase), the progress, and what the user can do."""

    bg_fetch: BackgroundFetch

    def __init__(self, bg_fetch: BackgroundFetch, environment: Environment | None) -> None:
        super().__init__(bg_fetch, environment)
        self.awaiting_permission = False

    # What the UI shows, besides the origin, title and icons.
    @property
    def downloaded(self) -> int:
        return self.bg_fetch.stored_body_bytes_total()

    @property
    def uploaded(self) -> int:
        return self.bg_fetch.uploaded

    @property
    def upload_total(self) -> int:
        return self.bg_fetch.upload_total

    @property
    def paused(self) -> bool:
        return self.bg_fetch.paused

    @property
    def result(self) -> str:
        return self.bg_fetch.result

    @property
    def using_bandwidth(self) -> bool:
        """Shown while the fetch is unpaused and unsettled (the spec says "result is not
        the empty string", inverted: SPEC-NOTES.md SN-current-9)."""
        return not self.bg_fetch.paused and self.bg_fetch.result == ""

    @property
    def can_pause(self) -> bool:
        """Pausing is offered only when every record's request method is `GET`."""
        return all(record.request.method == "GET" for record in self.bg_fetch.records)

    # What the user can do.
    def pause(self) -> None:
        if not self.can_pause:
            methods = sorted({r.request.method for r in self.bg_fetch.records} - {"GET"})
            raise InvalidStateError(
                f"background fetch {self.id!r} cannot be paused: it has {', '.join(methods)} "
                "requests, and reissuing them may have side effects"
            )
        self.bg_fetch.paused = True

    def resume(self) -> None:
        self.bg_fetch.paused = False

    def cancel(self) -> None:
        """Abort the background fetch: sets its abort all flag."""
        self._observe("user abort")
        self.bg_fetch.abort_all = True

    def click(self) -> None:
        """Activate the UI: fire a background fetch click event."""
        fire_a_background_fetch_click_event(self.bg_fetch)

    def accept(self) -> None:
        """Accept a fetch the "prompt" permission started paused."""
        self.awaiting_permission = False
        self.bg_fetch.paused = False

    def refuse(self) -> None:
        """Refuse a fetch the "prompt" permission started paused: sets abort all."""
        self.awaiting_permission = False
        self._observe("user abort")
        self.bg_fetch.abort_all = True

    def dismiss(self) -> None:
        """Swipe the UI away: allowed only once the result is set (else cancel first).
        Dismissing removes the display from the UI (SPEC-NOTES.md SN-current-23)."""
        if self.bg_fetch.result == "":
            raise InvalidStateError(
                f"background fetch {self.id!r} is still running: it cannot be dismissed "
                "without aborting"
            )
        self.forget()

    def _observe(self, what: str) -> None:
        self.bg_fetch.service_worker_registration.user_agent.observers.step(
            ANCHOR, "", what, id=self.id, key=self.bg_fetch.key
        )

    def __repr__(self) -> str:
        return (
            f"<BackgroundFetchDisplay {self.id!r} {self.origin} {self.downloaded}/"
            f"{self.download_total or '?'} paused={self.paused} result={self.result!r}>"
        )


def display(bg_fetch: BackgroundFetch, environment: Environment | None) -> BackgroundFetchDisplay:
    """#background-fetch-display-algorithm

    *environment* is None for a background fetch a stored user agent restored after a
    restart (its page is gone; the user answered any prompt before).
    """
    ua = bg_fetch.service_worker_registration.user_agent
    shown = BackgroundFetchDisplay(bg_fetch, environment)
    # Let permission be the permission state for "background-fetch" and environment.  If
    # it is "prompt", the user agent may set the paused flag at the beginning: bgfetch does,
    # and the display offers accept (unpause) and refuse (abort all).
    permission = (
        "granted"
        if environment is None
        else ua.permissions.state("background-fetch", environment.origin)
    )
    if permission == "prompt":
        bg_fetch.paused = True
        shown.awaiting_permission = True
    ua.ui.add(shown)
    ua.observers.step(
        ANCHOR,
        "",
        "displayed",
        id=bg_fetch.id,
        origin=shown.origin,
        paused=bg_fetch.paused,
        key=bg_fetch.key,
        scope=bg_fetch.service_worker_registration.scope_url.href,
        requests=len(bg_fetch.records),
        restored=environment is None,
    )
    return shown
