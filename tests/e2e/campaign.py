"""The fault campaign's moving parts: a seeded fault schedule, process kills, a retrying client."""

from __future__ import annotations

import os
import random
import signal
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import API_KEY, STORED_ACTION
from tests.support.processes import wait_for

FAULTS = ("kill_web", "kill_worker", "burst_429", "burst_503", "outage", "callback_loss")
# Faults that leave a trigger lease behind (60 s) come first, so recovery overlaps the rest.
EARLY = ("kill_web",)


def fault_schedule(seed: int, batches: int) -> list[str]:
    """Every fault at least twice, the rest drawn at random (or calm), in a seeded order."""
    rng = random.Random(seed)
    drawn = [*FAULTS, *FAULTS]
    drawn += rng.choices([*FAULTS, "calm", "calm"], k=batches - len(drawn))
    rng.shuffle(drawn)
    early = [fault for fault in drawn if fault in EARLY]
    schedule = [fault for fault in drawn if fault not in EARLY]
    for slot in sorted(rng.sample(range(batches // 2), len(early))):
        schedule.insert(slot, early.pop())
    return schedule


def children_of(pid: int) -> set[int]:
    """Live child processes of `pid` (gunicorn's workers under its master), from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def kill_gunicorn_worker(master_pid: int, victim: int) -> None:
    """SIGKILL one web worker and wait until gunicorn has replaced it."""
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(children_of(master_pid) - {victim}) >= 2, 30)


@dataclass
class Client:
    """A client as a careful user writes one: one idempotency key per run, retried until 202."""

    base: str
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def trigger(self, n: int, callback_url: str | None = None) -> str:
        data = {"inputs": {"n": n}, "idempotency_id": str(uuid.uuid4()), "metadata": {"n": n}}
        if callback_url:
            data["callback_url"] = callback_url
        url = f"{self.base}/actions/v1/stored-actions/{STORED_ACTION}/run"

        def attempt():
            try:
                response = requests.post(
                    url,
                    json={"data": data},
                    headers={"Authorization": f"Bearer {API_KEY}"},
                    timeout=30,
                )
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                with self.lock:
                    self.connection_errors += 1  # the web worker died under this request
                return None
            # Whatever else is failing, an answer from the relay is an acceptance.
            assert response.status_code == 202, response.text
            return response.json()["data"]["id"]

        return wait_for(attempt, 60, interval=0.1)
