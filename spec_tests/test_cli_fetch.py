"""``bgfetch fetch`` (and list / show / abort) against an OriginServer on 127.0.0.1.

Most tests call the command's async entry point (``run_fetch``) in-process, with the
server on loopback in the same trio run; a few run ``python -m bgfetch`` for what only
a process shows: exit codes, JSON on stdout, signals and a broken pipe.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

import bgfetch
from bgfetch import cli
from bgfetch.command import stored
from bgfetch.command.fetch import FetchOptions, run_fetch
from bgfetch.command.files import file_name_for, sanitise
from bgfetch.command.output import Output
from bgfetch.testing import OriginServer, open_window_with_worker

BODY = bytes(range(256)) * 1000  # 256,000 bytes
TEXT = b"hello, background fetch\n"


async def serve(nursery: trio.Nursery, server: OriginServer) -> str:
    """Serve *server* on 127.0.0.1 (plain http); its origin."""
    listeners = await nursery.start(server.serve_tcp, 0)
    return f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}"


async def run(server: OriginServer, paths: list[str], out: Path, **options: Any) -> Any:
    """Run ``bgfetch fetch`` in-process on *paths* of *server*; status, stdout, stderr and
    (with ``json=True``, the default) the parsed JSON object."""
    options.setdefault("json", True)
    stdout, stderr = io.StringIO(), io.StringIO()
    async with trio.open_nursery() as nursery:
        origin = await serve(nursery, server)
        urls = [origin + path for path in paths]
        opts = FetchOptions(urls=urls, id=options.pop("id", "job"), out=out, **options)
        with trio.fail_after(10):
            status = await run_fetch(opts, stdout=stdout, stderr=stderr)
        nursery.cancel_scope.cancel()
    result = json.loads(stdout.getvalue()) if opts.json and stdout.getvalue() else None
    return status, stdout.getvalue(), stderr.getvalue(), result


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


# -- in-process --------------------------------------------------------------------------


async def test_success_writes_every_body_with_its_sha256(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/media/ep-5.mp3", BODY, content_type="audio/mpeg")
    server.add("/media/notes.txt", TEXT)
    out = tmp_path / "out"
    status, _, stderr, result = await run(
        server, ["/media/ep-5.mp3", "/media/notes.txt"], out, title="Episode 5"
    )
    assert status == 0, stderr
    assert (out / "ep-5.mp3").read_bytes() == BODY
    assert (out / "notes.txt").read_bytes() == TEXT
    assert result["result"] == "success" and result["failure_reason"] == ""
    assert result["event"] == "backgroundfetchsuccess"
    assert result["edition"] == "current" and result["id"] == "job"
    assert result["downloaded"] == len(BODY) + len(TEXT)
    assert (result["uploaded"], result["upload_total"], result["download_total"]) == (0, 0, 0)
    assert [
        (r["status"], r["size"], r["sha256"], Path(r["path"]).name) for r in result["records"]
    ] == [
        (200, len(BODY), sha256(BODY), "ep-5.mp3"),
        (200, len(TEXT), sha256(TEXT), "notes.txt"),
    ]
    assert result["records"][0]["url"].endswith("/media/ep-5.mp3")


async def test_taken_names_get_numbers_and_no_file_is_replaced(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/a.tar.gz", TEXT)
    server.add("/a.tar.gz?v=2", BODY)
    (tmp_path / "a.tar.gz").write_bytes(b"mine")
    status, _, stderr, result = await run(server, ["/a.tar.gz", "/a.tar.gz?v=2"], tmp_path)
    assert status == 0, stderr
    assert (tmp_path / "a.tar.gz").read_bytes() == b"mine"
    assert [Path(r["path"]).name for r in result["records"]] == ["a.tar (1).gz", "a.tar (2).gz"]
    assert (tmp_path / "a.tar (1).gz").read_bytes() == TEXT
    assert (tmp_path / "a.tar (2).gz").read_bytes() == BODY


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/../../etc/passwd", "passwd"),  # the URL parser removes the dot segments
        ("/files/%2e%2e", "index"),  # %2e%2e is a dot segment too
        ("/..%2f..%2fetc%2fpasswd", "_.._etc_passwd"),  # decoded: "/" becomes "_"
        ("/a%00b%5c..%5cc", "a_b_.._c"),  # NUL and backslashes
        ("/.bashrc", "bashrc"),  # no hidden files
        ("/...", "index"),
        ("/", "index"),
    ],
)
async def test_a_hostile_url_path_stays_in_out(tmp_path: Path, path: str, name: str) -> None:
    server = OriginServer()
    server.add(path.replace("/../..", ""), TEXT)  # where the request arrives
    server.add("/", TEXT)
    out = tmp_path / "deep" / "out"
    status, _, stderr, result = await run(server, [path], out)
    assert status == 0, stderr
    saved = Path(result["records"][0]["path"])
    assert saved.parent == out.resolve() and saved.name == name
    assert files_under(tmp_path) == {f"deep/out/{name}"}
    assert saved.read_bytes() == TEXT


def test_file_names_from_urls() -> None:
    assert file_name_for("https://x.test/a/b/ep%205.mp3?x=1#f") == "ep 5.mp3"
    assert file_name_for("https://x.test/dir/") == "index"
    assert sanitise("\x00\x01..\x7f") == "__.._"
    assert sanitise(" . .. ") == "index"
    long = sanitise("x" * 300 + ".mp3")
    assert long.endswith(".mp3") and len(long.encode()) <= 200


async def test_a_404_fails_with_bad_status(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/ok.txt", TEXT)
    server.add("/gone.txt", b"not here", status=404)
    status, _, stderr, result = await run(server, ["/ok.txt", "/gone.txt"], tmp_path)
    assert status == 1
    assert "failed: bad-status" in stderr
    assert result["result"] == "failure" and result["failure_reason"] == "bad-status"
    assert result["event"] == "backgroundfetchfail"
    ok, gone = result["records"]
    assert (ok["status"], ok["sha256"]) == (200, sha256(TEXT))
    assert (gone["status"], gone["path"], gone["sha256"]) == (404, None, None)
    assert files_under(tmp_path) == {"ok.txt"}  # the 404's body is not saved


async def test_download_total_exceeded_fails(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/big.bin", BODY)
    status, _, _, result = await run(server, ["/big.bin"], tmp_path, download_total=1000)
    assert status == 1
    assert result["failure_reason"] == "download-total-exceeded"
    assert result["download_total"] == 1000


async def test_the_2017_10_12_edition_saves_the_settled_fetches(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/ep.mp3", BODY)
    server.add("/ep.txt", b"x")
    status, _, stderr, result = await run(
        server, ["/ep.mp3", "/ep.txt"], tmp_path, edition="2017-10-12"
    )
    # The draft has no failure reasons: its result is read from the event.
    assert status == 0, stderr
    assert result["edition"] == "2017-10-12" and result["event"] == "backgroundfetched"
    assert (result["result"], result["failure_reason"]) == ("success", None)
    assert [(r["status"], r["sha256"]) for r in result["records"]] == [
        (200, sha256(BODY)),
        (200, sha256(b"x")),
    ]
    assert files_under(tmp_path) == {"ep.mp3", "ep.txt"}
    assert (tmp_path / "ep.mp3").read_bytes() == BODY


async def test_the_2017_10_12_edition_fails_on_a_404(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/ep.mp3", BODY, delay=5)
    server.add("/gone", b"x", status=404)
    status, _, _, result = await run(server, ["/ep.mp3", "/gone"], tmp_path, edition="2017-10-12")
    # A status that is not ok abandons (filled from 4a2cc52; SPEC-NOTES.md SN-2017-9).
    assert status == 1
    assert result["event"] == "backgroundfetchfail"
    assert (result["result"], result["failure_reason"]) == ("failure", None)
    assert [r["status"] for r in result["records"]] == [None, None]
    assert files_under(tmp_path) == set()


WORKER_MODULE = """
import trio
import bgfetch

