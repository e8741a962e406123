"""The `Generator` seam over any OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp server, ...).

The server applies its own chat template; token counts come from the response's `usage`. Transient failures
(connection refused, timeouts, 429 and 5xx answers) are retried with exponential backoff; a server that stays
unreachable raises BackendUnavailableError naming its URL.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import httpx

from ragtune.errors import BackendUnavailableError, RagtuneError
from ragtune.models.generator import Conversation, GenerationParams, GenerationResult

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
DEFAULT_CONTEXT_WINDOW = 4096


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


class OpenAICompatGenerator:
    """Chat completions over HTTP, several requests in flight at once (servers batch them)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 120.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        concurrency: int = 4,
        context_window: int | None = None,
        fallback_context_window: int = DEFAULT_CONTEXT_WINDOW,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        self.concurrency = max(1, concurrency)
        self._context_window = context_window
        self._fallback_context_window = fallback_context_window
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # Connecting gets a short timeout of its own: an absent server should fail fast, a slow answer may not.
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAICompatGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        return f"{self.model} @ {self.base_url}"

    @property
    def context_window(self) -> int:
        """The server's own figure when it publishes one (vLLM: max_model_len), else the fallback
        (models.openai_context_window, 4096 by default)."""
        if self._context_window is None:
            self._context_window = self._fetch_context_window() or self._fallback_context_window
        return self._context_window

    def _fetch_context_window(self) -> int | None:
        try:
            data = self._request("GET", "/models").json()
        except (RagtuneError, ValueError):
            return None
        for entry in data.get("data", []) if isinstance(data, dict) else []:
            if isinstance(entry, dict) and entry.get("id") == self.model:
                for key in ("max_model_len", "context_length", "context_window", "n_ctx"):
                    if isinstance(entry.get(key), int):
                        return int(entry[key])
        return None

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters a token): the server's tokenizer is not available here."""
        return max(1, math.ceil(len(text) / 4)) if text else 0

    # ------------------------------------------------------------------------------------------- transport

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _send_once(self, method: str, path: str, body: dict[str, Any] | None, stream: bool) -> httpx.Response:
        try:
            request = self._client.build_request(method, path, json=body)
            response = self._client.send(request, stream=stream)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in _RETRY_STATUS:
            detail = response.read().decode("utf-8", "replace")[:300]
            response.close()
            raise _Retryable(f"HTTP {response.status_code}: {detail}", _retry_after(response))
        if response.status_code >= 400:
            detail = response.read().decode("utf-8", "replace")[:500]
            response.close()
            raise RagtuneError(
                f"OpenAI-compatible server at {self._url(path)} refused the request: HTTP {response.status_code} "
                f"{detail}. Check models.openai_model and the server's settings."
            )
        return response

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, stream: bool = False
    ) -> httpx.Response:
        """One request with retries and exponential backoff (honouring Retry-After)."""
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                return self._send_once(method, path, body, stream)
            except _Retryable as exc:
                last = str(exc)
                if attempt == self.max_retries:
                    break
                delay = exc.retry_after if exc.retry_after is not None else self.backoff_s * (2**attempt)
                time.sleep(min(delay, 30.0))
        raise BackendUnavailableError(
            f"OpenAI-compatible server at {self._url(path)} is unavailable after {self.max_retries + 1} attempts "
            f"({last}). Start the server, or fix models.openai_base_url (RAGTUNE_MODELS__OPENAI_BASE_URL)."
        )

    # ------------------------------------------------------------------------------------------------- API

    def _body(self, conversation: Conversation, params: GenerationParams, stream: bool) -> dict[str, Any]:
        if not conversation:
            raise ValueError("a conversation needs at least one message")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in conversation],
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
            "stream": stream,
        }
        stops = [s for s in params.stop if s]
        if stops:
            body["stop"] = stops[:4]  # the OpenAI API takes at most four
        return body

    def _one(self, conversation: Conversation, params: GenerationParams) -> GenerationResult:
        t0 = time.perf_counter()
        response = self._request("POST", "/chat/completions", self._body(conversation, params, stream=False))
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise RagtuneError(
                f"OpenAI-compatible server at {self._url('/chat/completions')} sent an answer that is not a chat "
                f"completion ({type(exc).__name__}: {exc}): {response.text[:300]}"
            ) from exc
        usage = data.get("usage") or {}
        prompt = "\n".join(m.content for m in conversation)
        tokens_in = usage.get("prompt_tokens")
        tokens_out = usage.get("completion_tokens")
        reason: Literal["stop", "length"] = "length" if choice.get("finish_reason") == "length" else "stop"
        return GenerationResult(
            text=text.strip(),
            tokens_in=int(tokens_in) if isinstance(tokens_in, int) else self.count_tokens(prompt),
            tokens_out=int(tokens_out) if isinstance(tokens_out, int) else self.count_tokens(text),
            seconds=time.perf_counter() - t0,
            finish_reason=reason,
            extra={"usage_reported": float(isinstance(tokens_out, int))},
        )

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[GenerationResult]:
        if len(conversations) <= 1 or self.concurrency == 1:
            return [self._one(c, params) for c in conversations]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda c: self._one(c, params), conversations))

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[str]:
        """Server-sent events: `data: {chunk}` lines until `data: [DONE]`."""
        response = self._request(
            "POST", "/chat/completions", self._body(conversation, params, stream=True), stream=True
        )
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[len("data:") :].strip()
                if payload == "[DONE]":
                    return
                try:
                    chunk = json.loads(payload)
                except ValueError as exc:
                    raise RagtuneError(
                        f"{self._url('/chat/completions')}: malformed stream event {payload[:200]!r}"
                    ) from exc
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except httpx.TransportError as exc:
            raise BackendUnavailableError(
                f"OpenAI-compatible server at {self._url('/chat/completions')} dropped the stream ({exc})"
            ) from exc
        finally:
            response.close()
