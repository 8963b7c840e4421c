"""``bgfetch fetch`` killed mid-download, again and again, then let finish.

The command runs as a process (``python -m bgfetch fetch URL --store DIR ...``) against
an OriginServer on 127.0.0.1, in a thread of the test's own: 4 MiB, throttled to
2 MiB/s, with a strong ETag.  The test polls the size of the body file under
``DIR/bodies`` and SIGKILLs the process once it passed a random threshold (seeded, so
a failure can be replayed: ``BGFETCH_CRASH_SEED=N``); nothing gets to clean up.  Then
it runs the same command again.  After four kills the last run finishes.

What must hold: the file the service worker saved is the resource, byte for byte;
every run after the first asked for the rest (``Range: bytes=N-`` with N > 0, and
``If-Range`` with the ETag), N growing from run to run; and exactly one completion
event fired across all the runs.  The service worker (``--worker``) is a module of
the test's: on each completion event it appends one line to the file named by
``$CRASH_EVENTS`` and streams the records' bodies into ``$CRASH_OUT``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from bgfetch import cli
from bgfetch.testing import OriginServer

SIZE = 4 * 2**20
RATE = 2 * 2**20  # bytes per second
ETAG = '"crash-v1"'
KILLS = 4
SEED = int(os.environ.get("BGFETCH_CRASH_SEED", "20171012"))
TIMEOUT = 30.0  # seconds for any one condition: generous, only a hang meets it

WORKER = """
import hashlib, json, os
import bgfetch

worker = bgfetch.ServiceWorker("crash-test")


async def on_completion(event):
    saved = []
    for record in await event.registration.match_all():
        response = await record.response_ready
        name = str(record.request.url).rsplit("/", 1)[-1]
        digest, size = hashlib.sha256(), 0
        # "xb": a second completion event would find the file there and fail loudly.
        with open(os.path.join(os.environ["CRASH_OUT"], name), "xb") as file:
            async for chunk in response:
                digest.update(chunk)
                size += len(chunk)
                file.write(chunk)
        saved.append({"name": name, "size": size, "sha256": digest.hexdigest()})
    line = {"type": event.type, "id": event.registration.id, "saved": saved}
    with open(os.environ["CRASH_EVENTS"], "a") as log:
        log.write(json.dumps(line) + "\\n")


for name in ("backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"):
    worker.add_event_listener(name, on_completion)
"""


@pytest.fixture
def server() -> Iterator[tuple[OriginServer, str]]:
    """An OriginServer on 127.0.0.1 in a thread of its own (its own trio run)."""
    origin_server = OriginServer()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        with trio.CancelScope() as scope:
            state["scope"], state["token"] = scope, trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as nursery:
                listeners = await nursery.start(origin_server.serve_tcp, 0)
                state["origin"] = f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}"
                ready.set()

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True)
    thread.start()
    assert ready.wait(5)
    yield origin_server, state["origin"]
    trio.from_thread.run_sync(state["scope"].cancel, trio_token=state["token"])
    thread.join(5)


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str]) -> None:
    """Poll *condition* until it holds; fail naming *what* if the process ended first,
    or after TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the process exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"waited {TIMEOUT} s for {what}")
        time.sleep(0.002)


def stored_size(store: Path) -> int:
    """The size of the largest body file in *store* (there is one: one record)."""
    try:
        return max((p.stat().st_size for p in (store / "bodies").iterdir()), default=0)
    except FileNotFoundError:  # not created yet, or a file went between listing and stat
        return 0


def thresholds(rng: random.Random) -> list[int]:
    """Where to kill: one random byte count in each of KILLS equal bands of 5%-80% of
    the body, so that each run has something left to download (a fifth of the body,
    0.4 s, is the margin for a slow poll)."""
    band = 0.75 / KILLS
    return [int(SIZE * (0.05 + band * (i + rng.random()))) for i in range(KILLS)]


