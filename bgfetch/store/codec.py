"""Fetch's request and response concepts as JSON, for a store to keep.

Only what a background fetch record holds across a restart: a request before it is
fetched (its body already read, as "fetch()" waits for it) and a response without
its body (the store keeps bodies itself).
"""

from __future__ import annotations

import base64
from typing import Any

from bgfetch.fetch.csp import PolicyContainer
from bgfetch.fetch.headers import HeaderList
from bgfetch.fetch.request import Body, InternalRequest
from bgfetch.fetch.response import InternalResponse
from bgfetch.url import URL, Origin, parse_url

JSON = dict[str, Any]


def _origin(origin: Origin | None) -> str | None:
    return None if origin is None else origin.serialize()


def _parse_origin(serialized: str | None) -> Origin | None:
    return None if serialized is None else parse_url(serialized).origin


def _urls(urls: list[URL]) -> list[str]:
    return [url.href for url in urls]


def request_to_json(request: InternalRequest) -> JSON:
    body = request.body
    if body is not None and body.source is None:
        raise ValueError(f"{request.url.href}: a request body must be read before it is stored")
    return {
        "url": request.url.href,
        "method": request.method,
        "headers": list(request.header_list),
        "body": None if body is None else base64.b64encode(body.source or b"").decode(),
        "mode": request.mode,
        "credentials_mode": request.credentials_mode,
        "keepalive": request.keepalive,
        "service_workers_mode": request.service_workers_mode,
        "destination": request.destination,
        "redirect_mode": request.redirect_mode,
        "origin": _origin(request.origin),
        "url_list": _urls(request.url_list),
        "csp": None if request.policy_container is None else request.policy_container.csp_header,
        "policy_container": request.policy_container is not None,
        "unsafe_request": request.unsafe_request,
        "use_cors_preflight": request.use_cors_preflight,
    }


def request_from_json(data: JSON) -> InternalRequest:
    return InternalRequest(
        url=parse_url(data["url"]),
        method=data["method"],
        header_list=HeaderList([(name, value) for name, value in data["headers"]]),
        body=None if data["body"] is None else Body(base64.b64decode(data["body"])),
        mode=data["mode"],
        credentials_mode=data["credentials_mode"],
        keepalive=data["keepalive"],
        service_workers_mode=data["service_workers_mode"],
        destination=data["destination"],
        redirect_mode=data["redirect_mode"],
        origin=_parse_origin(data["origin"]),
        url_list=[parse_url(url) for url in data["url_list"]],
        policy_container=(
            PolicyContainer.from_csp_header(data["csp"]) if data["policy_container"] else None
        ),
        unsafe_request=data["unsafe_request"],
        use_cors_preflight=data["use_cors_preflight"],
    )


def response_to_json(response: InternalResponse | None) -> JSON | None:
    if response is None:
        return None
    return {
        "type": response.type,
        "status": response.status,
        "status_message": response.status_message,
        "headers": list(response.header_list),
        "url_list": _urls(response.url_list),
        "aborted": response.aborted,
        "error": response.error,
        "cors_failure": response.cors_failure,
        "internal_response": response_to_json(response.internal_response),
        "cors_exposed_header_names": list(response.cors_exposed_header_names),
    }


def response_from_json(data: JSON | None) -> InternalResponse | None:
    if data is None:
        return None
    return InternalResponse(
        type=data["type"],
        status=data["status"],
        status_message=data["status_message"],
        header_list=HeaderList([(name, value) for name, value in data["headers"]]),
        url_list=[parse_url(url) for url in data["url_list"]],
        aborted=data["aborted"],
        error=data["error"],
        cors_failure=data["cors_failure"],
        internal_response=response_from_json(data["internal_response"]),
        cors_exposed_header_names=list(data["cors_exposed_header_names"]),
    )
