"""Load on `ragtune serve` over loopback: 16 concurrent clients, rag answers with the default model, uploads between.

The server runs as `ragtune serve` in its own process on the bundled sample knowledge base (ingested through the
API before the clock starts). Each client sends one request at a time; every 25th request is preceded by an upload
of a new document, and at the end every acknowledged upload must be in the knowledge base and findable. The
baseline is the bare Answerer called in the benchmark's own process on the same documents and questions: one
question at a time (`answer`) and all at once (`answer_many`, batched), so the ratios show what the HTTP layer and
the queue cost, or what the server's batching of concurrent requests gains.

Bounded in time: requests not started by the deadline are not sent (the count completed is reported).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import Row, Section

CLIENTS = 16
UPLOAD_EVERY = 25
MAX_NEW_TOKENS = 16  # modest: the benchmark is about serving, not about long answers
TOP_K = 3


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    uploads_sent: list[str] = field(default_factory=list)
    uploads_acknowledged: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _sample() -> tuple[Path, list[str]]:
    """The bundled sample's documents (v1) and its answerable, unchanged test questions."""
    import json
    from importlib.resources import files

    from ragtune.errors import RagtuneError
    from ragtune.samples import sample

    try:
        paths = sample()
        docs, questions_file = paths.docs_v1, paths.questions
    except RagtuneError:  # a sample being rebuilt may lack its general probe, which this benchmark does not need
        root = Path(str(files("ragtune.samples")))
        docs, questions_file = root / "docs_v1", root / "questions.jsonl"
    rows = [json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [r["question"] for r in rows if r["answerable"] and r["split"] == "test" and not r["changed"]]
    return docs, questions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _overrides(workspace: Path) -> dict[str, Any]:
    return {
        "workspace": str(workspace),
        "generation.max_new_tokens": MAX_NEW_TOKENS,
        "retrieval.top_k": TOP_K,
    }


def _baseline(workspace: Path, docs: Path, questions: list[str], n: int) -> tuple[float, float]:
    """Requests per second of the in-process Answerer: one at a time, then batched."""
    from ragtune.config import load_config
    from ragtune.models.loader import load_embedder, load_generator
    from ragtune.rag import Answerer
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store
    from ragtune.store.sync import ingest

    config = load_config(environ={}, overrides=_overrides(workspace))
    embedder = load_embedder(config.models)
    generator = load_generator(config.models, config.generation)
    store = open_store(config, embedder.identity)
    ingest([docs], store, embedder, config, progress=False)
    answerer = Answerer(generator, config, retriever=Retriever(store, embedder, config.retrieval), embedder=embedder)
    answerer.answer(questions[0])  # warm-up, as the server's first requests warm it up too
    asked = [questions[i % len(questions)] for i in range(n)]
    start = time.perf_counter()
    for q in asked:
        answerer.answer(q)
    sequential = n / (time.perf_counter() - start)
    start = time.perf_counter()
    answerer.answer_many(asked, progress=False)
    batched = n / (time.perf_counter() - start)
    store.close()
    return sequential, batched


def _start_server(workspace: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    sets = [f"--set={k}={v}" for k, v in _overrides(workspace).items() if k != "workspace"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    cmd = [sys.executable, "-m", "ragtune", "--workspace", str(workspace), *sets, "serve", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)


async def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"ragtune serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            try:
                if (await client.get(url + "/healthz")).json().get("status") == "ok":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("ragtune serve did not become ready in time")


async def _ingest(url: str, docs: Path) -> int:
    import httpx

    files = sorted(p for p in docs.iterdir() if p.is_file())
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        for i in range(0, len(files), 8):
            batch = [("files", (p.name, p.read_bytes())) for p in files[i : i + 8]]
            response = await client.post("/v1/documents", files=batch)
            response.raise_for_status()
    return len(files)


async def _load(url: str, questions: list[str], total: int, budget_s: float) -> LoadResult:
    import httpx

    result = LoadResult()
    next_index = 0
    deadline = time.monotonic() + budget_s

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < total and time.monotonic() < deadline:
            i = next_index
            next_index += 1
            if i % UPLOAD_EVERY == 0:
                doc_id = f"bench-upload-{i:04d}"
                result.uploads_sent.append(doc_id)
                upload = {"id": doc_id, "title": f"Bulletin {i}", "text": f"Bulletin {i}: the code word is kestrel{i}."}
                try:
                    up = await client.post("/v1/documents", json=upload)
                    result.count(up.status_code)
                    if up.status_code == 201:
                        result.uploads_acknowledged.append(doc_id)
                except httpx.HTTPError as exc:
                    result.errors.append(f"upload {doc_id}: {type(exc).__name__}: {exc}")
            body = {"model": "rag", "messages": [{"role": "user", "content": questions[i % len(questions)]}]}
            start = time.perf_counter()
            try:
                response = await client.post("/v1/chat/completions", json=body)
                result.count(response.status_code)
                if response.status_code == 200 and response.json().get("sources") is not None:
                    result.latencies.append(time.perf_counter() - start)
                elif response.status_code != 200:
                    result.errors.append(f"request {i}: HTTP {response.status_code} {response.text[:200]}")
            except httpx.HTTPError as exc:
                result.errors.append(f"request {i}: {type(exc).__name__}: {exc}")

    limits = httpx.Limits(max_connections=CLIENTS + 2, max_keepalive_connections=CLIENTS + 2)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(CLIENTS)))
        result.seconds = time.perf_counter() - start
    return result


async def _check_uploads(url: str, acknowledged: list[str]) -> tuple[int, bool]:
    """(acknowledged uploads missing from the knowledge base, whether the last one is found by search)."""
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        stored = {d["id"] for d in (await client.get("/v1/documents")).json()["documents"]}
        missing = sum(1 for doc_id in acknowledged if doc_id not in stored)
        found = True
        if acknowledged:
            last = acknowledged[-1]
            word = "kestrel" + str(int(last.rsplit("-", 1)[1]))
            hits = (await client.get("/v1/search", params={"q": f"code word {word}", "k": 3})).json()["hits"]
            found = any(h["doc_id"] == last for h in hits)
    return missing, found


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(quick: bool) -> Section:
    total = 64 if quick else 500
    budget_s = 180.0 if quick else 900.0
    baseline_n = 8 if quick else 16
    section = Section(title=f"serve: {CLIENTS} clients on loopback, rag strategy ({'quick' if quick else 'full'})")
    docs, questions = _sample()
    with tempfile.TemporaryDirectory(prefix="ragtune-bench-serve-") as tmp:
        root = Path(tmp)
        sequential, batched = _baseline(root / "baseline", docs, questions, baseline_n)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = root / "server.log"
        proc = _start_server(root / "served", port, log)
        try:
            asyncio.run(_wait_ready(url, proc, log))
            documents = asyncio.run(_ingest(url, docs))
            load = asyncio.run(_load(url, questions, total, budget_s))
            missing, found = asyncio.run(_check_uploads(url, load.uploads_acknowledged))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group, which we started
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    done = len(load.latencies)
    rps = done / load.seconds if load.seconds else 0.0
    server_errors = sum(n for status, n in load.statuses.items() if status >= 500)
    lost = len(load.uploads_sent) - len(load.uploads_acknowledged) + missing
    section.rows += [
        Row(
            "rag requests answered",
            done,
            "requests",
            target=f"{total} within {budget_s:.0f} s",
            passed=done == total,
            note=f"{len(load.uploads_sent)} uploads interleaved",
        ),
        Row(
            "server throughput",
            rps,
            "req/s",
            baseline=sequential,
            baseline_name="bare Answerer.answer, in-process, one at a time",
            note="the server batches waiting requests",
        ),
        Row("server throughput vs batched", rps, "req/s", baseline=batched, baseline_name="Answerer.answer_many"),
        Row("latency p50", _percentile(load.latencies, 0.5), "s", higher_is_better=False),
        Row("latency p95", _percentile(load.latencies, 0.95), "s", higher_is_better=False),
        Row("5xx responses", server_errors, "responses", higher_is_better=False, target="0", passed=server_errors == 0),
        Row(
            "lost uploads",
            lost,
            "uploads",
            higher_is_better=False,
            target="0",
            passed=lost == 0 and found,
            note="acknowledged and still in the knowledge base" + ("" if found else "; the last was NOT searchable"),
        ),
    ]
    section.notes.append(
        f"sample knowledge base ({documents} documents) ingested through the API; max_new_tokens {MAX_NEW_TOKENS}, "
        f"top_k {TOP_K}; statuses {dict(sorted(load.statuses.items()))}; other errors {len(load.errors)}"
    )
    section.notes += load.errors[:5]
    section.extra = {
        "statuses": load.statuses,
        "errors": load.errors[:50],
        "load_seconds": load.seconds,
        "baseline_sequential_rps": sequential,
        "baseline_batched_rps": batched,
    }
    return section
