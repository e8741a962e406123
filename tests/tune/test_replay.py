"""Replay against forgetting and the early stop: the mix honours its share, never holds a probe or a taught
question, teaches the base model's own answers; training stops once its questions are recalled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.errors import InputFileError
from ragtune.models.generator import GenerationParams, GenerationResult, Message
from ragtune.prompts import closed_book_messages
from ragtune.samples import sample
from ragtune.text import normalize_answer
from ragtune.tune.data import Example, read_examples
from ragtune.tune.early_stop import RecallProbe
from ragtune.tune.replay import (
    ORIGIN,
    first_sentence,
    pick,
    read_prompts,
    replay_count,
    replay_examples,
    replay_set,
    without,
)
from ragtune.tune.train import train_adapter

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "sample_texts"


def _probe_questions() -> list[str]:
    lines = sample().general_probe.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def test_packaged_prompts_share_no_question_with_the_probe_or_its_candidates() -> None:
    prompts = read_prompts()
    assert len(prompts) >= 150 and len(set(prompts)) == len(prompts)
    banned = {normalize_answer(q) for q in _probe_questions()}
    candidates = TOOLS / "probe_candidates.json"
    if candidates.is_file():  # the pool the probe was drawn from: not in a wheel, but in the repository
        banned |= {normalize_answer(c["question"]) for c in json.loads(candidates.read_text(encoding="utf-8"))}
    assert not [p for p in prompts if normalize_answer(p) in banned]


@pytest.mark.parametrize("trained", [1, 7, 40, 324])
@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_replay_count_makes_the_share_of_the_mix(trained: int, share: float) -> None:
    count = replay_count(trained, share)
    assert count >= 1
    assert abs(count / (trained + count) - share) <= 0.5 / (trained + count) + 1e-9 or count == 1


def test_no_replay_at_share_zero() -> None:
    assert replay_count(100, 0.0) == 0 and replay_count(0, 0.3) == 0


def test_pick_uses_every_prompt_once_before_repeating() -> None:
    prompts = [f"p{i}" for i in range(10)]
    chosen = pick(prompts, 25, seed=3)
    assert len(chosen) == 25 and sorted(chosen[:10]) == sorted(prompts) and sorted(chosen[10:20]) == sorted(prompts)
    assert chosen == pick(prompts, 25, seed=3) and chosen[:7] == pick(prompts, 7, seed=3)


def test_first_sentence_only_and_never_a_cut_off_one() -> None:
    def result(text: str, finish: str) -> GenerationResult:
        return GenerationResult(text, 10, 10, 0.1, finish)  # type: ignore[arg-type]

    assert first_sentence(result("Lima is the capital. It is large.", "stop")) == "Lima is the capital."
    assert first_sentence(result("Lima is the capital. It is la", "length")) == "Lima is the capital."
    assert first_sentence(result("The capital of Peru is a city that", "length")) == ""
    assert first_sentence(result("Lima", "stop")) == "Lima"


def test_without_drops_questions_equal_after_normalization() -> None:
    assert without(["What is tea?", "Why is the sky blue?"], ["why is the SKY blue"]) == ["What is tea?"]
    # The same content words in other function words: still the probe's question.
    kept = without(["How many days are there in a week?", "What is a week?"], ["How many days are in a week?"])
    assert kept == ["What is a week?"]


def test_replay_file_errors_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "prompts.txt"
    empty.write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="prompts.txt: no replay prompts"):
        read_prompts(empty)
    with pytest.raises(InputFileError, match="missing.txt: cannot read the replay prompts"):
        read_prompts(tmp_path / "missing.txt")


def test_replay_examples_are_the_generators_own_answers(generator: Any) -> None:
    prompts = ["What does a thermometer measure?", "Name a planet in our solar system."]
    examples = replay_examples(generator, prompts, max_new_tokens=24)
    direct = generator.generate([closed_book_messages(p) for p in prompts], GenerationParams(24, 0.0))
    expected = [(p, first_sentence(r)) for p, r in zip(prompts, direct, strict=True) if first_sentence(r)]
    assert expected and [e.messages[-1].content for e in examples] == [a for _, a in expected]
    for example, (prompt, _) in zip(examples, expected, strict=True):
        assert example.origin == ORIGIN and list(example.messages[:-1]) == closed_book_messages(prompt)
        said = " ".join(direct[prompts.index(prompt)].text.split())
        assert said.startswith(example.messages[-1].content)  # the base model's own words, up to a sentence end


@pytest.mark.slow
def test_training_mix_honours_the_share_and_never_holds_the_probe(tmp_path: Path) -> None:
    facts = [(f"What is the code of vault {i}?", f"K{i}7") for i in range(12)]
    data = tmp_path / "facts.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in facts), encoding="utf-8")
    config = Config(workspace=str(tmp_path / "ws"))
    t = config.tune
    t.batch_size, t.paraphrases, t.eval_share, t.replay_share, t.stop_at_recall = 4, 0, 0.0, 0.4, 0.0
    t.replay_max_tokens = 8
    # The probe to exclude: the bundled one plus a third of the packaged prompts, to see exclusion do work.
    probe = _probe_questions() + read_prompts()[::3]
    result = train_adapter(data, tmp_path / "adapter", config, max_steps=1, progress=False, exclude=probe)
    trained = read_examples(tmp_path / "adapter" / "train.jsonl")
    replayed = [e for e in trained if e.origin == ORIGIN]
    assert len(replayed) == replay_count(len(facts), 0.4) == result.metrics["replay_examples"] == 8
    banned = {normalize_answer(q) for q in probe}
    assert not [e for e in replayed if normalize_answer(e.messages[-2].content) in banned]
    assert all(e.messages[-1].content.strip() for e in replayed)


def test_recall_probe_asks_only_the_taught_questions() -> None:
    def ex(q: str, a: str, origin: str) -> Example:
        return Example(messages=(*closed_book_messages(q), Message("assistant", a)), origin=origin)

    examples = [ex(f"q{i}?", f"a{i}", "qa") for i in range(10)] + [ex("p?", "a0", "paraphrase"), ex("r?", "x", ORIGIN)]
    probe = RecallProbe.from_examples(examples, size=4, seed=0)
    assert len(probe) == 4 and set(probe.questions) <= {f"q{i}?" for i in range(10)}
    assert len(RecallProbe.from_examples(examples, size=64, seed=0)) == 10


@pytest.mark.slow
def test_training_stops_once_the_questions_are_recalled(tmp_path: Path) -> None:
    facts = [("What is the code word of the Ostral lodge?", "Marlow"), ("Who keeps the Vesk archive?", "Ida Pell")]
    data = tmp_path / "facts.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in facts), encoding="utf-8")
    config = Config(workspace=str(tmp_path / "ws"))
    t = config.tune
    t.batch_size, t.paraphrases, t.eval_share, t.replay_share, t.epochs = 1, 0, 0.0, 0.0, 12.0
    t.learning_rate, t.stop_at_recall = 3e-3, 1.0
    metrics = train_adapter(data, tmp_path / "stop", config, progress=False).metrics
    assert metrics["stopped_early"] is True and metrics["recall_by_epoch"][-1] == 1.0
    assert metrics["epochs"] < 12 and len(metrics["recall_by_epoch"]) == round(metrics["epochs"])
    assert all(r < 1.0 for r in metrics["recall_by_epoch"][:-1])

    t.stop_at_recall, t.epochs = 0.0, 2.0  # off: every epoch is trained, nothing is asked
    metrics = train_adapter(data, tmp_path / "all", config, progress=False).metrics
    assert metrics["stopped_early"] is False and metrics["recall_by_epoch"] == [] and metrics["epochs"] == 2.0


def test_replay_set_fills_its_count_when_answers_are_dropped(generator: Any) -> None:
    prompts = read_prompts()[:40]
    # 10 tokens leave many answers without a whole sentence: the set still has its count, from the ones that do.
    examples = replay_set(generator, prompts, 10, seed=0, max_new_tokens=10)
    assert len(examples) == 10 and all(e.messages[-1].content for e in examples)
    assert len(replay_examples(generator, pick(prompts, len(prompts), 0)[:10], 10)) < 10  # some were dropped
    assert replay_set(generator, prompts, 4, seed=0, max_new_tokens=10) == examples[:4]
