"""``ua.console``: what a browser's DevTools console would say, for a simulated browser.

Each failure the user agent meets becomes a :class:`ConsoleMessage` with its level and
the request's URL, as the console would show it: a network error and why (a CORS check
failing, mixed content, a bad port, CSP, a refused connection, an unknown host, a TLS
handshake), an HTTP error status, a connection broken mid-body, a resume the server
refused, and every exception a service-worker handler, an event listener or an
observer raised ("Uncaught ...", with its traceback).

The messages come from what exists: the algorithm steps ``ua.observers`` delivers
(:func:`message_for`), and the user agent's "report the exception".  Each is kept in
``ua.console.messages`` (for tests) and logged, as it happens, to the ``bgfetch.console``
logger: with no logging set up, Python prints warnings and errors to stderr, tracebacks
included, as a console would; ``bgfetch fetch`` and the demo print them their way.
"""

from __future__ import annotations

import http
import logging
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import attrs
import trio

from bgfetch.observe import Observers, Step

Level = Literal["verbose", "info", "warning", "error"]
Source = Literal["network", "javascript", "worker", "other"]

LOGGER = logging.getLogger("bgfetch.console")
LOGGING_LEVELS: dict[Level, int] = {
    "verbose": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
KEPT = 10_000
"""Messages ``ua.console.messages`` keeps: the latest (a long run forgets the oldest)."""


@attrs.frozen
class ConsoleMessage:
    """One console message, with the fields of DevTools' ``Log.LogEntry``."""

    level: Level
    text: str
    url: str = ""  # the request's URL (or the environment's, for an exception)
    source: Source = "network"
    id: str = ""  # the background fetch's id, where there is one
    time: float = 0.0  # trio.current_time() when it was said
    error: BaseException | None = attrs.field(default=None, eq=False, repr=False)

    def __str__(self) -> str:
        return f"{self.level}: {self.text}"


class Console:
    """A user agent's console: the messages said so far, and a listener for the steps."""

    def __init__(self, observers: Observers) -> None:
        self.messages: deque[ConsoleMessage] = deque(maxlen=KEPT)
        observers.subscribe(self._hear)

    def say(
        self,
        level: Level,
        text: str,
        *,
        url: str = "",
        source: Source = "network",
        id: str = "",
        error: BaseException | None = None,
    ) -> ConsoleMessage:
        """Add a message, and log it to ``bgfetch.console`` (with *error*'s traceback)."""
        message = ConsoleMessage(level, text, url, source, id, _now(), error)
        self.messages.append(message)
        exc_info = (type(error), error, error.__traceback__) if error is not None else None
        LOGGER.log(LOGGING_LEVELS[level], "%s", text, exc_info=exc_info, extra={"console": message})
        return message

    def errors(self) -> list[ConsoleMessage]:
        return [m for m in self.messages if m.level == "error"]

    def find(self, text: str) -> list[ConsoleMessage]:
        """The messages whose text contains *text*."""
        return [m for m in self.messages if text in m.text]

    def clear(self) -> None:
        """``console.clear()``: forget the messages so far."""
        self.messages.clear()

    def _hear(self, step: Step) -> None:
        said = message_for(step)
        if said is not None:
            level, text = said
            self.say(level, text, url=str(step.details.get("url", "")), id=step.id)


def _now() -> float:
    try:
        return trio.current_time()
    except RuntimeError:  # outside trio (a user agent's code called from a plain thread)
        return 0.0


def _failed_status(status: int) -> str:
    try:
        phrase = f" ({http.HTTPStatus(status).phrase})"
    except ValueError:
        phrase = ""
    return f"Failed to load resource: the server responded with a status of {status}{phrase}"


def _response(step: Step) -> tuple[Level, str] | None:
    error = step.details.get("error")
    if error:  # a network error: its reason says what (CORS, mixed content, CSP, ...)
        return "error", str(error)
    status = step.details.get("status", 0)
    if isinstance(status, int) and status >= 400:
        return "error", f"{step.details.get('url', '')}: {_failed_status(status)}"
    return None


def _body_broke(step: Step) -> tuple[Level, str]:
    return "warning", (
        f"{step.details.get('url', '')}: the response body broke off after "
        f"{step.details.get('stored', 0):,} bytes: {step.details.get('error', '')}"
    )


def _resume_refused(step: Step) -> tuple[Level, str]:
    return "error", (
        f"{step.details.get('url', '')}: resuming failed: the server's partial response "
        f"does not continue the stored bytes{_content_range(step)}; the record fails "
        "(fetch-error)"
    )


def _content_range(step: Step) -> str:
    value = step.details.get("content_range")
    return f" (Content-Range: {value})" if value else ""


def _range_ignored(step: Step) -> tuple[Level, str]:
    return "warning", (
        f"{step.details.get('url', '')}: the server answered the range request for the "
        f"rest with the whole resource (status {step.details.get('status', '')}): the "
        "download starts over"
    )


MESSAGES: dict[str, Callable[[Step], tuple[Level, str] | None]] = {
    "response": _response,
    "body stream errored": _body_broke,
    "invalid partial response": _resume_refused,
    "range not honoured": _range_ignored,
    "quota exceeded": lambda step: ("error", f"quota exceeded: {step.details.get('reason')}"),
    "waiting to resume": lambda step: (
        "info",
        f"{step.details.get('url', '')}: the network is unavailable: waiting to resume",
    ),
}
"""What the console says at each observed step (by its ``what``); other steps say nothing."""


def message_for(step: Step) -> tuple[Level, str] | None:
    """The level and text the console shows for *step*, or None."""
    said = MESSAGES.get(step.what)
    return None if said is None else said(step)


class _Lines(logging.Handler):
    def __init__(self, write: Callable[[str], None], level: int) -> None:
        super().__init__(level)
        self.write = write

    def emit(self, record: logging.LogRecord) -> None:
        message = getattr(record, "console", None)
        if not isinstance(message, ConsoleMessage):
            return
        text = f"console {message.level}: {message.text}"
        if record.exc_info is not None and record.exc_info[0] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self.write(text)


@contextmanager
def printed(write: Callable[[str], None], *, level: Level = "info") -> Iterator[None]:
    """For the block's duration, give each console message of *level* or above to
    *write*, as the text a console shows (``console error: ...``, then the traceback of
    an exception); how ``bgfetch fetch`` and the demo print them."""
    handler = _Lines(write, LOGGING_LEVELS[level])
    LOGGER.addHandler(handler)
    try:
        yield
    finally:
        LOGGER.removeHandler(handler)
