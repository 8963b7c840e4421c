"""The user agent's UI, as a model: what the user sees and can do.

An edition's *display* algorithm adds a display here for each background fetch;
a display offers the user's actions (pause, resume, cancel, click, accept,
refuse).  Tests and the demo play the user through these objects.
"""

from __future__ import annotations

from typing import Any, Protocol


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

    def remove(self, display: Display) -> None:
        """The user dismissed *display*: the UI forgets it."""
        self.displays.remove(display)

    def find(self, id: str) -> Any:
        """The newest display of a background fetch with *id*; KeyError naming it if none."""
        for display in reversed(self.displays):
            if display.id == id:
                return display
        shown = ", ".join(repr(d.id) for d in self.displays) or "none"
        raise KeyError(f"no background fetch with id {id!r} is displayed (displayed: {shown})")
