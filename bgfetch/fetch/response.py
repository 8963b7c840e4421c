"""Fetch's response concept and the Response interface."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import attrs

from bgfetch.fetch.headers import HeaderList, Headers
from bgfetch.url import URL

OK_STATUSES = range(200, 300)
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@attrs.define
class InternalResponse:
    """Fetch's response concept, without its body (Background Fetch stores bodies itself).

    A network error is ``InternalResponse.network_error()``: type "error", status 0;
    ``aborted`` marks Fetch's *aborted network error*.
    """

    type: str = "default"  # "basic", "cors", "default", "error", "opaque", ...
    status: int = 200
    status_message: str = ""
    header_list: HeaderList = attrs.field(factory=HeaderList)
    url_list: list[URL] = attrs.field(factory=list)
    aborted: bool = False
    error: str = ""  # why a network error happened: for messages and DevTools

    @classmethod
    def network_error(cls, why: str, *, aborted: bool = False) -> InternalResponse:
        return cls(type="error", status=0, aborted=aborted, error=why)

    @property
    def is_network_error(self) -> bool:
        return self.type == "error"

    @property
    def url(self) -> URL | None:
        return self.url_list[-1] if self.url_list else None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    def copy(self) -> InternalResponse:
        return attrs.evolve(self, header_list=self.header_list.copy(), url_list=list(self.url_list))


class Response:
    """The Response interface: status, headers and a body read once.

    The body is an async iterator of byte chunks (the ReadableStream); read it with
    ``await response.bytes()``, ``await response.text()``, ``await response.json()``,
    or ``async for chunk in response``.
    """

    def __init__(self, response: InternalResponse, stream: AsyncIterator[bytes] | None) -> None:
        self.response = response
        self.headers = Headers.over(response.header_list)
        self._stream = stream
        self.body_used = False

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def ok(self) -> bool:
        return self.response.ok

    @property
    def status_text(self) -> str:
        return self.response.status_message

    @property
    def type(self) -> str:
        return self.response.type

    @property
    def url(self) -> str:
        url = self.response.url
        return url.without_fragment() if url is not None else ""

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self.body_used:
            raise TypeError(f"the body of the response for {self.url} was already read")
        self.body_used = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._stream is None:
            return
        async for chunk in self._stream:
            yield chunk

    async def bytes(self) -> bytes:
        buffer = bytearray()
        async for chunk in self:
            buffer += chunk
        return bytes(buffer)

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    async def json(self) -> Any:
        return json.loads(await self.bytes())

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.url}>"
