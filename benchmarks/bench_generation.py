"""Generation throughput of the default model (SmolLM2-135M-Instruct): transformers backend against llama.cpp.

Evaluation-style prompts: a SQuAD 2.0 dev question (../shared/data/squad2-dev-sample500) with about 300 tokens of
retrieved context (its own paragraph plus the next ones, cut to 300 tokens), in the RAG prompt of `ragtune.prompts`,
answered greedily with at most 64 new tokens (the model stops earlier at its end-of-turn token).

- transformers, float32 and bfloat16: one prompt, then 8 and 32 prompts as one batch each (left padding).
- llama.cpp on the same GGUF (when the [llamacpp] extra is installed): the same prompts one by one, the way it
  serves them. It is the baseline of every row, and the target is batched-32 transformers >= llama.cpp tokens/s.
  Without llama.cpp, the baseline is transformers float32 on one prompt.

tokens/s = generated tokens (end-of-turn included) / wall-clock seconds, prompt processing included.
`--quick`: 8 prompts at most and 16 new tokens.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ragtune  # noqa: F401  (first: it sets passive OpenMP waiting, which must happen before torch loads)
from benchmarks.harness import Row, Section

SQUAD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "squad2-dev-sample500" / "queries.json"
CONTEXT_TOKENS = 300


def evaluation_prompts(tokenizer: Any, n: int) -> list[Any]:
    """n RAG conversations: a question plus ~CONTEXT_TOKENS tokens of numbered sources."""
    from ragtune.prompts import SourceText, rag_messages

    queries = json.loads(SQUAD.read_text(encoding="utf-8"))["queries"]
    contexts = list(dict.fromkeys(q["context"] for q in queries))
    out = []
    for q in queries[:n]:
        sources: list[SourceText] = []
        budget = CONTEXT_TOKENS
        start = contexts.index(q["context"])
        for j in range(len(contexts)):
            ids = tokenizer(contexts[(start + j) % len(contexts)], add_special_tokens=False)["input_ids"][:budget]
            sources.append(SourceText(len(sources) + 1, "", tokenizer.decode(ids)))
            budget -= len(ids)
            if budget <= 0:
                break
        out.append(rag_messages(q["question"], sources))
    return out


def _throughput(generator: Any, prompts: Sequence[Any], params: Any) -> tuple[float, float, int]:
    """(tokens/s, seconds, tokens) for answering all `prompts` with one `generate` call."""
    t0 = time.perf_counter()
    results = generator.generate(prompts, params)
    seconds = time.perf_counter() - t0
    tokens = sum(r.tokens_out for r in results)
    return tokens / seconds, seconds, tokens


def run(quick: bool = False) -> Section:
    import torch

    from ragtune.config import GenerationConfig, ModelsConfig
    from ragtune.models.generator import GenerationParams
    from ragtune.models.hf import HFGenerator
    from ragtune.models.loader import load_generator

    section = Section(title="Generation tokens/s: transformers (batched) vs llama.cpp (one by one), SmolLM2-135M")
    if not SQUAD.is_file():
        section.notes.append(f"skipped: {SQUAD} not found (clone the project with ../shared beside it)")
        return section
    sizes = [1, 8] if quick else [1, 8, 32]
    params = GenerationParams(max_new_tokens=16 if quick else 64)
    threads = torch.get_num_threads()

    fp32 = load_generator(ModelsConfig(dtype="float32"), GenerationConfig(batch_size=max(sizes)))
    assert isinstance(fp32, HFGenerator)
    prompts = evaluation_prompts(fp32.tokenizer, max(sizes))
    prompt_tokens = [
        fp32.count_tokens(
            fp32.tokenizer.apply_chat_template(
                [{"role": m.role, "content": m.content} for m in p], tokenize=False, add_generation_prompt=True
            )
        )
        for p in prompts
    ]
    section.extra["prompt_tokens_mean"] = sum(prompt_tokens) / len(prompt_tokens)
    section.extra["threads"] = threads
    section.extra["max_new_tokens"] = params.max_new_tokens

    measured = _measure(section, fp32, prompts, sizes, params, threads)
    _rows(section, measured, sizes)
    best = max((measured[(d, max(sizes))][0], d) for d in ("float32", "bfloat16"))
    section.notes.append(
        f"{len(prompts)} SQuAD 2.0 questions with ~{CONTEXT_TOKENS} context tokens each "
        f"(prompt {section.extra['prompt_tokens_mean']:.0f} tokens on average), greedy, "
        f"max {params.max_new_tokens} new tokens, {threads} torch threads, {os.cpu_count()} CPUs; "
        f"best batched: {best[1]} at {best[0]:.1f} tokens/s."
    )
    section.extra["measured"] = {
        f"{k[0]}@{k[1]}": {"tokens_per_s": v[0], "seconds": v[1], "tokens": v[2]} for k, v in measured.items()
    }
    return section


def _measure(
    section: Section, fp32: Any, prompts: list[Any], sizes: list[int], params: Any, threads: int
) -> dict[tuple[str, int], tuple[float, float, int]]:
    """(tokens/s, seconds, tokens) per backend and batch size: llama.cpp one by one where its extra is installed,
    transformers in float32 and bfloat16 batched."""
    from ragtune.config import GenerationConfig, ModelsConfig
    from ragtune.models.generator import GenerationParams
    from ragtune.models.loader import load_generator
    from ragtune.models.registry import resolve_generator

    measured: dict[tuple[str, int], tuple[float, float, int]] = {}
    llama: Any = None
    try:
        from ragtune.models.llamacpp import LlamaCppGenerator

        llama = LlamaCppGenerator(resolve_generator(ModelsConfig()), threads=threads)
    except Exception as exc:  # BackendUnavailableError without the extra; any other failure is reported too
        section.notes.append(f"llama.cpp not measured: {exc}")
    if llama is not None:
        llama.generate(prompts[:1], GenerationParams(max_new_tokens=4))  # warm-up
        for n in sizes:
            measured[("llama.cpp", n)] = _throughput(llama, prompts[:n], params)
        del llama

    for dtype in ("float32", "bfloat16"):
        gen = (
            fp32
            if dtype == "float32"
            else load_generator(ModelsConfig(dtype="bfloat16"), GenerationConfig(batch_size=max(sizes)))
        )
        gen.generate(prompts[:2], GenerationParams(max_new_tokens=4))  # warm-up
        for n in sizes:
            measured[(dtype, n)] = _throughput(gen, prompts[:n], params)
        del gen
    return measured


def _rows(section: Section, measured: dict[tuple[str, int], tuple[float, float, int]], sizes: list[int]) -> None:
    """A row per backend and batch size, each against llama.cpp one by one (or transformers with one prompt)."""

    def baseline(n: int) -> tuple[float | None, str]:
        if ("llama.cpp", n) in measured:
            return measured[("llama.cpp", n)][0], f"llama.cpp, {n} one by one"
        return measured[("float32", 1)][0], "transformers fp32, 1 prompt"

    for n in sizes:
        if ("llama.cpp", n) in measured:
            tps, secs, toks = measured[("llama.cpp", n)]
            section.rows.append(
                Row(f"llama.cpp, {n} prompt(s) one by one", tps, "tokens/s", note=f"{toks} tokens in {secs:.1f} s")
            )
    for dtype in ("float32", "bfloat16"):
        for n in sizes:
            tps, secs, toks = measured[(dtype, n)]
            base, base_name = baseline(n)
            how = "1 prompt" if n == 1 else f"{n} prompts in one batch"
            row = Row(
                f"transformers {dtype}, {how}",
                tps,
                "tokens/s",
                baseline=base,
                baseline_name=base_name,
                note=f"{toks} tokens in {secs:.1f} s",
            )
            if n == max(sizes) and ("llama.cpp", n) in measured:
                row.target = ">= 1.0x llama.cpp one by one"
                row.passed = tps >= measured[("llama.cpp", n)][0]
            section.rows.append(row)
