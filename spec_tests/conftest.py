"""Shared helpers for the spec tests.  The fixtures come from bgfetch's pytest plugin."""
