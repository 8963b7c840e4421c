"""Debian's headless Chromium with a fresh profile, as chromium-observed.md runs it.

One :class:`Chromium` serves a whole run: a background fetch service takes ~3-7 s
to warm up in each new profile (and ~2 s in each new browser context), after which
fetches start in milliseconds, so tests share the browser and isolate themselves
by page and service-worker scope instead. Each test runs in its own trio run
(pytest-trio), so the browser's lifetime is a plain context manager, not a trio
task: :meth:`Chromium.start` binds one loopback socket per test host name, issues
a trustme certificate naming them all, writes the profile (its Preferences allow
repeated background fetches), launches Chromium with those names mapped to those
ports and everything else ``~NOTFOUND``, and waits until DevTools listens (or, split,
:meth:`Chromium.launch` then :meth:`Chromium.wait_listening`). The browser is killed
by the kernel if the thread that launched it ends, so a killed test run leaves no
Chromium behind: launch it from the thread that lives as long as the run.
:meth:`Chromium.close` asks the browser to close, ends its process group, closes
the sockets and removes the profile. A test reaches it with :meth:`Chromium.connect`
(a DevTools connection) and :meth:`Chromium.serve` (its origins on the sockets).
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import trio
import trustme

from bgfetch.testing import OriginServer
from conformance.chromium import cdp

START_TIMEOUT = 30.0  # seconds until DevTools listens (about 0.5 s here)
CLOSE_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

# Without this only the first background fetch of a tab is allowed; later ones reject
# "This origin does not have permission to start a fetch." (chromium-observed.md).
PREFERENCES = {"profile": {"default_content_setting_values": {"automatic_downloads": 1}}}

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class ChromiumNotAvailable(Exception):
    """Chromium is not installed, or did not start: why, for a skip's reason."""


def executable() -> str:
    """The Chromium binary to run ($BGFETCH_CHROMIUM, else `chromium` on PATH), or
    ChromiumNotAvailable saying how to get one."""
    found = os.environ.get("BGFETCH_CHROMIUM") or shutil.which("chromium")
    if found is None:
        raise ChromiumNotAvailable(
            "Chromium is not installed (apt-get install chromium; make conformance-chromium)"
        )
    return found


def host_resolver_rules(ports: Mapping[str, int]) -> str:
    """Each test host name to its loopback port; every other name unresolvable."""
    rules = [f"MAP {host} 127.0.0.1:{port}" for host, port in ports.items()]
    rules += ["MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1"]
    return ", ".join(rules)


def spki_hash(certificate_pem: bytes) -> str:
    """The base64 SHA-256 of a certificate's SubjectPublicKeyInfo, as
    ``--ignore-certificate-errors-spki-list`` takes it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def command(
    binary: str, profile: Path, ports: Mapping[str, int], spki: str | None, flags: Iterable[str]
) -> list[str]:
    """Chromium's command line: chromium-observed.md's flags, the mapping, the key."""
    args = [binary, *FLAGS, *flags, f"--user-data-dir={profile}"]
    args.append(f"--host-resolver-rules={host_resolver_rules(ports)}")
    if spki is not None:
        args.append(f"--ignore-certificate-errors-spki-list={spki}")
    return [*args, "about:blank"]


def write_profile(profile: Path) -> None:
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(PREFERENCES))


def devtools_url(profile: Path) -> str | None:
    """The browser's DevTools WebSocket URL once Chromium wrote DevToolsActivePort."""
    try:
        lines = (profile / "DevToolsActivePort").read_text().split()
    except FileNotFoundError:
        return None
    return f"ws://127.0.0.1:{lines[0]}{lines[1]}" if len(lines) == 2 else None