worker = bgfetch.ServiceWorker("user")
seen = []
not_a_worker = 42
broken = bgfetch.ServiceWorker("broken")
drafted = bgfetch.ServiceWorker("drafted")  # written for the 2017-10-12 draft
drafted.add_event_listener("backgroundfetched", lambda event: None)

@broken.on("backgroundfetchsuccess")
async def on_success_broken(event):
    raise ValueError("disk on fire")

@worker.on("backgroundfetchsuccess")
async def on_success(event):
    record = await event.registration.match("/ep.mp3")
    response = await record.response_ready
    await trio.sleep(0.2)  # the command waits for this handler
    seen.append((event.type, len(await response.bytes())))
"""


@pytest.fixture
def worker_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module of the user's own, importable from the current directory."""
    name = f"user_worker_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(WORKER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


async def test_worker_option_registers_the_users_service_worker(
    tmp_path: Path, worker_module: str
) -> None:
    server = OriginServer()
    server.add("/ep.mp3", BODY)
    out = tmp_path / "out"
    status, _, stderr, result = await run(
        server, ["/ep.mp3"], out, worker=f"{worker_module}:worker"
    )
    assert status == 0, stderr
    assert sys.modules[worker_module].seen == [("backgroundfetchsuccess", len(BODY))]
    assert result["records"] == [
        {
            "url": result["records"][0]["url"],
            "status": 200,
            "size": len(BODY),
            "sha256": None,
            "path": None,
        }
    ]
    assert files_under(out) == set()  # the user's worker saves nothing


