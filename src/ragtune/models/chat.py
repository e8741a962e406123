"""The one place where chat messages become a model's prompt text, for inference and for training alike.

A tuned model answers well only when it is asked in exactly the words it was trained on, so the training data
builder and every local generator call these two functions and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ragtune.models.generator import Message

# Used when a tokenizer carries no template of its own (e.g. a plain base model): ChatML, as SmolLM2 uses.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>'"
    " + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class ChatTokenizer(Protocol):
    chat_template: Any
    eos_token: Any

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


def _as_dicts(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def render_prompt(tokenizer: ChatTokenizer, messages: Sequence[Message]) -> str:
    """The text a local model reads before it starts answering (ends with the assistant turn's opening)."""
    if not messages:
        raise ValueError("a conversation needs at least one message")
    template = tokenizer.chat_template or CHATML_TEMPLATE
    text = tokenizer.apply_chat_template(
        _as_dicts(messages), chat_template=template, tokenize=False, add_generation_prompt=True
    )
    return str(text)


def end_of_turn(tokenizer: ChatTokenizer) -> str:
    """The token that closes an assistant turn; generation stops there and training teaches it."""
    return str(tokenizer.eos_token or "<|im_end|>")


def render_training_pair(tokenizer: ChatTokenizer, messages: Sequence[Message]) -> tuple[str, str]:
    """(prompt, completion) for a conversation whose last message is the assistant's answer.

    The prompt is exactly `render_prompt` of the earlier messages, so the model is trained on what it is asked;
    the completion is the answer plus the end-of-turn token, which is what carries the loss.
    """
    if not messages or messages[-1].role != "assistant":
        raise ValueError("a training conversation must end with an assistant message")
    prompt = render_prompt(tokenizer, messages[:-1])
    return prompt, messages[-1].content + end_of_turn(tokenizer)
