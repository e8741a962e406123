"""The llama.cpp backend (the optional [llamacpp] extra): the GGUF run directly, fast per token on CPU.

Prompts are rendered by `ragtune.models.chat.render_prompt` with the model's own Hugging Face tokenizer (from the
converted cache folder), so llama.cpp reads exactly the text the transformers backend and training use. llama.cpp
answers one prompt at a time, so `generate` loops.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from ragtune.errors import BackendUnavailableError
from ragtune.models.chat import end_of_turn, render_prompt
from ragtune.models.generator import Conversation, GenerationParams, GenerationResult
from ragtune.models.registry import GeneratorFiles

INSTALL_HINT = "pip install 'ragtune[llamacpp]'"


def _llama_class() -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise BackendUnavailableError(
            f"models.generator_backend = 'llamacpp' needs llama-cpp-python, which is not installed ({exc}). "
            f"Install it with `{INSTALL_HINT}` (it compiles llama.cpp: several minutes), or use the "
            "'transformers' backend."
        ) from exc
    return Llama


class LlamaCppGenerator:
    """`Generator` on llama-cpp-python for a GGUF model."""

    def __init__(self, files: GeneratorFiles, threads: int | None = None, context_window: int | None = None) -> None:
        if files.gguf is None:
            raise BackendUnavailableError(f"llama.cpp needs a .gguf file; '{files.name}' has none")
        llama = _llama_class()
        from transformers import AutoTokenizer

        self.files = files
        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(files.folder), local_files_only=True)
        self._eot = end_of_turn(self.tokenizer)
        n_ctx = context_window or 0  # 0: the context length the GGUF declares
        # llama.cpp's own default is half the CPUs (it assumes hyper-threads); on a small VM that leaves cores idle.
        n_threads = threads or os.cpu_count() or 1
        self.llm: Any = llama(model_path=str(files.gguf), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        self._context_window = int(self.llm.n_ctx())
        self.base_name = files.name  # the model, whichever backend runs it (see generator.model_identity)
        model = getattr(self.llm, "_model", None)  # llama-cpp-python's model wrapper knows its size
        self.parameters = int(model.n_params()) if model is not None and hasattr(model, "n_params") else None

    @property
    def name(self) -> str:
        return f"{self.files.name} (llama.cpp)"

    @property
    def context_window(self) -> int:
        return self._context_window

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _stops(self, params: GenerationParams) -> list[str]:
        return [self._eot, *(s for s in params.stop if s)]

    def _kwargs(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_tokens": params.max_new_tokens, "stop": self._stops(params), "seed": params.seed}
        if params.temperature > 0:  # the same plain sampling as the transformers backend: no top-k/top-p cut
            kwargs.update(temperature=params.temperature, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0)
        else:
            kwargs.update(temperature=0.0, top_k=1, repeat_penalty=1.0)
        return kwargs

    def _prompt(self, conversation: Conversation) -> str:
        return render_prompt(self.tokenizer, conversation)

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[GenerationResult]:
        results = []
        for conversation in conversations:
            t0 = time.perf_counter()
            out = self.llm.create_completion(self._prompt(conversation), **self._kwargs(params))
            choice = out["choices"][0]
            usage = out.get("usage") or {}
            results.append(
                GenerationResult(
                    text=str(choice.get("text") or "").strip(),
                    tokens_in=int(usage.get("prompt_tokens", 0)),
                    tokens_out=int(usage.get("completion_tokens", 0)),
                    seconds=time.perf_counter() - t0,
                    finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
                )
            )
        return results

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[str]:
        for chunk in self.llm.create_completion(self._prompt(conversation), stream=True, **self._kwargs(params)):
            piece = chunk["choices"][0].get("text")
            if piece:
                yield str(piece)
