"""Shared helpers for the spec tests.  The fixtures come from bgfetch's pytest plugin;
``@pytest.mark.step`` and ``--collect-steps`` from step_markers.py."""

pytest_plugins = ["step_markers"]


def pytest_addoption(parser):
    """``--slow``: the searches (spec_tests/test_state_machine.py, and any other) run many
    more examples, and longer ones."""
    try:
        parser.addoption(
            "--slow",
            action="store_true",
            default=False,
            help="run the Hypothesis searches at full size (many more, longer examples)",
        )
    except ValueError:  # already added (by another conftest or plugin)
        pass
