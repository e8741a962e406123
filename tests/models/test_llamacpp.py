"""The llama.cpp backend on the default GGUF (only where the optional [llamacpp] extra is installed)."""

from __future__ import annotations

from typing import Any

import pytest

from ragtune.config import ModelsConfig
from ragtune.models.generator import GenerationParams, Generator, Message
from ragtune.models.registry import resolve_generator

QUESTION = [Message("system", "Answer in one short sentence."), Message("user", "What is the capital of France?")]


@pytest.fixture(scope="module")
def llama() -> Any:
    pytest.importorskip("llama_cpp", reason="the [llamacpp] extra is not installed")
    from ragtune.models.llamacpp import LlamaCppGenerator

    return LlamaCppGenerator(resolve_generator(ModelsConfig()))


def test_reads_the_same_prompt_and_answers(llama: Any, generator: Any) -> None:
    assert isinstance(llama, Generator) and llama.context_window == 8192
    params = GenerationParams(max_new_tokens=16)
    (ours,) = llama.generate([QUESTION], params)
    (reference,) = generator.generate([QUESTION], params)
    assert ours.tokens_in == reference.tokens_in  # same template, same tokens: the chat template lives in one place
    assert "Paris" in ours.text and ours.finish_reason == "stop"
    assert 0 < ours.tokens_out <= 16
    assert "".join(llama.stream(QUESTION, params)).strip() == ours.text


def test_stop_sequences_and_max_tokens(llama: Any) -> None:
    (stopped,) = llama.generate([QUESTION], GenerationParams(max_new_tokens=16, stop=("Paris",)))
    assert "Paris" not in stopped.text
    (cut,) = llama.generate([[Message("user", "Write a long story about snow.")]], GenerationParams(max_new_tokens=4))
    assert cut.tokens_out == 4 and cut.finish_reason == "length"
