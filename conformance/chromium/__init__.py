"""The Chromium backend of the conformance suite: a real headless Chromium driven over
the DevTools Protocol (conformance/README.md, its Chromium section)."""

from conformance.chromium.backend import ChromiumBackend, ChromiumPage

__all__ = ["ChromiumBackend", "ChromiumPage"]
