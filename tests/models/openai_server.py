"""A small real OpenAI-compatible chat-completions server for tests: FastAPI + uvicorn on loopback, answering with
a real Generator. It can be told to fail its first requests (503) to exercise the client's retries."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ragtune.models.generator import GenerationParams, Generator, Message


@dataclass
class ServerState:
    fail_first: int = 0  # answer this many requests with 503 before serving
    requests: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)


def build_app(generator: Generator, model_name: str, state: ServerState) -> FastAPI:
    app = FastAPI()
    lock = threading.Lock()  # one generation at a time: the model is not re-entrant

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "max_model_len": 8192}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> Any:
        state.requests += 1
        if state.requests <= state.fail_first:
            return JSONResponse({"error": {"message": "warming up"}}, status_code=503, headers={"Retry-After": "0"})
        body = await request.json()
        state.bodies.append(body)
        if body.get("model") != model_name:
            return JSONResponse({"error": {"message": f"model {body.get('model')!r} not found"}}, status_code=404)
        messages = [Message(m["role"], m["content"]) for m in body["messages"]]
        stop = body.get("stop") or ()
        params = GenerationParams(
            max_new_tokens=int(body.get("max_tokens") or 64),
            temperature=float(body.get("temperature") or 0.0),
            stop=tuple([stop] if isinstance(stop, str) else stop),
            seed=int(body.get("seed") or 0),
        )
        created = int(time.time())
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if body.get("stream"):

            def events() -> Iterator[str]:
                with lock:
                    for piece in generator.stream(messages, params):
                        chunk = {
                            "id": cid,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model_name,
                            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                        }
                        yield f"data: {json.dumps(chunk)}\n\n"
                yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        with lock:
            (result,) = generator.generate([messages], params)
        return {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model_name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.text},
                    "finish_reason": result.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": result.tokens_in,
                "completion_tokens": result.tokens_out,
                "total_tokens": result.tokens_in + result.tokens_out,
            },
        }

    return app


class RunningServer:
    """uvicorn in a background thread on 127.0.0.1 with a free port; `url` is the /v1 base URL."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
