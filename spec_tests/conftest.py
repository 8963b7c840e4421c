"""Shared helpers for the spec tests.  The fixtures come from bgfetch's pytest plugin;
``@pytest.mark.step`` and ``--collect-steps`` from step_markers.py."""

pytest_plugins = ["step_markers"]
