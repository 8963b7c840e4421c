"""Automation (#automation): the "background fetch click" WebDriver extension command.

``POST /session/{session id}/backgroundfetch/{id}/click`` becomes
:func:`background_fetch_click`, with the window standing for the current
top-level browsing context.  A WebDriver error is :class:`WebDriverError`.
"""

from __future__ import annotations

import attrs

from bgfetch.sw.environment import Window

from .concepts import BackgroundFetch
from .instances import fire_a_background_fetch_click_event

ANCHOR = "#automation-click"


@attrs.define
class WebDriverError(Exception):
    """A WebDriver error: its HTTP status and JSON error code."""

    status: int
    error_code: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.status} {self.error_code}: {self.message}"


def background_fetch_click(window: Window, id: str) -> None:
    """The remote end steps of the background fetch click extension command (#automation-click)."""
    ua = window.user_agent
    # 1. If the current top-level browsing context is no longer open, return a WebDriver
    # error with error code no such window.
    if window not in ua.environments:
        raise WebDriverError(404, "no such window", f"the window {window.url.href} is closed")
    # 2. Let pageURL be the current top-level browsing context's active document's URL.
    page_url = window.url
    # 3. Let swRegistration be the matching service worker registration for pageURL.
    sw_registration = window.navigator.service_worker.matching_registration()
    # 4. If swRegistration is null, return a WebDriver error with status 400 and JSON error
    # code "invalid service worker state".
    if sw_registration is None:
        raise WebDriverError(
            400, "invalid service worker state", f"no service worker registration for {page_url}"
        )
    # 5. Let bgFetch be the newest background fetch with an id of id and a service worker
    # registration of swRegistration, or null if none exists.  (Every background fetch is
    # displayed (fetch() step 8.15): the user agent's UI lists them, oldest first.)
    bg_fetch: BackgroundFetch | None = None
    for display in reversed(ua.ui.displays):
        candidate = getattr(display, "bg_fetch", None)
        if (
            isinstance(candidate, BackgroundFetch)
            and candidate.id == id
            and candidate.service_worker_registration is sw_registration
        ):
            bg_fetch = candidate
            break
    # 6. If bgFetch is null, return a WebDriver error with status 404 and JSON error code
    # "background fetch not found".
    if bg_fetch is None:
        raise WebDriverError(404, "background fetch not found", f"no background fetch {id!r}")
    # 7. Fire a background fetch click event for bgFetch.
    fire_a_background_fetch_click_event(bg_fetch)
    # 8. Return WebDriver success.
