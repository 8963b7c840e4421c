"""#validate-partial-response-algorithm and #extract-content-range-values-algorithm, as
pure functions on InternalResponse objects: every step, every branch."""

from __future__ import annotations

import pytest

from bgfetch.editions.current.partial import (
    extract_content_range_values,
    validate_a_partial_response,
)
from bgfetch.fetch.headers import HeaderList
from bgfetch.fetch.response import InternalResponse


def response(status: int = 206, *headers: tuple[str, str]) -> InternalResponse:
    return InternalResponse(type="basic", status=status, header_list=HeaderList(headers))


def partial(content_range: str, *headers: tuple[str, str]) -> InternalResponse:
    return response(206, ("Content-Range", content_range), *headers)


# -- extract content-range values ------------------------------------------------------


@pytest.mark.step("#extract-content-range-values-algorithm", "1")
def test_extract_without_content_range_header_fails():
    """Step 1: "If response's header list does not contain `Content-Range`, then return
    failure."""
    assert extract_content_range_values(response(206, ("Content-Length", "10"))) is None
    assert extract_content_range_values(response(206)) is None


@pytest.mark.step("#extract-content-range-values-algorithm", "2")
def test_extract_uses_the_first_content_range_header_matched_case_insensitively():
    """Step 2: "Let contentRangeValue be the value of the first header whose name is a
    byte-case-insensitive match for `Content-Range`" (not the combined value)."""
    res = response(
        206,
        ("content-RANGE", "bytes 5-9/20"),
        ("Content-Range", "bytes 0-4/20"),
    )
    assert extract_content_range_values(res) == (5, 9, 20)


@pytest.mark.step("#extract-content-range-values-algorithm", "4", "5", "6", "8")
def test_extract_reads_first_and_last_byte_pos_and_complete_length():
    """Steps 4, 5, 6, 8: firstBytePos and lastBytePos are the named portions parsed as
    integers; completeLength likewise; the three are returned."""
    assert extract_content_range_values(partial("bytes 100-199/1000")) == (100, 199, 1000)
    big = 2**64 + 1
    assert extract_content_range_values(partial(f"bytes {big}-{big}/{big + 1}")) == (
        big,
        big,
        big + 1,
    )


@pytest.mark.step("#extract-content-range-values-algorithm", "3")
@pytest.mark.step("#header-syntax")
def test_extract_accepts_the_specs_bytes_equals_form_too():
    """The header syntax (#header-syntax) writes `"bytes=" first-byte-pos ...`; RFC 7233
    (and every server) writes "bytes " with a space.  Both parse (SPEC-NOTES.md)."""
    assert extract_content_range_values(partial("bytes=0-4/5")) == (0, 4, 5)
    assert extract_content_range_values(partial("bytes 0-4/5")) == (0, 4, 5)


@pytest.mark.step("#extract-content-range-values-algorithm", "7")
def test_extract_complete_length_star_is_null():
    """Step 7: "If completeLength is "*", then set completeLength to null"."""
    assert extract_content_range_values(partial("bytes 0-4/*")) == (0, 4, None)


@pytest.mark.parametrize(
    "value",
    [
        "bytes 0-4",  # no complete-length
        "bytes */10",  # the unsatisfied-range form is not a single byte content-range
        "bytes -4/10",  # first-byte-pos is 1*DIGIT
        "bytes 0-/10",  # last-byte-pos is 1*DIGIT
        "bytes 0-4/1x",  # complete-length is 1*DIGIT or "*"
        "bytes 0-4/",  # nor empty
        "items 0-4/10",  # only the bytes unit
        "bytes 0-4/10, 5-9/10",  # one range only
        "bytes 0x1-4/10",  # digits only
        "bytes 1_0-4/10",  # int() would take "1_0"; the grammar does not
        "bytes \uff11-4/10",  # a fullwidth digit is not DIGIT
        "bytes  0-4/10",  # one separator only
        "",
    ],
)
@pytest.mark.step("#extract-content-range-values-algorithm", "3")
def test_extract_fails_where_the_single_byte_content_range_grammar_fails(value):
    """Step 3: "If parsing contentRangeValue per single byte content-range fails, then
    return failure."""
    assert extract_content_range_values(partial(value)) is None


# -- validate a partial response -------------------------------------------------------


@pytest.mark.step("#validate-partial-response-algorithm", "1")
def test_validate_asserts_the_partial_response_is_a_206():
    """Step 1: "Assert: partialResponse's status is 206"."""
    with pytest.raises(AssertionError):
        validate_a_partial_response(0, response(200, ("Content-Range", "bytes 0-4/5")))


@pytest.mark.parametrize("content_range", [None, "bytes */10", "bytes 0-4"])
@pytest.mark.step("#validate-partial-response-algorithm", "2")
def test_validate_is_invalid_when_content_range_values_cannot_be_extracted(content_range):
    """Step 2: "Let responseFirstBytePos, responseLastBytePos and responseCompleteLength be
    the result of extracting content-range values from partialResponse.  If this fails,
    then return invalid."""
    headers = [] if content_range is None else [("Content-Range", content_range)]
    assert validate_a_partial_response(0, response(206, *headers)) is False


@pytest.mark.parametrize("expected, valid", [(10, True), (0, False), (9, False), (11, False)])
@pytest.mark.step("#validate-partial-response-algorithm", "3", "5")
def test_validate_compares_first_byte_pos_with_expected_range_start(expected, valid):
    """Step 3: "If responseFirstBytePos does not equal expectedRangeStart, then return
    invalid."  Step 5: otherwise (no previous response) "Return valid"."""
    assert validate_a_partial_response(expected, partial("bytes 10-19/20")) is valid


