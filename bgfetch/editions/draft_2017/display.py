"""Privacy and bandwidth usage (#privacy-and-bandwidth-use): the UI, as a model.

The draft has no display algorithm.  Its privacy section recommends that user
agents make background fetch operations "highly visible and easily abortable",
and says a user agent that offers a way to abort "should terminate all fetches
associated with the background fetch's records, with the abort flag set".  Its
IDL has ``backgroundfetchclick`` and BackgroundFetchClickEvent, but nothing
fires them.  A :class:`BackgroundFetchDisplay` is what the user sees of one
background fetch; ``ua.ui.find(id)`` finds it.  Clicking fires
``backgroundfetchclick`` with ``state`` "pending" while the fetch runs, then
"succeeded" (after ``backgroundfetched``) or "failed" (after
``backgroundfetchfail`` or ``backgroundfetchabort``) (filled: 8f16aef for firing,
1a5d253 for the state; SPEC-NOTES.md SN-2017-15).
"""

from __future__ import annotations

from bgfetch.errors import InvalidStateError
from bgfetch.sw.environment import Environment
from bgfetch.sw.registration import fire_functional_event
from bgfetch.ui import DisplayBase

from .concepts import BackgroundFetch
from .events import BackgroundFetchClickEvent

ANCHOR = "#privacy-and-bandwidth-use"


class BackgroundFetchDisplay(DisplayBase):
    """The UI of one background fetch: the origin, with "equal or greater visibility"
    than the title and icons (ui.DisplayBase), the progress, and what the user can do."""

    bg_fetch: BackgroundFetch

    # What the UI shows, besides the origin, title and icons.
    @property
    def downloaded(self) -> int:
        return self.bg_fetch.last_reported_download

    @property
    def state(self) -> str:
        """The BackgroundFetchState a click reports."""
        event = self.bg_fetch.settled_event
        if event == "":
            return "pending"
        return "succeeded" if event == "backgroundfetched" else "failed"

    # What the user can do.
    def cancel(self) -> None:
        """Abort: terminate all fetches of the records with the abort flag set."""
        self.bg_fetch.service_worker_registration.user_agent.observers.step(
            ANCHOR, "", "user abort", id=self.id, key=self.bg_fetch.key
        )
        self.bg_fetch.abort_all = True

    def click(self) -> None:
        """Activate the UI: fire ``backgroundfetchclick`` with the id and state."""
        bg_fetch, state = self.bg_fetch, self.state
        fire_functional_event(
            bg_fetch.service_worker_registration,
            "backgroundfetchclick",
            lambda realm: BackgroundFetchClickEvent(
                "backgroundfetchclick",
                {"id": bg_fetch.id, "state": state},
                background_fetch=bg_fetch,
            ),
        )

    def dismiss(self) -> None:
        """Swipe the UI away, which removes the display from the UI.  The draft says
        nothing of it; (filled: 05c7ed8) as the current edition's display: only once the
        background fetch has settled (else cancel first).  SPEC-NOTES.md SN-2017-22."""
        if self.bg_fetch.settled_event == "":
            raise InvalidStateError(
                f"background fetch {self.id!r} is still running: it cannot be dismissed "
                "without aborting"
            )
        self.forget()

    def __repr__(self) -> str:
        return (
            f"<BackgroundFetchDisplay {self.id!r} {self.origin} {self.downloaded}/"
            f"{self.download_total or '?'} state={self.state!r}>"
        )


def show(bg_fetch: BackgroundFetch, environment: Environment | None) -> BackgroundFetchDisplay:
    """Make *bg_fetch* visible in the user agent's UI.

    *environment* is None for a background fetch a stored user agent restored after a
    restart (its page is gone).
    """
    ua = bg_fetch.service_worker_registration.user_agent
    shown = BackgroundFetchDisplay(bg_fetch, environment)
    ua.ui.add(shown)
    ua.observers.step(
        ANCHOR,
        "",
        "displayed",
        id=bg_fetch.id,
        origin=shown.origin,
        paused=False,
        key=bg_fetch.key,
        scope=bg_fetch.service_worker_registration.scope_url.href,
        requests=len(bg_fetch.records),
        restored=environment is None,
    )
    return shown
