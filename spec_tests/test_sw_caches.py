"""Cache Storage (Service Workers #cache-objects): CacheStorage and Cache, in a
service worker (``worker.caches``) and a window (``window.caches``); bodies in the
origin's storage (quota), and kept by a stored user agent across a restart."""

from __future__ import annotations

import pytest
import trio

import bgfetch
from bgfetch import InvalidStateError, QuotaExceededError
from bgfetch.testing import OriginServer, open_window_with_worker

ORIGIN = "https://example.test"
EDITIONS = ["current", "2017-10-12"]
SUCCESS = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}


async def record_responses(event, edition):
    """(request, response) of each record, through the edition's own API."""
    if edition == "current":
        return [
            (record.request, await record.response_ready)
            for record in await event.registration.match_all()
        ]
    return [(fetch.request, fetch.response) for fetch in await event.fetches.values()]


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_a_records_response_is_put_in_a_cache_as_in_the_canonical_example(
    user_agent, origin_server, bgfetch_edition
):
    origin_server.add("/ep-1.mp3", b"one" * 1000, headers=[("X-Episode", "1")])
    origin_server.add("/ep-1.jpg", b"art")
    worker = bgfetch.ServiceWorker()
    done = trio.Event()

    @worker.on(SUCCESS[bgfetch_edition])
    async def on_success(event):
        cache = await worker.caches.open("podcasts")
        for request, response in await record_responses(event, bgfetch_edition):
            await cache.put(request, response)
        done.set()

    window, registration = await open_window_with_worker(user_agent, worker)
    await registration.background_fetch.fetch("ep-1", ["/ep-1.mp3", "/ep-1.jpg"])
    await done.wait()
    # The page reads what the worker cached: one origin, one name to cache map.
    assert await window.caches.keys() == ["podcasts"]
    cache = await window.caches.open("podcasts")
    cached = await cache.match("/ep-1.mp3")
    assert cached is not None and cached.status == 200
    assert cached.headers.get("x-episode") == "1"
    assert await cached.bytes() == b"one" * 1000
    assert [r.url for r in await cache.keys()] == [f"{ORIGIN}/ep-1.mp3", f"{ORIGIN}/ep-1.jpg"]
    assert await (await window.caches.match("/ep-1.jpg")).bytes() == b"art"
    # The cached bodies count against the origin's quota (the records' went back).
    assert user_agent.store.usage(window.origin) == 3000 + 3


async def test_caches_open_has_delete_keys(user_agent):
    window = await user_agent.open_window(f"{ORIGIN}/")
    caches = window.caches
    assert caches is window.caches  # [SameObject]
    assert await caches.has("a") is False
    first = await caches.open("a")
    await caches.open("b")
    assert await caches.has("a") is True
    assert await caches.keys() == ["a", "b"]
    assert await caches.delete("a") is True
    assert await caches.delete("a") is False
    assert await caches.keys() == ["b"]
    # A Cache over a deleted list still works (#cache-storage-delete's note).
    assert await first.keys() == []


async def test_put_match_and_the_query_options(user_agent, origin_server):
    origin_server.add("/a", b"A", headers=[("Vary", "Accept-Language")])
    window = await user_agent.open_window(f"{ORIGIN}/")
    cache = await window.caches.open("c")
    await cache.add(bgfetch.Request("/a?x=1", headers={"Accept-Language": "fr"}, base_url=ORIGIN))
    assert await cache.match("/a?x=1") is None  # Vary: Accept-Language differs
    assert (await cache.match("/a?x=1", ignore_vary=True)).status == 200
    assert await cache.match("/a", ignore_vary=True) is None
    assert len(await cache.match_all("/a", ignore_search=True, ignore_vary=True)) == 1
    post = bgfetch.Request("/a?x=1", method="POST", base_url=ORIGIN)
    assert await cache.match(post, ignore_vary=True) is None
    assert await cache.match(post, ignore_method=True, ignore_vary=True) is not None
    assert await cache.delete("/a", ignore_search=True, ignore_vary=True) is True
    assert await cache.keys() == []


async def test_put_replaces_the_matching_entry_and_gives_its_space_back(user_agent, origin_server):
    origin_server.add("/v1", b"1" * 100)
    origin_server.add("/v2", b"2" * 40)
    window = await user_agent.open_window(f"{ORIGIN}/")
    cache = await window.caches.open("c")
    await cache.add("/v1")
    held = await cache.match("/v1")
    assert user_agent.store.usage(window.origin) == 100
    await cache.put("/v1", await fetch_response(cache, "/v2"))
    assert await (await cache.match("/v1")).bytes() == b"2" * 40
    assert user_agent.store.usage(window.origin) == 40
    assert await held.bytes() == b"1" * 100  # a Response read before still reads its body
    await window.caches.delete("c")
    assert user_agent.store.usage(window.origin) == 0