@pytest.mark.step("#validate-partial-response-algorithm", "4")
def test_validate_without_previous_response_skips_the_validator_checks():
    """Step 4: only "If previousResponse is not null" are validators and lengths compared;
    previousResponse is null unless otherwise specified."""
    res = partial("bytes 5-9/*", ("ETag", '"new"'))
    assert validate_a_partial_response(5, res) is True
    assert validate_a_partial_response(5, res, None) is True


@pytest.mark.parametrize("name", ["ETag", "Last-Modified"])
@pytest.mark.step("#validate-partial-response-algorithm", "4.1.1")
def test_validate_is_invalid_when_a_validator_of_the_previous_response_changed(name):
    """Step 4.1.1: for `ETag` and `Last-Modified`, "If previousResponse's header list
    contains headerName and the combined value ... does not equal the combined value of
    headerName in partialResponse's header list, then return invalid"."""
    previous = response(200, (name, "one"))
    assert validate_a_partial_response(5, partial("bytes 5-9/10", (name, "one")), previous)
    assert not validate_a_partial_response(5, partial("bytes 5-9/10", (name, "two")), previous)


@pytest.mark.parametrize("name", ["ETag", "Last-Modified"])
@pytest.mark.step("#validate-partial-response-algorithm", "4.1.1")
def test_validate_is_invalid_when_the_partial_response_lacks_a_previous_validator(name):
    """Step 4.1.1: the previous response has the validator and the partial response has
    none: the combined values (a value and null) differ -> invalid."""
    previous = response(200, (name, "one"))
    assert validate_a_partial_response(5, partial("bytes 5-9/10"), previous) is False


@pytest.mark.parametrize("name", ["ETag", "Last-Modified"])
@pytest.mark.step("#validate-partial-response-algorithm", "4.1.1")
def test_validate_ignores_a_validator_only_the_partial_response_has(name):
    """Step 4.1.1 applies only "if previousResponse's header list contains headerName"."""
    previous = response(200)
    assert validate_a_partial_response(5, partial("bytes 5-9/10", (name, "x")), previous)


@pytest.mark.step("#validate-partial-response-algorithm", "4.1.1")
def test_validate_compares_combined_values_of_validators():
    """Step 4.1.1 compares *combined* values ("a, b"), with names matched case-insensitively."""
    previous = response(200, ("ETag", '"a"'), ("etag", '"b"'))
    assert validate_a_partial_response(5, partial("bytes 5-9/10", ("ETAG", '"a", "b"')), previous)
    assert not validate_a_partial_response(5, partial("bytes 5-9/10", ("ETag", '"a"')), previous)


@pytest.mark.step("#validate-partial-response-algorithm", "4.1")
def test_validate_checks_both_etag_and_last_modified():
    """Step 4.1: the loop covers both names: an unchanged ETag does not excuse a changed
    Last-Modified."""
    previous = response(200, ("ETag", '"e"'), ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"))
    same_etag_new_date = partial(
        "bytes 5-9/10", ("ETag", '"e"'), ("Last-Modified", "Tue, 02 Jan 2024 00:00:00 GMT")
    )
    assert validate_a_partial_response(5, same_etag_new_date, previous) is False


@pytest.mark.step("#validate-partial-response-algorithm", "4.2.1")
def test_validate_is_invalid_when_a_previous_206_has_no_content_range():
    """Step 4.2.1: "If previousResponse's status is 206 ... extracting content-range values
    from previousResponse.  If this fails, then return invalid."""
    assert validate_a_partial_response(5, partial("bytes 5-9/10"), response(206)) is False


@pytest.mark.parametrize(
    "previous_range, current_range, valid",
    [
        ("bytes 0-4/10", "bytes 5-9/10", True),  # same complete length
        ("bytes 0-4/10", "bytes 5-9/12", False),  # the resource changed length
        ("bytes 0-4/10", "bytes 5-9/*", False),  # null does not equal 10
        ("bytes 0-4/*", "bytes 5-9/12", True),  # previous length unknown: nothing to compare
        ("bytes 0-4/*", "bytes 5-9/*", True),
    ],
)
@pytest.mark.step("#validate-partial-response-algorithm", "4.2.2")
def test_validate_compares_complete_lengths_with_a_previous_206(
    previous_range, current_range, valid
):
    """Step 4.2.2: "If previousResponseCompleteLength is not null, and
    responseCompleteLength does not equal previousResponseCompleteLength, then return
    invalid."""
    previous = partial(previous_range)
    assert validate_a_partial_response(5, partial(current_range), previous) is valid


@pytest.mark.step("#validate-partial-response-algorithm", "4.2")
def test_validate_does_not_compare_lengths_with_a_previous_200():
    """Step 4.2 applies only "if previousResponse's status is 206": a previous 200's
    Content-Length is not compared with the complete length."""
    previous = response(200, ("Content-Length", "10"))
    assert validate_a_partial_response(5, partial("bytes 5-9/12"), previous) is True


@pytest.mark.step("#validate-partial-response-algorithm", "5")
def test_validate_returns_valid_when_every_check_passes():
    """Step 5: "Return valid"."""
    previous = partial("bytes 0-4/10", ("ETag", '"e"'), ("Last-Modified", "x"))
    res = partial("bytes 5-9/10", ("ETag", '"e"'), ("Last-Modified", "x"))
    assert validate_a_partial_response(5, res, previous) is True
