"""Permission states per origin (Permissions), for powerful features such as "background-fetch"."""

from __future__ import annotations

from typing import Literal, get_args

from bgfetch.url import Origin, parse_url

PermissionState = Literal["granted", "denied", "prompt"]
STATES: tuple[PermissionState, ...] = get_args(PermissionState)


class Permissions:
    """The user's permission decisions: one state per (feature name, origin)."""

    def __init__(self, default: PermissionState = "granted") -> None:
        self.default = self._check(default)
        self._states: dict[tuple[str, Origin], PermissionState] = {}

    @staticmethod
    def _check(state: str) -> PermissionState:
        for known in STATES:
            if state == known:
                return known
        raise ValueError(f"permission state must be one of {STATES}, not {state!r}")

    @staticmethod
    def _origin(origin: str | Origin) -> Origin:
        if isinstance(origin, Origin):
            return origin
        parsed = parse_url(origin).origin
        if parsed is None:
            raise ValueError(f"{origin!r} has no tuple origin")
        return parsed

    def set(self, name: str, origin: str | Origin, state: PermissionState) -> None:
        self._states[(name, self._origin(origin))] = self._check(state)

    def state(self, name: str, origin: str | Origin) -> PermissionState:
        """The permission state for a PermissionDescriptor with *name* at *origin*."""
        return self._states.get((name, self._origin(origin)), self.default)
