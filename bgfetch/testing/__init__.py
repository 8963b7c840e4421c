"""Test helpers: an origin server to put on the virtual network or a real socket."""

from bgfetch.testing.origin_server import OriginServer, RecordedRequest, Resource

__all__ = ["OriginServer", "RecordedRequest", "Resource"]
