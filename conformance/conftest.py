"""Runs each ``@wpt`` test (suite.py) on the backends and editions of the run.

Options: ``--conformance-backend reference|chromium|all`` (default reference),
``--conformance-edition current|2017-10-12|all`` (default all), ``--quick`` (leave out,
on Chromium, the tests that wait on its retry timers).  Each test is parametrized as
``[backend-edition]``; on the reference backend's virtual network it runs on trio's
MockClock (simulated time), everywhere else in real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

from conformance.backends import BACKENDS, backend_named, close_backend
from conformance.interface import EDITIONS, Backend, Page, PageSetup
from conformance.report import quote_step
from conformance.suite import Declared, page_path, spec_refs

_backends: dict[str, Backend] = {}
QUICK_SKIP = "slow in Chromium (its 20-second retry timers): left out by --quick"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance")
    group.addoption("--conformance-backend", default="reference", choices=(*BACKENDS, "all"))
    group.addoption("--conformance-edition", default="all", choices=(*EDITIONS, "all"))
    group.addoption("--quick", action="store_true", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "conformance(declared): a ported WPT subtest (conformance/suite.py)"
    )


def declared_of(item: Any) -> Declared | None:
    marker = item.get_closest_marker("conformance")
    return None if marker is None else marker.args[0]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test taking open_page runs on each backend and edition of the run; those of
    an edition its declaration leaves out are deselected at collection (a declaration
    may sit on a parameter: ``pytest.param(..., marks=declare(...))``)."""
    if "conformance_run" not in metafunc.fixturenames:
        return
    config = metafunc.config
    backend = config.getoption("--conformance-backend")
    edition = config.getoption("--conformance-edition")
    backends = BACKENDS if backend == "all" else (backend,)
    editions = EDITIONS if edition == "all" else (edition,)
    runs = [(b, e) for b in backends for e in editions]
    metafunc.parametrize("conformance_run", runs, ids=[f"{b}-{e}" for b, e in runs])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    quick = config.getoption("--quick")
    kept, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        run = callspec.params.get("conformance_run") if callspec is not None else None
        if run is None:
            kept.append(item)
            continue
        declared = declared_of(item)
        assert declared is not None, f"{item.nodeid} takes open_page without @wpt"
        backend, edition = run
        if edition not in declared.editions:
            deselected.append(item)
            continue
        for ref in spec_refs(declared, edition):  # a step the pinned spec lacks: an error
            quote_step(edition, ref)
        if quick and backend != "reference" and declared.slow_in_chromium:
            item.add_marker(pytest.mark.skip(reason=QUICK_SKIP))
        simulated = backend == "reference" and declared.network == "virtual"
        item.add_marker(pytest.mark.trio(run=_runner(simulated)), append=False)
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = kept


def _runner(simulated: bool) -> Callable[..., Any]:
    def run(fn: Callable[[], Any], *, clock: Any = None, **kwargs: Any) -> Any:
        if simulated:
            clock = trio.testing.MockClock(autojump_threshold=0)
        return trio.run(fn, clock=clock, **kwargs)

    return run


@pytest.fixture(scope="session")
def conformance_backends() -> Iterator[dict[str, Backend]]:
    yield _backends
    for backend in _backends.values():
        close_backend(backend)
    _backends.clear()


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest,
    conformance_run: tuple[str, str],
    conformance_backends: dict[str, Backend],
) -> Callable[..., Any]:
    declared = declared_of(request.node)
    assert declared is not None
    backend_name, edition = conformance_run
    if backend_name not in conformance_backends:
        conformance_backends[backend_name] = backend_named(backend_name)
    backend = conformance_backends[backend_name]
    default = PageSetup(
        edition=edition,  # type: ignore[arg-type]
        page=page_path(declared.file),
        network=declared.network,
    )
    reason = backend.skip_reason(default)
    if reason is not None:
        pytest.skip(reason)

    @asynccontextmanager
    async def opener(
        *, worker: str = "sw.js", activate: bool = True, csp: str | None = None
    ) -> AsyncIterator[Page]:
        setup = PageSetup(
            edition=edition,  # type: ignore[arg-type]
            worker=worker,
            page=page_path(declared.file),
            activate=activate,
            csp=csp,
            network=declared.network,
        )
        reason = backend.skip_reason(setup)
        if reason is not None:
            pytest.skip(reason)
        async with backend.open_page(setup) as page:
            yield page

    return opener