async def test_a_handler_that_raises_makes_it_exit_1(tmp_path: Path, worker_module: str) -> None:
    server = OriginServer()
    server.add("/ep.mp3", TEXT)
    status, _, stderr, result = await run(
        server, ["/ep.mp3"], tmp_path, worker=f"{worker_module}:broken"
    )
    assert status == 1 and result["result"] == "success"
    assert "backgroundfetchsuccess handler raised ValueError: disk on fire" in stderr
    # Said by the console as it happened, with its traceback.
    assert (
        "console error: Uncaught ValueError: disk on fire (in a service worker's "
        "backgroundfetchsuccess handler)\nTraceback (most recent call last):"
    ) in stderr
    assert 'raise ValueError("disk on fire")' in stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "expected MODULE:OBJECT"),
        ("no_such_module_xyz:worker", "cannot import no_such_module_xyz"),
        ("{module}:missing", "has no missing"),
        ("{module}:not_a_worker", "not_a_worker is a int, not a bgfetch.ServiceWorker"),
        ("{module}:drafted", "'backgroundfetched', an event of the 2017-10-12 edition"),
    ],
)
async def test_a_bad_worker_is_bad_usage(
    tmp_path: Path, worker_module: str, spec: str, message: str
) -> None:
    spec = spec.format(module=worker_module)
    status, stdout, stderr, _ = await run(OriginServer(), ["/x"], tmp_path, worker=spec)
    assert status == 2 and stdout == ""
    assert stderr.count("\n") == 1 and f"--worker {spec}" in stderr and message in stderr


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["fetch", "ftp://127.0.0.1/x", "--id", "x"], "'ftp://127.0.0.1/x'"),
        (["fetch", "http://[::1", "--id", "x"], "'http://[::1'"),
        (["fetch", "not a url", "--id", "x"], "'not a url'"),
        (["fetch", "http://example.com/x", "--id", "x"], "not potentially trustworthy"),
        (["fetch", "http://127.0.0.1/", "--id", ""], "--id"),
        (["fetch", "http://127.0.0.1/", "--id", "x", "--download-total", "lots"], "'lots'"),
        (["fetch", "http://127.0.0.1/", "--id", "x", "--download-total", "-1"], "-1"),
        (["fetch", "http://127.0.0.1/", "--id", "x", "--edition", "1999"], "'1999'"),
        (["fetch", "http://127.0.0.1/"], "--id"),
        (["fetch", "--id", "x"], "URL"),
    ],
)
def test_bad_input_exits_2_naming_it(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    try:
        status = cli.main([*argv, "--no-store", "--out", str(tmp_path)])
    except SystemExit as exit:  # argparse
        status = int(exit.code or 0)
    err = capsys.readouterr().err
    assert status == 2
    assert named in err.splitlines()[-1]
    assert "Traceback" not in err


async def test_plain_lines_when_stdout_is_not_a_terminal(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/big.bin", BODY * 4, throttle=4_000_000)
    server.add("/small.txt", TEXT)
    status, stdout, _, _ = await run(
        server, ["/big.bin", "/small.txt"], tmp_path, json=False, id="ep"
    )
    assert status == 0
    lines = stdout.splitlines()
    assert "\x1b" not in stdout  # no terminal control codes
    assert lines[0] == "ep: fetching 2 requests"
    percents = [int(m[1]) for line in lines if (m := re.match(r"ep: (\d+)% \(", line))]
    assert percents == sorted(set(percents)) and percents[-1] == 100
    assert all(p % 10 == 0 for p in percents) and len(percents) >= 3
    assert any(line.endswith("/small.txt: status 200, 24 bytes") for line in lines)
    assert any(line.endswith("/big.bin: status 200, 1,024,000 bytes") for line in lines)
    assert f"ep: success (backgroundfetchsuccess), {4 * len(BODY) + len(TEXT):,} bytes" in lines
    assert f"  saved {(tmp_path / 'small.txt').resolve()} (24 bytes)" in lines


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_a_live_display_on_a_terminal(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/big.bin", BODY * 4, throttle=4_000_000)
    server.add("/small.txt", TEXT)
    terminal = Terminal()
    async with trio.open_nursery() as nursery:
        origin = await serve(nursery, server)
        options = FetchOptions(
            [origin + "/big.bin", origin + "/small.txt"], "ep", title="Two files", out=tmp_path
        )
        assert await run_fetch(options, stdout=terminal, stderr=io.StringIO()) == 0
        nursery.cancel_scope.cancel()
    screen = terminal.getvalue()
    assert "\x1b[" in screen  # drawn in place
    last = screen.rsplit("Two files", 1)[1]
    assert "big.bin" in last and "small.txt" in last and "━" in last
    assert "1.0/1.0 MB" in last and "24/24 bytes" in last


async def test_quiet_prints_nothing_but_errors(tmp_path: Path) -> None:
    server = OriginServer()
    server.add("/a.txt", TEXT)
    server.add("/b.txt", TEXT, status=404)
    status, stdout, stderr, _ = await run(server, ["/a.txt"], tmp_path, json=False, quiet=True)
    assert (status, stdout, stderr) == (0, "", "")
    status, stdout, stderr, _ = await run(server, ["/b.txt"], tmp_path, json=False, quiet=True)
    assert (status, stdout) == (1, "")
    # The console's error as it happened, then the outcome.
    assert re.fullmatch(
        r"console error: http://127\.0\.0\.1:\d+/b\.txt: Failed to load resource: the "
        r"server responded with a status of 404 \(Not Found\)\n"
        r"bgfetch fetch: background fetch 'job' failed: bad-status\n",
        stderr,
    ), stderr


# -- list / show / abort -----------------------------------------------------------------


async def test_list_and_abort_read_and_act_on_the_displays(
    user_agent: bgfetch.UserAgent, origin_server: OriginServer
) -> None:
    origin_server.add("/slow.bin", BODY, throttle=1000)
    _, registration = await open_window_with_worker(user_agent, bgfetch.ServiceWorker())
    await registration.background_fetch.fetch("slow", "/slow.bin", title="Slow")
    await trio.sleep(5)
    display = user_agent.ui.find("slow")
    [line] = stored.list_lines(user_agent.ui.displays)
    assert line.startswith("slow\thttps://example.test\tSlow\t") and line.endswith("\trunning")
    assert stored.describe(display)["downloaded"] > 0
    assert await stored.abort_display(display) == "failure"
    assert display.bg_fetch.failure_reason == "aborted"
    assert stored.list_lines(user_agent.ui.displays)[0].endswith("\tfailure")


def test_each_edition_has_a_default_store_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("platformdirs.user_data_dir", lambda name: str(tmp_path / name))
    assert stored.default_store() == tmp_path / "bgfetch" / "store"
    assert stored.default_store("2017-10-12") == tmp_path / "bgfetch" / "store-2017-10-12"
    assert stored.resolve_store(None, "2017-10-12") == stored.default_store("2017-10-12")
    assert stored.resolve_store("elsewhere", "2017-10-12") == Path("elsewhere")


def test_looking_at_a_store_that_does_not_exist_creates_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = str(tmp_path / "store")
    assert cli.main(["list", "--store", store]) == 0
    assert capsys.readouterr().out == "no background fetches\n"
    assert cli.main(["list", "--store", store, "--json"]) == 0
    assert capsys.readouterr().out == "[]\n"
    for command in ("show", "abort"):
        assert cli.main([command, "x", "--store", store]) == 1
        assert capsys.readouterr().err == (
            f"bgfetch {command}: no background fetch with id 'x' is displayed (displayed: none)\n"
        )
    assert not (tmp_path / "store").exists()


# -- with a store ------------------------------------------------------------------------

EDITIONS = pytest.mark.parametrize("edition", ["current", "2017-10-12"])


class StopMidway(io.StringIO):
    """A stdout that cancels *scope* at the second progress line ("job: 20% (...)"):
    the download is well begun, and far from over."""

    def __init__(self, scope: trio.CancelScope) -> None:
        super().__init__()
        self.scope = scope
        self.progress_lines = 0

    def write(self, text: str) -> int:
        self.progress_lines += "% (" in text
        if self.progress_lines == 2:
            self.scope.cancel()
        return super().write(text)


async def stored_command(
    command: str, store: Path, id: str | None = None, *, edition: str = "current", **options: Any
) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await stored.run_stored(
        command, store, Output(out), Output(err), id=id, edition=edition, **options
    )
    return status, out.getvalue() + err.getvalue()


@EDITIONS
async def test_a_restarted_command_resumes_from_the_store(tmp_path: Path, edition: str) -> None:
    server = OriginServer()
    server.add("/big.bin", BODY * 4, throttle=2_000_000, etag='"v1"')
    store, out = tmp_path / "store", tmp_path / "out"
    async with trio.open_nursery() as nursery:
        origin = await serve(nursery, server)
        options = FetchOptions([origin + "/big.bin"], "job", out=out, store=store, edition=edition)
        with trio.CancelScope() as scope:  # the first run stops midway, as if killed
            await run_fetch(options, stdout=StopMidway(scope), stderr=io.StringIO())
        assert files_under(out) == set()
        status, listing = await stored_command("list", store, edition=edition)
        assert status == 0 and listing.startswith(f"job\t{origin}\t-\t")
        assert listing.rstrip().endswith("running")
        stdout, stderr = io.StringIO(), io.StringIO()
        assert await run_fetch(options, stdout=stdout, stderr=stderr) == 0, stderr.getvalue()
        nursery.cancel_scope.cancel()
    assert "job: resuming the background fetch started earlier" in stdout.getvalue()
    assert (out / "big.bin").read_bytes() == BODY * 4
    first, *_, last = server.requests_for("/big.bin")
    assert first.header("range") is None
    assert re.fullmatch(r"bytes=[1-9][0-9]*-", last.header("range") or "")
    assert last.header("if-range") == '"v1"'


@EDITIONS
async def test_list_show_and_abort_download_nothing_and_abort_is_recorded(
    tmp_path: Path, edition: str
) -> None:
    server = OriginServer()
    server.add("/big.bin", BODY * 4, throttle=2_000_000, etag='"v1"')
    store, out = tmp_path / "store", tmp_path / "out"
    async with trio.open_nursery() as nursery:
        origin = await serve(nursery, server)
        options = FetchOptions([origin + "/big.bin"], "job", out=out, store=store, edition=edition)
        with trio.CancelScope() as scope:
            await run_fetch(options, stdout=StopMidway(scope), stderr=io.StringIO())
        asked = len(server.requests)
        status, listing = await stored_command("list", store, edition=edition, as_json=True)
        [before] = json.loads(listing)
        assert (status, before["result"]) == (0, "")
        # However long one looks, the restored fetch downloads nothing: it is offline.
        async with stored.looking_at(store, edition) as ui:
            await trio.sleep(0.5)
            assert ui.find("job").downloaded == before["downloaded"]
        assert await stored_command("show", store, "job", edition=edition, as_json=True) == (
            0,
            json.dumps(before) + "\n",
        )
        assert await stored_command("abort", store, "job", edition=edition) == (
            0,
            "job: aborted; its service worker gets backgroundfetchabort at the next "
            f"bgfetch fetch from {origin}\n",
        )
        assert len(server.requests) == asked
        # The abort is in the store: opened again, the fetch has settled.
        status, shown = await stored_command("show", store, "job", edition=edition, as_json=True)
        assert json.loads(shown) == dict(before, result="failure")
        assert await stored_command("abort", store, "job", edition=edition) == (
            1,
            "bgfetch abort: 'job' has already settled (failure)\n",
        )
        assert len(server.requests) == asked
        nursery.cancel_scope.cancel()


@EDITIONS
async def test_abort_from_the_store_then_the_command_handles_the_abort(
    tmp_path: Path, edition: str
) -> None:
    server = OriginServer()
    server.add("/big.bin", BODY * 4, throttle=2_000_000, etag='"v1"')
    store, out = tmp_path / "store", tmp_path / "out"
    async with trio.open_nursery() as nursery:
        origin = await serve(nursery, server)
        options = FetchOptions([origin + "/big.bin"], "job", out=out, store=store, edition=edition)
        with trio.CancelScope() as scope:
            await run_fetch(options, stdout=StopMidway(scope), stderr=io.StringIO())
        options.json = True
        assert await stored_command("show", store, "missing", edition=edition) == (
            1,
            "bgfetch show: no background fetch with id 'missing' is displayed (displayed: 'job')\n",
        )
        assert (await stored_command("abort", store, "job", edition=edition))[0] == 0
        # The abort event was not handled (no worker ran): the next run handles it.
        stdout, stderr = io.StringIO(), io.StringIO()
        assert await run_fetch(options, stdout=stdout, stderr=stderr) == 1
        result = json.loads(stdout.getvalue())
        assert result["event"] == "backgroundfetchabort"
        assert result["failure_reason"] == ("aborted" if edition == "current" else None)
        assert "has settled; handling its completion event" in stderr.getvalue()
        # That was the end of it: the store no longer holds it, and the run after
        # starts a new background fetch.
        assert await stored_command("list", store, edition=edition) == (
            0,
            "no background fetches\n",
        )
        stdout = io.StringIO()
        assert await run_fetch(options, stdout=stdout, stderr=io.StringIO()) == 0
        success = "backgroundfetchsuccess" if edition == "current" else "backgroundfetched"
        assert json.loads(stdout.getvalue())["event"] == success
        nursery.cancel_scope.cancel()
    assert files_under(out) == {"big.bin"}
    assert (out / "big.bin").read_bytes() == BODY * 4


# -- as a process ------------------------------------------------------------------------


@pytest.fixture
def threaded_server() -> Iterator[tuple[OriginServer, str]]:
    """An OriginServer on 127.0.0.1 in a thread of its own (its own trio run)."""
    server = OriginServer()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        with trio.CancelScope() as scope:
            state["scope"], state["token"] = scope, trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as nursery:
                state["origin"] = await serve(nursery, server)
                ready.set()

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True)
    thread.start()
    assert ready.wait(5)
    yield server, state["origin"]
    trio.from_thread.run_sync(state["scope"].cancel, trio_token=state["token"])
    thread.join(5)


def bgfetch_process(args: list[str], tmp_path: Path, **popen: Any) -> subprocess.Popen[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"), COLUMNS="100")
    return subprocess.Popen(
        [sys.executable, "-m", "bgfetch", *args],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def test_the_process_prints_json_and_exits_1_on_failure(
    threaded_server: tuple[OriginServer, str], tmp_path: Path
) -> None:
    server, origin = threaded_server
    server.add("/ok.bin", BODY)
    server.add("/missing", b"no", status=404)
    process = bgfetch_process(
        ["fetch", f"{origin}/ok.bin", f"{origin}/missing", "--id", "p", "--json", "--no-store"],
        tmp_path,
    )
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 1, stderr
    result = json.loads(stdout)
    assert (result["result"], result["failure_reason"]) == ("failure", "bad-status")
    assert result["records"][0]["sha256"] == sha256(BODY)
    assert (tmp_path / "ok.bin").read_bytes() == BODY
    assert "Traceback" not in stderr and "failed: bad-status" in stderr


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_it_within_a_second(
    threaded_server: tuple[OriginServer, str], tmp_path: Path, signum: int, status: int
) -> None:
    server, origin = threaded_server
    server.add("/slow.bin", BODY * 8, throttle=500_000)  # 4 seconds
    process = bgfetch_process(["fetch", f"{origin}/slow.bin", "--id", "s", "--no-store"], tmp_path)
    assert process.stdout is not None
    while "%" not in (line := process.stdout.readline()):  # mid-download
        assert line, process.communicate()[1]
    started = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=5)
    assert time.monotonic() - started < 1
    assert process.returncode == status
    assert "Traceback" not in stderr and stderr == ""
    assert stdout.endswith(f"bgfetch fetch: stopped by {signal.Signals(signum).name}\n")
    assert files_under(tmp_path) == set()  # nothing saved, nothing half-written


@pytest.mark.parametrize("command", ["fetch", "demo"])
def test_a_broken_pipe_ends_quietly(
    threaded_server: tuple[OriginServer, str], tmp_path: Path, command: str
) -> None:
    server, origin = threaded_server
    server.add("/slow.bin", BODY * 8, throttle=2_000_000)
    args = ["fetch", f"{origin}/slow.bin", "--id", "b", "--no-store"]
    process = bgfetch_process(args if command == "fetch" else ["demo"], tmp_path)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=10) == 141
    assert process.stderr.read() == ""


@EDITIONS
@pytest.mark.parametrize("can_link", [True, False], ids=["linked", "copied"])
async def test_a_stored_body_is_saved_without_streaming_it_again(
    tmp_path: Path, edition: str, can_link: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a store, a complete body is already a file: --out gets a second name for it
    (a hard link), or a copy where linking fails; either way it outlives the store's
    own clean-up (the store forgets the body, a restarted store removes files it no
    longer knows)."""
    linked: list[tuple[Path, Path]] = []
    real_link = os.link

    def link(source: Any, target: Any) -> None:
        if not can_link:
            raise OSError(18, "Invalid cross-device link")  # EXDEV
        linked.append((Path(source), Path(target)))
        real_link(source, target)

    monkeypatch.setattr(os, "link", link)
    server = OriginServer()
    server.add("/ep.mp3", BODY)
    server.add("/notes.txt", TEXT)
    store, out = tmp_path / "store", tmp_path / "out"
    status, _, stderr, result = await run(
        server, ["/ep.mp3", "/notes.txt"], out, store=store, edition=edition
    )
    assert status == 0, stderr
    assert [(r["size"], r["sha256"]) for r in result["records"]] == [
        (len(BODY), sha256(BODY)),
        (len(TEXT), sha256(TEXT)),
    ]
    if can_link:
        assert [t.name for _, t in linked] == ["ep.mp3", "notes.txt"]
        assert {s.parent.resolve() for s, _ in linked} == {(store / "bodies").resolve()}
    else:
        assert linked == []
    server.add("/other.txt", TEXT)  # a second run reopens the store, which cleans up
    status, _, stderr, _ = await run(server, ["/other.txt"], out, store=store, edition=edition)
    assert status == 0, stderr
    assert (out / "ep.mp3").read_bytes() == BODY
    assert (out / "notes.txt").read_bytes() == TEXT
