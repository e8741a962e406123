"""The FastAPI application: an OpenAI-compatible chat API with sources, live document updates and a web page.

`create_app(config)` builds it; `ragtune serve` runs it on uvicorn. The app only parses requests, hands the work to
the model worker (`worker.py`) and writes responses: answering, retrieval and storing are the library's
(`ragtune.rag`, `ragtune.retrieve`, `ragtune.store`), reached through `engine.py`.

Endpoints
- `POST /v1/chat/completions`, `GET /v1/models`: the OpenAI API; `model` names the strategy (rag, hybrid,
  finetune, base); responses carry an extra top-level `sources` list; `stream: true` sends server-sent events.
- `POST /v1/documents` (multipart files or JSON), `GET /v1/documents`, `DELETE /v1/documents/{id}`,
  `GET /v1/search`: the knowledge base, changed while serving and answered from at once.
- `GET /healthz`, `GET /report/` (the latest comparison report), `GET /` (the web page).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ragtune import __version__
from ragtune.config import Config
from ragtune.errors import RagtuneError
from ragtune.serve.engine import STRATEGIES, Engine
from ragtune.serve.errors import install_error_handlers
from ragtune.serve.routes import chat, documents, models, page
from ragtune.serve.security import BodyLimit, install_auth
from ragtune.serve.state import ServerState
from ragtune.serve.worker import ModelWorker


def create_app(config: Config, *, engine: Engine | None = None) -> FastAPI:
    """The server for `config`'s workspace. Without `engine`, the models are loaded when the app starts."""
    serve = config.serve
    if serve.default_strategy not in STRATEGIES:
        raise RagtuneError(
            f"serve.default_strategy: unknown strategy '{serve.default_strategy}'; use one of {STRATEGIES}"
        )
    worker = ModelWorker(capacity=serve.queue_size, batch_size=config.generation.batch_size)
    server = ServerState(config, worker, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = server.loaded is None
        if own:
            server.loaded = await anyio.to_thread.run_sync(Engine.load, config)
        loaded = server.engine()
        await anyio.to_thread.run_sync(loaded.warm)
        worker.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(worker.stop)
            if own:
                server.loaded = None
                loaded.close()

    app = FastAPI(
        title="ragtune",
        version=__version__,
        summary="OpenAI-compatible answers with sources from your documents.",
        lifespan=lifespan,
        # Swagger UI's page loads its scripts from a CDN: blank on the offline machines ragtune is made for. The
        # schema itself is served (/openapi.json) for any viewer or client generator the user has locally.
        docs_url=None,
        redoc_url=None,
    )
    # outermost, so that it also guards the multipart parser; the multipart framing gets 64 KiB on top of the files
    app.add_middleware(BodyLimit, upload_limit=int(serve.max_upload_mb * (1 << 20)) + (64 << 10))
    app.state.server = server
    app.state.worker = worker
    app.state.config = config
    install_error_handlers(app)
    install_auth(app, serve.api_key)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    for routes in (page, models, chat, documents):
        app.include_router(routes.router)
    return app
