"""The request rules that make main fetch answer a network error before sending anything.

Main fetch (step 7) asks, for the request's current URL, whether it should be
blocked due to a bad port, as mixed content, or by Content Security Policy; it
asks again after every redirect.  :func:`block_reason` answers with a message
naming the URL and the rule it broke (None when the request may go on), so a
failed record says why.
"""

from __future__ import annotations

from bgfetch.fetch.csp import should_request_be_blocked
from bgfetch.fetch.request import InternalRequest
from bgfetch.url import URL, Origin, is_localhost_name, is_loopback_ip

# Fetch, "bad port" (#bad-port).
BAD_PORTS = frozenset(
    {
        0,
        1,
        7,
        9,
        11,
        13,
        15,
        17,
        19,
        20,
        21,
        22,
        23,
        25,
        37,
        42,
        43,
        53,
        69,
        77,
        79,
        87,
        95,
        101,
        102,
        103,
        104,
        109,
        110,
        111,
        113,
        115,
        117,
        119,
        123,
        135,
        137,
        139,
        143,
        161,
        179,
        389,
        427,
        465,
        512,
        513,
        514,
        515,
        526,
        530,
        531,
        532,
        540,
        548,
        554,
        556,
        563,
        587,
        601,
        636,
        989,
        990,
        993,
        995,
        1719,
        1720,
        1723,
        2049,
        3659,
        4045,
        4190,
        5060,
        5061,
        6000,
        6566,
        6665,
        6666,
        6667,
        6668,
        6669,
        6679,
        6697,
        10080,
    }
)


def block_reason(request: InternalRequest) -> str | None:
    """Why main fetch step 7 blocks *request*, or None when it may go on."""
    url = request.current_url
    if should_block_due_to_bad_port(request):
        return f"{url.href}: port {url.port} is a bad port (Fetch, #block-bad-port)"
    if should_block_as_mixed_content(request):
        return (
            f"{url.href}: blocked as mixed content: the URL is not potentially trustworthy "
            f"and the request comes from {request.origin}, a potentially trustworthy origin "
            "(Mixed Content, #should-block-fetch)"
        )
    directive = should_request_be_blocked(request)
    if directive is not None:
        return (
            f"{url.href}: blocked by the Content Security Policy directive "
            f'"{directive}" (CSP, #should-block-request)'
        )
    return None


def should_block_due_to_bad_port(request: InternalRequest) -> bool:
    """Fetch #block-bad-port."""
    # 1. Let url be request's current URL.
    url = request.current_url
    # 2. If url's scheme is an HTTP(S) scheme and url's port is a bad port, return blocked.
    return url.scheme in ("http", "https") and url.port in BAD_PORTS


def should_block_as_mixed_content(request: InternalRequest) -> bool:
    """Mixed Content #should-block-fetch.

    Background Fetch sets the request's client to null, so "does settings prohibit
    mixed security contexts?" is asked of the request's origin, which each edition's
    manager.py sets to the window's (SPEC-NOTES.md SN-fetch-1).
    """
    # 1. Return allowed if one or more of the following conditions are met:
    # 1.1. request's URL is a potentially trustworthy URL.  (The current URL: main
    # fetch asks again after each redirect.)
    if is_potentially_trustworthy_url(request.current_url):
        return False
    # 1.3. "Does settings prohibit mixed security contexts?" returns "Does Not Restrict
    # Mixed Security Contexts": the settings' origin is not potentially trustworthy
    # (there are no ancestor navigables here).
    origin = request.origin
    if origin is None or not is_potentially_trustworthy_origin(origin):
        return False
    # 2. Return blocked.
    return True


def is_potentially_trustworthy_url(url: URL) -> bool:
    """Secure Contexts #potentially-trustworthy-url."""
    # 1. If url is "about:blank" or "about:srcdoc", return "Potentially Trustworthy".
    if url.href in ("about:blank", "about:srcdoc"):
        return True
    # 2. If url's scheme is "data", return "Potentially Trustworthy".
    if url.scheme == "data":
        return True
    # 3. Return the result of executing "potentially trustworthy origin" on url's origin.
    origin = url.origin
    if origin is None:
        # An opaque origin is not trustworthy; a file: URL's origin is implementation-
        # defined, and a file: origin is trustworthy (step 6 below).
        return url.scheme == "file"
    return is_potentially_trustworthy_origin(origin)


def is_potentially_trustworthy_origin(origin: Origin) -> bool:
    """Secure Contexts #is-origin-trustworthy, for a tuple origin."""
    # 3. If origin's scheme is either "https" or "wss", return "Potentially Trustworthy".
    if origin.scheme in ("https", "wss"):
        return True
    # 4. If origin's host matches 127.0.0.0/8 or ::1/128, return "Potentially Trustworthy".
    if is_loopback_ip(origin.host):
        return True
    # 5. localhost names, as the user agent resolves them to loopback (let-localhost-be-
    # localhost; bgfetch.net.real does).
    if is_localhost_name(origin.host):
        return True
    # 6. If origin's scheme is "file", return "Potentially Trustworthy".
    # (7-8: no other schemes or origins are configured as trustworthy.)
    return origin.scheme == "file"
