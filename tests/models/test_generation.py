"""The transformers backend on the real default model (SmolLM2-135M-Instruct, float32 unless stated)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from ragtune.config import GenerationConfig, ModelsConfig
from ragtune.errors import BackendUnavailableError, RagtuneError
from ragtune.models.adapters import AdapterManifest, AdapterMismatchError, write_manifest
from ragtune.models.chat import render_prompt
from ragtune.models.generator import GenerationParams, Generator, Message
from ragtune.models.hf import HFGenerator
from ragtune.models.loader import generation_params, load_generator

CONVERSATIONS = [
    [Message("user", "What is the capital of France?")],
    [Message("system", "You answer briefly."), Message("user", "Name three colours of the rainbow.")],
    [
        Message(
            "user",
            "Context: The Skellet S2 pump must be recalibrated every 90 days by a certified technician, and its "
            "filter is replaced every 30 days.\nQuestion: How often is the Skellet S2 recalibrated?",
        )
    ],
    [Message("user", "Write one sentence about snow.")],
]


def _with_batch(generator: HFGenerator, batch_size: int, **kwargs: Any) -> HFGenerator:
    return HFGenerator(generator.model, generator.tokenizer, generator.name, batch_size=batch_size, **kwargs)


def test_is_a_generator_with_the_models_window(generator: Any) -> None:
    assert isinstance(generator, Generator)
    assert generator.name == "SmolLM2-135M-Instruct"
    assert generator.context_window == 8192
    assert generator.count_tokens("Hello world") == 2


def test_batched_equals_one_by_one_greedy_float32(generator: Any) -> None:
    params = GenerationParams(max_new_tokens=16)
    batched = _with_batch(generator, 4).generate(CONVERSATIONS, params)
    single = _with_batch(generator, 1).generate(CONVERSATIONS, params)
    assert [r.text for r in batched] == [r.text for r in single]
    assert [(r.tokens_in, r.tokens_out) for r in batched] == [(r.tokens_in, r.tokens_out) for r in single]
    assert "Paris" in batched[0].text
    for conversation, result in zip(CONVERSATIONS, batched, strict=True):  # results come back in input order
        assert result.tokens_in == generator.count_tokens(render_prompt(generator.tokenizer, conversation))
        assert 0 < result.tokens_out <= 16
        assert result.finish_reason == ("length" if result.tokens_out == 16 else "stop")
        assert result.extra["batch_size"] == 4.0


def test_a_shared_prompt_start_is_computed_once_and_changes_no_answer(generator: Any) -> None:
    from ragtune.prompts import SourceText, rag_messages

    sources = [
        SourceText(1, "Bridges", "The Arden bridge was opened in 1904 by the mayor Tomas Vell."),
        SourceText(2, "Bakery", "The Oakleaf bakery was founded by Mira Holt in 1988 and closes on Mondays."),
    ]
    questions = ["Who opened the Arden bridge?", "When was the bakery founded?", "On which day does it close?"]
    # Same instructions and worked example, prompts of different lengths: the rows differ after the shared start.
    conversations = [rag_messages(q, sources[: 1 + i % 2]) for i, q in enumerate(questions)]
    params = GenerationParams(max_new_tokens=12)
    plain = _with_batch(generator, 4, reuse_prefix=False).generate(conversations, params)
    reusing = _with_batch(generator, 4, reuse_prefix=True)
    cached = reusing.generate(conversations, params)
    assert [r.text for r in cached] == [r.text for r in plain]
    assert [r.tokens_in for r in cached] == [r.tokens_in for r in plain]
    for a, b in zip(cached, plain, strict=True):
        assert a.extra["mean_logprob"] == pytest.approx(b.extra["mean_logprob"], abs=1e-3)
    assert reusing._prefix is not None and len(reusing._prefix[0]) >= 16  # the instructions and the example
    # A single question asked afterwards starts from the same cache, streamed or not, and answers as before.
    (single,) = reusing.generate(conversations[:1], params)
    assert single.text == plain[0].text
    assert "".join(reusing.stream(conversations[1], params)).strip() == plain[1].text


def test_max_tokens_and_stop_sequences(generator: Any) -> None:
    (cut,) = generator.generate([CONVERSATIONS[3]], GenerationParams(max_new_tokens=3))
    assert cut.tokens_out == 3 and cut.finish_reason == "length"
    (full,) = generator.generate([CONVERSATIONS[0]], GenerationParams(max_new_tokens=16))
    (stopped,) = generator.generate([CONVERSATIONS[0]], GenerationParams(max_new_tokens=16, stop=("Paris",)))
    assert "Paris" in full.text and "Paris" not in stopped.text
    assert full.text.startswith(stopped.text) and stopped.finish_reason == "stop"
    assert stopped.tokens_out < full.tokens_out  # generation really stopped there, it was not only cut afterwards
    # In a batch, a row that stopped early is padded while the others go on; its count must not change.
    stop = GenerationParams(max_new_tokens=16, stop=("Paris",))
    pair = _with_batch(generator, 2).generate([CONVERSATIONS[0], CONVERSATIONS[3]], stop)
    assert (pair[0].text, pair[0].tokens_out) == (stopped.text, stopped.tokens_out)
    (alone,) = generator.generate([CONVERSATIONS[3]], stop)
    assert (pair[1].text, pair[1].tokens_out) == (alone.text, alone.tokens_out)


def test_sampling_is_seeded(generator: Any) -> None:
    params = GenerationParams(max_new_tokens=8, temperature=1.5, seed=7)
    first = [r.text for r in generator.generate(CONVERSATIONS[2:4], params)]
    again = [r.text for r in generator.generate(CONVERSATIONS[2:4], params)]
    others = [r.text for r in generator.generate(CONVERSATIONS[2:4], GenerationParams(8, 1.5, (), seed=8))]
    assert first == again
    assert first != others  # two seeds giving the same 16 sampled tokens at temperature 1.5 would be a bug


def test_stream_matches_generate(generator: Any) -> None:
    params = GenerationParams(max_new_tokens=16)
    (result,) = generator.generate([CONVERSATIONS[0]], params)
    pieces = list(generator.stream(CONVERSATIONS[0], params))
    assert len(pieces) > 1 and "".join(pieces).strip() == result.text
    stopped = "".join(generator.stream(CONVERSATIONS[0], GenerationParams(max_new_tokens=16, stop=("Paris",))))
    assert "Paris" not in stopped and result.text.startswith(stopped.strip())


def test_stream_reader_can_stop_early(generator: Any) -> None:
    stream = generator.stream(CONVERSATIONS[3], GenerationParams(max_new_tokens=200))
    first = next(stream)
    stream.close()  # the background generation is cancelled and joined, not left running
    assert first


def test_long_prompts_are_cut_to_the_context_window(generator: Any) -> None:
    small = _with_batch(generator, 2, context_window=48)
    long = [Message("user", "Tell me about pumps. " * 40)]
    (result,) = small.generate([long], GenerationParams(max_new_tokens=8))
    assert result.tokens_in == 40 and result.extra["truncated"] > 0
    with pytest.raises(RagtuneError, match="max_new_tokens"):
        small.generate([long], GenerationParams(max_new_tokens=48))


def test_generation_params_follow_the_config() -> None:
    config = GenerationConfig(max_new_tokens=9, temperature=0.5, stop=["\n\n"], seed=3)
    assert generation_params(config) == GenerationParams(9, 0.5, ("\n\n",), 3)
    assert generation_params(config, max_new_tokens=2).max_new_tokens == 2


@pytest.mark.slow
def test_bfloat16_generates(generator: Any) -> None:
    import torch

    bf16 = load_generator(ModelsConfig(dtype="bfloat16"), GenerationConfig(batch_size=2))
    assert isinstance(bf16, HFGenerator) and bf16.model.dtype == torch.bfloat16
    results = bf16.generate(CONVERSATIONS[:2], GenerationParams(max_new_tokens=8))
    assert "Paris" in results[0].text and all(r.tokens_out > 0 for r in results)


def test_adapter_of_another_base_is_refused_before_loading(tmp_path: Any) -> None:
    folder = tmp_path / "adapter"
    write_manifest(folder, AdapterManifest("finetune", "SmolLM2-135M-Instruct", "0" * 64, "d" * 64))
    with pytest.raises(AdapterMismatchError, match="trained on base model"):
        load_generator(ModelsConfig(), adapter=folder)


def test_adapter_needs_the_transformers_backend(tmp_path: Any) -> None:
    with pytest.raises(RagtuneError, match="transformers"):
        load_generator(ModelsConfig(generator_backend="openai", openai_model="x"), adapter=tmp_path)


def test_llamacpp_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if llama-cpp-python were not installed
    with pytest.raises(BackendUnavailableError, match=r"pip install 'ragtune\[llamacpp\]'"):
        load_generator(ModelsConfig(generator_backend="llamacpp"))


def test_unknown_backend_is_named() -> None:
    with pytest.raises(RagtuneError, match="generator_backend: 'vllm'"):
        load_generator(ModelsConfig(generator_backend="vllm"))


@pytest.mark.slow
def test_a_matching_lora_adapter_is_loaded_and_merged(generator: Any, tmp_path: Any) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    from ragtune.models.hf import load_causal_lm
    from ragtune.models.registry import resolve_generator

    files = resolve_generator(ModelsConfig())
    base, tokenizer = load_causal_lm(files)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    folder = tmp_path / "adapter"
    lora.save_pretrained(str(folder))
    write_manifest(folder, AdapterManifest("finetune", files.name, files.fingerprint, "d" * 64))
    ids = tokenizer("The pump is recalibrated every", return_tensors="pt")
    with torch.inference_mode():
        expected = lora(**ids).logits
        plain = generator.model(**ids).logits

    tuned = load_generator(ModelsConfig(), GenerationConfig(), adapter=folder)
    assert isinstance(tuned, HFGenerator) and "finetune adapter adapter" in tuned.name
    assert not hasattr(tuned.model, "peft_config")  # merged: plain transformers model at inference
    with torch.inference_mode():
        got = tuned.model(**ids).logits
    assert torch.allclose(got, expected, atol=1e-3)
    assert not torch.allclose(got, plain, atol=1e-3)  # the adapter really changed the model
