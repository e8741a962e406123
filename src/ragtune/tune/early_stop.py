"""Stopping a fine-tune once it recalls what it is taught.

After each epoch the model being trained is asked a seeded sample of its own closed-book training questions, in
the words it was trained on, and scored with compare's accuracy rule (`ragtune.text.answer_correct`). Once the
share answered reaches `tune.stop_at_recall`, more epochs cannot teach those questions anything; they only push
the adapter further from the base model (forgetting) and cost time. The recall of every epoch is kept as the
run's learning curve (`recall_by_epoch` in the adapter's manifest).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ragtune.models.generator import GenerationParams
from ragtune.prompts import closed_book_messages
from ragtune.text import answer_correct
from ragtune.tune.data import Example

TAUGHT_ORIGINS = ("qa",)  # the facts themselves, in their trained wording (not paraphrases, replay or documents)


@dataclass(frozen=True)
class RecallProbe:
    """The training questions asked after each epoch, with the answers they were taught."""

    questions: tuple[str, ...]
    answers: tuple[str, ...]

    @classmethod
    def from_examples(cls, examples: Sequence[Example], size: int, seed: int) -> RecallProbe:
        taught = [
            (ex.messages[-2].content, ex.messages[-1].content)
            for ex in examples
            if ex.origin in TAUGHT_ORIGINS and len(ex.messages) >= 2 and ex.messages[-2].role == "user"
        ]
        if size > 0 and len(taught) > size:
            taught = random.Random(seed).sample(taught, size)
        return cls(tuple(q for q, _ in taught), tuple(a for _, a in taught))

    def __len__(self) -> int:
        return len(self.questions)

    def recall(self, model: Any, tokenizer: Any, name: str) -> float:
        """Share of the questions the model answers correctly, closed-book and greedy, as the strategies ask."""
        from ragtune.models.hf import HFGenerator

        longest = max(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in self.answers)
        generator = HFGenerator(model, tokenizer, name, reuse_prefix=False)
        was_training = model.training
        model.eval()
        try:
            results = generator.generate(
                [closed_book_messages(q) for q in self.questions],
                GenerationParams(max_new_tokens=longest + 8, temperature=0.0),
            )
        finally:
            model.train(was_training)
        right = sum(answer_correct(r.text, [a]) for r, a in zip(results, self.answers, strict=True))
        return right / len(self.questions)


@dataclass
class RecallLog:
    """What the callback measured, read back by the trainer's caller once training ends."""

    by_epoch: list[float] = field(default_factory=list)
    stopped_early: bool = False


def recall_stop_callback(probe: RecallProbe, tokenizer: Any, name: str, threshold: float, log: RecallLog) -> Any:
    """A transformers TrainerCallback: after each epoch, measure recall; stop once it reaches `threshold` (> 0)."""
    from transformers import TrainerCallback

    class RecallStop(TrainerCallback):
        def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> Any:
            if model is None or not len(probe):
                return control
            share = probe.recall(model, tokenizer, name)
            log.by_epoch.append(round(share, 4))
            done = state.max_steps > 0 and state.global_step >= state.max_steps
            if threshold > 0 and share >= threshold and not done:
                log.stopped_early = True
                control.should_training_stop = True
            return control

    return RecallStop()


__all__ = ["RecallLog", "RecallProbe", "recall_stop_callback"]
