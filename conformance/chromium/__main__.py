"""``python -m conformance.chromium``: whether the Chromium backend runs here.

Launches Chromium as the backend does, opens a page with WPT's sw.js, runs one
background fetch to its completion event and closes everything; prints the browser
and the timings. Exit status 0 if it ran, 2 if Chromium is not installed (the
backend's tests skip), 1 with the reason if the backend cannot run.
"""

from __future__ import annotations

import sys
import time

import trio

from conformance.chromium.backend import ChromiumBackend
from conformance.chromium.browser import ChromiumNotAvailable, executable
from conformance.interface import PageSetup


async def check(backend: ChromiumBackend) -> str:
    started = time.monotonic()
    async with backend.open_page(PageSetup(page="/background-fetch/smoke.html")) as page:
        opened = time.monotonic()
        await page.fetch("smoke", "resources/feature-name.txt")
        message = await page.next_message(timeout=30)
        fetched = time.monotonic()
    if not isinstance(message, dict) or message.get("type") != "backgroundfetchsuccess":
        raise AssertionError(f"sw.js posted {message!r}, not a backgroundfetchsuccess")
    return (
        f"start and warm-up {opened - started:.1f} s, one background fetch {fetched - opened:.2f} s"
    )


def main() -> int:
    try:
        executable()
    except ChromiumNotAvailable as error:
        print(f"the Chromium backend is skipped: {error}", file=sys.stderr)
        return 2
    backend = ChromiumBackend()
    try:
        timings = trio.run(check, backend)
        version = backend.chromium.version if backend.chromium is not None else "?"
    except Exception as error:  # whatever it is, the backend cannot run
        print(f"the Chromium backend cannot run: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        backend.close()
    print(f"the Chromium backend runs ({version}): {timings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
