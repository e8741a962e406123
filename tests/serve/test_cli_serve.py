"""`ragtune serve` as a user starts it: its own process, the key from RAGTUNE_API_KEY, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from tests.serve_process import ragtune_serve

pytestmark = pytest.mark.slow


def test_ragtune_serve_starts_with_the_key_from_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    env["RAGTUNE_API_KEY"] = "env-key-81"
    with ragtune_serve(tmp_path, tmp_path / "ws", env) as served:
        health, url, log = served.health, served.url, served.log
        assert health is not None and health["status"] == "ok", log.read_text()[-3000:]
        assert health["auth_required"] is True
        assert httpx.get(url + "/v1/models").status_code == 401
        models = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer env-key-81"}).json()
        assert [m["id"] for m in models["data"]] == ["rag", "base"]  # no adapters trained in this workspace
        assert (tmp_path / "ws" / "store").is_dir()
    proc, port = served.proc, served.port
    text = log.read_text()
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status says what stopped it
    assert proc.returncode in (0, -signal.SIGTERM), text[-3000:]
    assert "Application shutdown complete" in text and f"http://127.0.0.1:{port}" in text


def test_serve_without_the_serve_extra_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from ragtune.cli import app
    from ragtune.errors import BackendUnavailableError

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the package were not installed: importing it fails
    result = CliRunner().invoke(app, ["serve"])
    assert isinstance(result.exception, BackendUnavailableError)
    assert "pip install 'ragtune[serve]'" in str(result.exception) and "uvicorn" in str(result.exception)
