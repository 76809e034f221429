"""A real nginx for tests: Debian's package (installed when absent) in front of a relay."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import ROOT, Child, free_port, wait_until_up

PROXY_SNIPPET = ROOT / "deploy" / "nginx" / "callback-relay-proxy.conf"
LOG_SNIPPET = ROOT / "deploy" / "nginx" / "callback-relay-log.conf"
# In Debian 12 `nginx` holds the binary; `nginx-light` is the older flavour name.
PACKAGES = ("nginx", "nginx-light")
INSTALL_TIMEOUT_SECONDS = 240


def _installed() -> str | None:
    # /usr/sbin is often missing from a non-root PATH.
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


def _apt_get(*args: str) -> subprocess.CompletedProcess:
    # policy-rc.d and a missing init keep the package's own service from starting.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", "-q", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )


def nginx_binary() -> str:
    """The nginx binary, installing Debian's package if needed; skips with the reason otherwise."""
    found = _installed()
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("nginx is not installed and apt-get is unavailable to install it")
    if os.geteuid() != 0:
        pytest.skip("nginx is not installed and installing it with apt-get needs root")
    last_error = "no output"
    for refresh in (False, True):
        if refresh:
            _apt_get("update")
        for package in PACKAGES:
            try:
                result = _apt_get("install", "-y", "--no-install-recommends", package)
            except subprocess.TimeoutExpired:
                pytest.skip(f"apt-get install {package} took over {INSTALL_TIMEOUT_SECONDS}s")
            found = _installed()
            if found:
                return found
            output = (result.stderr or result.stdout).strip()
            last_error = output.splitlines()[-1] if output else f"exit {result.returncode}"
    pytest.skip(f"nginx could not be installed with apt-get: {last_error}")


class Nginx:
    """nginx on a free loopback port, all its files in `workdir`, proxying to one gunicorn."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = self.dir / "access.log"
        self.child: Child | None = None

    def config(self, upstream_port: int) -> str:
        # A root master would drop its workers to `nobody`, who cannot use the test folder.
        user = "user root;" if os.geteuid() == 0 else ""
        temp_paths = "\n".join(
            f"    {kind}_temp_path {self.dir / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return f"""
{user}
worker_processes 1;
pid {self.dir / "nginx.pid"};
error_log {self.dir / "error.log"} info;
events {{ worker_connections 64; }}
http {{
{temp_paths}
    include {LOG_SNIPPET};
    upstream callback_relay {{
        server 127.0.0.1:{upstream_port};
        keepalive 4;
        keepalive_timeout 4s;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        server_name _;
        access_log {self.access_log} callback_relay;
        location / {{
            include {PROXY_SNIPPET};
        }}
    }}
}}
"""

    def start(self, upstream_port: int) -> Nginx:
        conf = self.dir / "nginx.conf"
        conf.write_text(self.config(upstream_port))
        error_log = self.dir / "error.log"  # -e: not even startup errors go to /var/log
        args = [self.binary, "-p", self.dir, "-c", conf, "-e", error_log, "-g", "daemon off;"]
        self.child = Child("nginx", [str(arg) for arg in args], {}, self.dir)
        wait_until_up(f"{self.base}/healthz", proc=self.child.proc)
        return self

    def access_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
