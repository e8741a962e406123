"""Chat templating: one rendering for inference and training, and it survives a round trip."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ragtune.models.chat import CHATML_TEMPLATE, end_of_turn, render_prompt, render_training_pair
from ragtune.models.generator import Message

CONVERSATION = [
    Message("system", "You answer from the sources."),
    Message("user", "How often is the pump recalibrated?\nSources: [1] every 90 days"),
    Message("assistant", "Every 90 days [1]."),
]
TURN = re.compile(r"<\|im_start\|>(system|user|assistant)\n(.*?)<\|im_end\|>\n", re.S)


def _parse(text: str) -> list[Message]:
    return [Message(role, content) for role, content in TURN.findall(text)]  # type: ignore[arg-type]


def test_rendered_conversation_parses_back_to_the_messages(generator: Any) -> None:
    tokenizer = generator.tokenizer
    prompt, completion = render_training_pair(tokenizer, CONVERSATION)
    assert prompt == render_prompt(tokenizer, CONVERSATION[:-1])  # training sees exactly what inference asks
    assert prompt.endswith("<|im_start|>assistant\n")
    assert completion == "Every 90 days [1]." + end_of_turn(tokenizer)
    assert _parse(prompt + completion + "\n") == CONVERSATION
    # The tokenizer's own full rendering agrees with prompt + completion.
    full = tokenizer.apply_chat_template([{"role": m.role, "content": m.content} for m in CONVERSATION], tokenize=False)
    assert full == prompt + completion + "\n"


def test_token_round_trip_and_prefix(generator: Any) -> None:
    tokenizer = generator.tokenizer
    prompt, completion = render_training_pair(tokenizer, CONVERSATION)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids  # the loss mask of training can cut at the prompt's length
    assert tokenizer.decode(full_ids) == prompt + completion
    assert full_ids[-1] == tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_default_system_prompt_of_the_model_is_kept(generator: Any) -> None:
    prompt = render_prompt(generator.tokenizer, [Message("user", "Hi")])
    assert _parse(prompt)[0].role == "system"  # SmolLM2's template adds its own system turn, in both paths


class _PlainTokenizer:
    """A tokenizer without a chat template of its own (as base models have)."""

    chat_template = None
    eos_token = None

    def __init__(self, real: Any) -> None:
        self.real = real

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any:
        return self.real.apply_chat_template(conversation, **kwargs)


def test_chatml_fallback_without_a_template(generator: Any) -> None:
    plain = _PlainTokenizer(generator.tokenizer)
    prompt, completion = render_training_pair(plain, CONVERSATION)
    assert prompt.startswith("<|im_start|>system\nYou answer from the sources.<|im_end|>\n")
    assert _parse(prompt + completion + "\n") == CONVERSATION
    assert CHATML_TEMPLATE in str(CHATML_TEMPLATE)


def test_bad_conversations_are_refused(generator: Any) -> None:
    with pytest.raises(ValueError):
        render_prompt(generator.tokenizer, [])
    with pytest.raises(ValueError, match="assistant"):
        render_training_pair(generator.tokenizer, CONVERSATION[:2])
