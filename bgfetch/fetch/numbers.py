"""HTTP's decimal numerals (RFC 9110's ``1*DIGIT``), parsed without failing on length.

RFC 9110 (8.6, 14.4) asks a recipient to anticipate large numerals and never fail on
an overflow; Python's ``int()`` refuses a numeral of more than 4300 digits (and would
take quadratic time without that limit).  :func:`parse_decimal` is exact up to that
many significant digits and a parse failure beyond (SPEC-NOTES.md SN-fetch-8).
"""

from __future__ import annotations

MAX_DECIMAL_DIGITS = 4300
"""Significant digits a numeral may have: Python's default ``int()`` limit, fixed here
so that changing ``sys.set_int_max_str_digits`` changes nothing."""


def parse_decimal(digits: str) -> int | None:
    """The value of *digits* (ASCII digits, as the caller's grammar matched them), or None
    (failure) when it has more than :data:`MAX_DECIMAL_DIGITS` significant digits."""
    significant = digits.lstrip("0")
    if len(significant) > MAX_DECIMAL_DIGITS:
        return None
    return int(significant or "0")
