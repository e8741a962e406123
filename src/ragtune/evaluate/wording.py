"""Where the questions come from and how close each test question is worded to the training questions, with each
strategy's accuracy split by that closeness: a fine-tuned adapter recalls a question it was trained on far more
easily than the fact asked another way, so its lead on near-repeats says little about new questions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragtune.evaluate.questions import Question
from ragtune.synth.overlap import mean, nearest_overlap

# A test question sharing this much of its content words with a training question counts as worded like it.
CLOSE = 0.75


@dataclass(frozen=True)
class WordingSplit:
    """Answerable test questions split at `CLOSE` overlap with their nearest training question."""

    mean_overlap: float | None  # mean over the answerable test questions
    close: int  # how many share at least CLOSE of their content words with one training question
    far: int
    accuracy_close: Mapping[str, float]  # strategy -> accuracy on the close ones (empty when none)
    accuracy_far: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "nearest_train_overlap": self.mean_overlap,
            "close_threshold": CLOSE,
            "close": self.close,
            "far": self.far,
            "accuracy_close": {k: round(v, 3) for k, v in self.accuracy_close.items()},
            "accuracy_far": {k: round(v, 3) for k, v in self.accuracy_far.items()},
        }


def wording_split(
    train: Sequence[Question], test: Sequence[Question], correct: Mapping[str, Mapping[str, bool]]
) -> WordingSplit | None:
    """`correct`: strategy -> question id -> right or not (the test questions' own). None without training
    questions: nothing to be close to."""
    texts = [q.question for q in train]
    if not texts or not test:
        return None
    overlaps = {q.id: nearest_overlap(q.question, texts, q.answers[0] if q.answers else "") for q in test}
    close = [i for i, v in overlaps.items() if v is not None and v >= CLOSE]
    far = [i for i in overlaps if i not in set(close)]

    def accuracy(ids: list[str]) -> dict[str, float]:
        out = {}
        for name, right in correct.items():
            scored = [right[i] for i in ids if i in right]
            if scored:
                out[name] = sum(scored) / len(scored)
        return out

    return WordingSplit(mean(list(overlaps.values())), len(close), len(far), accuracy(close), accuracy(far))


def question_source(synthesized: Mapping[str, Any] | None) -> str:
    """ "synthesized" (by `ragtune synth` from the documents) or "given" (the user's question file)."""
    return "synthesized" if synthesized else "given"


# Below this many test questions written from the documents a comparison measures nothing (a 95% interval wider
# than +-0.3): when the rules also kept under a quarter of the facts asked for (the documents defeat them, rather
# than a small synth.count asked for few), the comparison stops before training and says what to bring instead.
FEW_SYNTHESIZED = 10


def too_few_synthesized(test: int, synthesized: Mapping[str, Any], asked: int) -> str:
    """Why a comparison from documents alone stops (see above): how few questions the rules could write, what
    dropped the rest, and what the user can bring instead; "" when there are enough to go on."""
    if test >= FEW_SYNTHESIZED or int(synthesized.get("facts", 0)) >= asked / 4:
        return ""
    dropped = sorted((synthesized.get("dropped") or {}).items(), key=lambda kv: -kv[1])[:3]
    why = "; most drafts were dropped as " + ", ".join(f"{k} ({v})" for k, v in dropped) if dropped else ""
    return (
        f"only {test} answerable test question(s) could be written from these documents ({synthesized.get('facts', 0)}"
        f" facts kept of {synthesized.get('drafted', 0)} drafted{why}), too few for a comparison to tell the "
        f"strategies apart. Bring questions in your users' words (--questions qa.jsonl; `ragtune synth --out "
        f"qa.jsonl` gives a start to edit), or a stronger writer (--synth-model URL#MODEL)"
    )
