from __future__ import annotations

import socket
from typing import Any

import pytest

from ragtune.errors import BackendUnavailableError, RagtuneError
from ragtune.evaluate.judge import Judge, JudgeItem, parse_verdict
from ragtune.evaluate.strategies import (
    BaseStrategy,
    FinetuneStrategy,
    HybridStrategy,
    RagStrategy,
    StrategyContext,
    builtin_strategies,
    parse_server_strategy,
)


def test_builtin_strategies_differ_only_in_generator_and_sources() -> None:
    s = {x.name: x for x in builtin_strategies()}
    assert list(s) == ["base", "rag", "finetune", "hybrid"]
    assert [(x.reads_sources, x.adapter_kind) for x in s.values()] == [
        (False, None),
        (True, None),
        (False, "finetune"),
        (True, "hybrid"),
    ]
    # One shared answering path: no built-in strategy overrides how questions are answered.
    for cls in (BaseStrategy, RagStrategy, FinetuneStrategy, HybridStrategy):
        assert "answer_many" not in cls.__dict__ and "answerer" not in cls.__dict__


def test_server_strategy_spec() -> None:
    s = parse_server_strategy("big=http://127.0.0.1:8000/v1#llama-3-8b+rag")
    assert (s.name, s.base_url, s.model, s.reads_sources) == ("big", "http://127.0.0.1:8000/v1", "llama-3-8b", True)
    closed = parse_server_strategy("big-closed=http://h:1/v1#m")
    assert not closed.reads_sources
    with pytest.raises(RagtuneError, match="NAME=URL#MODEL"):
        parse_server_strategy("no-model-here")


def test_judge_verdicts_and_unreachable_server() -> None:
    assert parse_verdict("Yes.") and parse_verdict("**yes**") and not parse_verdict("No, it is 7")
    assert not parse_verdict("")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    judge = Judge(f"http://127.0.0.1:{port}/v1", "m", retries=0, timeout_s=2)
    with pytest.raises(BackendUnavailableError, match="judge"):
        judge.grade([JudgeItem("q", ("a",), "a")])
    with pytest.raises(BackendUnavailableError):
        Judge("", "")


def test_a_strategy_that_answers_its_own_way_is_not_bypassed() -> None:
    from ragtune.config import Config

    class Fixed(RagStrategy):
        name = "fixed"

        def answer_many(self, ctx: Any, questions: Any, *, progress: bool = True) -> list[Any]:
            return [f"own answer to {q}" for q in questions]

    ctx = StrategyContext(Config(), embedder=None)  # type: ignore[arg-type]
    answers, unrefused = Fixed().answer_many_unrefused(ctx, ["q1", "q2"], progress=False)
    assert answers == unrefused == ["own answer to q1", "own answer to q2"]
