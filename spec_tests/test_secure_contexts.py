"""Secure contexts (SPEC-NOTES.md SN-current-29): a service worker, and so Background
Fetch, only in a window whose origin is potentially trustworthy (Secure Contexts): https,
or http on a loopback address or a localhost name, as in browsers."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch.errors import SecurityError
from bgfetch.sw.container import ServiceWorkerContainer
from bgfetch.sw.registration import Registration, registration_object
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker

EDITIONS = pytest.mark.parametrize("bgfetch_edition", ["current", "2017-10-12"])

NOT_TRUSTWORTHY = ["http://shop.test/", "http://192.0.2.7:8080/", "http://localhost.example/"]
TRUSTWORTHY = [
    "https://shop.test/",
    "http://127.0.0.1:8000/",
    "http://127.9.9.9/",
    "http://[::1]:8000/",
    "http://localhost/",
    "http://shop.localhost:8000/",
]


@EDITIONS
@pytest.mark.parametrize("url", NOT_TRUSTWORTHY)
async def test_a_window_that_is_not_a_secure_context_has_no_service_worker(user_agent, url):
    window = await user_agent.open_window(url)
    assert not window.is_secure_context
    # [SecureContext]: not exposed (undefined in JavaScript).
    assert not hasattr(window.navigator, "service_worker")
    with pytest.raises(AttributeError, match="is not a potentially trustworthy origin"):
        window.navigator.service_worker  # noqa: B018
    # Register, step 1: a script URL that is not potentially trustworthy.
    with pytest.raises(SecurityError, match=r"register\(\): http://"):
        await ServiceWorkerContainer(window).register(bgfetch.ServiceWorker())
    assert user_agent.registrations == {}
    # A registration reached anyway (one of another window's) has no background fetch here.
    registration = Registration(user_agent, window.parse("/"))
    not_exposed = r"registration\.background_fetch is \[SecureContext\]"
    with pytest.raises(AttributeError, match=not_exposed):
        registration_object(registration, window).background_fetch  # noqa: B018


@EDITIONS
@pytest.mark.parametrize("url", TRUSTWORTHY)
async def test_https_and_http_on_loopback_or_localhost_background_fetch(
    user_agent, virtual_network, url
):
    window = await user_agent.open_window(url)
    assert window.is_secure_context
    origin = window.origin.serialize()
    server = OriginServer()
    server.add("/a.txt", "A")
    virtual_network.serve(origin, server)
    recorder = WorkerRecorder.for_edition(user_agent)
    _, sw_registration = await open_window_with_worker(user_agent, recorder, url)
    await sw_registration.background_fetch.fetch("ok", "/a.txt")
    assert (await recorder.settled("ok")).texts() == ["A"]
    await trio.sleep(1)
