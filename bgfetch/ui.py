"""The user agent's UI, as a model: what the user sees and can do.

An edition's *display* algorithm adds a display here for each background fetch;
a display offers the user's actions (pause, resume, cancel, click, accept,
refuse).  Tests and the demo play the user through these objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bgfetch.sw.environment import Environment
    from bgfetch.sw.registration import Registration


class Display(Protocol):
    """What every edition's display shows and offers, at the least."""

    @property
    def id(self) -> str: ...

    @property
    def origin(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def icons(self) -> list[Any]: ...

    @property
    def downloaded(self) -> int: ...

    def click(self) -> None: ...

    def cancel(self) -> None: ...

    def dismiss(self) -> None: ...


class UserInterface:
    def __init__(self) -> None:
        self.displays: list[Any] = []  # each a Display, with its edition's extra actions

    def add(self, display: Display) -> None:
        self.displays.append(display)

    def remove(self, display: object) -> None:
        """The user dismissed *display*: the UI forgets it."""
        self.displays.remove(display)

    def find(self, id: str) -> Any:
        """The newest display of a background fetch with *id*; KeyError naming it if none."""
        for display in reversed(self.displays):
            if display.id == id:
                return display
        shown = ", ".join(repr(d.id) for d in self.displays) or "none"
        raise KeyError(f"no background fetch with id {id!r} is displayed (displayed: {shown})")


class Shown(Protocol):
    """A background fetch, of either edition, as far as its display goes."""

    id: str
    title: str
    icons: list[Any]
    download_total: int
    service_worker_registration: Registration


class DisplayBase:
    """What every edition's display shows of its background fetch: its id, the origin
    (prominently), its title, icons and download total.  An edition's display adds
    the progress it can show and the user's actions."""

    def __init__(self, bg_fetch: Any, environment: Environment | None) -> None:
        self.bg_fetch = bg_fetch  # the edition's background fetch (a Shown)
        # The environment it was displayed from: None for one restored after a restart.
        self.environment = environment
        self.dismissed = False

    @property
    def id(self) -> str:
        bg_fetch: Shown = self.bg_fetch
        return bg_fetch.id

    @property
    def origin(self) -> str:
        """The scope URL's origin."""
        bg_fetch: Shown = self.bg_fetch
        origin = bg_fetch.service_worker_registration.scope_url.origin
        assert origin is not None  # a registration's scope has a tuple origin
        return origin.serialize()

    @property
    def title(self) -> str:
        bg_fetch: Shown = self.bg_fetch
        return bg_fetch.title

    @property
    def icons(self) -> list[Any]:
        bg_fetch: Shown = self.bg_fetch
        return bg_fetch.icons

    @property
    def download_total(self) -> int:
        bg_fetch: Shown = self.bg_fetch
        return bg_fetch.download_total

    def forget(self) -> None:
        """The user dismissed it: the UI no longer shows it."""
        self.dismissed = True
        bg_fetch: Shown = self.bg_fetch
        bg_fetch.service_worker_registration.user_agent.ui.remove(self)
