"""The request rules that make Fetch answer a network error before sending anything.

Main fetch consults :func:`block_reason` once per request; each rule names the
URL and the rule it broke, so a failed record says why.
"""

from __future__ import annotations

from bgfetch.fetch.request import InternalRequest

# Fetch, "bad port" (#bad-port).
BAD_PORTS = frozenset(
    {
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
    """Why Fetch must not send *request*, or None when it may."""
    url = request.current_url
    if url.scheme not in ("http", "https"):
        return f"{url.href}: the {url.scheme}: scheme cannot be fetched over HTTP"
    if url.effective_port in BAD_PORTS:
        return f"{url.href}: port {url.effective_port} is a bad port (Fetch #bad-port)"
    return None
