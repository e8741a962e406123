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

import ipaddress
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Literal

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragtune import __version__
from ragtune.config import Config
from ragtune.corpus.document import Document
from ragtune.corpus.uploads import InvalidDocumentError, UnsupportedTypeError, check_doc_id, clean_title
from ragtune.errors import RagtuneError
from ragtune.models.generator import Message as ChatTurn
from ragtune.serve.engine import (
    API_SOURCE,
    STRATEGIES,
    Engine,
    StrategyUnavailableError,
    UnknownStrategyError,
    Upload,
)
from ragtune.serve.worker import ModelWorker, QueueFullError, WorkerStoppedError
from ragtune.strategies import spec

STATIC_DIR = Path(__file__).parent / "static"
JSON_BODY_LIMIT = 1 << 20  # chat and search requests: a long RAG prompt is a few KB, 1 MiB is plenty
MAX_QUESTION_CHARS = 16_000
MAX_TOKENS_LIMIT = 4096
KEY_COOKIE = "ragtune_key"


class BindError(RagtuneError):
    """The server would be reachable from other machines without an API key."""


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, 'localhost')."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or an interface: reachable from elsewhere as far as we can tell


def check_bind(host: str, api_key: str) -> None:
    """Refuse to serve beyond loopback without an API key."""
    if not is_loopback(host) and not api_key:
        raise BindError(
            f"refusing to listen on {host} without an API key: anyone who can reach this machine could use it. "
            "Pass --api-key KEY (or set RAGTUNE_API_KEY), or bind to 127.0.0.1."
        )


