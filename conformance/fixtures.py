"""WPT's shared fixtures, as every backend's origin servers serve them.

The paths and bodies are wptserve's (../shared/reference/wpt-background-fetch.md):
``resources/feature-name.txt`` is ``Background Fetch``; ``/common/slow.py`` answers an
empty 200 after 2 s; ``resources/upload.py`` echoes the body with its Content-Type;
``resources/cors-resource.txt`` on the remote origin sends the CORS headers of its
``.headers`` file; a missing file is wptserve's 404 with its 39-byte JSON body.  The
``?pipe=header(...)`` variants the preflight cases request on the remote origin are
resources of their own (a pipe is wptserve's way to add headers to one response).
"""

from __future__ import annotations

from bgfetch.testing import OriginServer
from bgfetch.testing.origin_server import Resource

# wptserve's host names: the main origin's and the remote ("www1" subdomain) origin's.
HOST = "web-platform.test"
REMOTE_HOST = "www1.web-platform.test"

FEATURE_NAME = "Background Fetch"
FEATURE_NAME_PATH = "/background-fetch/resources/feature-name.txt"
SLOW_PATH = "/common/slow.py"
SLOW_DELAY = 2.0
UPLOAD_PATH = "/background-fetch/resources/upload.py"
CORS_RESOURCE_PATH = "/background-fetch/resources/cors-resource.txt"
CORS_RESOURCE_BODY = "CORS resource"
SECRET_HEADER = ("X-Secret-Header", "SuperSecretValue")
NOT_FOUND_BODY = '{"error": {"code": 404, "message": ""}}'
"""wptserve's answer to a missing file (39 bytes, application/json)."""

PUT_PREFLIGHT_PIPE = (
    "?pipe=header(Access-Control-Allow-Origin,*)|header(Access-Control-Allow-Methods,PUT)"
)
JSON_PREFLIGHT_PIPE = (
    "?pipe=header(Access-Control-Allow-Origin,*)|header(Access-Control-Allow-Headers,content-type)"
)


def not_found() -> Resource:
    return Resource("*", NOT_FOUND_BODY, status=404, content_type="application/json", ranges=False)


TYPES_OF_CHEESE_PATH = "/background-fetch/resources/types_of_cheese.txt"
TYPES_OF_CHEESE = "Brie, Cheddar, Gouda, Roquefort"
PAGE_BODY = "<!doctype html><title>background-fetch</title>"
ROOT_BODY = "<!doctype html><title>web-platform-tests</title>"


def install(main: OriginServer, remote: OriginServer, page: str) -> None:
    """Add WPT's fixtures to the main origin's and the remote origin's servers, and
    the test's *page* (its path) to the main one (a browser backend replaces it with
    the page it drives)."""
    main.add(page, PAGE_BODY, content_type="text/html")
    main.add("/", ROOT_BODY, content_type="text/html")  # wptserve's root: its index
    for server in (main, remote):
        server.add(TYPES_OF_CHEESE_PATH, TYPES_OF_CHEESE)
        server.add(FEATURE_NAME_PATH, FEATURE_NAME)
        server.add(SLOW_PATH, b"", delay=SLOW_DELAY, content_type="text/html", ranges=False)
        server.add_echo(UPLOAD_PATH)
        server.fallback = not_found()
    remote.add(
        CORS_RESOURCE_PATH,
        CORS_RESOURCE_BODY,
        cors="*",
        allow_methods="GET, OPTIONS, HEAD",
        allow_headers="*",
        headers=[("Access-Control-Max-Age", "86400"), SECRET_HEADER],
    )
    remote.add(FEATURE_NAME_PATH + PUT_PREFLIGHT_PIPE, FEATURE_NAME, cors="*", allow_methods="PUT")
    remote.add(
        FEATURE_NAME_PATH + JSON_PREFLIGHT_PIPE,
        FEATURE_NAME,
        cors="*",
        allow_methods="",
        allow_headers="content-type",
    )
