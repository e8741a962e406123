"""What every route reads: the configuration, the model worker and the engine (once the models have loaded)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from ragtune.config import Config
from ragtune.serve.engine import Engine
from ragtune.serve.errors import APIError
from ragtune.serve.worker import ModelWorker


@dataclass
class ServerState:
    """One app's shared state (on `app.state.server`); the engine arrives when the lifespan has loaded it."""

    config: Config
    worker: ModelWorker
    loaded: Engine | None = None
    created: int = field(default_factory=lambda: int(time.time()))  # the models' "created" time in /v1/models

    def engine(self) -> Engine:
        if self.loaded is None:
            raise APIError(503, "the models are still loading", type="server_error", headers={"Retry-After": "5"})
        return self.loaded


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


Server = Annotated[ServerState, Depends(server_state)]
