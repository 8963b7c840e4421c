"""Cache Storage (Service Workers #cache-objects): CacheStorage, Cache, Query Cache and
Batch Cache Operations.

An origin's caches are its *name to cache map*, the user agent's "caches" storage
bottle for the origin's storage key (bgfetch's storage key is the origin).  Each cache is a
*request response list*; a response's body is a byte sequence of the user agent's store
(:mod:`bgfetch.store`), so it counts against the origin's quota, and a stored user
agent keeps every cache (one state row per cache, rewritten by each batch of
operations, in one transaction) and restores them when it opens the store again
(SPEC-NOTES.md SN-sw-4).
Names are the IDL's in snake_case; methods returning a promise are ``async``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Any, Literal

import attrs
import trio

from bgfetch.errors import InvalidStateError, QuotaExceededError
from bgfetch.fetch.csp import PolicyContainer
from bgfetch.fetch.request import InternalRequest, Request, RequestInfo
from bgfetch.fetch.response import InternalResponse, Response
from bgfetch.idl import dom_string
from bgfetch.infra import Promise
from bgfetch.store.base import StorageFull, Store, StoredBytes
from bgfetch.store.codec import (
    request_from_json,
    request_to_json,
    response_from_json,
    response_to_json,
)
from bgfetch.sw.cache import query_request, request_matches_cached_item
from bgfetch.url import Origin, parse_url

if TYPE_CHECKING:
    from bgfetch.sw.environment import Environment
    from bgfetch.useragent import UserAgent

CACHE = "cache"  # the store's kind of row: one per cache, by [origin, name]
STREAM_SLICE = 64 * 1024  # bytes a cached body's stream reads from storage at a time


@attrs.define(eq=False)
class CachedItem:
    """One request/response tuple of a request response list; the response's body is
    ``body`` (None for a null body)."""

    request: InternalRequest
    response: InternalResponse
    body: StoredBytes | None = None


@attrs.define(eq=False)
class RequestResponseList:
    """Service Workers #dfn-request-response-list: the items of one named cache.

    ``detached`` once it left its name to cache map (CacheStorage's delete()): Cache
    objects over it still work, but nothing of it is kept any more."""

    bottle: CacheBottle = attrs.field(repr=False)
    name: str
    items: list[CachedItem] = attrs.field(factory=list)
    order: int = 0
    detached: bool = False

    def save(self) -> None:
        """Remember this cache's items (one transaction) in a stored user agent."""
        if not self.detached:
            self.bottle.save(self)


@attrs.define(eq=False)
class CacheBottle:
    """An origin's name to cache map (#dfn-name-to-cache-map), in the user agent's store."""

    store: Store = attrs.field(repr=False)
    origin: Origin
    caches: dict[str, RequestResponseList] = attrs.field(factory=dict)
    _order: Any = attrs.field(factory=lambda: itertools.count(1), repr=False)

    def key(self, name: str) -> str:
        return json.dumps([self.origin.serialize(), name])

    def new_list(self, name: str) -> RequestResponseList:
        cache = RequestResponseList(self, name, order=next(self._order))
        self.caches[name] = cache
        cache.save()
        return cache

    def remove(self, name: str) -> None:
        cache = self.caches.pop(name)
        cache.detached = True
        self.store.delete(CACHE, self.key(name))
        for item in cache.items:
            if item.body is not None:
                item.body.release()  # readable by whoever holds it; its space is given back

    def save(self, cache: RequestResponseList) -> None:
        if not self.store.persistent:
            return
        self.store.save(
            CACHE,
            self.key(cache.name),
            {
                "origin": self.origin.serialize(),
                "name": cache.name,
                "order": cache.order,
                "items": [
                    {
                        "request": request_to_json(item.request),
                        "response": response_to_json(item.response),
                        "body": None if item.body is None else item.body.id,
                    }
                    for item in cache.items
                ],
            },
        )


class CacheBottles:
    """Every origin's name to cache map: "obtain a local storage bottle map" with an
    origin and "caches".  A stored user agent's are read back from its store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._bottles: dict[Origin, CacheBottle] = {}
        rows = sorted(store.load(CACHE).values(), key=lambda row: row["order"])
        for row in rows:
            origin = parse_url(row["origin"]).origin
            assert origin is not None
            bottle = self.for_origin(origin)
            cache = RequestResponseList(bottle, row["name"], order=row["order"])
            for item in row["items"]:
                response = response_from_json(item["response"])
                assert response is not None
                body = None if item["body"] is None else store.bytes_by_id(item["body"])
                cache.items.append(CachedItem(request_from_json(item["request"]), response, body))
            bottle.caches[cache.name] = cache
            bottle._order = itertools.count(row["order"] + 1)

    def for_origin(self, origin: Origin) -> CacheBottle:
        if origin not in self._bottles:
            self._bottles[origin] = CacheBottle(self.store, origin)
        return self._bottles[origin]


# -- the algorithms -------------------------------------------------------------------


@attrs.define
class CacheBatchOperation:
    """Service Workers #dfn-cache-batch-operation."""

    type: Literal["delete", "put"]
    request: InternalRequest
    response: CachedItem | None = None  # the response, with its stored body
    options: CacheQueryOptions | None = None


@attrs.frozen
class CacheQueryOptions:
    """CacheQueryOptions (#cache-query-options-dictionary)."""

    ignore_search: bool = False
    ignore_method: bool = False
    ignore_vary: bool = False


def query_cache(
    request_query: InternalRequest,
    options: CacheQueryOptions | None,
    target_storage: Iterable[CachedItem],
) -> list[CachedItem]:
    """Service Workers #query-cache-algorithm (each item "copied": a new tuple over the
    same stored body, which only grows while it is written)."""
    options = options or CacheQueryOptions()
    # 1. Let resultList be an empty list.
    result_list: list[CachedItem] = []
    # 2-4. Let storage be targetStorage (the caller passes the relevant list).
    storage = list(target_storage)
    # 5. For each requestResponse of storage:
    for request_response in storage:
        # 5.1-5.2. Let cachedRequest and cachedResponse be its request and response.
        cached_request = request_response.request
        cached_response = request_response.response
        # 5.3. If Request Matches Cached Item returns true, then add copies to resultList.
        if request_matches_cached_item(
            request_query,
            cached_request,
            cached_response,
            ignore_search=options.ignore_search,
            ignore_method=options.ignore_method,
            ignore_vary=options.ignore_vary,
        ):
            result_list.append(
                CachedItem(cached_request.copy(), cached_response.copy(), request_response.body)
            )
    # 6. Return resultList.
    return result_list


def batch_cache_operations(
    cache: RequestResponseList, operations: list[CacheBatchOperation]
) -> list[CachedItem]:
    """Service Workers #batch-cache-operations-algorithm"""
    # 1. Let cache be the relevant request response list.
    # 2. Let backupCache be a new request response list that is a copy of cache.
    backup_cache = list(cache.items)
    # 3. Let addedItems be an empty list.
    added_items: list[CachedItem] = []
    removed: list[CachedItem] = []
    # 4. Try running the following substeps atomically:
    try:
        # 4.1. Let resultList be an empty list.
        result_list: list[CachedItem] = []
        # 4.2. For each operation in operations:
        for operation in operations:
            # 4.2.1-4.2.2. (The type is "delete" or "put"; a delete has no response.)
            if operation.type == "delete" and operation.response is not None:
                raise TypeError("a cache delete operation cannot have a response")
            # 4.2.3. If Query Cache with the operation's request, options and addedItems
            # is not empty, throw an InvalidStateError.
            if query_cache(operation.request, operation.options, added_items):
                raise InvalidStateError(
                    f"{operation.request.url.href} is put twice in one batch of cache operations"
                )
            # 4.2.4. Let requestResponses be an empty list.
            request_responses: list[CachedItem] = []
            # 4.2.5. If operation's type matches "delete", then:
            if operation.type == "delete":
                # 4.2.5.1. Set requestResponses to the result of Query Cache.
                request_responses = _matching(cache.items, operation.request, operation.options)
                # 4.2.5.2. Remove each from cache.
                for request_response in request_responses:
                    cache.items.remove(request_response)
                    removed.append(request_response)
            # 4.2.6. Else if operation's type matches "put", then:
            else:
                # 4.2.6.1. If operation's response is null, throw a TypeError.
                if operation.response is None:
                    raise TypeError("a cache put operation needs a response")
                # 4.2.6.2. Let r be operation's request's associated request.
                r = operation.request
                # 4.2.6.3-4.2.6.4. r's URL must be http(s), its method `GET`.
                if r.url.scheme not in ("http", "https") or r.method != "GET":
                    raise TypeError(f"{r.method} {r.url.href} cannot be put in a cache")
                # 4.2.6.5. If operation's options is not null, throw a TypeError.
                if operation.options is not None:
                    raise TypeError("a cache put operation takes no options")
                # 4.2.6.6. Set requestResponses to the result of Query Cache with the request.
                request_responses = _matching(cache.items, operation.request, None)
                # 4.2.6.7. Remove each from cache.
                for request_response in request_responses:
                    cache.items.remove(request_response)
                    removed.append(request_response)
                # 4.2.6.8. Append the request/response to cache.  4.2.6.9. (A quota
                # failure happened while the body was stored, before this batch: put().)
                cache.items.append(operation.response)
                # 4.2.6.10. Append the request/response to addedItems.
                added_items.append(operation.response)
            # 4.2.7. Append the request/response to resultList.
            if operation.type == "put" and operation.response is not None:
                result_list.append(operation.response)
            else:
                result_list.extend(request_responses)
        # The changes made durable at once, in one transaction (a stored user agent).
        cache.save()
    # 5. And then, if an exception was thrown, then:
    except BaseException:
        # 5.1-5.2. Remove all the items of the list, and append backupCache's.
        cache.items[:] = backup_cache
        # 5.3. Throw the exception.
        raise
    # Not a spec step: what left the cache gives its storage back to the origin's quota
    # (a Response read from it before still reads its body).
    for item in removed:
        if item.body is not None and item not in cache.items:
            item.body.release()
    # 4.3. Return resultList.
    return result_list


def _matching(
    items: list[CachedItem], request: InternalRequest, options: CacheQueryOptions | None
) -> list[CachedItem]:
    """Query Cache on the list itself: the matching items (not copies), for removal."""
    options = options or CacheQueryOptions()
    return [
        item
        for item in items
        if request_matches_cached_item(
            request,
            item.request,
            item.response,
            ignore_search=options.ignore_search,
            ignore_method=options.ignore_method,
            ignore_vary=options.ignore_vary,
        )
    ]


async def _stream_from_storage(body: StoredBytes) -> AsyncGenerator[bytes, None]:
    offset = 0
    while offset < len(body):
        data = body.read(offset, STREAM_SLICE)
        if not data:
            return
        offset += len(data)
        yield data


def _response_object(item: CachedItem) -> Response:
    """A new Response associated with a copy of *item*'s response (headers immutable)."""
    response = Response(
        item.response.copy(), None if item.body is None else _stream_from_storage(item.body)
    )
    response.headers.guard = "immutable"
    return response


def _request_object(request: InternalRequest) -> Request:
    obj = Request.from_internal(request.copy())
    obj.headers.guard = "immutable"
    return obj


def _vary_has_star(response: InternalResponse) -> bool:
    vary = response.header_list.get("Vary")
    return vary is not None and any(value.strip() == "*" for value in vary.split(","))


# -- the interfaces -------------------------------------------------------------------


class Cache:
    """The Cache interface (Service Workers #cache-interface): a request response list,
    in a realm."""

    def __init__(self, cache: RequestResponseList, realm: Environment) -> None:
        self._list = cache
        self.realm = realm

    def _request(self, request: RequestInfo) -> InternalRequest:
        """ "The associated request of invoking the Request constructor with request"."""
        return Request(request, base_url=self.realm.api_base_url).request

    async def match(
        self,
        request: RequestInfo,
        *,
        ignore_search: bool = False,
        ignore_method: bool = False,
        ignore_vary: bool = False,
    ) -> Response | None:
        """Service Workers #cache-match"""
        # 1-2. Run matchAll() with request and options; wait until it settles.
        responses = await self.match_all(
            request,
            ignore_search=ignore_search,
            ignore_method=ignore_method,
            ignore_vary=ignore_vary,
        )
        # 2.4. Resolve with undefined if there is none, else with the first.
        return responses[0] if responses else None

    async def match_all(
        self,
        request: RequestInfo | None = None,
        *,
        ignore_search: bool = False,
        ignore_method: bool = False,
        ignore_vary: bool = False,
    ) -> list[Response]:
        """Service Workers #cache-matchall"""
        options = CacheQueryOptions(ignore_search, ignore_method, ignore_vary)
        # 1-2. Let r be the query.
        r = query_request(request, self.realm.api_base_url, ignore_method=options.ignore_method)
        if r is False:
            return []
        # 3. Let realm be this's relevant realm.  4. Let promise be a new promise.
        realm = self.realm
        promise: Promise[list[Response]] = Promise()
        # 5. Run these substeps in parallel:
        # 5.1. Let responses be an empty list.
        # 5.2-5.3. Every item's response if request is omitted, else Query Cache's.
        items = list(self._list.items) if r is None else query_cache(r, options, self._list.items)
        # 5.4. (Opaque responses: bgfetch's caches hold the responses put; the
        # cross-origin resource policy check is not modelled.)
        # 5.5. Queue a task to resolve promise with new Response objects, in realm.
        realm.event_loop.queue_task(
            lambda: promise.resolve([_response_object(item) for item in items])
        )
        # 6. Return promise.
        return await promise

    async def add(self, request: RequestInfo) -> None:
        """Service Workers #cache-add"""
        # 1. Let requests be an array containing only request.
        # 2-3. Run addAll() with requests; fulfil with undefined.
        await self.add_all([request])

    async def add_all(self, requests: Iterable[RequestInfo]) -> None:
        """Service Workers #cache-addAll (each response's body read in full, into the
        origin's storage, before the batch: "the cache commit is allowed when the
        response's body is fully received")."""
        if isinstance(requests, str | Request):
            raise TypeError("add_all() takes a sequence of requests, not one request")
        requests = list(requests)
        # 1. Let responsePromises be an empty list.  2. Let requestList be an empty list.
        request_list: list[InternalRequest] = []
        # 3. For each request whose type is Request in requests: r must be an http(s) GET.
        for request in requests:
            if isinstance(request, Request):
                r = request.request
                if r.url.scheme not in ("http", "https") or r.method != "GET":
                    raise TypeError(f"{r.method} {r.url.href} cannot be added to a cache")
        # 4. Let fetchControllers be a list of fetch controllers.  (The fetches below.)
        # 5. For each request in requests:
        for request in requests:
            # 5.1. Let r be the request of a new Request with request (which may throw).
            r = self._request(request) if not isinstance(request, Request) else request.request
            # 5.2. If r's URL's scheme is not http(s), reject with a TypeError.
            if r.url.scheme not in ("http", "https"):
                raise TypeError(f"{r.url.href} cannot be added to a cache (not http(s))")
            # 5.3. If r's client is a service worker global scope, set its service-workers
            # mode to "none".  (bgfetch's fetches never reach a service worker.)
            r = r.copy()
            r.service_workers_mode = "none"
            # Fetch's "populate from client": the realm is who asks (SPEC-NOTES.md SN-fetch-1).
            r.origin = self.realm.origin
            r.policy_container = PolicyContainer.from_csp_header(self.realm.csp)
            # 5.4. Add r to requestList.
            request_list.append(r)
        # 5.5-5.7. Fetch each in parallel, each response promise settled once its body
        # is received; 6. wait for all of them.
        responses: list[CachedItem | BaseException | None] = [None] * len(request_list)
        ua = self.realm.user_agent

        async def fetch_one(index: int, r: InternalRequest) -> None:
            try:
                responses[index] = await _fetch_into_storage(ua, self.realm.origin, r)
            except Exception as error:
                responses[index] = error

        async with trio.open_nursery() as nursery:
            for index, r in enumerate(request_list):
                nursery.start_soon(fetch_one, index, r)
        failures = [item for item in responses if isinstance(item, BaseException)]
        if failures:
            for item in responses:
                if isinstance(item, CachedItem) and item.body is not None:
                    item.body.discard()
            raise failures[0]
        # 7. React to p: with responses,
        # 7.1-7.3. one "put" operation per response, for requestList[index].
        operations = [
            CacheBatchOperation("put", request_list[index], item)
            for index, item in enumerate(responses)
            if isinstance(item, CachedItem)
        ]
        await self._run_batch(operations)

    async def put(self, request: RequestInfo, response: Response) -> None:
        """Service Workers #cache-put (the body streamed into the origin's storage as it
        is read, as the spec's note allows)."""
        # 1. Let innerRequest be null.
        # 2-3. innerRequest is request's request, or that of a new Request with request.
        if isinstance(request, Request):
            inner_request = request.request
        else:
            inner_request = self._request(request)
        # 4. If innerRequest's URL's scheme is not http(s) or its method is not `GET`,
        # reject with a TypeError.
        if inner_request.url.scheme not in ("http", "https") or inner_request.method != "GET":
            raise TypeError(
                f"{inner_request.method} {inner_request.url.href} cannot be put in a cache "
                "(only http(s) GET requests can)"
            )
        if not isinstance(response, Response):
            raise TypeError(f"put() takes a bgfetch Response, not {response!r}")
        # 5. Let innerResponse be response's response.
        inner_response = response.response
        # 6. If innerResponse's status is 206, reject with a TypeError.
        if inner_response.status == 206:
            raise TypeError(f"{inner_request.url.href}: a partial (206) response cannot be cached")
        # 7. If innerResponse's header list has a `Vary` of "*", reject with a TypeError.
        if _vary_has_star(inner_response):
            raise TypeError(f"{inner_request.url.href}: a response with Vary: * cannot be cached")
        # 8. If innerResponse's body is disturbed or locked, reject with a TypeError.
        if response.body_used:
            raise TypeError(f"{inner_request.url.href}: the response's body was already read")
        # 9. Let clonedResponse be a clone of innerResponse.
        cloned_response = inner_response.copy()
        # 10-11. Read all bytes of innerResponse's body (into the origin's storage).
        item = await _store_body(
            self.realm.user_agent.store,
            self.realm.origin,
            inner_request.copy(),
            cloned_response,
            aiter(response),
        )
        # 12-16. One "put" operation of innerRequest and clonedResponse.
        # 17. Let realm be this's relevant realm.  18. Upon fulfillment of bodyReadPromise:
        await self._run_batch([CacheBatchOperation("put", item.request, item)])

    async def delete(
        self,
        request: RequestInfo,
        *,
        ignore_search: bool = False,
        ignore_method: bool = False,
        ignore_vary: bool = False,
    ) -> bool:
        """Service Workers #cache-delete"""
        options = CacheQueryOptions(ignore_search, ignore_method, ignore_vary)
        # 1. Let r be null.
        # 2. If request is a Request object, then:
        if isinstance(request, Request):
            # 2.1. Set r to request's request.
            r = request.request
            # 2.2. If r's method is not `GET` and ignoreMethod is false, resolve with false.
            if r.method != "GET" and not ignore_method:
                return False
        # 3. Else if request is a string: r is the request of a new Request with it.
        else:
            r = self._request(request)
        # 4-8. One "delete" operation of r with options.
        operation = CacheBatchOperation("delete", r, options=options)
        # 9-12. In parallel, Batch Cache Operations; queue a task to settle the promise.
        request_responses = await self._run_batch([operation])
        # 12.3.1. Resolve with true if requestResponses is not empty, else false.
        return bool(request_responses)

    async def keys(
        self,
        request: RequestInfo | None = None,
        *,
        ignore_search: bool = False,
        ignore_method: bool = False,
        ignore_vary: bool = False,
    ) -> list[Request]:
        """Service Workers #cache-keys"""
        options = CacheQueryOptions(ignore_search, ignore_method, ignore_vary)
        # 1-2. Let r be the query.
        r = query_request(request, self.realm.api_base_url, ignore_method=options.ignore_method)
        if r is False:
            return []
        # 3. Let realm be this's relevant realm.  4. Let promise be a new promise.
        promise: Promise[list[Request]] = Promise()
        # 5. Run these substeps in parallel:
        # 5.1-5.3. Every item's request if request is omitted, else Query Cache's.
        items = list(self._list.items) if r is None else query_cache(r, options, self._list.items)
        # 5.4. Queue a task to resolve promise with new Request objects, in realm.
        self.realm.event_loop.queue_task(
            lambda: promise.resolve([_request_object(item.request) for item in items])
        )
        # 6. Return promise.
        return await promise

    async def _run_batch(self, operations: list[CacheBatchOperation]) -> list[CachedItem]:
        """The steps every writing method ends with: in parallel, Batch Cache Operations
        (its exception kept as errorData); queue a task to settle cacheJobPromise."""
        promise: Promise[list[CachedItem]] = Promise()
        # 1. Let errorData be null.
        # 2. Invoke Batch Cache Operations with operations; on an exception, keep it.
        try:
            result = batch_cache_operations(self._list, operations)
        except Exception as error_data:
            for operation in operations:
                if operation.response is not None and operation.response.body is not None:
                    operation.response.body.discard()
            failure: BaseException = error_data
            # 3. Queue a task to reject cacheJobPromise with errorData.
            self.realm.event_loop.queue_task(lambda: promise.reject(failure))
        else:
            if self._list.detached:  # nothing keeps it: its bytes count no more
                for item in result:
                    if item.body is not None:
                        item.body.release()
            # 3. Queue a task to resolve cacheJobPromise.
            self.realm.event_loop.queue_task(lambda: promise.resolve(result))
        return await promise

    def __repr__(self) -> str:
        return f"<Cache {self._list.name!r} of {self._list.bottle.origin}>"


async def _store_body(
    store: Store,
    origin: Origin,
    request: InternalRequest,
    response: InternalResponse,
    chunks: AsyncGenerator[bytes, None] | Any,
) -> CachedItem:
    """Read a body's chunks into a new byte sequence of *origin*'s storage; a quota it
    would pass is a QuotaExceededError ("the cache write operation failed due to
    exceeding the granted quota limit"), storing nothing."""
    body = store.new_bytes(origin)
    try:
        async for chunk in chunks:
            body.append(bytes(chunk))
    except StorageFull as error:
        body.discard()
        raise QuotaExceededError(
            f"{request.url.href}: caching its response would exceed {origin}'s quota: {error}",
            quota=store.quota,
        ) from None
    except BaseException:
        body.discard()
        raise
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    # Fetch's "clone": the copy holds no Content-Range/Content-Length a body of the whole
    # size would contradict; kept as received otherwise.
    return CachedItem(request, response, body)


async def _fetch_into_storage(
    user_agent: UserAgent, origin: Origin, request: InternalRequest
) -> CachedItem:
    """addAll()'s step 5.6 for one request: fetch it, check the response (process
    response), and read its body into storage (process response end-of-body)."""
    async with user_agent.fetcher.fetch(request) as fetched:
        response = fetched.response
        # process response 1. A network error, a status that is not ok, or 206: TypeError.
        if response.is_network_error or not response.ok or response.status == 206:
            why = response.error or f"status {response.status}"
            raise TypeError(f"add_all(): {request.url.href} could not be cached ({why})")
        # process response 2. A `Vary: *` response: TypeError.
        if _vary_has_star(response):
            raise TypeError(f"add_all(): {request.url.href} answered Vary: *")
        assert fetched.body is not None
        # process response end-of-body: an aborted response is an AbortError; the body read.
        return await _store_body(user_agent.store, origin, request, response, fetched.body)


class CacheStorage:
    """The CacheStorage interface (Service Workers #cachestorage-interface): its realm's
    origin's name to cache map.  ``window.caches``; in a handler, ``worker.caches``."""

    def __init__(self, realm: Environment) -> None:
        self.realm = realm

    @property
    def _map(self) -> CacheBottle:
        """The relevant name to cache map."""
        return self.realm.user_agent.cache_bottles.for_origin(self.realm.origin)

    async def match(
        self,
        request: RequestInfo,
        *,
        cache_name: str | None = None,
        ignore_search: bool = False,
        ignore_method: bool = False,
        ignore_vary: bool = False,
    ) -> Response | None:
        """Service Workers #cache-storage-match"""
        options: dict[str, bool] = {
            "ignore_search": ignore_search,
            "ignore_method": ignore_method,
            "ignore_vary": ignore_vary,
        }
        # 1. If options["cacheName"] exists, then:
        if cache_name is not None:
            cache_name = dom_string(cache_name, "CacheStorage.match(): cache_name")
            # 1.1.1. For each cacheName -> cache of the relevant name to cache map:
            for name, cache in list(self._map.caches.items()):
                # 1.1.1.1. If it matches, resolve with Cache's match() of request.
                if name == cache_name:
                    return await Cache(cache, self.realm).match(request, **options)
            # 1.1.2. Resolve promise with undefined.
            return None
        # 2. Else: 2.1-2.2. each cache in turn, until one gives a response.
        for cache in list(self._map.caches.values()):
            response = await Cache(cache, self.realm).match(request, **options)
            if response is not None:
                return response
        # 2.3. Return promise (resolved with undefined when no cache had one).
        return None

    async def has(self, cache_name: str) -> bool:
        """Service Workers #cache-storage-has"""
        cache_name = dom_string(cache_name, "CacheStorage.has(): cache_name")
        promise: Promise[bool] = Promise()
        # 2.1. For each key of the relevant name to cache map: if it matches, true.
        # 2.2. Resolve promise with false.
        promise.resolve(cache_name in self._map.caches)
        return await promise

    async def open(self, cache_name: str) -> Cache:
        """Service Workers #cache-storage-open"""
        cache_name = dom_string(cache_name, "CacheStorage.open(): cache_name")
        # 1. Let promise be a new promise.
        promise: Promise[Cache] = Promise()
        # 2. Run the following substeps in parallel:
        # 2.1. For each key -> value: if cacheName matches key, resolve with a new Cache
        # that represents value.
        existing = self._map.caches.get(cache_name)
        if existing is not None:
            promise.resolve(Cache(existing, self.realm))
        else:
            # 2.2. Let cache be a new request response list.  2.3. Set the relevant name
            # to cache map[cacheName] to cache.
            cache = self._map.new_list(cache_name)
            # 2.4. Resolve promise with a new Cache object that represents cache.
            promise.resolve(Cache(cache, self.realm))
        # 3. Return promise.
        return await promise

    async def delete(self, cache_name: str) -> bool:
        """Service Workers #cache-storage-delete"""
        # 1. Let promise be the result of has(cacheName).
        cache_exists = await self.has(cache_name)
        # 2.1. If cacheExists is false, return false.
        if not cache_exists:
            return False
        # 2.3.1. Remove the relevant name to cache map[cacheName].  (Cache, Request and
        # Response objects over it remain functional.)
        if cache_name in self._map.caches:
            self._map.remove(cache_name)
        # 2.3.2. Resolve cacheJobPromise with true.
        return True

    async def keys(self) -> list[str]:
        """Service Workers #cache-storage-keys"""
        # 2.1. Let cacheKeys be the keys of the relevant name to cache map, in the order
        # their entries were added.  2.2. Resolve promise with cacheKeys.
        return list(self._map.caches)

    def __repr__(self) -> str:
        return f"<CacheStorage of {self.realm.origin}>"


def cache_storage(environment: Environment) -> CacheStorage:
    """The CacheStorage object of *environment* (``self.caches``: [SameObject])."""
    return environment.platform_object(
        "CacheStorage", environment, lambda: CacheStorage(environment)
    )
