"""One served workspace for every serve test: the real default models, a small knowledge base, two LoRA adapters,
and the app running on uvicorn on a loopback port (with an API key, so every test also goes through auth)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragtune.config import Config
from ragtune.corpus.document import Document
from ragtune.models.adapters import AdapterManifest, write_manifest
from ragtune.serve.app import create_app
from ragtune.serve.engine import Engine

API_KEY = "test-key-5f2c"

DOCUMENTS = [
    Document(
        "lighthouse",
        "The Varneholm lighthouse was built in 1871 by the engineer Mara Quist. Its lamp can be seen from 23 "
        "nautical miles away, and the keeper's cottage is now a small museum about shipwrecks on the Varne reef.",
        {"title": "Varneholm lighthouse"},
    ),
    Document(
        "bakery",
        "Pellow's Bakery on Tanner Street opens at 6:30 every morning except Mondays. Its best-known bread is the "
        "Brindle, a rye loaf with caraway seeds, baked since 1952 by three generations of the Pellow family.",
        {"title": "Pellow's Bakery"},
    ),
    Document(
        "leave-policy",
        "Employees of Orbix Ltd receive 27 days of paid annual leave. Unused leave of up to five days may be "
        "carried over into the first quarter of the next year; the rest expires on December 31.",
        {"title": "Orbix leave policy"},
    ),
]


@dataclass
class Served:
    url: str
    config: Config
    engine: Engine
    app: Any

    def client(self, key: str | None = API_KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


class LiveServer:
    """uvicorn serving `app` on a free loopback port in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


def make_adapters(workspace: Path, generator: Any) -> None:
    """A finetune and a hybrid LoRA adapter on the default model, with manifests, as `ragtune tune` leaves them.

    Untrained, but not the identity: LoRA initialises B to zero, which would make an adapter answer exactly as the
    base model does, so a test could not tell whether the server applied it. B gets seeded random values instead,
    large enough to change what the model says (at 0.05 or 0.2 it still answers "Paris" to the capital of France;
    test_api checks that finetune and base answer differently).
    """
    import torch
    from peft import LoraConfig, get_peft_model

    from ragtune.config import ModelsConfig
    from ragtune.models.hf import load_causal_lm
    from ragtune.models.registry import resolve_generator

    files = resolve_generator(ModelsConfig())
    model, _ = load_causal_lm(files)  # a copy of its own: PEFT changes the model it wraps
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    seeded = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, weight in peft_model.named_parameters():
            if "lora_B" in name:
                weight.copy_(torch.randn(weight.shape, generator=seeded) * 0.5)
    for kind in ("finetune", "hybrid"):
        folder = workspace / "adapters" / kind / f"{kind}-test"
        peft_model.save_pretrained(str(folder))
        write_manifest(
            folder,
            AdapterManifest(
                kind=kind,
                base_model_name=files.name,
                base_model_fingerprint=files.fingerprint,
                data_hash="0" * 64,
                config={"lora_r": 4},
            ),
        )
    del peft_model, model


def serve_config(workspace: Path, **serve: Any) -> Config:
    config = Config()
    config.workspace = str(workspace)
    config.generation.max_new_tokens = 24  # short answers keep the suite fast; the tests never need long ones
    config.retrieval.top_k = 3
    config.serve.api_key = API_KEY
    for key, value in serve.items():
        setattr(config.serve, key, value)
    return config


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Any, generator: Any) -> Iterator[Served]:
    workspace = tmp_path_factory.mktemp("served") / ".ragtune"
    config = serve_config(workspace)
    make_adapters(workspace, generator)
    from ragtune.store import open_store

    store = open_store(config, embedder.identity)
    engine = Engine(config, embedder, generator, store)
    engine.upsert(DOCUMENTS)
    app = create_app(config, engine=engine)
    with LiveServer(app) as server:
        yield Served(server.url, config, engine, app)
    engine.close()


def hold_worker(app: Any, fill: int) -> tuple[threading.Event, threading.Thread]:
    """Occupy the app's model worker with a job that waits, then queue `fill` more: the queue is then full.

    Returns (release, thread): set `release` to let everything finish, then join the thread.
    """
    worker = app.state.worker
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(60)

    async def occupy() -> None:
        first = asyncio.ensure_future(worker.run(block))
        await asyncio.to_thread(started.wait, 30)
        rest = [asyncio.ensure_future(worker.run(lambda: None)) for _ in range(fill)]
        await asyncio.gather(first, *rest)

    thread = threading.Thread(target=asyncio.run, args=(occupy(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while worker.stats().waiting < fill or not started.is_set():
        if time.monotonic() > deadline:
            raise RuntimeError("could not fill the queue")
        time.sleep(0.01)
    return release, thread
