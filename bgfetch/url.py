"""URLs and origins (URL Standard, HTML's origin), on ada-url.

A :class:`URL` is an immutable parsed URL; its serialization is ada's ``href``.
"""

from __future__ import annotations

import functools
import ipaddress

import ada_url
import attrs

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}


@attrs.frozen
class Origin:
    """A tuple origin (HTML): scheme, host, port (the default port when the URL had none)."""

    scheme: str
    host: str
    port: int

    def serialize(self) -> str:
        """HTML's ASCII serialization of an origin."""
        default = DEFAULT_PORTS.get(self.scheme)
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"

    def __str__(self) -> str:
        return self.serialize()


@attrs.frozen
class URL:
    """A parsed URL (URL Standard)."""

    href: str
    scheme: str  # without the trailing ":"
    username: str
    password: str
    hostname: str  # IPv6 addresses keep their brackets, as in the URL Standard's host serializer
    port: int | None  # None where the URL has no port (the scheme's default applies)
    pathname: str
    search: str  # "" or "?..."
    hash: str  # "" or "#..."

    @property
    def origin(self) -> Origin | None:
        """The URL's origin; None stands for an opaque origin (data:, file:, ...)."""
        if self.scheme not in DEFAULT_PORTS or self.scheme == "ftp" or not self.hostname:
            return None
        return Origin(self.scheme, self.hostname, self.effective_port)

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return DEFAULT_PORTS.get(self.scheme, 0)

    @property
    def includes_credentials(self) -> bool:
        return bool(self.username or self.password)

    @property
    def target(self) -> str:
        """The request-target of an HTTP/1.1 request in origin-form: path and query."""
        return (self.pathname or "/") + self.search

    def redacted(self) -> str:
        """The href with any password replaced by "***": what messages and logs show."""
        if not self.password:
            return self.href
        return ada_url.replace_url(self.href, password="***")

    def without_fragment(self) -> str:
        return self.href[: len(self.href) - len(self.hash)] if self.hash else self.href

    def with_search(self, search: str) -> URL:
        """This URL with its query replaced (``""`` removes it)."""
        return parse_url(ada_url.replace_url(self.href, search=search))

    def __str__(self) -> str:
        return self.href


def parse_url(input: str, base: str | URL | None = None) -> URL:
    """The URL parser.  Raises TypeError naming the input when it fails, as Request() does."""
    try:
        if base is None:
            parts = ada_url.parse_url(input)
        else:
            parts = ada_url.parse_url(ada_url.URL(input, str(base)).href)
    except ValueError:
        where = f" against base {str(base)!r}" if base is not None else ""
        raise TypeError(f"{input!r} is not a valid URL{where}") from None
    port = parts["port"]
    return URL(
        href=parts["href"],
        scheme=parts["protocol"].rstrip(":"),
        username=parts["username"],
        password=parts["password"],
        hostname=parts["hostname"],
        port=int(port) if port else None,
        pathname=parts["pathname"],
        search=parts["search"],
        hash=parts["hash"],
    )


LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
LOOPBACK_V6 = ipaddress.IPv6Address("::1")


@functools.lru_cache(maxsize=1024)  # asked for each request's URL; hosts repeat
def is_loopback_ip(host: str) -> bool:
    """True for a host in 127.0.0.0/8 or ::1/128 (IPv6 hosts keep their brackets)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address in LOOPBACK_V4
    return address == LOOPBACK_V6


def is_localhost_name(host: str) -> bool:
    """ "localhost", "localhost." and names ending in ".localhost" or ".localhost."."""
    host = host.lower()
    return host in ("localhost", "localhost.") or host.endswith((".localhost", ".localhost."))
