"""`ragtune serve` in its own process, as a user starts it: on a free loopback port, ready once /healthz says ok,
stopped with SIGTERM. Shared by the tests that need a real server process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass
class RunningServe:
    proc: subprocess.Popen[bytes]
    url: str  # http://127.0.0.1:PORT
    port: int
    health: dict[str, Any] | None  # the last /healthz answer (None: it never answered)
    log: Path  # the process's stdout and stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def ragtune_serve(cwd: Path, workspace: Path, env: Mapping[str, str], timeout_s: float = 240) -> Iterator[RunningServe]:
    """Start `ragtune --workspace WORKSPACE serve` and wait (up to `timeout_s`) for /healthz to say ok; the caller
    checks `health`. The process is sent SIGTERM and waited for on exit."""
    port = free_port()
    log = cwd / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragtune", "--workspace", str(workspace), "serve", "--port", str(port)],
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    running = RunningServe(proc, url, port, None, log)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                running.health = httpx.get(url + "/healthz", timeout=5).json()
                if running.health and running.health.get("status") == "ok":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield running
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
