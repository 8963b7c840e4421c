"""Transports the HTTP client opens streams on."""

from bgfetch.net.real import RealNetwork
from bgfetch.net.virtual import VirtualNetwork

__all__ = ["RealNetwork", "VirtualNetwork"]
