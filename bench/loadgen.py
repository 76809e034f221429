"""Closed-loop POST load: wrk (Debian's) with a Lua script when installed, else Python threads."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

from bench.common import summary

LUA = r"""
local counter, threads = 1, {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  reqs, pos, wrapped = {}, 0, 0
  local nthreads, i = tonumber(args[2]), 0
  local headers = {["Content-Type"] = "application/json"}
  for line in io.lines(args[1]) do
    if i % nthreads == id - 1 then
      local path, body = line:match("^([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
    end
    i = i + 1
  end
end
function request()
  pos = pos + 1
  if pos > #reqs then pos, wrapped = 1, wrapped + 1 end
  return reqs[pos]
end
function done(summary, latency, requests)
  local wrapped = 0
  for _, t in ipairs(threads) do wrapped = wrapped + (t:get("wrapped") or 0) end
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_s":%f,"non2xx":%d,' ..
    '"socket_errors":%d,"p50_ms":%f,"p90_ms":%f,"p99_ms":%f,"max_ms":%f,"wrapped":%d}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, wrapped))
end
"""


def generator_name() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def post_load(
    base: str, requests: list[tuple[str, str]], seconds: float, workdir: Path, connections: int = 16
) -> dict:
    """POST `requests` (path, JSON body) round-robin for `seconds`; rate and latency figures."""
    if shutil.which("wrk"):
        return _wrk(base, requests, seconds, workdir, connections)
    return _python(base, requests, seconds, connections)


def _wrk(base, requests, seconds, workdir, connections) -> dict:
    data = workdir / "requests.tsv"
    data.write_text("".join(f"{path}\t{body}\n" for path, body in requests))
    script = workdir / "post.lua"
    script.write_text(LUA)
    threads = 1  # one wrk thread keeps up with the app on 2 cores and leaves it the rest
    args = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
        "--",
        str(data),
        str(threads),
    ]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    figures["rate"] = figures["requests"] / figures["duration_s"]
    figures["ok"] = figures["requests"] - figures["non2xx"]
    figures["generator"] = "wrk"
    return figures


def _python(base, requests, seconds, connections) -> dict:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    counts = {"requests": 0, "non2xx": 0, "socket_errors": 0, "wrapped": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(mine: list[tuple[str, str]]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        mine_latencies, done, bad, errors, index = [], 0, 0, 0, 0
        while time.monotonic() < deadline:
            path, body = mine[index % len(mine)]
            index += 1
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                answer = conn.getresponse()
                answer.read()
            except OSError:
                errors += 1
                conn.close()
                continue
            mine_latencies.append((time.perf_counter() - started) * 1000)
            done += 1
            bad += not 200 <= answer.status < 300
        conn.close()
        with lock:
            latencies.extend(mine_latencies)
            counts["requests"] += done
            counts["non2xx"] += bad
            counts["socket_errors"] += errors
            counts["wrapped"] += index // max(1, len(mine))

    started = time.monotonic()
    workers = [
        threading.Thread(target=client, args=(requests[i::connections],))
        for i in range(connections)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    stats = summary(latencies)
    return {
        **counts,
        "duration_s": elapsed,
        "rate": counts["requests"] / elapsed,
        "ok": counts["requests"] - counts["non2xx"],
        "p50_ms": stats["p50"],
        "p90_ms": stats["p90"],
        "p99_ms": stats["p99"],
        "max_ms": stats["max"],
        "generator": "python",
    }
