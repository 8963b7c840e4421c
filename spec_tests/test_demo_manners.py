"""The demo's manners on a terminal (issue 11): Ctrl-C and SIGTERM stop it quietly with
130 / 143, ``--speed`` refuses what is not a positive finite number, the rate is in
simulated time, each service-worker event shows as it fires; and ``bgfetch fetch``
prints what the console says.  (A closed pipe: test_cli_fetch.py's broken-pipe test.)"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio
from rich.console import Console

from bgfetch import cli, demo
from bgfetch.command.fetch import FetchOptions, run_fetch
from bgfetch.testing import OriginServer


@pytest.mark.parametrize("speed", ["inf", "nan", "0", "-1", "-inf", "fast"])
def test_speed_refuses_what_is_not_a_positive_finite_number(capsys, speed):
    with pytest.raises(SystemExit) as exit:
        cli.main(["demo", f"--speed={speed}"])
    assert exit.value.code == 2
    assert (
        "--speed must be a positive, finite number of simulated seconds per real second, "
        f"not {speed}"
    ) in capsys.readouterr().err
    if speed != "fast":
        with pytest.raises(ValueError, match="positive, finite"):
            demo.main(speed=float(speed))  # before any clock or trio.run


@pytest.mark.parametrize("edition", ["current", "2017-10-12"])
async def test_each_service_worker_event_shows_as_it_fires_in_simulated_time(
    autojump_clock, edition
):
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False)
    assert await demo.run_demo(edition, console) == 0
    text = out.getvalue()
    settle = "backgroundfetchsuccess" if edition == "current" else "backgroundfetched"
    shown = re.findall(r"\[ *([0-9.]+) s\] service worker: (\w+)", text)
    assert [event for _, event in shown] == ["install", "activate", settle]
    # Stamped with the simulated time it fired at: the 6 MiB at 2 MiB/s take 3 seconds.
    assert float(shown[-1][0]) == pytest.approx(3.0, abs=0.2)
    # The rate: simulated bytes per simulated second (2 MiB/s), though no real time passed.
    assert "2.1 MB/s" in text


def demo_process(tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bgfetch", "demo", "--speed", "1"],
        cwd=tmp_path,
        env=dict(os.environ, COLUMNS="100"),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_the_demo_quietly(tmp_path, signum, status):
    process = demo_process(tmp_path)
    assert process.stdout is not None
    while "service worker: activate" not in (line := process.stdout.readline()):
        assert line, process.communicate()[1]  # running, its worker active
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == status
    assert stderr == ""  # no traceback
    assert stdout.endswith(f"bgfetch demo: stopped by {signal.Signals(signum).name}\n")


def test_a_keyboard_interrupt_inside_trio_exits_130_without_a_traceback(monkeypatch, capsys):
    """Ctrl-C before the demo listens for it: trio raises it (in a group) out of run()."""

    def interrupted(edition, speed):
        async def main():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.sleep_forever)
                raise KeyboardInterrupt

        return trio.run(main)

    monkeypatch.setattr(demo, "main", interrupted)
    assert cli.main(["demo"]) == 130
    assert "Traceback" not in capsys.readouterr().err


async def test_bgfetch_fetch_prints_what_the_console_says(tmp_path):
    server = OriginServer()
    server.add("/ep.mp3", b"x" * 1000)
    stderr = io.StringIO()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(server.serve_tcp, 0)
        origin = f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}"
        options = FetchOptions(
            urls=[f"{origin}/ep.mp3", f"{origin}/missing.mp3", "http://127.0.0.1:1/other.mp3"],
            id="ep",
            out=tmp_path,
        )
        with trio.fail_after(20):
            status = await run_fetch(options, stdout=io.StringIO(), stderr=stderr)
        nursery.cancel_scope.cancel()
    assert status == 1
    lines = stderr.getvalue().splitlines()
    assert (
        f"console error: {origin}/missing.mp3: Failed to load resource: the server responded "
        "with a status of 404 (Not Found)"
    ) in lines
    [refused] = [line for line in lines if "127.0.0.1:1/other.mp3" in line]
    assert refused.startswith("console error: http://127.0.0.1:1/other.mp3: ")
    assert lines[-1] == "bgfetch fetch: background fetch 'ep' failed: fetch-error"
