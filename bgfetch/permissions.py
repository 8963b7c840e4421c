"""Permission states per origin (Permissions), for powerful features such as "background-fetch"."""

from __future__ import annotations

from bgfetch.url import Origin, parse_url

STATES = ("granted", "denied", "prompt")


class Permissions:
    """The user's permission decisions: one state per (feature name, origin)."""

    def __init__(self, default: str = "granted") -> None:
        self._check(default)
        self.default = default
        self._states: dict[tuple[str, Origin], str] = {}

    @staticmethod
    def _check(state: str) -> None:
        if state not in STATES:
            raise ValueError(f"permission state must be one of {STATES}, not {state!r}")

    @staticmethod
    def _origin(origin: str | Origin) -> Origin:
        if isinstance(origin, Origin):
            return origin
        parsed = parse_url(origin).origin
        if parsed is None:
            raise ValueError(f"{origin!r} has no tuple origin")
        return parsed

    def set(self, name: str, origin: str | Origin, state: str) -> None:
        self._check(state)
        self._states[(name, self._origin(origin))] = state

    def state(self, name: str, origin: str | Origin) -> str:
        """The permission state for a PermissionDescriptor with *name* at *origin*."""
        return self._states.get((name, self._origin(origin)), self.default)
