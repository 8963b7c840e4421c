"""Infrastructure (#infrastructure), 2017-10-12 edition: active background fetches
"contains", and the concepts' initial values."""

from __future__ import annotations

import pytest

from bgfetch.editions.draft_2017.concepts import (
    BackgroundFetch,
    BackgroundFetchRecord,
    contains,
    registration_extension,
)
from bgfetch.fetch.request import InternalRequest
from bgfetch.infra import ParallelQueue, TaskOwner
from bgfetch.store.memory import MemoryStore
from bgfetch.testing import WorkerRecorder
from bgfetch.url import parse_url

from .support import page


def background_fetch(id: str, registration) -> BackgroundFetch:
    store = MemoryStore()
    record = BackgroundFetchRecord(
        InternalRequest(parse_url("https://example.test/a")),
        store.new_bytes(registration.origin),
    )
    return BackgroundFetch(
        id=id,
        records=[record],
        title="",
        download_total=0,
        upload_total=0,
        icons=[],
        service_worker_registration=registration,
        progress_handling_queue=ParallelQueue("test"),
        tasks=TaskOwner("test", until="idle"),
    )


@pytest.mark.step("#active-background-fetches-contains", "1", "2", "3", "4")
async def test_contains_steps_1_to_4(draft_user_agent, origin_server):
    registration = (await page(draft_user_agent, WorkerRecorder().worker)).registration
    bg_fetch = background_fetch("x", registration)
    same_id = background_fetch("x", registration)
    # 2. If activeBgFetches[id] does not exist, then return false.
    assert contains({}, bg_fetch) is False
    # 3. If activeBgFetches[id] does not equal bgFetch, then return false.
    assert contains({"x": same_id}, bg_fetch) is False
    # 4. Return true.
    assert contains({"x": bg_fetch}, bg_fetch) is True


@pytest.mark.step("#background-fetch-concept")
@pytest.mark.step("#background-fetch-record-concept")
@pytest.mark.step("#service-worker-registration-concept-extensions")
async def test_initial_values(draft_user_agent, origin_server):
    registration = (await page(draft_user_agent, WorkerRecorder().worker)).registration
    bg_fetch = background_fetch("x", registration)
    assert bg_fetch.last_reported_download == 0
    record = bg_fetch.records[0]
    assert record.response is None and len(record.response_body) == 0
    extension = registration_extension(registration)
    assert extension.active_background_fetches == {}
    assert registration_extension(registration) is extension  # one per registration
