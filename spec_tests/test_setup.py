"""Set-up for service-worker authors (issue 11): ``pip install bgfetch[pytest]`` brings
what the plugin needs, OriginServer.add() checks every option where it is given, and a
Request made for a window resolves a relative URL as the web does."""

from __future__ import annotations

import pathlib
import tomllib

import pytest

import bgfetch
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker, settled

pytest_plugins = ["pytester"]

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])
PYPROJECT = pathlib.Path(__file__).parent.parent / "pyproject.toml"


def test_the_pytest_extra_brings_pytest_and_pytest_trio_and_the_plugin_is_an_entry_point():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    names = {req.split(">")[0].split("=")[0] for req in project["optional-dependencies"]["pytest"]}
    assert names == {"pytest", "pytest-trio"}
    assert project["entry-points"]["pytest11"] == {"bgfetch": "bgfetch.testing.plugin"}


def test_without_pytest_trio_the_plugin_says_how_to_install_it(pytester):
    pytester.makepyfile(test_a="async def test_it(user_agent):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:trio")
    assert result.ret != 0
    assert (
        "bgfetch's fixtures run on pytest-trio, which is not installed: "
        "pip install 'bgfetch[pytest]'"
    ) in result.stderr.str()


@pytest.mark.parametrize(
    ("option", "value", "error", "expected"),
    [
        ("cors", True, TypeError, "cors must be None or a str, the Access-Control-Allow-Origin"),
        ("cors", "a\r\nb", ValueError, "a header value (Latin-1, no CR, LF or NUL)"),
        ("status", "200", TypeError, "status must be an int from 200 to 999"),
        ("status", 99, ValueError, "status must be an int from 200 to 999"),
        ("headers", [("Content-Range", 5)], ValueError, "headers must be (name, value) pairs"),
        ("headers", [("Bad Name", "x")], ValueError, "a token and a header value"),
        ("headers", "X-A: b", TypeError, "headers are (name, value) pairs"),
        ("delay", -1, ValueError, "delay must be a finite number of seconds, 0 or more"),
        ("delay", float("nan"), ValueError, "delay must be a finite number"),
        ("throttle", 0, ValueError, "throttle must be None or a finite number of bytes per second"),
        ("throttle", "fast", TypeError, "throttle must be None or a finite number"),
        ("cut_after", -5, ValueError, "cut_after must be None or an int of bytes, 0 or more"),
        ("cut_after", 1.5, TypeError, "cut_after must be None or an int"),
        ("cuts", True, TypeError, "cuts must be an int, 0 or more"),
        ("ranges", "yes", TypeError, "ranges must be True or False"),
        ("etag", 1, TypeError, "etag must be None or a str, the ETag"),
        ("last_modified", b"Tue", TypeError, "last_modified must be None or a str"),
        ("allow_credentials", 1, TypeError, "allow_credentials must be True or False"),
        ("encoding", "zip", ValueError, "encoding must be None, 'gzip', 'deflate' or 'br'"),
        ("on_cut", "reset", ValueError, "on_cut must be None or a function of the resource"),
        ("framing", "gzip", ValueError, "framing must be 'content-length', 'chunked' or 'close'"),
        ("content_type", 3, TypeError, "content_type must be None or a str, the Content-Type"),
    ],
)
def test_origin_server_add_names_a_bad_option_at_the_call(option, value, error, expected):
    server = OriginServer()
    with pytest.raises(error) as raised:
        server.add("/ep.mp3", b"x", **{option: value})
    message = str(raised.value)
    assert message.startswith("OriginServer") and f" {option}={value!r}: " in message
    assert expected in message
    assert server.resources == {}


def test_origin_server_checks_the_body_the_path_and_a_resource_changed_later():
    server = OriginServer()
    with pytest.raises(TypeError, match=r"body=5: a body is bytes or a str"):
        server.add("/a", 5)
    with pytest.raises(ValueError, match=r"path='a.txt': path must be a str starting with '/'"):
        server.add("a.txt", b"x")
    resource = server.add("/a", b"x")
    with pytest.raises(TypeError, match=r"resource '/a': cors=1: cors must be None or a str"):
        resource.cors = 1
    resource.cors, resource.status = "*", 206  # what tests do between attempts still works
    assert (resource.cors, resource.status) == ("*", 206)


@EDITIONS
async def test_a_request_made_for_a_window_resolves_against_its_url(user_agent, origin_server):
    origin_server.add("/podcast/ep-5.mp3", "episode")
    recorder = WorkerRecorder.for_edition(user_agent)
    window, registration = await open_window_with_worker(
        user_agent, recorder, "https://example.test/podcast/index.html"
    )
    request = window.Request("ep-5.mp3", headers={"X-Episode": "5"})
    assert request.url == "https://example.test/podcast/ep-5.mp3"
    assert window.Request("/podcast/ep-5.mp3").url == request.url
    bg = await registration.background_fetch.fetch("ep", [request])
    await settled(bg)
    assert (await recorder.settled("ep")).texts() == ["episode"]
    assert origin_server.requests_for("/podcast/ep-5.mp3")[0].header("x-episode") == "5"


def test_a_relative_url_without_a_base_says_how_to_make_the_request():
    with pytest.raises(TypeError) as raised:
        bgfetch.Request("/ep-5.mp3", method="POST")
    assert str(raised.value) == (
        "'/ep-5.mp3' is a relative URL, and this Request has no base URL to resolve it "
        "against: make it for the page, window.Request('/ep-5.mp3', ...), as the page's own "
        "new Request() would be, or give an absolute URL"
    )
    with pytest.raises(TypeError, match=r"^'https://\[bad' is not a valid URL$"):
        bgfetch.Request("https://[bad")  # not relative: the parser's own error
    assert bgfetch.Request("https://example.test/a").url == "https://example.test/a"