async def fetch_response(cache, path):
    """A Response from the network, by way of a scratch cache."""
    scratch = await cache.realm.caches.open("scratch")
    await scratch.add(path)
    response = await scratch.match(path)
    await cache.realm.caches.delete("scratch")
    return response


async def test_put_rejects_what_cannot_be_cached(user_agent, origin_server):
    origin_server.add("/x", b"x")
    window = await user_agent.open_window(f"{ORIGIN}/")
    cache = await window.caches.open("c")
    response = await fetch_response(cache, "/x")
    with pytest.raises(TypeError, match="only http"):
        await cache.put(bgfetch.Request("/x", method="POST", base_url=ORIGIN), response)
    with pytest.raises(TypeError, match="Response"):
        await cache.put("/x", b"bytes")
    await response.bytes()
    with pytest.raises(TypeError, match="already read"):
        await cache.put("/x", response)
    assert await cache.keys() == []


async def test_add_all_is_all_or_nothing(user_agent, origin_server):
    origin_server.add("/ok", b"ok")
    origin_server.add("/missing", b"", status=404)
    window = await user_agent.open_window(f"{ORIGIN}/")
    cache = await window.caches.open("c")
    with pytest.raises(TypeError, match="status 404"):
        await cache.add_all(["/ok", "/missing"])
    assert await cache.keys() == []
    assert user_agent.store.usage(window.origin) == 0
    with pytest.raises(InvalidStateError):  # Batch Cache Operations 4.2.3: the same twice
        await cache.add_all(["/ok", "/ok"])
    await cache.add_all(["/ok"])
    assert [r.url for r in await cache.keys()] == [f"{ORIGIN}/ok"]


async def test_a_body_past_the_quota_is_a_quota_exceeded_error(virtual_network):
    server = OriginServer()
    server.add("/big", b"b" * 5000)
    virtual_network.serve(ORIGIN, server)
    async with bgfetch.open_user_agent(network=virtual_network, quota=4000) as ua:
        window = await ua.open_window(f"{ORIGIN}/")
        cache = await window.caches.open("c")
        with pytest.raises(QuotaExceededError):
            await cache.add("/big")
        assert await cache.keys() == []
        assert ua.store.usage(window.origin) == 0


async def test_caches_of_other_origins_are_apart(user_agent):
    one = await user_agent.open_window(f"{ORIGIN}/")
    other = await user_agent.open_window("https://other.test/")
    await one.caches.open("mine")
    assert await other.caches.keys() == []


async def test_worker_caches_outside_a_handler_says_where_it_can_be_used():
    worker = bgfetch.ServiceWorker()
    with pytest.raises(RuntimeError, match="only in a handler"):
        worker.caches  # noqa: B018


@pytest.mark.parametrize("bgfetch_edition", EDITIONS)
async def test_a_stored_user_agent_keeps_its_caches_across_a_restart(
    virtual_network, tmp_path, bgfetch_edition
):
    server = OriginServer()
    server.add("/ep.mp3", b"e" * 70_000, headers=[("ETag", '"1"')])
    virtual_network.serve(ORIGIN, server)
    store = tmp_path / "store"
    async with bgfetch.open_user_agent(
        network=virtual_network, store=store, edition=bgfetch_edition
    ) as ua:
        window = await ua.open_window(f"{ORIGIN}/")
        cache = await window.caches.open("podcasts")
        await cache.add("/ep.mp3")
        await window.caches.open("empty")
        usage = ua.store.usage(window.origin)
    assert usage == 70_000
    async with bgfetch.open_user_agent(
        network=virtual_network, store=store, edition=bgfetch_edition
    ) as ua:
        window = await ua.open_window(f"{ORIGIN}/")
        assert await window.caches.keys() == ["podcasts", "empty"]
        cached = await window.caches.match("/ep.mp3")
        assert cached.headers.get("etag") == '"1"'
        assert await cached.bytes() == b"e" * 70_000
        assert ua.store.usage(window.origin) == 70_000
        await window.caches.delete("podcasts")
        await (await window.caches.open("new")).keys()
    async with bgfetch.open_user_agent(
        network=virtual_network, store=store, edition=bgfetch_edition
    ) as ua:
        window = await ua.open_window(f"{ORIGIN}/")
        assert await window.caches.keys() == ["empty", "new"]
        assert ua.store.usage(window.origin) == 0
    assert len(server.requests) == 1


async def test_caches_is_secure_context_only(user_agent):
    insecure = await user_agent.open_window("http://shop.test/")
    with pytest.raises(AttributeError, match=r"caches is \[SecureContext\]"):
        insecure.caches  # noqa: B018
    local = await user_agent.open_window("http://localhost:8000/")
    assert await local.caches.keys() == []