# -- OpenAI-style errors --------------------------------------------------------------------------------------------
class APIError(Exception):
    """An error answered in the OpenAI format: {"error": {"message", "type", "param", "code"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}


def error_response(err: APIError) -> JSONResponse:
    body = {"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}}
    return JSONResponse(body, status_code=err.status, headers=err.headers)


def _as_api_error(exc: BaseException, worker: ModelWorker | None = None) -> APIError:
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, QueueFullError):
        return APIError(
            503,
            f"The server is busy: {exc.waiting} requests are waiting for the model. Retry after {exc.retry_after} s.",
            type="server_busy",
            code="queue_full",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, WorkerStoppedError):
        return APIError(503, str(exc), type="server_error", code="shutting_down", headers={"Retry-After": "5"})
    if isinstance(exc, UnknownStrategyError):
        return APIError(404, str(exc), param="model", code="model_not_found")
    if isinstance(exc, StrategyUnavailableError):
        return APIError(400, str(exc), param="model", code="strategy_unavailable")
    if isinstance(exc, UnsupportedTypeError):
        return APIError(415, str(exc), param="file", code="unsupported_type")
    if isinstance(exc, InvalidDocumentError):
        return APIError(400, str(exc), code="invalid_document")
    if isinstance(exc, RagtuneError):
        return APIError(500, str(exc), type="server_error")
    return APIError(500, f"internal error: {type(exc).__name__}: {exc}", type="server_error")


# -- request bodies -------------------------------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted and ignored
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            parts = []
            for part in self.content:
                if part.type != "text":
                    raise APIError(400, f"message content of type '{part.type}' is not supported; send text")
                parts.append(part.text or "")
            return "\n".join(parts)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: StrictBool = False


class ChatCompletionRequest(BaseModel):
    # Clients send many optional parameters (top_p, user, logprobs...); unknown ones are accepted and ignored, as
    # OpenAI-compatible servers do, so that existing clients work unchanged.
    model_config = ConfigDict(extra="allow")
    model: str = ""
    messages: list[ChatMessage] = Field(min_length=1, max_length=256)
    stream: StrictBool = False  # "yes" or 1 is a client's mistake, not a request to stream
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    n: int = Field(1, ge=1, le=1, description="only one choice per request")
    stop: str | list[str] | None = None

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=256)
    title: str = Field("", max_length=1000)
    text: str = Field(min_length=1)
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        try:
            return check_doc_id(value)
        except InvalidDocumentError as exc:
            raise ValueError(str(exc)) from exc

    def document(self) -> Document:
        meta: dict[str, Any] = {**self.metadata, "title": clean_title(self.title) or self.id, "source": API_SOURCE}
        return Document(id=self.id, text=self.text, metadata=meta)


class DocumentBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentIn] = Field(min_length=1, max_length=1000)


def _validation_message(exc: ValidationError | RequestValidationError) -> tuple[str, str | None]:
    problems = []
    first_param: str | None = None
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "body"
        first_param = first_param or where
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{where}: {msg}")
    return "invalid request: " + "; ".join(problems), first_param


# -- the body size limit --------------------------------------------------------------------------------------------
class BodyLimit:
    """Refuses request bodies over a limit with 413, counting bytes as they arrive (chunked bodies included)."""

    def __init__(self, app: ASGIApp, upload_limit: int, default_limit: int = JSON_BODY_LIMIT) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.default_limit = default_limit

    def _limit(self, path: str) -> int:
        return self.upload_limit if path.rstrip("/") == "/v1/documents" else self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        too_large = APIError(
            413,
            f"request body larger than {limit / (1 << 20):g} MiB"
            + (" (serve.max_upload_mb)" if limit == self.upload_limit else ""),
            code="too_large",
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await error_response(too_large)(scope, receive, send)
                return
        seen = 0
        started = exceeded = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # the app's own answer to a body it could not read (FastAPI: 400); the 413 replaces it
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with suppress(_BodyTooLarge):
            await self.app(scope, limited_receive, tracking_send)
        if exceeded and not started:
            await error_response(too_large)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


# -- responses ------------------------------------------------------------------------------------------------------
def source_json(source: Any, supporting: Sequence[int] = ()) -> dict[str, Any]:
    return {
        "doc_id": source.doc_id,
        "title": source.title,
        "chunk_id": source.chunk_id,
        "score": float(source.score),
        "text": source.text,
        "number": getattr(source, "number", None),
        "page": getattr(source, "page", None),
        "heading": getattr(source, "heading", None),
        "excerpt": getattr(source, "excerpt", ""),  # what the model was shown of the passage
        "supports_answer": getattr(source, "number", None) in supporting,  # a sentence of the answer rests on it
    }


def hit_json(rank: int, hit: Any) -> dict[str, Any]:
    meta = hit.chunk.metadata
    return {
        "rank": rank,
        "doc_id": hit.chunk.doc_id,
        "title": hit.chunk.title or hit.chunk.doc_id,
        "chunk_id": hit.chunk.id,
        "score": float(hit.score),
        "text": hit.chunk.text,
        "page": meta.get("page"),
        "heading": meta.get("heading"),
    }


def _sse(payload: Any) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


class _Reply:
    """What a strategy produced for one request, whichever path it took."""

    def __init__(
        self,
        text: str,
        sources: Sequence[Any] = (),
        tokens_in: int = 0,
        tokens_out: int = 0,
        refused: bool = False,
        finish_reason: str = "stop",
    ) -> None:
        self.text = text
        self.sources = list(sources)
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.refused = refused
        self.finish_reason = finish_reason
        self.refusal_reason = ""
        self.supporting: tuple[int, ...] = ()  # numbers of the sources the answer's sentences rest on

    @classmethod
    def from_answer(cls, answer: Any) -> _Reply:
        reply = cls(answer.text, answer.sources, answer.tokens_in, answer.tokens_out, bool(answer.refused))
        reply.refusal_reason = str(getattr(answer, "refusal_reason", "") or "")
        numbers = (getattr(s, "source_number", None) for s in getattr(answer, "sentences", ()))
        reply.supporting = tuple(n for n in numbers if n is not None)
        return reply

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.tokens_in,
            "completion_tokens": self.tokens_out,
            "total_tokens": self.tokens_in + self.tokens_out,
        }


# -- the application ------------------------------------------------------------------------------------------------
def create_app(config: Config, *, engine: Engine | None = None) -> FastAPI:
    """The server for `config`'s workspace. Without `engine`, the models are loaded when the app starts."""
    serve = config.serve
    if serve.default_strategy not in STRATEGIES:
        raise RagtuneError(
            f"serve.default_strategy: unknown strategy '{serve.default_strategy}'; use one of {STRATEGIES}"
        )
    worker = ModelWorker(capacity=serve.queue_size, batch_size=config.generation.batch_size)
    holder: dict[str, Engine] = {}
    if engine is not None:
        holder["engine"] = engine

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = "engine" not in holder
        if own:
            holder["engine"] = await anyio.to_thread.run_sync(Engine.load, config)
        await anyio.to_thread.run_sync(holder["engine"].warm)
        worker.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(worker.stop)
            if own:
                holder.pop("engine").close()

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
    app.state.worker = worker
    app.state.config = config

    def get_engine() -> Engine:
        if "engine" not in holder:
            raise APIError(503, "the models are still loading", type="server_error", headers={"Retry-After": "5"})
        return holder["engine"]

    # -- errors and auth -------------------------------------------------------------------------------------------
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json is not None:
            at = next((p for p in bad_json.get("loc", ()) if isinstance(p, int)), None)
            detail = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
            where = f" at character {at}" if at is not None else ""
            return error_response(APIError(400, f"the body is not valid JSON{where}: {detail}", code="invalid_json"))
        content_type = request.headers.get("content-type", "")
        whole_body = any(tuple(e.get("loc", ())) == ("body",) for e in errors)
        if whole_body and not content_type.lower().startswith("application/json"):
            return error_response(
                APIError(
                    415,
                    f"send the body as JSON with 'Content-Type: application/json' (got {content_type or 'none'!r})",
                    code="unsupported_media_type",
                )
            )
        message, param = _validation_message(exc)
        return error_response(APIError(400, message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            message = "the body could not be read: send UTF-8 JSON with 'Content-Type: application/json'"
        elif exc.status_code == 405:
            message = f"method {request.method} not allowed on {request.url.path}"
        return error_response(APIError(exc.status_code, message, headers=dict(exc.headers or {})))

    @app.exception_handler(RagtuneError)
    async def _ragtune(request: Request, exc: RagtuneError) -> Response:
        return error_response(_as_api_error(exc))

    @app.exception_handler(QueueFullError)
    async def _busy(request: Request, exc: QueueFullError) -> Response:
        return error_response(_as_api_error(exc))

    @app.exception_handler(WorkerStoppedError)
    async def _stopped(request: Request, exc: WorkerStoppedError) -> Response:
        return error_response(_as_api_error(exc))

    @app.middleware("http")
    async def _auth_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        protected = path.startswith("/v1/") or path == "/report" or path.startswith("/report/")
        if serve.api_key and protected and not _authorized(request, serve.api_key):
            return error_response(
                APIError(
                    401,
                    "missing or wrong API key: send 'Authorization: Bearer KEY'",
                    type="authentication_error",
                    code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            )
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if path == "/" or path.startswith("/static/"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; frame-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'self'",
            )
        return response

    # -- the page and health ---------------------------------------------------------------------------------------
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness and what the server offers; no key needed and no model work done."""
        stats = worker.stats()
        loaded = "engine" in holder
        strategies = [s.__dict__ for s in holder["engine"].strategies()] if loaded else []
        return {
            "status": "ok" if loaded else "loading",
            "version": __version__,
            "auth_required": bool(serve.api_key),
            "default_model": serve.default_strategy,
            "strategies": strategies,
            "queue": {"waiting": stats.waiting, "capacity": stats.capacity, "busy": stats.busy},
            "max_upload_mb": serve.max_upload_mb,
            "upload_types": sorted(config.corpus.extensions),
        }

    # -- OpenAI: models --------------------------------------------------------------------------------------------
    created = int(time.time())

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        engine = get_engine()
        data = [
            {
                "id": s.name,
                "object": "model",
                "created": created,
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

    @app.get("/v1/models/{model_id}")
    async def get_model(model_id: str) -> dict[str, Any]:
        try:
            status = get_engine().check_strategy(model_id)
        except StrategyUnavailableError as exc:  # not in /v1/models either: for this server it does not exist yet
            raise APIError(404, str(exc), param="model", code="model_not_found") from exc
        return {"id": status.name, "object": "model", "created": created, "owned_by": "ragtune"}

    # -- OpenAI: chat completions ----------------------------------------------------------------------------------
    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: ChatCompletionRequest) -> Response:
        engine = get_engine()
        strategy = body.model or serve.default_strategy
        engine.check_strategy(strategy)
        turns = [m for m in body.messages if m.role in ("system", "developer", "user", "assistant")]
        users = [m for m in turns if m.role == "user"]
        if not users:
            raise APIError(400, "messages: there is no user message to answer", param="messages")
        question = users[-1].text().strip()
        if not question:
            raise APIError(400, "messages: the last user message is empty", param="messages")
        if sum(len(m.text()) for m in turns) > MAX_QUESTION_CHARS * 4 or len(question) > MAX_QUESTION_CHARS:
            raise APIError(400, f"messages: too long (a question may have {MAX_QUESTION_CHARS} characters)")
        max_tokens = body.max_completion_tokens or body.max_tokens
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        # A closed-book strategy asked with a whole conversation (a system prompt, earlier turns) gets it verbatim,
        # as a chat API should: this is also how a ragtune elsewhere uses this server as its generator. A single
        # question goes through the Answerer, with the same prompt the comparison measured.
        direct = not spec(strategy).reads_sources and (len(turns) > 1 or bool(stop))
        completion_id = "chatcmpl-" + uuid.uuid4().hex
        now = int(time.time())

        if direct:
            conversation = [ChatTurn(_chat_role(m.role), m.text()) for m in turns]
            params = engine.params(max_tokens, body.temperature, stop)

            if body.stream:

                def produce_direct(emit: Callable[[Any], None], cancelled: Callable[[], bool]) -> _Reply:
                    pieces: list[str] = []
                    iterator = engine.stream_generate(strategy, conversation, params)
                    try:
                        for piece in iterator:
                            if cancelled():
                                break
                            pieces.append(piece)
                            emit(piece)
                    finally:
                        _close(iterator)
                    text = "".join(pieces)
                    # Usage and finish_reason as the non-streaming path reports them, where the backend measured
                    # them (the local model does); else counted from the text.
                    measured = getattr(iterator, "extra", {})
                    count = engine.generator_for(strategy).count_tokens
                    tokens_in = int(measured.get("tokens_in", sum(count(m.content) for m in conversation)))
                    tokens_out = int(measured.get("tokens_out", count(text) if text else 0))
                    hit_length = measured.get("hit_length", float(tokens_out >= params.max_new_tokens))
                    finish = "length" if hit_length and not cancelled() else "stop"
                    return _Reply(text, (), tokens_in, tokens_out, False, finish)

                handle = worker.stream(produce_direct)
                return _stream_response(handle, completion_id, now, strategy, body)

            result = await worker.run(lambda: engine.generate(strategy, conversation, params))
            reply = _Reply(result.text, (), result.tokens_in, result.tokens_out, False, result.finish_reason)
            return JSONResponse(_completion(completion_id, now, strategy, reply))

        if body.stream:

            def produce(emit: Callable[[Any], None], cancelled: Callable[[], bool]) -> _Reply:
                stream = engine.stream_answer(strategy, question, max_tokens, body.temperature)
                for piece in stream:
                    if cancelled():
                        _close(stream)
                        del stream  # the last reference: the generator's cleanup stops generation now
                        return _Reply("")
                    emit(piece)
                return _Reply.from_answer(stream.answer)

            handle = worker.stream(produce)
            return _stream_response(handle, completion_id, now, strategy, body)

        key = ("answer", strategy, max_tokens, body.temperature)
        answer = await worker.run_batched(
            key, question, lambda qs: engine.answer_many(strategy, qs, max_tokens, body.temperature)
        )
        return JSONResponse(_completion(completion_id, now, strategy, _Reply.from_answer(answer)))

    # -- the knowledge base ----------------------------------------------------------------------------------------
    @app.post("/v1/documents", status_code=201)
    async def upload_documents(request: Request) -> JSONResponse:
        """Add or replace documents: multipart files (`files`, optional `id`/`title`) or JSON."""
        engine = get_engine()
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith("multipart/form-data"):
            uploads = await _read_uploads(request, int(serve.max_upload_mb * (1 << 20)))
            documents = await worker.run(lambda: engine.documents_from_uploads(uploads), urgent=True)
        elif content_type.startswith("application/json"):
            documents = _json_documents(await _json_body(request))
        else:
            raise APIError(
                415,
                'send documents as multipart/form-data (field \'files\') or as JSON {"id", "title", "text"}',
                code="unsupported_media_type",
            )
        ids = [d.id for d in documents]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise APIError(
                400,
                f"document id {twice[0]!r} appears twice in one upload; ids must be unique",
                param="id",
                code="duplicate_id",
            )
        changes = await worker.run(lambda: engine.upsert(documents), urgent=True)
        return JSONResponse({"documents": [c.__dict__ for c in changes]}, status_code=201)

    @app.get("/v1/documents")
    async def list_documents() -> dict[str, Any]:
        engine = get_engine()
        ids, chunks = await worker.run(lambda: (engine.document_ids(), engine.chunk_count()), urgent=True)
        return {"documents": [{"id": i} for i in ids], "chunks": chunks}

    @app.delete("/v1/documents/{doc_id:path}")
    async def delete_document(doc_id: str) -> dict[str, Any]:
        engine = get_engine()
        if len(doc_id) > 1024 or any(ord(c) < 32 for c in doc_id):
            raise APIError(400, "invalid document id: control characters or over 1024 characters", param="id")
        removed = await worker.run(lambda: engine.delete(doc_id), urgent=True)
        if not removed:
            raise APIError(404, f"no document with id {doc_id!r}", param="id", code="document_not_found")
        return {"id": doc_id, "deleted": True}

    @app.get("/v1/search")
    async def search(
        q: str = Query(min_length=1, max_length=2000, description="The query."),
        k: int = Query(5, ge=1, le=100, description="Chunks to return."),
        mode: Literal["dense", "bm25", "hybrid"] | None = Query(None, description="Default: retrieval.mode."),
    ) -> dict[str, Any]:
        engine = get_engine()
        if not q.strip():
            raise APIError(400, "q: the query is empty", param="q")
        hits = await worker.run(lambda: engine.search(q, k, mode), urgent=True)
        return {
            "query": q,
            "mode": mode or config.retrieval.mode,
            "hits": [hit_json(rank, hit) for rank, hit in enumerate(hits, 1)],
        }

    # -- the comparison report -------------------------------------------------------------------------------------
    def latest_report() -> Path:
        folder = get_engine().workspace.latest_report_dir()
        if folder is None:
            raise APIError(
                404,
                f"no comparison report yet in workspace {config.workspace_path}: run `ragtune compare` first",
                code="no_report",
            )
        return folder

    @app.get("/report", include_in_schema=False)
    async def report_redirect() -> RedirectResponse:
        return RedirectResponse("/report/", status_code=307)  # so that the report's relative links resolve

    @app.get("/report/{name:path}", include_in_schema=False)
    async def report(name: str) -> FileResponse:
        folder = latest_report().resolve()
        target = (folder / (name or "report.html")).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            raise APIError(404, f"no file {name!r} in the latest report", code="not_found")
        return FileResponse(target)

    return app


def _chat_role(role: str) -> Literal["system", "user", "assistant"]:
    return "system" if role == "developer" else role  # type: ignore[return-value]


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if callable(close):
        close()


def _authorized(request: Request, key: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), key.encode()):
        return True
    if request.headers.get("x-api-key") and secrets.compare_digest(request.headers["x-api-key"].encode(), key.encode()):
        return True
    # The page opens the report in a frame, which cannot send a header; the page sets this SameSite cookie instead.
    # It reads the report and nothing else: the API (even its reads) wants the key in a header.
    cookie = request.cookies.get(KEY_COOKIE, "")
    report = request.url.path == "/report" or request.url.path.startswith("/report/")
    return (
        report
        and request.method in ("GET", "HEAD")
        and bool(cookie)
        and secrets.compare_digest(cookie.encode(), key.encode())
    )


def _completion(completion_id: str, created: int, model: str, reply: _Reply) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": f"ragtune-{__version__}",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "refusal": None},
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": reply.usage(),
        "sources": [source_json(s, reply.supporting) for s in reply.sources],
        "refused": reply.refused,
        "refusal_reason": reply.refusal_reason,
    }


def _stream_response(
    handle: Any, completion_id: str, created: int, model: str, body: ChatCompletionRequest
) -> StreamingResponse:
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": f"ragtune-{__version__}",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }

    async def events() -> AsyncIterator[bytes]:
        try:
            yield _sse(chunk({"role": "assistant", "content": ""}))
            streamed: list[str] = []
            async for piece in handle:
                streamed.append(piece)
                yield _sse(chunk({"content": piece}))
            try:
                reply: _Reply = await handle.result()
            except BaseException as exc:
                err = _as_api_error(exc)
                yield _sse({"error": {"message": err.message, "type": err.type, "code": err.code}})
                return
            # The answer may differ from what streamed (a refusal replaces an unsupported answer): say so at the end
            final_delta: dict[str, Any] = {}
            extra: dict[str, Any] = {
                "sources": [source_json(s, reply.supporting) for s in reply.sources],
                "refused": reply.refused,
                "refusal_reason": reply.refusal_reason,
            }
            if reply.text and reply.text != "".join(streamed):
                extra["answer"] = reply.text
            yield _sse(chunk(final_delta, reply.finish_reason, **extra))
            if include_usage:
                usage_chunk = chunk({}, None, usage=reply.usage())
                usage_chunk["choices"] = []
                yield _sse(usage_chunk)
            yield b"data: [DONE]\n\n"
        finally:
            handle.cancel()  # the client went away (or we are done): stop generating at the next token

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise APIError(400, f"the body is not valid JSON: {exc}", code="invalid_json") from exc


def _json_documents(payload: Any) -> list[Document]:
    try:
        if isinstance(payload, list):
            items = [DocumentIn.model_validate(item) for item in payload]
            if not items:
                raise APIError(400, "the list of documents is empty")
        elif isinstance(payload, dict) and "documents" in payload:
            items = DocumentBatchIn.model_validate(payload).documents
        else:
            items = [DocumentIn.model_validate(payload)]
    except ValidationError as exc:
        message, param = _validation_message(exc)
        raise APIError(400, message + ' (expected {"id", "title", "text"})', param=param) from exc
    return [item.document() for item in items]


async def _read_uploads(request: Request, limit: int) -> list[Upload]:
    try:
        form = await request.form(max_files=100, max_fields=100)
    except Exception as exc:  # the multipart parser's own errors: malformed body, too many parts
        if isinstance(exc, _BodyTooLarge):
            raise
        raise APIError(400, f"unreadable multipart body: {exc}", code="invalid_multipart") from exc
    files = [v for k, v in form.multi_items() if k in ("files", "file") and not isinstance(v, str)]
    if not files:
        raise APIError(400, "no file in the upload: send the document(s) in a form field named 'files'", param="files")
    doc_id = form.get("id")
    title = form.get("title")
    if doc_id is not None and not isinstance(doc_id, str):
        raise APIError(400, "id: must be a text field", param="id")
    if title is not None and not isinstance(title, str):
        raise APIError(400, "title: must be a text field", param="title")
    if doc_id and len(files) > 1:
        raise APIError(400, "id: give an id only when uploading one file (others take their file name)", param="id")
    if doc_id:
        try:
            check_doc_id(doc_id)
        except InvalidDocumentError as exc:
            raise APIError(400, str(exc), param="id") from exc
    uploads = []
    total = 0
    for file in files:
        data = await file.read()
        total += len(data)
        if total > limit:
            raise APIError(413, f"upload larger than {limit / (1 << 20):g} MiB (serve.max_upload_mb)", code="too_large")
        uploads.append(Upload(file.filename or "upload", data, doc_id or None, title or None))
    await form.close()
    return uploads
