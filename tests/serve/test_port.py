"""A busy or foreign address is refused before any model loads, with what to do (not uvicorn's exit code 3)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.serve.port import PortUnavailableError, check_port


def test_a_busy_port_is_named_and_a_free_one_passes() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortUnavailableError, match=rf"127.0.0.1:{port}: the port is already in use"):
            check_port("127.0.0.1", port)
    check_port("127.0.0.1", port)  # free again once its listener is gone


def test_an_address_of_another_machine_is_named() -> None:
    with pytest.raises(PortUnavailableError, match="192.0.2.7:8321: the address is not one of this machine's"):
        check_port("192.0.2.7", 8321)  # TEST-NET-1: documentation only, never a local address


def test_serve_on_a_busy_port_fails_in_one_line_before_loading_models(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "ragtune", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in result.stderr
    assert "Traceback" not in result.stderr and "loading models" not in result.stdout
