"""A new user's terminal: `relay ...` and gunicorn as a shell starts them, in a clean env."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
TRACEBACK = "Traceback (most recent call last)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def shell_env(home: Path, **settings) -> dict[str, str]:
    """Nothing from the test runner's environment but PATH: no stray relay setting leaks in.
    PYTHONPATH makes every child import this checkout's `app`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    env.update({name: str(value) for name, value in settings.items()})
    return env


def relay(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def gunicorn() -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "app:create_app()"]


def run_to_exit(command: list[str], env: dict, cwd: Path, timeout: float = 90):
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


class Terminal:
    """One command run as a shell runs it: the leader of its own process group, so SIGINT to
    that group is exactly what Ctrl+C sends. Its output goes to a file, read at any time."""

    def __init__(self, command: list[str], env: dict, cwd: Path, name: str = "terminal"):
        self.path = cwd / f"{name}.log"
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.path.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"exited {self.proc.returncode} before {pattern!r}:\n{self.output()}"
                )
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} within {timeout}s:\n{self.output()}")

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        """Whatever is left: the group, and any pid the output named (children that left it)."""
        pids = {int(pid) for pid in re.findall(r"pid[: ]+(\d+)", self.output())}
        for pid in re.findall(r"^\S+ \S+ \S+ (\d+) ", self.output(), re.MULTILINE):
            pids.add(int(pid))
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            if self.wait(40) is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for pid in pids - {os.getpid()}:
            _kill_if_ours(pid)
        self._file.close()


def _kill_if_ours(pid: int) -> None:
    """Kill a leftover process only if it is one of this checkout's Python children."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return
    if sys.executable in cmdline and ("gunicorn" in cmdline or "app.cli" in cmdline):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
