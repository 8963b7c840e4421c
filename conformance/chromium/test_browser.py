"""Launching and ending the browser (browser.py) with a stand-in for Chromium: a small
program given as $BGFETCH_CHROMIUM that behaves as Chromium does at start (writes
DevToolsActivePort into --user-data-dir) or fails as it can. No browser needed."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import trio
import trustme

from bgfetch.testing import OriginServer
from conformance.chromium import browser
from conformance.chromium.backend import ChromiumBackend
from conformance.interface import PageSetup

# Writes what it was given (its arguments, the Preferences it found) to $FAKE_REPORT,
# starts a helper process in its own group, announces a DevTools port, and waits.
FAKE_CHROMIUM = """\
import json, os, subprocess, sys, time
profile = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--user-data-dir="))
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.environ["FAKE_REPORT"], "w") as report:
    json.dump({
        "argv": sys.argv[1:],
        "preferences": open(os.path.join(profile, "Default", "Preferences")).read(),
        "pid": os.getpid(),
        "helper": helper.pid,
    }, report)
with open(os.path.join(profile, "DevToolsActivePort"), "w") as active:
    active.write("9333\\n/devtools/browser/fake-id")
time.sleep(600)
"""

FAILING_CHROMIUM = """\
import sys
print("[0101/000000.0:FATAL:zygote_host_impl_linux.cc] No usable sandbox!", file=sys.stderr)
sys.exit(3)
"""


def install_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> Path:
    program = tmp_path / "chromium"
    program.write_text(f"#!{sys.executable}\n{source}")
    program.chmod(0o755)
    monkeypatch.setenv("BGFETCH_CHROMIUM", str(program))
    report = tmp_path / "report.json"
    monkeypatch.setenv("FAKE_REPORT", str(report))
    return report


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its parent) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_start_launches_with_the_profile_mapping_and_key_and_close_ends_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_file = install_fake(tmp_path, monkeypatch, FAKE_CHROMIUM)
    chromium = browser.Chromium.start(["web-platform.test", "www1.web-platform.test"])
    try:
        report = json.loads(report_file.read_text())
        assert chromium.url == "ws://127.0.0.1:9333/devtools/browser/fake-id"
        ports = {host: s.getsockname()[1] for host, s in chromium.sockets.items()}
        assert set(ports) == {"web-platform.test", "www1.web-platform.test"}
        argv = report["argv"]
        assert f"--user-data-dir={chromium.profile}" in argv
        assert "--headless" in argv and "--remote-debugging-port=0" in argv
        rules = next(a for a in argv if a.startswith("--host-resolver-rules="))
        assert rules == (
            "--host-resolver-rules="
            f"MAP web-platform.test 127.0.0.1:{ports['web-platform.test']}, "
            f"MAP www1.web-platform.test 127.0.0.1:{ports['www1.web-platform.test']}, "
            "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
        )
        spki = (
            f"--ignore-certificate-errors-spki-list={browser.spki_hash(chromium.certificate_pem)}"
        )
        assert spki in argv
        assert json.loads(report["preferences"]) == browser.PREFERENCES
        assert alive(report["pid"]) and alive(report["helper"])
        profile = chromium.profile
        assert profile is not None and profile.is_dir()
        sockets = list(chromium.sockets.values())
    finally:
        chromium.close()
    assert not alive(report["pid"]) and not alive(report["helper"])  # the whole group
    assert not profile.exists()
    assert all(s.fileno() == -1 for s in sockets)
    chromium.close()  # a second close does nothing


def test_a_browser_that_exits_at_start_is_not_available_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake(tmp_path, monkeypatch, FAILING_CHROMIUM)
    temporary = tmp_path / "tmp"  # this test's own: other runs' profiles come and go in /tmp
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with pytest.raises(
        browser.ChromiumNotAvailable, match=r"exited at start \(3\).*No usable sandbox"
    ):
        browser.Chromium.start(["web-platform.test"])
    assert list(temporary.iterdir()) == []  # the profile was removed


def test_without_chromium_the_backend_is_skipped_saying_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BGFETCH_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(browser.ChromiumNotAvailable, match="apt-get install chromium"):
        browser.executable()
    reason = ChromiumBackend().skip_reason(PageSetup())
    assert reason is not None and "Chromium is not installed" in reason


def test_the_draft_edition_is_skipped_on_chromium() -> None:
    reason = ChromiumBackend().skip_reason(PageSetup(edition="2017-10-12"))
    assert reason == "Chromium implements the current spec, not the 2017-10-12 draft"


def test_host_names_are_checked() -> None:
    for bad in ("localhost", "127.0.0.1", "host:443", ""):
        with pytest.raises(ValueError, match="not a test host name"):
            browser.Chromium([bad])


def test_the_spki_hash_is_the_sha256_of_the_certificates_key() -> None:
    ca = trustme.CA()
    one, other = ca.issue_cert("a.test"), ca.issue_cert("a.test")
    digest = base64.b64decode(browser.spki_hash(one.cert_chain_pems[0].bytes()))
    assert len(digest) == 32
    # The same key whatever else the certificate says; another key, another hash.
    assert browser.spki_hash(one.cert_chain_pems[0].bytes()) != browser.spki_hash(
        other.cert_chain_pems[0].bytes()
    )
    assert browser.spki_hash(ca.cert_pem.bytes()) != browser.spki_hash(
        one.cert_chain_pems[0].bytes()
    )


def test_devtools_url_waits_for_both_lines(tmp_path: Path) -> None:
    assert browser.devtools_url(tmp_path) is None
    (tmp_path / "DevToolsActivePort").write_text("9222")
    assert browser.devtools_url(tmp_path) is None  # half written
    (tmp_path / "DevToolsActivePort").write_text("9222\n/devtools/browser/x")
    assert browser.devtools_url(tmp_path) == "ws://127.0.0.1:9222/devtools/browser/x"


def test_each_test_serves_its_origins_on_the_runs_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tests (two trio runs), each its own OriginServer on the same name's socket,
    over https with the run's certificate; the socket outlives each."""
    install_fake(tmp_path, monkeypatch, FAKE_CHROMIUM)

    async def one_test(chromium: browser.Chromium, body: str) -> bytes:
        server = OriginServer()
        server.add("/a.txt", body)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        port = chromium.sockets["web-platform.test"].getsockname()[1]
        async with chromium.serve({"https://web-platform.test": server}):
            stream = trio.SSLStream(
                await trio.open_tcp_stream("127.0.0.1", port),
                context,
                server_hostname="web-platform.test",
                https_compatible=True,
            )
            await stream.do_handshake()
            certificate = stream.getpeercert(binary_form=True)
            request = b"GET /a.txt HTTP/1.1\r\nHost: web-platform.test\r\nConnection: close\r\n\r\n"
            await stream.send_all(request)
            answer = b""
            while chunk := await stream.receive_some():
                answer += chunk
            await stream.aclose()
        assert certificate is not None
        pem = ssl.DER_cert_to_PEM_cert(certificate).encode()
        assert browser.spki_hash(pem) == browser.spki_hash(chromium.certificate_pem)
        assert [r.target for r in server.requests] == ["/a.txt"]
        return answer

    with browser.Chromium.start(["web-platform.test"]) as chromium:
        first = trio.run(one_test, chromium, "first")
        second = trio.run(one_test, chromium, "second")
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"\r\n\r\nfirst")
    assert second.endswith(b"\r\n\r\nsecond")


