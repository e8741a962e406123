"""Which reader answers: the aids a 135M model needs, or none of them for a capable one.

Why two: every aid that lifts SmolLM2-135M (one sentence shown per open question, answers copied token by token from
it, typed span starts, an extracted span, 24-token answers, the worked example, and a refusal calibration fitted to
its copied spans) is a cap on a model that can read. A scripted reader that answers right whenever its prompt holds
the answer lost two thirds of HotpotQA behind the small reader's prompt (the answer reached it for 29 of 100
questions; whole chunks: 74) and a quarter of its right, cited answers to the small model's calibration
(`python -m benchmarks reader-loss` measures what each reader loses). So the reader is chosen per generator:

- **small**: the `rag.*` settings as they are (their defaults were decided on the QA suite with the 135M model);
- **capable**: whole retrieved chunks (`rag.capable_top_k` of them) within the generator's context window, a prompt
  that asks for a short answer with [n] citations and no worked example, `rag.capable_answer_tokens` to answer in,
  its whole answer returned (no copying, no extraction), and refusal from its own words plus the retrieval floor.

`rag.reader = auto` treats the embedded default and local models of at most `rag.small_reader_max_params` parameters
as small, and a remote server or a larger (or unsized) local model as capable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from ragtune.config import Config
from ragtune.models.generator import Generator, model_identity, parameter_count
from ragtune.models.registry import DEFAULT_GENERATOR

ReaderKind = Literal["small", "capable"]


@dataclass(frozen=True)
class Reader:
    """The reader a generator gets, and why (shown in results and reports)."""

    kind: ReaderKind
    why: str

    @property
    def capable(self) -> bool:
        return self.kind == "capable"

    def settings(self, config: Config, generator: Generator) -> Config:
        """`config` as this reader answers with it: unchanged for the small reader; for the capable one whole chunks
        within `generator`'s context window, free answers and its own budgets, whatever the small reader's settings
        say."""
        if not self.capable:
            return config
        context_window = generator.context_window  # a server is asked only here, for a capable reader
        rag = dataclasses.replace(
            config.rag,
            source_sentences=0,
            decision_sentences=0,
            min_documents=1,
            copy_answers=False,
            extract_span=False,
            typed_starts=False,
            short_spans=False,
            few_shot=False,
            answer_tokens=config.rag.capable_answer_tokens,
            context_tokens=max(config.rag.context_tokens, context_window),
        )
        generation = dataclasses.replace(
            config.generation, max_new_tokens=max(config.generation.max_new_tokens, config.rag.capable_answer_tokens)
        )
        retrieval = dataclasses.replace(config.retrieval, top_k=config.rag.capable_top_k)
        return dataclasses.replace(config, rag=rag, generation=generation, retrieval=retrieval)


def choose_reader(config: Config, generator: Generator) -> Reader:
    """The reader `rag.reader` names, or for `auto` the one that fits `generator` (see the module's docstring)."""
    setting = config.rag.reader
    if setting != "auto":
        return Reader("capable" if setting == "capable" else "small", f"rag.reader = {setting}")
    if model_identity(generator) == DEFAULT_GENERATOR.name:
        return Reader("small", f"the embedded default model ({DEFAULT_GENERATOR.name})")
    params = parameter_count(generator)
    if params is None:
        return Reader("capable", f"{generator.name}: a server or a model of unknown size")
    limit = config.rag.small_reader_max_params
    if params <= limit:
        return Reader("small", f"{params / 1e6:,.0f}M parameters (at most rag.small_reader_max_params)")
    return Reader("capable", f"{params / 1e6:,.0f}M parameters (more than rag.small_reader_max_params)")
