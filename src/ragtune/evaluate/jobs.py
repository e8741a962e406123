"""The training jobs of a comparison, by name: which job each adapter kind answers with, the replay contrast trained
beside them, and how long each job's examples are in tokens (what the planner fits into the budget)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ragtune.config import Config

# The training job whose adapter each adapter kind answers with.
JOB_OF_ADAPTER = {"finetune": "finetune-100", "hybrid": "hybrid"}
# The replay contrast: finetune-100's data at the other replay setting than the strategy's, trained beside the
# budget so that the report shows what replay changes (forgetting and accuracy) whichever way tune.replay_share is.
NO_REPLAY_JOB = "finetune-no-replay"  # when the strategy trains with replay: the same data without it
REPLAY_JOB = "finetune-replay"  # when the strategy trains without replay: with compare.replay_contrast_share
REPLAY_CONTRAST_JOBS = frozenset({NO_REPLAY_JOB, REPLAY_JOB})


def is_replay_contrast(job: str) -> bool:
    """Whether `job` is the replay contrast (a measurement beside the strategies, not a learning-curve point)."""
    return job in REPLAY_CONTRAST_JOBS


@dataclass(frozen=True)
class ReplayContrastJob:
    """The replay contrast's job name and the replay share it trains with (0: none)."""

    name: str
    share: float


def replay_contrast_job(config: Config) -> ReplayContrastJob:
    """The other replay setting than the strategy's: none when tune.replay_share is above 0, else
    compare.replay_contrast_share."""
    if config.tune.replay_share > 0:
        return ReplayContrastJob(NO_REPLAY_JOB, 0.0)
    return ReplayContrastJob(REPLAY_JOB, config.compare.replay_contrast_share)


def example_lengths(config: Config, path: Path) -> list[int]:
    """Tokens of each training example in the JSONL file `path` as the trainer will see it (prompt + answer, the
    configured generator's chat template)."""
    from transformers import AutoTokenizer

    from ragtune.models.chat import render_training_pair
    from ragtune.models.generator import Message
    from ragtune.models.registry import resolve_generator

    tok = AutoTokenizer.from_pretrained(str(resolve_generator(config.models).folder))
    lengths = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        msgs = [Message(m["role"], m["content"]) for m in json.loads(line)["messages"]]
        prompt, completion = render_training_pair(tok, msgs)
        lengths.append(len(tok(prompt + completion, add_special_tokens=False)["input_ids"]))
    return lengths
