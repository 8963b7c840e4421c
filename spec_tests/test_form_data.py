"""A FormData request body (Fetch's "extract a body": multipart/form-data with a fresh
boundary the Content-Type names), uploaded by a background fetch and kept with its
record (match-request-body.https.window.js's FormData case, in Chromium's copy of WPT)."""

from __future__ import annotations

import pytest

import bgfetch
from bgfetch.fetch.formdata import File, FormData, multipart_form_data
from bgfetch.testing import WorkerRecorder, open_window_with_worker

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])


def test_entries_encode_as_multipart_form_data() -> None:
    form = FormData()
    form.append("text", "two\nlines")
    form.append('we"ird\nname', "v")
    form.append("file", b"\x00\x01", "a.bin")
    form.append("typed", File(b"hi", "hi.txt", "text/plain"))
    body, boundary = multipart_form_data(form, "B")
    assert body == (
        b'--B\r\nContent-Disposition: form-data; name="text"\r\n\r\ntwo\r\nlines\r\n'
        b'--B\r\nContent-Disposition: form-data; name="we%22ird%0D%0Aname"\r\n\r\nv\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n"
        b'--B\r\nContent-Disposition: form-data; name="typed"; filename="hi.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhi\r\n"
        b"--B--\r\n"
    )
    assert boundary == "B"
    with pytest.raises(TypeError, match="not a string or file"):
        form.append("x", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="filename needs a Blob"):
        form.append("x", "v", "f.txt")


def test_a_request_from_form_data_names_its_boundary() -> None:
    form = FormData()
    form.append("text", "Background Fetch request body")
    request = bgfetch.Request("https://example.test/up", method="POST", body=form)
    content_type = request.headers.get("Content-Type")
    assert content_type is not None and content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1]
    assert request.request.body is not None and request.request.body.source is not None
    assert request.request.body.source.startswith(f"--{boundary}\r\n".encode())
    assert request.request.body.source.endswith(f"--{boundary}--\r\n".encode())


@EDITIONS
async def test_a_form_data_upload_is_sent_and_kept_with_its_record(user_agent, origin_server):
    origin_server.add_echo("/upload")
    recorder = WorkerRecorder.for_edition(user_agent)
    _, registration = await open_window_with_worker(user_agent, recorder)
    form = FormData()
    form.append("text", "Background Fetch request body")
    request = bgfetch.Request("/upload", method="POST", body=form, base_url="https://example.test/")
    await registration.background_fetch.fetch("form", request)
    seen = await recorder.settled("form")
    [received] = origin_server.requests_for("/upload")
    assert received.header("content-type").startswith("multipart/form-data; boundary=")
    assert b'name="text"\r\n\r\nBackground Fetch request body\r\n' in received.body
    assert seen.responses[0].body == received.body  # echoed: the body arrived whole
