"""Validate a partial response; extract content-range values; the header syntax (#header-syntax)."""

from __future__ import annotations

import re

from bgfetch.fetch.numbers import parse_decimal
from bgfetch.fetch.response import InternalResponse

# #header-syntax, "single byte content-range".  The spec writes "bytes=" where RFC 7233
# has "bytes " (SP); both are accepted here (SPEC-NOTES.md SN-current-10).
SINGLE_BYTE_CONTENT_RANGE = re.compile(
    r"bytes[= ](?P<first>[0-9]+)-(?P<last>[0-9]+)/(?P<complete>[0-9]+|\*)", re.ASCII
)

ContentRangeValues = tuple[int, int, int | None]


def extract_content_range_values(response: InternalResponse) -> ContentRangeValues | None:
    """#extract-content-range-values-algorithm.  None stands for failure.

    The header list read is the internal response's: a CORS filtered response hides
    `Content-Range` (and `ETag`), which would make every cross-origin resume invalid
    (SPEC-NOTES.md SN-fetch-4).
    """
    header_list = response.unfiltered.header_list
    # 1. If response's header list does not contain `Content-Range`, then return failure.
    if not header_list.contains("Content-Range"):
        return None
    # 2. Let contentRangeValue be the value of the first header whose name is a
    # byte-case-insensitive match for `Content-Range` in response's header list.
    content_range_value = header_list.first("Content-Range")
    assert content_range_value is not None
    # 3. If parsing contentRangeValue per single byte content-range fails, return failure.
    parsed = SINGLE_BYTE_CONTENT_RANGE.fullmatch(content_range_value.strip(" \t"))
    if parsed is None:
        return None
    # 4. Let firstBytePos be the portion named first-byte-pos, parsed as an integer.
    # (A numeral of more than 4300 digits does not parse: failure; SPEC-NOTES.md SN-fetch-8.)
    first_byte_pos = parse_decimal(parsed["first"])
    # 5. Let lastBytePos be the portion named last-byte-pos, parsed as an integer.
    last_byte_pos = parse_decimal(parsed["last"])
    # 6. Let completeLength be the portion named complete-length.
    complete_length_text = parsed["complete"]
    # 7. If completeLength is "*", set it to null, otherwise parse it as an integer.
    complete_length = None if complete_length_text == "*" else parse_decimal(complete_length_text)
    if first_byte_pos is None or last_byte_pos is None:
        return None
    if complete_length is None and complete_length_text != "*":
        return None
    # 8. Return firstBytePos, lastBytePos, and completeLength.
    return first_byte_pos, last_byte_pos, complete_length


def validate_a_partial_response(
    expected_range_start: int,
    partial_response: InternalResponse,
    previous_response: InternalResponse | None = None,
) -> bool:
    """#validate-partial-response-algorithm.  True stands for valid, False for invalid.

    Headers are read from the internal responses of filtered ones (SPEC-NOTES.md
    SN-fetch-4).
    """
    partial_response = partial_response.unfiltered
    previous_response = previous_response.unfiltered if previous_response is not None else None
    # 1. Assert: partialResponse's status is 206.
    assert partial_response.status == 206
    # 2. Let responseFirstBytePos, responseLastBytePos, and responseCompleteLength be the
    # result of extracting content-range values from partialResponse.  If this fails, then
    # return invalid.
    values = extract_content_range_values(partial_response)
    if values is None:
        return False
    response_first_byte_pos, _, response_complete_length = values
    # 3. If responseFirstBytePos does not equal expectedRangeStart, then return invalid.
    if response_first_byte_pos != expected_range_start:
        return False
    # 4. If previousResponse is not null, then:
    if previous_response is not None:
        # 4.1. For headerName of « `ETag`, `Last-Modified` »:
        for header_name in ("ETag", "Last-Modified"):
            # 4.1.1. If previousResponse's header list contains headerName and its combined
            # value does not equal the combined value in partialResponse's, return invalid.
            if previous_response.header_list.contains(header_name) and (
                previous_response.header_list.get(header_name)
                != partial_response.header_list.get(header_name)
            ):
                return False
        # 4.2. If previousResponse's status is 206, then:
        if previous_response.status == 206:
            # 4.2.1. Let previousResponseFirstBytePos, previousResponseLastBytePos, and
            # previousResponseCompleteLength be the result of extracting content-range values
            # from previousResponse.  If this fails, then return invalid.
            previous = extract_content_range_values(previous_response)
            if previous is None:
                return False
            previous_response_complete_length = previous[2]
            # 4.2.2. If previousResponseCompleteLength is not null, and responseCompleteLength
            # does not equal it, then return invalid.
            if (
                previous_response_complete_length is not None
                and response_complete_length != previous_response_complete_length
            ):
                return False
    # 5. Return valid.
    return True