def test_killed_again_and_again_it_resumes_and_finishes(
    server: tuple[OriginServer, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    origin_server, origin = server
    body = random.Random(SEED).randbytes(SIZE)
    origin_server.add("/big.bin", body, throttle=RATE, etag=ETAG)
    (tmp_path / "crash_worker.py").write_text(WORKER)
    store, out, saved, events = (
        tmp_path / "store",
        tmp_path / "out",
        tmp_path / "saved",
        tmp_path / "events.jsonl",
    )
    saved.mkdir()
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(tmp_path / "data"),
        CRASH_OUT=str(saved),
        CRASH_EVENTS=str(events),
    )
    argv = [
        sys.executable,
        "-m",
        "bgfetch",
        "fetch",
        f"{origin}/big.bin",
        "--id",
        "crash",
        "--store",
        str(store),
        "--out",
        str(out),
        "--worker",
        "crash_worker:worker",
        "--json",
    ]
    kill_at = thresholds(random.Random(SEED))
    context = f"seed {SEED}, kills at {kill_at}"
    starts: list[int] = []  # where each run's requests begin in the server's log

    def start(run: int) -> subprocess.Popen[str]:
        starts.append(len(origin_server.requests))
        with (tmp_path / f"stdout-{run}").open("w") as stdout:
            with (tmp_path / f"stderr-{run}").open("w") as stderr:
                return subprocess.Popen(
                    argv, cwd=tmp_path, env=env, text=True, stdout=stdout, stderr=stderr
                )

    for run, threshold in enumerate(kill_at):
        process = start(run)
        # Past this run's own request (so a run that starts beyond the threshold still
        # asks before it dies), then past the threshold: kill it, mid-download.
        wait_for(lambda: len(origin_server.requests) > starts[-1], f"run {run}'s request", process)
        wait_for(
            lambda at=threshold: stored_size(store) >= at, f"{threshold} bytes stored", process
        )
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=TIMEOUT) == -signal.SIGKILL
        assert stored_size(store) < SIZE, context

    process = start(KILLS)
    status = process.wait(timeout=TIMEOUT)
    stderr = (tmp_path / f"stderr-{KILLS}").read_text()
    assert status == 0, f"{context}\n{stderr}"

    # The body, byte for byte, from the file the service worker wrote.
    assert hashlib.sha256((saved / "big.bin").read_bytes()).hexdigest() == (
        hashlib.sha256(body).hexdigest()
    ), context
    result = json.loads((tmp_path / f"stdout-{KILLS}").read_text())
    assert (result["result"], result["event"]) == ("success", "backgroundfetchsuccess")
    assert result["downloaded"] == SIZE and result["records"][0]["size"] == SIZE
    assert "resuming the background fetch started earlier" in stderr

    # Every run after the first asked for the rest, with If-Range; the rest shrank.
    runs = [
        origin_server.requests[begin:end]
        for begin, end in zip(starts, [*starts[1:], len(origin_server.requests)], strict=True)
    ]
    assert all(requests for requests in runs), context
    assert runs[0][0].header("range") is None
    offsets = []
    for requests in runs[1:]:
        for request in requests:
            range_header = request.header("range") or ""
            assert range_header.startswith("bytes=") and range_header.endswith("-"), context
            assert request.header("if-range") == ETAG, context
        offsets.append(int(requests[0].header("range")[len("bytes=") : -1]))
    assert 0 < offsets[0] and offsets == sorted(offsets) and offsets[-1] < SIZE, context
    assert len(set(offsets)) == len(offsets), context

    # One completion event, across every run.
    [line] = events.read_text().splitlines()
    assert json.loads(line) == {
        "type": "backgroundfetchsuccess",
        "id": "crash",
        "saved": [{"name": "big.bin", "size": SIZE, "sha256": hashlib.sha256(body).hexdigest()}],
    }

    # And the store is done with it.
    capsys.readouterr()
    assert cli.main(["list", "--store", str(store)]) == 0
    assert capsys.readouterr().out == "no background fetches\n"
    assert not list((store / "bodies").iterdir())
