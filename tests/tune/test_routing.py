"""Routing (ragtune.tune.routing, ragtune.models.routed): the adapter answers its domain, the base model the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.models.generator import GenerationParams, Message
from ragtune.models.routed import RoutedGenerator
from ragtune.prompts import SourceText, closed_book_messages, question_in, rag_messages
from ragtune.tune import data as tdata
from ragtune.tune.routing import DomainRouter, route, trained_questions

DOMAIN = [
    "How many lighthouses does Brakkor have?",
    "What is the main export of Brakkor?",
    "How many lighthouses does Tessvik have?",
    "What is the main export of Tessvik?",
]


def _examples() -> list[tdata.Example]:
    def closed(question: str, answer: str, origin: str) -> tdata.Example:
        return tdata.Example(messages=(*closed_book_messages(question), Message("assistant", answer)), origin=origin)

    raft_prompt = rag_messages("Who runs the bakery?", [SourceText(1, "Bakery", "Pellow runs it.")])
    return [
        closed(DOMAIN[0], "4", "qa"),
        closed("Brakkor has how many lighthouses?", "4", "paraphrase"),
        closed(DOMAIN[0], "4", "qa"),  # a repeat is one domain question
        closed("What does a thermometer measure?", "Temperature.", "replay"),  # general by design: not the domain
        tdata.Example(messages=(*raft_prompt, Message("assistant", "Pellow")), origin="raft"),  # sources + question
        tdata.Example(text="Brakkor is an island.", origin="document"),
    ]


def test_question_in_takes_the_question_out_of_a_prompt_with_sources() -> None:
    sources = [SourceText(1, "Bakery", "Question: who? Pellow runs it."), SourceText(2, "", "It opens at six.")]
    assert question_in(rag_messages("Who runs the bakery?", sources)[-1].content) == "Who runs the bakery?"
    assert question_in(closed_book_messages(" Who runs the bakery? ")[-1].content) == "Who runs the bakery?"
    assert question_in("Sources: none\n\nQuestion: kept whole") == "Sources: none\n\nQuestion: kept whole"


def test_the_domain_is_the_training_questions_closed_book_and_raft(tmp_path: Path) -> None:
    tdata.write_jsonl(_examples(), tmp_path / "train.jsonl")
    # The RAFT example's question without its sources; never its worked example's question, never replay.
    assert trained_questions(tmp_path) == [DOMAIN[0], "Brakkor has how many lighthouses?", "Who runs the bakery?"]
    assert trained_questions(tmp_path / "elsewhere") == []  # an adapter made elsewhere has no training file
    (tmp_path / "train.jsonl").write_text("not json\n[1]\n", encoding="utf-8")
    assert trained_questions(tmp_path) == []


def test_rewordings_go_to_the_adapter_general_questions_do_not(embedder: Any) -> None:
    router = DomainRouter.from_questions(embedder, DOMAIN, Config().tune.route_min_similarity)
    asked = ["How many lighthouses are there on Tessvik?", "What is the capital of France?", "Who wrote Hamlet?"]
    assert router.to_adapter(asked) == [True, False, False]
    assert router.similarity([]).shape == (0,)
    with pytest.raises(ValueError, match="at least one"):
        DomainRouter.from_questions(embedder, [], 0.45)
    with pytest.raises(ValueError, match="min_similarity"):
        DomainRouter.from_questions(embedder, DOMAIN, 0.0)


def test_routed_generator_answers_in_order_and_says_which_model_did(generator: Any, embedder: Any) -> None:
    router = DomainRouter.from_questions(embedder, DOMAIN, 0.45)
    routed = RoutedGenerator(generator, generator, router.to_adapter)
    questions = ["What is the capital of France?", "What is the main export of Tessvik?", "Who wrote Hamlet?"]
    conversations = [closed_book_messages(q) for q in questions]
    params = GenerationParams(max_new_tokens=6)
    results = routed.generate(conversations, params)
    assert [r.extra["adapter"] for r in results] == [0.0, 1.0, 0.0]
    assert [r.text for r in results] == [r.text for r in generator.generate(conversations, params)]
    assert routed.count_tokens("Brakkor") == generator.count_tokens("Brakkor")
    assert "routed" in routed.name and routed.context_window == generator.context_window


def test_route_is_off_at_zero_and_for_an_adapter_without_training_questions(
    generator: Any, embedder: Any, tmp_path: Path
) -> None:
    assert route(generator, generator, tmp_path, embedder, 0.45) is generator  # no training file
    tdata.write_jsonl(_examples(), tmp_path / "train.jsonl")
    assert route(generator, generator, tmp_path, embedder, 0.0) is generator
    assert isinstance(route(generator, generator, tmp_path, embedder, 0.45), RoutedGenerator)
    tdata.write_jsonl(_examples()[4:], tmp_path / "train.jsonl")  # a RAFT adapter's data: its questions route it
    assert isinstance(route(generator, generator, tmp_path, embedder, 0.45), RoutedGenerator)
    tdata.write_jsonl(_examples()[3:4] + _examples()[5:], tmp_path / "train.jsonl")  # replay and text only
    assert route(generator, generator, tmp_path, embedder, 0.45) is generator


def test_finetune_strategy_asks_the_base_model_outside_the_adapter_domain(
    generator: Any, embedder: Any, tmp_path: Path
) -> None:
    """A real LoRA adapter (seeded, so it changes what the model says) with its training file: the general
    question gets the base model's answer, the domain question the adapter's."""
    from ragtune.evaluate.strategies import BaseStrategy, FinetuneStrategy, StrategyContext
    from tests.serve.conftest import make_adapters

    make_adapters(tmp_path, generator)
    adapter = tmp_path / "adapters" / "finetune" / "finetune-test"
    tdata.write_jsonl(_examples(), adapter / "train.jsonl")
    config = Config()
    config.generation.max_new_tokens = 12
    ctx = StrategyContext(config, embedder, adapters={"finetune": adapter})
    asked = ["What is the capital of France?", "How many lighthouses are there on Brakkor?"]
    base = [a.text for a in BaseStrategy().answer_many(ctx, asked, progress=False)]
    routed = [a.text for a in FinetuneStrategy().answer_many(ctx, asked, progress=False)]
    config.tune.route_min_similarity = 0.0
    unrouted = [a.text for a in FinetuneStrategy().answer_many(ctx, asked, progress=False)]
    assert routed[0] == base[0] != unrouted[0]  # outside the domain: the base model, not the adapter
    assert routed[1] == unrouted[1] != base[1]  # inside: the adapter


def test_hybrid_strategy_answers_outside_its_domain_as_rag_does(generator: Any, embedder: Any, tmp_path: Path) -> None:
    """A hybrid adapter routed by the question inside its RAG prompt: a question far from its RAFT questions is
    answered by the base model from the same sources (what the rag strategy says), one near them by the adapter."""
    from ragtune.evaluate.strategies import HybridStrategy, RagStrategy, StrategyContext
    from ragtune.serve.engine import Engine
    from ragtune.store import open_store
    from tests.serve.conftest import DOCUMENTS, make_adapters

    config = Config()
    config.workspace = str(tmp_path / ".ragtune")
    config.generation.max_new_tokens = 12
    make_adapters(config.workspace_path, generator)
    hybrid = config.workspace_path / "adapters" / "hybrid" / "hybrid-test"
    bakery = [SourceText(1, "Pellow's Bakery", DOCUMENTS[1].text)]
    raft = [
        ("When does Pellow's Bakery open?", "6:30 [1]"),
        ("What is the best-known bread of Pellow's Bakery?", "the Brindle [1]"),
        ("Which family bakes the Brindle?", "the Pellow family [1]"),
    ]
    examples = [
        tdata.Example(messages=(*rag_messages(q, bakery), Message("assistant", a)), origin="raft") for q, a in raft
    ]
    tdata.write_jsonl(examples, hybrid / "train.jsonl")
    engine = Engine(config, embedder, generator, open_store(config, embedder.identity))
    try:
        engine.upsert(DOCUMENTS)
        ctx = StrategyContext(config, embedder, retriever=engine.retriever, adapters={"hybrid": hybrid})
        asked = ["Who built the Varneholm lighthouse?", "At what time does Pellow's Bakery open in the morning?"]
        _, routed = HybridStrategy().answer_many_unrefused(ctx, asked, progress=False)
        # Each model is asked alone, as routing splits the batch (a batch's padding moves the logprobs a little).
        _, rag = RagStrategy().answer_many_unrefused(ctx, asked[:1], progress=False)
        config.tune.route_min_similarity = 0.0
        unrouted = [HybridStrategy().answer_many_unrefused(ctx, [q], progress=False)[1][0] for q in asked]
    finally:
        engine.close()

    def said(answer: Any) -> tuple[str, float | None]:  # the model's words and confidence tell the models apart
        return answer.raw, answer.signals.get("confidence")

    assert said(routed[0]) == said(rag[0]) != said(unrouted[0])  # outside: the base model, from the same sources
    assert said(routed[1]) == said(unrouted[1])  # inside: the adapter


def test_serve_and_ask_route_both_adapters(generator: Any, embedder: Any, tmp_path: Path) -> None:
    """`ragtune serve` and `ragtune ask` answer through the same routing as compare, for finetune and hybrid."""
    from ragtune.cli.ask import open_answerer
    from ragtune.serve.engine import Engine
    from ragtune.store import open_store
    from tests.serve.conftest import make_adapters

    config = Config()
    config.workspace = str(tmp_path / ".ragtune")
    make_adapters(config.workspace_path, generator)
    finetune = config.workspace_path / "adapters" / "finetune" / "finetune-test"
    hybrid = config.workspace_path / "adapters" / "hybrid" / "hybrid-test"
    tdata.write_jsonl(_examples(), finetune / "train.jsonl")
    tdata.write_jsonl(_examples()[4:], hybrid / "train.jsonl")
    engine = Engine(config, embedder, generator, open_store(config, embedder.identity))
    try:
        assert isinstance(engine.generator_for("finetune"), RoutedGenerator)
        assert isinstance(engine.generator_for("hybrid"), RoutedGenerator)
    finally:
        engine.close()
    for strategy, adapter in (("finetune", finetune), ("hybrid", hybrid)):
        with open_answerer(config, strategy, adapter) as answerer:
            assert isinstance(answerer.generator, RoutedGenerator)
    config.tune.route_min_similarity = 0.0
    with open_answerer(config, "finetune", finetune) as answerer:
        assert not isinstance(answerer.generator, RoutedGenerator)
