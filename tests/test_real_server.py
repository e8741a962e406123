"""ragtune against a real OpenAI-compatible server process with a real model (issue #32): `ragtune serve` of one
workspace, in its own process with SmolLM2-135M, is the server; `ragtune ask` of another workspace points at it with
only the backend, the URL and the model name set. The server answers closed-book ("base"), so the model reads the
whole prompt the capable reader sends it, sources included.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

DOC = (
    "# The Arden bridge\n\nThe Arden bridge in Velmora was opened in 1904 by the mayor Tomas Vell. It crosses the "
    "Sarn river and is 240 metres long.\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    log = root / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragtune", "--workspace", str(root / "ws"), "serve", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(url + "/healthz", timeout=5).json().get("status") == "ok":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("ragtune serve did not start: " + log.read_text()[-3000:])
        yield url + "/v1"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def test_ask_through_a_real_server_reads_it_as_a_capable_model(served: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "arden.md").write_text(DOC, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    env |= {
        "RAGTUNE_MODELS__GENERATOR_BACKEND": "openai",
        "RAGTUNE_MODELS__OPENAI_BASE_URL": served,
        "RAGTUNE_MODELS__OPENAI_MODEL": "base",
        # A 135M model behind the server: keep its answer short so the test stays quick on a CPU.
        "RAGTUNE_RAG__CAPABLE_ANSWER_TOKENS": "48",
    }
    run = [sys.executable, "-m", "ragtune", "--workspace", str(tmp_path / "ws")]
    ingest = subprocess.run([*run, "ingest", str(docs), "--no-progress"], env=env, cwd=tmp_path, capture_output=True)
    assert ingest.returncode == 0, ingest.stderr.decode()[-2000:]
    asked = subprocess.run(
        [*run, "ask", "Who opened the Arden bridge?", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert asked.returncode == 0, asked.stderr[-2000:]
    answer = json.loads(asked.stdout)
    assert answer["reader"] == "capable"  # a server gets the capable reader with no other setting
    assert answer["finish_reason"] in ("stop", "length")
    assert answer["sources"] and answer["sources"][0]["doc_id"].endswith("arden.md")
    # The whole chunk was shown (not one sentence), and the model's answer came back from the other process.
    assert "240 metres" in answer["sources"][0]["excerpt"]
    assert answer["tokens_out"] > 0 and (answer["refused"] or answer["answer"].strip())
