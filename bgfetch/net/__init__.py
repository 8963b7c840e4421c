"""Transports the HTTP client opens streams on."""

from bgfetch.net.virtual import VirtualNetwork

__all__ = ["VirtualNetwork"]
