"""The slice of the Fetch standard Background Fetch uses."""

from bgfetch.fetch.formdata import File, FormData
from bgfetch.fetch.headers import HeaderList, Headers
from bgfetch.fetch.request import InternalRequest, Request
from bgfetch.fetch.response import InternalResponse, Response

__all__ = [
    "File",
    "FormData",
    "HeaderList",
    "Headers",
    "InternalRequest",
    "InternalResponse",
    "Request",
    "Response",
]
