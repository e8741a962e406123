"""ragtune against a real OpenAI-compatible server process with a real model (issue #32): `ragtune serve` of one
workspace, in its own process with SmolLM2-135M, is the server; `ragtune ask` of another workspace points at it with
only the backend, the URL and the model name set. The server answers closed-book ("base"), so the model reads the
whole prompt the capable reader sends it, sources included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve_process import ragtune_serve

pytestmark = pytest.mark.slow

DOC = (
    "# The Arden bridge\n\nThe Arden bridge in Velmora was opened in 1904 by the mayor Tomas Vell. It crosses the "
    "Sarn river and is 240 metres long.\n"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    with ragtune_serve(root, root / "ws", env) as running:
        if running.health is None or running.health.get("status") != "ok":
            pytest.fail("ragtune serve did not start: " + running.log.read_text()[-3000:])
        yield running.url + "/v1"


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
