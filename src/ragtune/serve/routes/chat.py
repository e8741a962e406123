"""The OpenAI chat API: `POST /v1/chat/completions`, answered whole or streamed as server-sent events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from ragtune import __version__
from ragtune.models.generator import Message as ChatTurn
from ragtune.serve.errors import APIError, as_api_error
from ragtune.serve.state import Server
from ragtune.strategies import spec

MAX_QUESTION_CHARS = 16_000
MAX_TOKENS_LIMIT = 4096

router = APIRouter()


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


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, server: Server) -> Response:
    engine, worker = server.engine(), server.worker
    strategy = body.model or server.config.serve.default_strategy
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


def _chat_role(role: str) -> Literal["system", "user", "assistant"]:
    return "system" if role == "developer" else role  # type: ignore[return-value]


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if callable(close):
        close()


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
                err = as_api_error(exc)
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
