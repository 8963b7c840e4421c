"""The scenarios that mean something in both editions, run under each.

Each test states what the two editions share and, where they differ, what each
does (docs/editions.md shows the same side by side).  Also: the committed
docs/editions.md is what scripts/editions_report.py generates.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import trio

import bgfetch
from bgfetch.editions import load_edition
from bgfetch.testing import WorkerRecorder, open_window_with_worker

EDITIONS = ["current", "2017-10-12"]
ORIGIN = "https://example.test"
FEATURE = "Background Fetch"
BODY = bytes(range(256)) * 16  # 4096 bytes, every offset distinguishable
SUCCESS = {"current": "backgroundfetchsuccess", "2017-10-12": "backgroundfetched"}
ROOT = Path(__file__).resolve().parent.parent

both = pytest.mark.parametrize("edition", EDITIONS)


async def start(ua: bgfetch.UserAgent, edition: str) -> tuple[WorkerRecorder, Any]:
    """A page whose worker reads every response of each settled event, whichever the
    edition (a rejected or missing one is None)."""
    probe = WorkerRecorder.for_edition(load_edition(edition))
    _, registration = await open_window_with_worker(ua, probe, f"{ORIGIN}/")
    return probe, registration.background_fetch


@both
async def test_success(edition, virtual_network, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        bg = await manager.fetch("ok", "/feature-name.txt")
        seen = await probe.settled("ok")
        await trio.sleep(1)
        assert (seen.type, seen.statuses(), seen.texts()) == (SUCCESS[edition], [200], [FEATURE])
        assert bg.downloaded == len(FEATURE)
        assert ua.handler_errors == []


@both
async def test_404(edition, virtual_network, origin_server):
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        bg = await manager.fetch("missing", "/missing.txt")
        seen = await probe.settled("missing")
        await trio.sleep(1)
        # A bad status fails the background fetch in both.
        assert seen.type == "backgroundfetchfail"
        if edition == "current":  # the 404 is exposed
            assert seen.statuses() == [404] and seen.texts() == ["Not Found"]
            assert (bg.result, bg.failure_reason) == ("failure", "bad-status")
        else:  # abandoned before it becomes the record's response (4a2cc52; SN-2017-9)
            assert seen.statuses() == [None]


@both
async def test_abort(edition, virtual_network, origin_server):
    origin_server.add("/feature-name.txt", FEATURE)
    origin_server.add("/slow.txt", FEATURE, delay=100)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        bg = await manager.fetch("abort", ["/feature-name.txt", "/slow.txt"])
        await trio.sleep(1)
        assert await bg.abort() is True
        assert await bg.abort() is False
        seen = await probe.settled("abort")
        assert seen.type == "backgroundfetchabort"
        # The finished response stays available; the aborted one has none.
        assert seen.statuses() == [200, None] and seen.texts()[0] == FEATURE
        assert await manager.get_ids() == []


@both
async def test_a_cut_connection(edition, virtual_network, origin_server):
    origin_server.add("/big.bin", BODY, cut_after=1000, etag='"v1"')
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        bg = await manager.fetch("cut", "/big.bin")
        seen = await probe.settled("cut")
        await trio.sleep(1)
        ranges = [r.header("range") for r in origin_server.requests_for("/big.bin")]
        if edition == "current":  # resumed with a range request
            assert seen.type == SUCCESS[edition] and seen.statuses() == [200]
            assert ranges == [None, "bytes=1000-"]
            assert bg.downloaded == len(BODY)
        else:  # the draft's 6.8.5.2 abandons (SN-2017-3)
            assert seen.type == "backgroundfetchfail" and seen.statuses() == [None]
            assert ranges == [None]


@both
async def test_offline_mid_body(edition, virtual_network, origin_server):
    origin_server.add("/big.bin", BODY, throttle=1024)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        await manager.fetch("offline", "/big.bin")
        await trio.sleep(1.5)
        virtual_network.set_online(False)
        await trio.sleep(30)
        if edition == "2017-10-12":  # the cut body abandons, offline too (SN-2017-3)
            assert probe.by_id["offline"].type == "backgroundfetchfail"
            assert len(origin_server.requests_for("/big.bin")) == 1
            return
        assert probe.by_id == {}
        virtual_network.set_online(True)
        seen = await probe.settled("offline")
        assert seen.type == SUCCESS[edition] and seen.statuses() == [200]
        assert len(origin_server.requests_for("/big.bin")) == 2


@both
async def test_offline_before_the_response_waits_for_the_network(
    edition, virtual_network, origin_server
):
    origin_server.add("/feature-name.txt", FEATURE)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        virtual_network.set_online(False)
        await manager.fetch("offline", "/feature-name.txt")
        await trio.sleep(30)
        assert probe.by_id == {}
        virtual_network.set_online(True)
        seen = await probe.settled("offline")
        assert seen.type == SUCCESS[edition] and seen.texts() == [FEATURE]


@both
async def test_download_total_exceeded(edition, virtual_network, origin_server):
    origin_server.add("/big.bin", BODY)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        bg = await manager.fetch("total", "/big.bin", download_total=100)
        seen = await probe.settled("total")
        await trio.sleep(1)
        # The download stops at downloadTotal (2017-10-12: filled from 6cf8c42).
        assert seen.type == "backgroundfetchfail"
        assert bg.downloaded <= 100
        if edition == "current":
            assert bg.failure_reason == "download-total-exceeded"


@both
async def test_network_error_of_an_upload_fails(edition, virtual_network, origin_server):
    upload = bgfetch.Request(
        "https://nowhere.test/upload",
        method="POST",
        body="data",
        headers={"Content-Type": "text/plain"},
    )
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        await manager.fetch("upload", [upload])
        seen = await probe.settled("upload")
        assert seen.type == "backgroundfetchfail" and seen.statuses() == [None]


@both
async def test_duplicate_id_rejects_with_type_error(edition, virtual_network, origin_server):
    origin_server.add("/slow.txt", FEATURE, delay=100)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        _, manager = await start(ua, edition)
        await manager.fetch("dup", "/slow.txt")
        with pytest.raises(TypeError):
            await manager.fetch("dup", "/slow.txt")
        assert await manager.get_ids() == ["dup"]


@both
async def test_empty_list_rejects_with_type_error(edition, virtual_network, origin_server):
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        _, manager = await start(ua, edition)
        with pytest.raises(TypeError):
            await manager.fetch("empty", [])
        assert await manager.get_ids() == []


@both
async def test_a_download_total_past_the_quota(edition, virtual_network, origin_server):
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        _, manager = await start(ua, edition)
        if edition == "2017-10-12":  # no bytes to store (SN-2017-17)
            bg = await manager.fetch("huge", "/feature-name.txt", download_total=2**53 - 1)
            assert bg.download_total == 2**53 - 1
            return
        with pytest.raises(bgfetch.QuotaExceededError):  # WPT's reading (SN-current-7)
            await manager.fetch("huge", "/feature-name.txt", download_total=2**53 - 1)
        assert await manager.get_ids() == []


@both
async def test_request_bodies_past_the_quota_reject(edition, virtual_network, origin_server):
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition, quota=10) as ua:
        _, manager = await start(ua, edition)
        upload = bgfetch.Request(f"{ORIGIN}/upload", method="POST", body=b"x" * 11)
        with pytest.raises(bgfetch.QuotaExceededError):
            await manager.fetch("huge", [upload])
        assert await manager.get_ids() == []


@both
async def test_get_and_get_ids(edition, virtual_network, origin_server):
    origin_server.add("/feature-name.txt", FEATURE, delay=10)
    async with bgfetch.open_user_agent(network=virtual_network, edition=edition) as ua:
        probe, manager = await start(ua, edition)
        assert await manager.get("x") is None
        assert await manager.get_ids() == []
        bg = await manager.fetch("x", "/feature-name.txt", download_total=16)
        got = await manager.get("x")
        assert got is bg
        assert (got.id, got.download_total, got.upload_total) == ("x", 16, 0)
        assert await manager.get_ids() == ["x"]
        await probe.settled("x")
        assert await manager.get("x") is None
        assert await manager.get_ids() == []


def _report_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "editions_report", ROOT / "scripts" / "editions_report.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_editions_md_is_what_the_generator_writes():
    report = _report_module()
    generated = report.render(report.collect())
    committed = (ROOT / "docs" / "editions.md").read_text()
    assert generated == committed, "docs/editions.md is stale: run `make docs`"
    for scenario in report.SCENARIOS:
        assert f"## {scenario.title}\n" in generated


def test_every_cell_of_docs_editions_md_says_where_it_comes_from():
    """Each cell names its source: the edition's text, a fill from a revision of the
    spec's history (a commit), or a bgfetch policy with its SPEC-NOTES.md id; and the
    2017-10-12 cells that say "draft" or "fill" are never the current spec's."""
    report = _report_module()
    notes = (ROOT / "SPEC-NOTES.md").read_text()
    for scenario in report.SCENARIOS:
        for edition, by_aspect in scenario.sources.items():
            for source in by_aspect.values():
                first = source.split(";")[0].split(" (")[0]
                if edition == "current":
                    assert first == "spec" or first.startswith("bgfetch SN-current-"), source
                else:
                    assert first == "draft" or first.startswith("fill "), source
                for commit in re.findall(r"\b[0-9a-f]{7}\b", source):
                    assert commit in notes, (scenario.title, commit)
                for id in re.findall(r"SN-[a-z0-9]+-[0-9]+", source):
                    assert f"### {id}." in notes, (scenario.title, id)
    headers = ("| Scenario ", "| | current ")
    rows = [
        line
        for line in (ROOT / "docs" / "editions.md").read_text().splitlines()
        if line.startswith("| ") and not line.startswith(headers)
    ]
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")][1:]
        for cell in cells:
            assert cell == "—" or cell.endswith("]*"), row



@both
async def test_storage_comes_back_to_the_quota_after_the_settled_event(
    virtual_network, origin_server, edition
):
    """Neither edition says when stored bytes are freed (SPEC-NOTES.md); bgfetch frees
    them once the settled event is over, so two fetches of 60% of the quota each, one
    after the other, both succeed."""
    origin_server.add("/a", BODY[:2400])
    origin_server.add("/b", BODY[:2400])
    async with bgfetch.open_user_agent(
        network=virtual_network, edition=edition, quota=4000
    ) as ua:
        probe, manager = await start(ua, edition)
        await manager.fetch("a", "/a")
        assert (await probe.settled("a")).type == SUCCESS[edition]
        await trio.sleep(1)
        assert ua.store.usage(manager.registration.origin) == 0
        await manager.fetch("b", "/b")
        seen = await probe.settled("b")
        assert seen.type == SUCCESS[edition]
        assert seen.statuses() == [200]