class Chromium:
    """A running headless Chromium and the loopback sockets of its test host names."""

    def __init__(self, hosts: Iterable[str] = (), flags: Iterable[str] = ()) -> None:
        self.hosts = tuple(hosts)
        self.flags = tuple(flags)
        for host in self.hosts:
            if host in LOOPBACK_NAMES or not host or "/" in host or ":" in host:
                raise ValueError(f"not a test host name to map: {host!r}")
        self.profile: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.sockets: dict[str, socket.socket] = {}
        self.url = ""
        self.version = ""  # Browser.getVersion's product, once a test connected
        self.certificate_pem = b""
        self._context: ssl.SSLContext | None = None

    @classmethod
    def start(cls, hosts: Iterable[str] = (), flags: Iterable[str] = ()) -> Chromium:
        """Launch Chromium resolving *hosts* (names like "web-platform.test") to loopback
        (no other name resolves but localhost), with more *flags* if given."""
        chromium = cls.launch(hosts, flags)
        chromium.wait_listening()
        return chromium

    @classmethod
    def launch(cls, hosts: Iterable[str] = (), flags: Iterable[str] = ()) -> Chromium:
        """Start Chromium as :meth:`start` does, without waiting until DevTools listens
        (:meth:`wait_listening` does, and may run in another thread)."""
        chromium = cls(hosts, flags)
        try:
            chromium._launch()
        except BaseException:
            chromium.close()
            raise
        return chromium

    def wait_listening(self) -> None:
        """Wait until DevTools listens; on failure, end the browser and raise."""
        try:
            self._wait_listening()
        except BaseException:
            self.close()
            raise

    def _launch(self) -> None:
        binary = executable()
        for host in self.hosts:
            listening = socket.create_server(("127.0.0.1", 0), backlog=128)
            self.sockets[host] = listening
        spki = None
        if self.hosts:
            leaf = trustme.CA().issue_cert(*self.hosts)
            self.certificate_pem = leaf.cert_chain_pems[0].bytes()
            self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            leaf.configure_cert(self._context)
            spki = spki_hash(self.certificate_pem)
        ports = {host: s.getsockname()[1] for host, s in self.sockets.items()}
        self.profile = Path(tempfile.mkdtemp(prefix="bgfetch-chromium-"))
        write_profile(self.profile)
        with (self.profile / "chromium.log").open("wb") as log:
            self.process = subprocess.Popen(
                command(binary, self.profile, ports, spki, self.flags),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,  # its helpers in a group of their own, ended with it
                preexec_fn=_die_with_parent(),
            )

    def _wait_listening(self) -> None:
        assert self.process is not None and self.profile is not None
        deadline = time.monotonic() + START_TIMEOUT
        while (url := devtools_url(self.profile)) is None:
            if self.process.poll() is not None:
                raise ChromiumNotAvailable(
                    f"Chromium exited at start ({self.process.returncode}): {self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise ChromiumNotAvailable(
                    f"Chromium did not listen within {START_TIMEOUT} s: {self.log_tail()}"
                )
            time.sleep(0.05)
        self.url = url

    def log_tail(self) -> str:
        """The end of Chromium's stderr, for error messages."""
        if self.profile is None:
            return ""
        try:
            text = (self.profile / "chromium.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text[-2000:].strip() or "(nothing on stderr)"

    def close(self) -> None:
        """End the browser and its helpers, close the sockets, remove the profile."""
        process, self.process = self.process, None
        if process is not None:
            self._end(process)
        for listening in self.sockets.values():
            listening.close()
        self.sockets.clear()
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def _end(self, process: subprocess.Popen[bytes]) -> None:
        """TERM the group (Chromium closes cleanly on it), KILL what is left after the
        timeout, and wait until no process of the group remains."""
        group = process.pid
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        kill_at = time.monotonic() + CLOSE_TIMEOUT
        killed = False
        while time.monotonic() < kill_at + 2:
            process.poll()  # reaps the browser once it exited
            if process.returncode is not None and not _group_alive(group):
                break
            if not killed and time.monotonic() > kill_at:
                with suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
                killed = True
            time.sleep(0.02)
        process.wait()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- what a test uses, inside its trio run ---------------------------------------------

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[cdp.Connection]:
        """A DevTools connection to the browser, closed on exit."""
        if self.process is None or self.process.poll() is not None:
            raise ChromiumNotAvailable(f"Chromium is not running: {self.log_tail()}")
        async with cdp.connect(self.url) as connection:
            yield connection

    @asynccontextmanager
    async def serve(self, origins: Mapping[str, OriginServer]) -> AsyncIterator[None]:
        """Serve each https origin of a mapped host name ("https://web-platform.test")
        on that name's socket until exit."""
        listeners = []
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme != "https" or parts.hostname not in self.sockets or parts.port:
                raise ValueError(f"{origin!r} is not https on one of the mapped hosts {self.hosts}")
            # A duplicate of the run's socket: closing it when the test ends leaves the
            # run's one listening.
            duplicate = trio.socket.from_stdlib_socket(self.sockets[parts.hostname].dup())
            listeners.append((trio.SocketListener(duplicate), origins[origin]))
        async with trio.open_nursery() as nursery:
            for listener, server in listeners:
                nursery.start_soon(self._serve_listener, listener, server)
            yield
            nursery.cancel_scope.cancel()

    async def _serve_listener(self, listener: trio.SocketListener, server: OriginServer) -> None:
        assert self._context is not None
        context = self._context

        async def handler(stream: trio.SocketStream) -> None:
            tls = trio.SSLStream(stream, context, server_side=True, https_compatible=True)
            await server.serve_stream(tls)

        await trio.serve_listeners(handler, [listener])


def _die_with_parent() -> Callable[[], None]:
    """A preexec_fn: the kernel KILLs the child when the launching thread ends (Linux's
    PR_SET_PDEATHSIG), e.g. when pytest is killed; its helpers then see their browser
    gone and exit. libc is loaded here, before the fork, not in the child."""
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def in_child() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return in_child


def _group_alive(group: int) -> bool:
    """Whether a process of *group* still runs (zombies do not: an orphan waits for
    init to reap it, which takes ~2 s here)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False
