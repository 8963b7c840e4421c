"""Report progress for background fetch (#report-progress-for-background-fetch-algorithm),
2017-10-12 edition."""

from __future__ import annotations

from typing import Any

import pytest
import trio

import bgfetch
from bgfetch.editions.draft_2017.instances import (
    ANCHOR,
    report_progress_for_background_fetch,
)
from bgfetch.infra import ParallelQueue
from bgfetch.testing import WorkerRecorder

from .support import FEATURE, ORIGIN, page, record_steps

BODY = b"x" * 1000


@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "1", "2")
async def test_steps_1_2_downloaded_sums_every_records_response_body(
    draft_user_agent, origin_server
):
    origin_server.add("/a.bin", b"a" * 300)
    origin_server.add("/b.bin", b"b" * 500)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    bg = await registration.background_fetch.fetch("sum", ["/a.bin", "/b.bin"])
    await reporter.settled("sum")
    await trio.sleep(1)
    assert bg.background_fetch.last_reported_download == 800
    assert bg.downloaded == 800


@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "3")
async def test_step_3_unchanged_totals_report_nothing(draft_user_agent, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=100)
    steps = record_steps(draft_user_agent)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("same", "/slow.txt")
    heard: list[str] = []
    bg.add_event_listener("progress", lambda event: heard.append(event.type))
    report_progress_for_background_fetch(bg.background_fetch)
    await trio.sleep(1)
    assert heard == [] and [s for s in steps if s.algorithm == ANCHOR] == []


@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "1", "2", "5.2.2")
async def test_reports_coalesced_while_queued(draft_user_agent, origin_server, monkeypatch):
    """SPEC-NOTES.md SN-2017-27: reports made while earlier steps wait in the progress
    handling queue, not yet begun, enqueue nothing; the waiting steps read the totals when
    they begin, so one event carries the newest; a later report is enqueued and heard."""
    origin_server.add("/slow.txt", FEATURE, delay=100)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("coalesced", "/slow.txt")
    queue = bg.background_fetch.progress_handling_queue
    heard: list[int] = []
    bg.add_event_listener("progress", lambda event: heard.append(bg.uploaded))
    await trio.sleep(1)
    enqueued: list[ParallelQueue] = []
    enqueue = ParallelQueue.enqueue

    def counted(into: ParallelQueue, steps: Any) -> None:
        if into is queue:  # (not the realms' event loops)
            enqueued.append(into)
        enqueue(into, steps)

    monkeypatch.setattr(ParallelQueue, "enqueue", counted)
    for uploaded in (1, 2, 3):  # no checkpoint in between: the queue has not run
        bg.background_fetch.uploaded = uploaded
        report_progress_for_background_fetch(bg.background_fetch)
    assert enqueued == [queue]
    await trio.sleep(1)
    assert heard == [3]
    bg.background_fetch.uploaded = 4
    report_progress_for_background_fetch(bg.background_fetch)
    assert enqueued == [queue, queue]
    await trio.sleep(1)
    assert heard == [3, 4]


@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "4")
async def test_step_4_sets_the_last_reported_download(draft_user_agent, origin_server):
    origin_server.add("/big.bin", BODY, throttle=100)
    steps = record_steps(draft_user_agent)
    registration = await page(draft_user_agent, WorkerRecorder().worker)
    bg = await registration.background_fetch.fetch("last", "/big.bin")
    await trio.sleep(3.05)
    reported = [s.details["downloaded"] for s in steps if s.algorithm == ANCHOR]
    assert reported and bg.background_fetch.last_reported_download == reported[-1]
    assert len(set(reported)) == len(reported)  # never the same value twice


@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "5")
async def test_step_5_every_environment_of_the_origin_hears_progress(
    draft_user_agent, origin_server, virtual_network
):
    origin_server.add("/big.bin", BODY, throttle=500)
    other = bgfetch.testing.OriginServer()
    virtual_network.serve("https://other.test", other)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    second = await draft_user_agent.open_window(f"{ORIGIN}/second")
    elsewhere = await draft_user_agent.open_window("https://other.test/")
    bg = await registration.background_fetch.fetch("envs", "/big.bin")
    second_registration = await second.navigator.service_worker.ready
    in_second = await second_registration.background_fetch.get("envs")
    heard: dict[str, list[int]] = {"first": [], "second": []}
    bg.add_event_listener("progress", lambda e: heard["first"].append(bg.downloaded))
    in_second.add_event_listener("progress", lambda e: heard["second"].append(in_second.downloaded))
    await reporter.settled("envs")
    await trio.sleep(1)
    assert heard["first"][-1] == heard["second"][-1] == len(BODY)
    assert in_second is not bg
    # The other origin's window has no registration object, and none is made for it.
    assert elsewhere._realm == {}


@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "5.1")
async def test_step_5_1_an_environment_without_an_instance_gets_none(
    draft_user_agent, origin_server
):
    origin_server.add("/big.bin", BODY, throttle=500)
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    await registration.background_fetch.fetch("no-instance", "/big.bin")
    scope = registration.registration.active_worker.global_scope
    await reporter.settled("no-instance")
    # Progress reached the worker's realm, which asked for no instance: it has none.
    assert scope.registration.background_fetch.instances == {}


@pytest.mark.step("#report-progress-for-background-fetch-algorithm", "5.2")
async def test_step_5_2_uploaded_is_reported_too(draft_user_agent, origin_server):
    # (filled: 3abbda2)
    origin_server.add_echo("/upload")
    reporter = WorkerRecorder()
    registration = await page(draft_user_agent, reporter.worker)
    upload = bgfetch.Request(
        f"{ORIGIN}/upload", method="POST", body=b"u" * 100, headers={"Content-Type": "a/b"}
    )
    bg = await registration.background_fetch.fetch("up", [upload])
    await reporter.settled("up")
    await trio.sleep(1)
    assert (bg.uploaded, bg.background_fetch.last_reported_upload) == (100, 100)
