"""Replay against forgetting: the base model's own answers to general prompts, mixed into training.

A LoRA adapter trained only on a user's facts learns to answer every closed-book question with one of them, and
forgets what the base model knew (the bundled sample's full demo: the finetune adapter answered 0.66 fewer of the
general probe's questions than the base model). Mixing in general data the base model already handles is the usual
remedy (LLaMA-Factory #2611); taking that data from the base model itself (self-distillation, as in Yang et al.
2024, "Self-Distillation Bridges Distribution Gap in Language Model Fine-Tuning") needs no download and teaches
nothing new: the loss on these examples only pulls the adapter back towards what the base model says.

The prompts ship in `replay_prompts.txt` (or come from `tune.replay_file`) and are asked exactly as the
closed-book strategies ask, so the replay covers the prompt the forgetting is measured with. None of the packaged
prompts is a question of the bundled general probe, and `exclude` drops any prompt that matches a question the
caller names (a probe, the training questions), so the probe is never trained on.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ragtune.config import TuneConfig
from ragtune.errors import InputFileError
from ragtune.jsonl import read_user_text
from ragtune.models.generator import GenerationParams, GenerationResult, Generator, Message
from ragtune.prompts import closed_book_messages
from ragtune.text import content_terms, normalize_answer, split_sentences
from ragtune.tune.data import Example

log = logging.getLogger(__name__)

PACKAGED_PROMPTS = "replay_prompts.txt"
ORIGIN = "replay"


def read_prompts(path: Path | str | None = None) -> list[str]:
    """The replay prompts: one per line of `path` (the packaged set when None); blank and `#` lines skipped."""
    if path is None or str(path) == "":
        text = resources.files("ragtune.tune").joinpath(PACKAGED_PROMPTS).read_text(encoding="utf-8")
        where = PACKAGED_PROMPTS
    else:
        where = str(path)
        try:
            text = read_user_text(Path(path))
        except OSError as exc:
            raise InputFileError(f"{where}: cannot read the replay prompts (tune.replay_file): {exc}") from exc
    prompts = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not prompts:
        raise InputFileError(f"{where}: no replay prompts (one prompt per line; lines starting with # are skipped)")
    return prompts


def _keys(question: str) -> tuple[str, frozenset[str]]:
    return normalize_answer(question), frozenset(content_terms(question))


def without(prompts: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """`prompts` less any that asks an excluded question: the same words after normalization (case, punctuation,
    articles), or the same stemmed content words ("How many days are there in a week?" is "How many days are in a
    week?")."""
    banned = [_keys(q) for q in exclude]
    texts = {text for text, _ in banned}
    terms = {t for _, t in banned if t}
    return [p for p in prompts if _keys(p)[0] not in texts and _keys(p)[1] not in terms]


def replay_count(trained: int, share: float) -> int:
    """How many replay examples make `share` of a training mix that has `trained` other examples."""
    if share <= 0 or trained <= 0:
        return 0
    return max(1, round(trained * share / (1.0 - share)))


def pick(prompts: Sequence[str], count: int, seed: int) -> list[str]:
    """`count` prompts in a seeded order, each used once before any is used again."""
    if not prompts or count <= 0:
        return []
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        order = list(prompts)
        rng.shuffle(order)
        out.extend(order[: count - len(out)])
    return out


def first_sentence(result: GenerationResult) -> str:
    """The first whole sentence of a generated answer; "" when the answer was cut off inside its first sentence.

    Why the first sentence: the loss is a mean over answer tokens, so a replayed answer of 48 tokens weighs ten times
    a taught fact of five and crowds the facts out of each batch; and an answer cut at the token limit would teach
    the model to stop mid-sentence. The first sentence is the base model's own words, and holds its answer."""
    sentences = split_sentences(result.text)
    if not sentences or (result.finish_reason == "length" and len(sentences) < 2):
        return ""
    return sentences[0]


def replay_examples(generator: Generator, prompts: Sequence[str], max_new_tokens: int) -> list[Example]:
    """Closed-book examples whose answers are the first sentence of the generator's own greedy answers (answers
    with no whole sentence are dropped)."""
    unique = list(dict.fromkeys(prompts))
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
    results = generator.generate([closed_book_messages(p) for p in unique], params)
    answers = {p: first_sentence(r) for p, r in zip(unique, results, strict=True)}
    return [
        Example(
            messages=(*closed_book_messages(p), Message("assistant", answers[p])),
            origin=ORIGIN,
            fact_id=f"replay:{normalize_answer(p)}",
        )
        for p in prompts
        if answers[p]
    ]


def replay_set(
    generator: Generator, prompts: Sequence[str], count: int, seed: int, max_new_tokens: int
) -> list[Example]:
    """Exactly `count` replay examples (fewer only when no prompt gets a whole-sentence answer): prompts are asked in a
    seeded order, each once, until enough answers hold a whole sentence; those are then repeated in turn if the
    prompts run out. A set for a smaller count is a prefix of this one (same seed)."""
    order = pick(prompts, len(prompts), seed)
    answered: list[Example] = []
    start = 0
    while len(answered) < count and start < len(order):
        batch = order[start : start + count - len(answered)]
        answered += replay_examples(generator, batch, max_new_tokens)
        start += len(batch)
    return [answered[k % len(answered)] for k in range(count)] if answered else []


def general_answers(
    generator: Generator, tune: TuneConfig, count: int, exclude: Sequence[str], seed: int
) -> list[Example]:
    """`count` replay examples (see `replay_set`): `generator`'s answers to the general prompts (`tune.replay_file`
    or the packaged ones) that are none of `exclude`; none, with a warning, when every prompt is excluded."""
    if count == 0:
        return []
    prompts = without(read_prompts(tune.replay_file or None), exclude)
    if not prompts:
        log.warning("every replay prompt is among the excluded questions: training without replay")
        return []
    return replay_set(generator, prompts, count, seed, tune.replay_max_tokens)


def base_replay(
    model: Any, tokenizer: Any, name: str, tune: TuneConfig, trained: int, exclude: Sequence[str]
) -> list[Example]:
    """`tune.replay_share` of the training mix: the base model's own answers to general prompts.
    Called before the LoRA layers are added, so the answers are the base model's."""
    from ragtune.models.hf import HFGenerator

    count = replay_count(trained, tune.replay_share)
    if count:
        log.info("replay: the base model answers general prompts for %d replay examples", count)
    generator = HFGenerator(model, tokenizer, name, reuse_prefix=False)
    return general_answers(generator, tune, count, exclude, tune.seed)


__all__ = [
    "ORIGIN",
    "base_replay",
    "first_sentence",
    "general_answers",
    "pick",
    "read_prompts",
    "replay_count",
    "replay_examples",
    "replay_set",
    "without",
]
