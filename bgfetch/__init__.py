"""bgfetch: the Background Fetch spec, executable, on trio + h11.

async with bgfetch.open_user_agent(network=net) as ua:
    window = await ua.open_window("https://example.test/")
    ...
"""

from bgfetch.errors import (
    AbortError,
    DataCloneError,
    DOMException,
    InvalidAccessError,
    InvalidStateError,
    NotAllowedError,
    QuotaExceededError,
    SecurityError,
)
from bgfetch.fetch import FormData, Headers, Request, Response
from bgfetch.net.real import RealNetwork
from bgfetch.net.virtual import VirtualNetwork
from bgfetch.sw import ExtendableEvent, ServiceWorker
from bgfetch.useragent import UserAgent, open_user_agent

__version__ = "0.1.0"

__all__ = [
    "AbortError",
    "DataCloneError",
    "DOMException",
    "ExtendableEvent",
    "FormData",
    "Headers",
    "InvalidAccessError",
    "InvalidStateError",
    "NotAllowedError",
    "QuotaExceededError",
    "RealNetwork",
    "Request",
    "Response",
    "SecurityError",
    "ServiceWorker",
    "UserAgent",
    "VirtualNetwork",
    "open_user_agent",
]
