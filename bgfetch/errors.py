"""The DOMException family the specs throw.  JavaScript's TypeError is Python's TypeError.

Each class carries WebIDL's name (``error.name``) so a ported test can compare
names exactly as a JavaScript test compares ``e.name``.
"""

from __future__ import annotations


class DOMException(Exception):
    """WebIDL's DOMException.  Subclasses are the named exceptions of WebIDL."""

    name = "Error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name


class AbortError(DOMException):
    name = "AbortError"


class DataCloneError(DOMException):
    """HTML's StructuredSerialize met a value it cannot serialize (postMessage())."""

    name = "DataCloneError"


class InvalidAccessError(DOMException):
    name = "InvalidAccessError"


class InvalidStateError(DOMException):
    name = "InvalidStateError"


class NotAllowedError(DOMException):
    name = "NotAllowedError"


class SecurityError(DOMException):
    name = "SecurityError"


class QuotaExceededError(DOMException):
    """WebIDL's QuotaExceededError, with its ``quota`` and ``requested`` (null unless known)."""

    name = "QuotaExceededError"

    def __init__(
        self, message: str = "", *, quota: float | None = None, requested: float | None = None
    ) -> None:
        super().__init__(message)
        self.quota = quota
        self.requested = requested


class NetworkError(Exception):
    """Fetch's network error, as raised below the Fetch layer (connection refused,
    reset, TLS failure, offline).  The Fetch layer turns it into a network-error
    response; it never reaches the API."""
