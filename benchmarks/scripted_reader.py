"""A scripted reader behind a real OpenAI-compatible HTTP server: it answers right whenever its prompt holds the
answer, and refuses otherwise. It measures what ragtune's pipeline loses between retrieval and the user's answer
(`python -m benchmarks reader-loss`), the best any model could do with the prompt ragtune builds.

A test double that knows the gold answers, so it is used here, to measure the pipeline, and in the tests of that
measurement; never in place of a model anywhere else.

It serves `GET /v1/models` (publishing a context window, as vLLM does) and `POST /v1/chat/completions` (plain and
streamed) on loopback, through the same `OpenAICompatGenerator` users point at vLLM, Ollama or llama.cpp. The model
name picks the answer style (`STYLES`): the reply names the first source (by its [n]) that holds a gold answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ragtune.prompts import REFUSAL, question_in
from ragtune.text import DECISIONS, contains_answer, normalize_answer

# The three ways a capable model words the same answer: terse with its citation, one sentence, and a longer answer
# with the answer in its middle.
STYLES: dict[str, str] = {
    "terse": "{answer} [{n}]",
    "sentence": "According to the documents, the answer is {answer} [{n}].",
    "long": (
        "The sources address this question directly. Based on source [{n}], the answer is {answer}. The other "
        "sources add background to this but do not change it [{n}]."
    ),
}
CONTEXT_WINDOW = 32768
_SOURCE = re.compile(r"(?m)^\[(\d+)\] ")


def sources_in(prompt: str) -> dict[int, str]:
    """The numbered sources of a ragtune prompt's user message: {number: its text (title included)}."""
    head, _, _ = prompt.partition("\n\nQuestion: ")
    parts = _SOURCE.split(head)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@dataclass(frozen=True)
class Reply:
    text: str
    gold_in_prompt: bool


class ScriptedReader:
    """The answers: per question (as asked), its gold answers. `answer` is the whole behaviour."""

    def __init__(self, golds: Mapping[str, Sequence[str]]) -> None:
        # Longest first: a question's prompt adds a hint after it ("Answer yes or no."), so match by prefix.
        self.golds = sorted(((q.strip(), tuple(g)) for q, g in golds.items()), key=lambda x: -len(x[0]))
        self.seen: list[Reply] = []
        self._lock = threading.Lock()

    def golds_for(self, asked: str) -> tuple[str, ...]:
        asked = asked.strip()
        return next((g for q, g in self.golds if asked.startswith(q)), ())

    def answer(self, user_message: str, style: str) -> Reply:
        golds = self.golds_for(question_in(user_message))
        sources = sources_in(user_message)
        reply = Reply(REFUSAL, False)
        for gold in golds:
            # A decision (yes / no / maybe) is not a span: any source lets a perfect reader decide.
            holding = [n for n, t in sources.items() if normalize_answer(gold) in DECISIONS or contains_answer(t, gold)]
            if holding:
                reply = Reply(STYLES[style].format(answer=gold, n=holding[0]), True)
                break
        with self._lock:
            self.seen.append(reply)
        return reply


class _Handler(BaseHTTPRequestHandler):
    reader: ScriptedReader  # set on the server's subclass

    def log_message(self, format: str, *args: Any) -> None:  # quiet: a benchmark prints its own table
        return

    def _json(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/v1/models":
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        data = [{"id": s, "object": "model", "max_model_len": CONTEXT_WINDOW} for s in STYLES]
        self._json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        style = str(body.get("model", ""))
        if style not in STYLES:
            self._json(404, {"error": {"message": f"model {style!r} not found; choose one of {sorted(STYLES)}"}})
            return
        user = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        text = self.reader.answer(user, style).text
        budget = int(body.get("max_tokens") or 16)
        words = text.split(" ")
        cut = len(words) > budget  # a server stops at max_tokens (a word stands in for a token here)
        text = " ".join(words[:budget])
        if body.get("stream"):
            self._stream(text, style, cut)
            return
        self._json(
            200,
            {
                "id": "chatcmpl-scripted",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": style,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "length" if cut else "stop",
                    }
                ],
                "usage": {"prompt_tokens": len(user.split()), "completion_tokens": len(text.split())},
            },
        )

    def _stream(self, text: str, style: str, cut: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in _pieces(text):
            event = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}], "model": style}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        last = {"choices": [{"index": 0, "delta": {}, "finish_reason": "length" if cut else "stop"}], "model": style}
        self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())


def _pieces(text: str) -> Iterator[str]:
    words = text.split(" ")
    for i, w in enumerate(words):
        yield w if i == 0 else " " + w


class ScriptedServer:
    """The scripted reader served on a free loopback port; `with ScriptedServer(golds) as s: s.base_url`."""

    def __init__(self, golds: Mapping[str, Sequence[str]]) -> None:
        self.reader = ScriptedReader(golds)
        handler = type("Handler", (_Handler,), {"reader": self.reader})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-reader", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
