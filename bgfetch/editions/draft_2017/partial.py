"""(filled: 4a2cc52) Validate a partial response; extract content-range values.

The 2017-10-12 draft says only "TODO: Resume download somehow."  Resuming with a
range request needs these algorithms, which the draft does not have; the first
revision that defines them is 4a2cc52 (2018-05-23), whose "validate a partial
response" would find every resume after a 200 invalid (it extracts content-range
values from the previous response whatever its status).  They are taken in the form
of 6cf8c42 (2018-06-15, "Fixing bugs, range checking"):
#validate-partial-response-algorithm, #extract-content-range-values-algorithm and
#header-equality-algorithm.  SPEC-NOTES.md SN-2017-2.
"""

from __future__ import annotations

import re

from bgfetch.fetch.numbers import parse_decimal
from bgfetch.fetch.response import InternalResponse

# "single byte content-range".  6cf8c42 writes "bytes=" where RFC 7233 has "bytes "
# (SP); both are accepted here, as in the current edition.
SINGLE_BYTE_CONTENT_RANGE = re.compile(
    r"bytes[= ](?P<first>[0-9]+)-(?P<last>[0-9]+)/(?P<complete>[0-9]+|\*)", re.ASCII
)

ContentRangeValues = tuple[int, int, int | None]


def extract_content_range_values(response: InternalResponse) -> ContentRangeValues | None:
    """#extract-content-range-values-algorithm (6cf8c42).  None stands for failure.

    The header list read is the internal response's: a CORS filtered response hides
    `Content-Range` (as the current edition; SPEC-NOTES.md SN-fetch-4).
    """
    header_list = response.unfiltered.header_list
    # 1. If response's header list does not contain `Content-Range`, then return failure.
    if not header_list.contains("Content-Range"):
        return None
    # 2. Let contentRangeValue be the value of the first `Content-Range` header.
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


def header_equality(
    header_name: str, response_1: InternalResponse, response_2: InternalResponse
) -> bool:
    """#header-equality-algorithm (6cf8c42), over two (internal) responses' header lists."""
    header_list_1 = response_1.unfiltered.header_list
    header_list_2 = response_2.unfiltered.header_list
    # 1. If neither header list contains headerName, then return true.
    if not header_list_1.contains(header_name) and not header_list_2.contains(header_name):
        return True
    # 2. If both contain headerName, then: 2.1-2.3. return whether their first values
    # (header1Value, header2Value) are identical.
    if header_list_1.contains(header_name) and header_list_2.contains(header_name):
        return header_list_1.first(header_name) == header_list_2.first(header_name)
    # 3. Return false.
    return False


def validate_a_partial_response(
    expected_range_start: int,
    partial_response: InternalResponse,
    previous_response: InternalResponse | None = None,
) -> bool:
    """#validate-partial-response-algorithm (6cf8c42).  True: valid; False: invalid.

    Headers are read from the internal responses of filtered ones.
    """
    partial_response = partial_response.unfiltered
    previous_response = previous_response.unfiltered if previous_response is not None else None
    # 1. Assert: partialResponse's status is 206.
    assert partial_response.status == 206
    # 2. Extract content-range values from partialResponse; if this fails, return invalid.
    values = extract_content_range_values(partial_response)
    if values is None:
        return False
    response_first_byte_pos, _, response_complete_length = values
    # 3. If responseFirstBytePos does not equal expectedRangeStart, then return invalid.
    # (6cf8c42 writes "requestFirstBytePos", a typo for the value just extracted.)
    if response_first_byte_pos != expected_range_start:
        return False
    # 4. If previousResponse is not null, then:
    if previous_response is not None:
        # 4.1. If previousResponse's header list contains `ETag`, and header equality for
        # `ETag` is false, then return invalid.
        if previous_response.header_list.contains("ETag") and not header_equality(
            "ETag", previous_response, partial_response
        ):
            return False
        # 4.2. Likewise for `Last-Modified`.
        if previous_response.header_list.contains("Last-Modified") and not header_equality(
            "Last-Modified", previous_response, partial_response
        ):
            return False
        # 4.3. If previousResponse's status is 206, then:
        if previous_response.status == 206:
            # 4.3.1. Extract content-range values from previousResponse; if this fails,
            # return invalid.
            previous = extract_content_range_values(previous_response)
            if previous is None:
                return False
            previous_response_complete_length = previous[2]
            # 4.3.2. If previousResponseCompleteLength is not null, and
            # responseCompleteLength does not equal it, then return invalid.
            if (
                previous_response_complete_length is not None
                and response_complete_length != previous_response_complete_length
            ):
                return False
    # 5. Return valid.
    return True
