"""Content Security Policy Level 3, the slice a fetch needs.

Parse a serialized policy (a window's `Content-Security-Policy` header) and answer
"should request be blocked by Content Security Policy?" (#should-block-request).
Background Fetch's requests have the destination "" so, of every fetch directive,
only ``connect-src`` (falling back to ``default-src``) applies to them; the
others' pre-request checks always answer "Allowed" for such a request.
Reporting is not modelled: a violation is the reason the fetch is refused.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING

import attrs

from bgfetch.fetch.numbers import parse_decimal
from bgfetch.url import DEFAULT_PORTS, URL, Origin

if TYPE_CHECKING:
    from bgfetch.fetch.request import InternalRequest

ASCII_WHITESPACE = "\t\n\f\r "

# CSP3 #grammardef-scheme-source and #grammardef-host-source.
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
SCHEME_SOURCE = re.compile(rf"(?P<scheme>{_SCHEME}):")
HOST_SOURCE = re.compile(
    rf"(?:(?P<scheme>{_SCHEME})://)?"
    r"(?P<host>\*|(?:\*\.)?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.?)"
    r"(?::(?P<port>[0-9]+|\*))?"
    r"(?P<path>/[^;,]*)?"
)
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")

# CSP3 #directive-fallback-list: the directives consulted, in order, for connect-src.
CONNECT_SRC_FALLBACK = ("connect-src", "default-src")


@attrs.frozen
class Directive:
    name: str
    value: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join((self.name, *self.value))


@attrs.frozen
class Policy:
    """A policy (CSP3 #content-security-policy-object): a directive set and a disposition."""

    directives: tuple[Directive, ...]
    disposition: str = "enforce"  # or "report"

    def directive(self, name: str) -> Directive | None:
        return next((d for d in self.directives if d.name == name), None)

    def __str__(self) -> str:
        return "; ".join(str(d) for d in self.directives)


def parse_serialized_policy(serialized: str, *, disposition: str = "enforce") -> Policy:
    """CSP3 #parse-serialized-policy."""
    directives: list[Directive] = []
    # 2. For each token returned by strictly splitting serialized on ";":
    for token in serialized.split(";"):
        # 2.1. Strip leading and trailing ASCII whitespace from token.
        token = token.strip(ASCII_WHITESPACE)
        # 2.2. If token is an empty string, or if token is not an ASCII string, continue.
        if not token or not token.isascii():
            continue
        # 2.3-2.4. The directive name: the leading non-whitespace code points, lowercased.
        name, *value = re.split(f"[{ASCII_WHITESPACE}]+", token)
        name = name.lower()
        # 2.5. If policy's directive set contains a directive whose name is directive
        # name, continue (a duplicate directive is ignored).
        if any(d.name == name for d in directives):
            continue
        # 2.6-2.8. The value: the rest of token split on ASCII whitespace.
        directives.append(Directive(name, tuple(value)))
    return Policy(tuple(directives), disposition)


def parse_header_value(value: str | None, *, disposition: str = "enforce") -> tuple[Policy, ...]:
    """CSP3 #parse-response-csp for one header value: comma-separated policies."""
    if value is None:
        return ()
    policies = (parse_serialized_policy(t, disposition=disposition) for t in value.split(","))
    return tuple(p for p in policies if p.directives)


@attrs.frozen
class PolicyContainer:
    """HTML's policy container, the part Fetch reads: its CSP list."""

    csp_list: tuple[Policy, ...] = ()
    # Not HTML's: the header the CSP list was parsed from, so a store can keep it.
    csp_header: str | None = None

    @classmethod
    def from_csp_header(cls, value: str | None) -> PolicyContainer:
        """The policy container of a document served with ``Content-Security-Policy: value``."""
        return cls(parse_header_value(value), value)


def should_request_be_blocked(request: InternalRequest) -> Directive | None:
    """CSP3 #should-block-request: the enforced directive *request* violates, or None."""
    container = request.policy_container
    if container is None:
        return None
    # 2. For each policy of request's policy container's CSP list:
    for policy in container.csp_list:
        # 2.1. If policy's disposition is "report", skip to the next policy.
        if policy.disposition == "report":
            continue
        # 2.2. Let violates be the result of executing "does request violate policy?".
        violated = _violated_directive(request, policy)
        # 2.3. If violates is not "Does Not Violate", the result is "Blocked".
        if violated is not None:
            return violated
    return None


def _violated_directive(request: InternalRequest, policy: Policy) -> Directive | None:
    """CSP3 #does-request-violate-policy, for a request whose destination is "".

    The effective directive of such a request is connect-src (#effective-directive-for-
    a-request); "should fetch directive execute" makes the first directive of its
    fallback list that the policy has the one whose pre-request check decides.
    """
    for name in CONNECT_SRC_FALLBACK:
        directive = policy.directive(name)
        if directive is None:
            continue
        assert request.origin is not None, "a policy applies to a request with an origin"
        matched = does_url_match_source_list(
            request.current_url, directive.value, request.origin, request.redirect_count
        )
        return None if matched else directive
    return None


def does_url_match_source_list(
    url: URL, source_list: tuple[str, ...], origin: Origin, redirect_count: int
) -> bool:
    """CSP3 #match-url-to-source-list."""
    # 2. If source list is empty, return "Does Not Match".
    if not source_list:
        return False
    # 3. If source list is « 'none' », return "Does Not Match".
    if len(source_list) == 1 and source_list[0].lower() == "'none'":
        return False
    # 4. For each expression of source list: if it matches, return "Matches".
    return any(
        does_url_match_expression(url, expression, origin, redirect_count)
        for expression in source_list
    )


def does_url_match_expression(
    url: URL, expression: str, origin: Origin, redirect_count: int
) -> bool:
    """CSP3 #match-url-to-source-expression."""
    # 1. "*" matches an HTTP(S) URL, or a URL of the protected resource's scheme.
    if expression == "*":
        return url.scheme in ("http", "https") or url.scheme == origin.scheme
    scheme_source = SCHEME_SOURCE.fullmatch(expression)
    host_source = HOST_SOURCE.fullmatch(expression)
    # 2. If expression matches the scheme-source or host-source grammar:
    if scheme_source is not None or host_source is not None:
        match = scheme_source if scheme_source is not None else host_source
        assert match is not None
        scheme_part = match["scheme"]
        # 2.1. If expression has a scheme-part that does not scheme-part match url's
        # scheme, return "Does Not Match".
        if scheme_part is not None and not scheme_part_matches(scheme_part, url.scheme):
            return False
        # 2.2. If expression matches the scheme-source grammar, return "Matches".
        if scheme_source is not None:
            return True
    # 3. If expression matches the host-source grammar:
    if host_source is not None:
        # 3.1. If url's host is null, return "Does Not Match".
        if not url.hostname:
            return False
        # 3.2. A schemeless expression needs origin's scheme to scheme-part match url's.
        if host_source["scheme"] is None and not scheme_part_matches(origin.scheme, url.scheme):
            return False
        # 3.3. If expression's host-part does not host-part match url's host, no match.
        if not host_part_matches(host_source["host"], url.hostname):
            return False
        # 3.4-3.5. If port-part does not port-part match url, return "Does Not Match".
        if not port_part_matches(host_source["port"], url):
            return False
        # 3.6. A non-empty path-part must path-part match url's path (before redirects).
        path = host_source["path"]
        if path and redirect_count == 0 and not path_part_matches(path, url.pathname):
            return False
        # 3.7. Return "Matches".
        return True
    # 4. 'self' matches origin's own URLs, and secure upgrades of them.
    if expression.lower() == "'self'":
        if url.origin == origin:
            return True
        url_port = url.effective_port
        same_port = origin.port == url_port or (
            origin.port == DEFAULT_PORTS.get(origin.scheme)
            and url_port == DEFAULT_PORTS.get(url.scheme)
        )
        return (
            origin.host == url.hostname
            and same_port
            and (
                url.scheme in ("https", "wss")
                or (origin.scheme == "http" and url.scheme in ("http", "ws"))
            )
        )
    # 5. Return "Does Not Match" (keywords, nonces and hashes match no URL).
    return False


def scheme_part_matches(a: str, b: str) -> bool:
    """CSP3 #scheme-part-match: *a* (from an expression) matches *b*, or upgrades to it."""
    a, b = a.lower(), b.lower()
    return (
        a == b
        or (a == "http" and b == "https")
        or (a == "ws" and b in ("wss", "http", "https"))
        or (a == "wss" and b == "https")
    )


def host_part_matches(pattern: str, host: str) -> bool:
    """CSP3 #host-part-match."""
    # 1. If host is not a domain, return "Does Not Match".
    if host.startswith("[") or _IPV4.fullmatch(host):
        return False
    # 2. If pattern is "*", return "Matches".
    if pattern == "*":
        return True
    # 3. If pattern starts with "*.", match host's subdomains of the rest.
    if pattern.startswith("*."):
        return host.lower().endswith(pattern[1:].lower())
    # 4-5. Otherwise host must be pattern, ASCII case-insensitively.
    return pattern.lower() == host.lower()


def port_part_matches(port_part: str | None, url: URL) -> bool:
    """CSP3 #port-part-matches."""
    # 2. If input is equal to "*", return "Matches".
    if port_part == "*":
        return True
    # 3. Let normalizedInput be null if input is empty, otherwise input as a number.
    # (A numeral too long to parse, far above any port, matches no URL: SPEC-NOTES.md
    # SN-fetch-8.)
    normalized = parse_decimal(port_part) if port_part else None
    if port_part and normalized is None:
        return False
    # 4. If normalizedInput equals url's port, return "Matches".
    if normalized == url.port:
        return True
    # 5. If url's port is null, match the default port of url's scheme.
    if url.port is None:
        return normalized == DEFAULT_PORTS.get(url.scheme)
    # 6. Return "Does Not Match".
    return False


def path_part_matches(path_a: str, path_b: str) -> bool:
    """CSP3 #path-part-match."""
    # 1. If path A is the empty string, return "Matches".
    if path_a == "":
        return True
    # 2. If path A is "/" and path B is the empty string, return "Matches".
    if path_a == "/" and path_b == "":
        return True
    # 3. Let exact match be false if the final character of path A is "/", else true.
    exact_match = not path_a.endswith("/")
    # 4. Split both on "/".
    list_a, list_b = path_a.split("/"), path_b.split("/")
    # 5-6. Path list A must not be longer; for an exact match, of the same length.
    if len(list_a) > len(list_b) or (exact_match and len(list_a) != len(list_b)):
        return False
    # 7. If not an exact match, drop path list A's final (empty) item.
    if not exact_match:
        list_a.pop()
    # 8. Each piece of A, percent-decoded, must equal B's piece there.
    return all(
        urllib.parse.unquote(piece_a) == urllib.parse.unquote(piece_b)
        for piece_a, piece_b in zip(list_a, list_b, strict=False)
    )
