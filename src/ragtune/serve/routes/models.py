"""Health and the OpenAI model list: `GET /healthz`, `GET /v1/models`, `GET /v1/models/{id}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ragtune import __version__
from ragtune.serve.engine import StrategyUnavailableError
from ragtune.serve.errors import APIError
from ragtune.serve.state import Server

router = APIRouter()


@router.get("/healthz")
async def healthz(server: Server) -> dict[str, Any]:
    """Liveness and what the server offers; no key needed and no model work done."""
    serve, stats = server.config.serve, server.worker.stats()
    strategies = [s.__dict__ for s in server.loaded.strategies()] if server.loaded else []
    return {
        "status": "ok" if server.loaded else "loading",
        "version": __version__,
        "auth_required": bool(serve.api_key),
        "default_model": serve.default_strategy,
        "strategies": strategies,
        "queue": {"waiting": stats.waiting, "capacity": stats.capacity, "busy": stats.busy},
        "max_upload_mb": serve.max_upload_mb,
        "upload_types": sorted(server.config.corpus.extensions),
    }


@router.get("/v1/models")
async def list_models(server: Server) -> dict[str, Any]:
    engine = server.engine()
    data = [
        {
            "id": s.name,
            "object": "model",
            "created": server.created,
            "owned_by": "ragtune",
            "description": s.detail,
            "retrieves": s.retrieves,
            # what ragtune's own OpenAI-compatible backend (and vLLM's clients) read as the context window
            "context_length": engine.generator.context_window,
        }
        for s in engine.strategies()
        if s.available
    ]
    return {"object": "list", "data": data}


@router.get("/v1/models/{model_id}")
async def get_model(model_id: str, server: Server) -> dict[str, Any]:
    try:
        status = server.engine().check_strategy(model_id)
    except StrategyUnavailableError as exc:  # not in /v1/models either: for this server it does not exist yet
        raise APIError(404, str(exc), param="model", code="model_not_found") from exc
    return {"id": status.name, "object": "model", "created": server.created, "owned_by": "ragtune"}