def test_only_https_origins_of_the_mapped_names_are_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake(tmp_path, monkeypatch, FAKE_CHROMIUM)

    async def serve(origin: str) -> None:
        async with chromium.serve({origin: OriginServer()}):
            pass

    with browser.Chromium.start(["web-platform.test"]) as chromium:
        for origin in (
            "http://web-platform.test",
            "https://other.test",
            "https://web-platform.test:8443",
        ):
            with pytest.raises(ValueError, match="is not https on one of the mapped hosts"):
                trio.run(serve, origin)


def test_the_browser_dies_with_the_run_that_launched_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test run killed outright (no close()) takes its Chromium with it."""
    report_file = install_fake(tmp_path, monkeypatch, FAKE_CHROMIUM)
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from conformance.chromium import browser; "
            "browser.Chromium.start(['web-platform.test']); print('up', flush=True); "
            "time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    helper = None
    profile = None
    try:
        assert run.stdout is not None and run.stdout.readline() == b"up\n"
        launched = json.loads(report_file.read_text())
        helper = launched["helper"]
        profile = next(
            Path(a.split("=", 1)[1]) for a in launched["argv"] if a.startswith("--user-data-dir=")
        )
        assert alive(launched["pid"])
        run.kill()
        run.wait()
        deadline = time.monotonic() + 10
        while alive(launched["pid"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not alive(launched["pid"]), "the browser outlived the run that launched it"
    finally:
        run.kill()
        run.wait()
        if helper is not None and alive(helper):
            os.kill(helper, signal.SIGKILL)
        if profile is not None:  # the killed run could not remove it (README: it stays)
            shutil.rmtree(profile, ignore_errors=True)
