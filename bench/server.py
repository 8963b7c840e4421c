"""The bench's server: nginx on loopback serving generated files (sendfile, keep-alive).

nginx is installed with apt-get when it is missing (as root; otherwise the bench says
what to install).  The files are made once per data directory and reused.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    default_type application/octet-stream;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        etag on;
    }}
}}
"""


def ensure_installed(command: str, package: str) -> str:
    """The path of *command*, installing Debian's *package* with apt-get when missing."""
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit(f"bench: {command} is missing: install {package} (apt-get install)")
    print(f"bench: installing {package} with apt-get", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", package], check=True, env=env, stdout=subprocess.DEVNULL
    )
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if not found:
        raise SystemExit(f"bench: {package} installed but {command} is not on PATH")
    return found


def make_files(www: Path, big_size: int, small_count: int) -> None:
    """/big.bin (*big_size* random bytes), /small/fN (10 KiB each), /mid/fN (100 KiB each)."""
    www.mkdir(parents=True, exist_ok=True)
    big = www / "big.bin"
    if not big.exists() or big.stat().st_size != big_size:
        block = os.urandom(1 << 20)
        with open(big, "wb") as out:
            for offset in range(0, big_size, len(block)):
                out.write(block[: big_size - offset])
    for folder, count, size in (("small", small_count, 10 * 1024), ("mid", 5, 100 * 1024)):
        (www / folder).mkdir(exist_ok=True)
        for i in range(count):
            path = www / folder / f"f{i}"
            if not path.exists() or path.stat().st_size != size:
                path.write_bytes(os.urandom(size))


# With two or more CPUs the server gets the first and the clients the rest, so a client
# never shares a CPU with nginx in one round and not in the next (unpinned, the same
# client's time flipped between two values 2.5x apart from round to round).
CPUS = sorted(os.sched_getaffinity(0))
SERVER_CPUS = CPUS[:1] if len(CPUS) > 1 else CPUS
CLIENT_CPUS = CPUS[1:] if len(CPUS) > 1 else CPUS


def pin(cpus: list[int]) -> Callable[[], None]:
    """A preexec_fn running the child on *cpus* only."""
    return lambda: os.sched_setaffinity(0, cpus)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Nginx:
    """``with Nginx(root) as base_url:`` nginx serving *root*/www until the block ends."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        binary = ensure_installed("nginx", "nginx")
        port = free_port()
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=self.root, port=port))
        self.process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(self.root)], preexec_fn=pin(SERVER_CPUS)
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError as error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"bench: nginx did not start; see {self.root}/error.log"
                    ) from error
                time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
