"""The replay contrast: compare's side job at the other replay setting than the strategy's. The data stage writes it
(with compare.replay_contrast_share of replay when tune.replay_share is 0, without replay otherwise), never with a
probe or training question, and the train stage records the share it was trained with.

Unit-level: the retriever, RAFT and the generator that answers the replay prompts are stand-ins, so no model loads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ragtune.config import Config, load_config
from ragtune.evaluate.compare_stages import CompareRequest, Stages, TrainingFiles
from ragtune.evaluate.jobs import NO_REPLAY_JOB, REPLAY_JOB, is_replay_contrast, replay_contrast_job
from ragtune.evaluate.planner import PlannedJob
from ragtune.evaluate.questions import Question, QuestionSet
from ragtune.evaluate.stages import StageCache
from ragtune.models.generator import GenerationParams, GenerationResult
from ragtune.tune.replay import ORIGIN, read_prompts, replay_count

TRAIN = 30  # training questions: finetune-100 holds one example each (no paraphrases)
# Probe questions that are replay prompts too, so only the exclusion keeps them out of the training data.
PROBE = read_prompts()[:100]


class _Generator:
    """Answers every prompt with one whole sentence."""

    name = "stand-in"
    context_window = 2048

    def generate(self, conversations: Sequence[Any], params: GenerationParams) -> list[GenerationResult]:
        return [GenerationResult(f"Answer number {i}.", 10, 4, 0.0) for i, _ in enumerate(conversations)]


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragtune.models import loader
    from ragtune.tune import data as tdata

    retriever = SimpleNamespace(store=SimpleNamespace(close=lambda: None))  # the data stage closes its store
    monkeypatch.setattr(Stages, "retriever", lambda self, folder, tag: retriever)
    monkeypatch.setattr(tdata, "raft_from_retriever", lambda pairs, retriever, tune, **kw: tdata.qa_examples(pairs))
    monkeypatch.setattr(loader, "load_generator", lambda models, generation=None, adapter=None: _Generator())


def _config(tmp_path: Path, **overrides: Any) -> Config:
    settings = {"workspace": str(tmp_path / "ws"), "tune.paraphrases": 0, "tune.raft_paraphrases": 0}
    return load_config(environ={}, overrides=settings | overrides)


def _stages(tmp_path: Path, config: Config, *, quick: bool = False, probe: bool = True) -> Stages:
    probe_file = tmp_path / "probe.jsonl"
    lines = [json.dumps({"id": f"g{i}", "question": q, "answers": ["x"]}) for i, q in enumerate(PROBE)]
    probe_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    request = CompareRequest(
        docs=(), questions=tmp_path / "qa.jsonl", general_probe=probe_file if probe else None, quick=quick
    )
    return Stages(request, config, StageCache(tmp_path / "runs"), progress=False, echo=lambda _: None, embedder=None)


def _qset() -> QuestionSet:
    train = tuple(
        Question(f"t{i}", f"What is the serial number of Zorvat pump {i}?", (f"ZP-{i}",), "train") for i in range(TRAIN)
    )
    return QuestionSet(train, (), "qa.jsonl")


def _data(stages: Stages, tmp_path: Path) -> TrainingFiles:
    return stages.training_data(_qset(), tmp_path / "index", "index-key-0123456789", [1.0])


def _examples(data: TrainingFiles, name: str) -> list[dict[str, Any]]:
    text = Path(data.files[name]).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _questions(examples: Sequence[dict[str, Any]]) -> set[str]:
    return {m["content"] for ex in examples for m in ex["messages"] if m["role"] == "user"}


def test_without_replay_the_contrast_trains_with_the_contrast_share(tmp_path: Path, stand_ins: None) -> None:
    config = _config(tmp_path, **{"tune.replay_share": 0.0, "compare.replay_contrast_share": 0.4})
    data = _data(_stages(tmp_path, config), tmp_path)
    assert set(data.files) == {"finetune-100", "hybrid", REPLAY_JOB}
    contrast = _examples(data, REPLAY_JOB)
    replayed = [ex for ex in contrast if ex["origin"] == ORIGIN]
    assert len(replayed) == replay_count(TRAIN, 0.4) == 20 and len(contrast) == TRAIN + 20
    assert data.examples[REPLAY_JOB] == len(contrast)
    # The strategy's own data keeps its share (0): no replay, and the same examples as the contrast's others.
    own = _examples(data, "finetune-100")
    assert not any(ex["origin"] == ORIGIN for ex in [*own, *_examples(data, "hybrid")])
    assert sorted(json.dumps(ex) for ex in own) == sorted(json.dumps(ex) for ex in contrast if ex["origin"] != ORIGIN)
    # Never a probe question (each is a replay prompt too) and never a training question as replay.
    asked = _questions(replayed)
    assert asked and not asked & set(PROBE)
    assert not asked & {q.question for q in _qset().train}


def test_with_replay_the_contrast_trains_without_it(tmp_path: Path, stand_ins: None) -> None:
    config = _config(tmp_path, **{"tune.replay_share": 0.25})
    data = _data(_stages(tmp_path, config), tmp_path)
    assert set(data.files) == {"finetune-100", "hybrid", NO_REPLAY_JOB}
    contrast = _examples(data, NO_REPLAY_JOB)
    assert len(contrast) == TRAIN and not any(ex["origin"] == ORIGIN for ex in contrast)
    own = _examples(data, "finetune-100")
    assert sum(ex["origin"] == ORIGIN for ex in own) == replay_count(TRAIN, 0.25)
    assert not _questions(own) & set(PROBE)


def test_the_contrast_share_is_a_data_stage_input(tmp_path: Path, stand_ins: None) -> None:
    at = {share: _config(tmp_path, **{"compare.replay_contrast_share": share}) for share in (0.25, 0.4)}
    first = _stages(tmp_path, at[0.25])
    _data(first, tmp_path)
    _data(first, tmp_path)
    assert [r.cached for r in first.cache.records] == [False, True]
    again = _stages(tmp_path, at[0.4])
    assert _examples(_data(again, tmp_path), REPLAY_JOB) != _examples(_data(first, tmp_path), REPLAY_JOB)
    assert again.cache.records[0].cached is False


def test_no_contrast_without_a_probe_or_in_a_quick_run(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert _stages(tmp_path, config, probe=False).replay_contrast is None
    assert _stages(tmp_path, config, quick=True).replay_contrast is None
    assert _stages(tmp_path, config).replay_contrast == replay_contrast_job(config)
    assert replay_contrast_job(config).name == REPLAY_JOB and replay_contrast_job(config).share == 0.25
    with_replay = _config(tmp_path, **{"tune.replay_share": 0.3})
    assert (replay_contrast_job(with_replay).name, replay_contrast_job(with_replay).share) == (NO_REPLAY_JOB, 0.0)
    assert is_replay_contrast(REPLAY_JOB) and is_replay_contrast(NO_REPLAY_JOB)
    assert not is_replay_contrast("finetune-100") and not is_replay_contrast("finetune-50")


@pytest.mark.parametrize(("strategy_share", "trained_share"), [(0.0, 0.4), (0.25, 0.0)])
def test_the_contrast_trains_with_its_own_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strategy_share: float, trained_share: float
) -> None:
    from ragtune.tune import train as tune_train

    seen: dict[str, float] = {}

    def train_adapter(data: Path, out: Path, cfg: Config, **kw: Any) -> tune_train.TrainResult:
        seen[data.name] = cfg.tune.replay_share
        return tune_train.TrainResult(out, {"loss": 1.0})

    monkeypatch.setattr(tune_train, "train_adapter", train_adapter)
    monkeypatch.setattr(Stages, "model_identity", lambda self: {"generator": "stand-in"})
    config = _config(tmp_path, **{"tune.replay_share": strategy_share, "compare.replay_contrast_share": 0.4})
    stages = _stages(tmp_path, config)
    contrast = replay_contrast_job(config).name
    for name in ("finetune-100", contrast):
        (tmp_path / f"{name}.jsonl").write_text("{}\n", encoding="utf-8")
        job = PlannedJob(name, "finetune", 1, 1, 1.0, 64, 10, 1.0)
        stages.train(job, tmp_path / f"{name}.jsonl", "data-key")
    assert seen == {"finetune-100.jsonl": strategy_share, f"{contrast}.jsonl": trained_share}
