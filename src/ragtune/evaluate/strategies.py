"""The strategies under comparison: one small class each, all answering through the same batched Answerer.

A strategy is two choices: which generator answers (the base model, or the base model with a trained adapter, or
another model entirely) and whether it reads retrieved sources. Everything else (prompting, batching, citing,
refusing, counting tokens and time) is `ragtune.rag.Answerer`, the same code for every strategy, so the comparison
measures the strategies and not four different code paths.

To add a strategy, subclass `Strategy` (or instantiate `ServerStrategy` for a bigger model behind any
OpenAI-compatible server) and pass it to `run_comparison(..., strategies=[...])`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ragtune.config import Config, ModelsConfig
from ragtune.errors import RagtuneError
from ragtune.models.embedder import Embedder
from ragtune.models.generator import Generator

if TYPE_CHECKING:
    from ragtune.calibration import Calibration
    from ragtune.rag import Answer, Answerer
    from ragtune.retrieve import Retriever


@dataclass
class StrategyContext:
    """What strategies share in one run: settings, embedder, the current retriever, trained adapters and a
    generator cache (one base model in memory, not one per strategy)."""

    config: Config
    embedder: Embedder
    retriever: Retriever | None = None
    adapters: dict[str, Path] = field(default_factory=dict)  # "finetune" / "hybrid" -> adapter folder
    calibration: Calibration | None = None  # refusal of the strategies that read sources (None: the default)
    reranker: Path | None = None  # the train-retriever stage's reranker (compare.tune_retriever)
    loader: Callable[[ModelsConfig, Path | None], Generator] | None = None
    _generators: dict[tuple[str, str], Generator] = field(default_factory=dict)

    def generator(self, adapter: Path | None = None, models: ModelsConfig | None = None) -> Generator:
        models = models or self.config.models
        key = (repr(dataclasses.astuple(models)), str(adapter or ""))
        if key not in self._generators:
            # Only one tuned model at a time stays in memory: adapters are loaded per strategy and then dropped.
            for k in [k for k in self._generators if k[1]]:
                del self._generators[k]
            if self.loader is not None:
                self._generators[key] = self.loader(models, adapter)
            else:
                from ragtune.models.loader import load_generator

                self._generators[key] = load_generator(models, self.config.generation, adapter=adapter)
        return self._generators[key]

    def routed(self, adapter: Path) -> Generator:
        """The base model with `adapter` for questions of the adapter's domain and without it for the rest
        (`tune.route_min_similarity`, ragtune.tune.routing)."""
        from ragtune.tune.routing import route

        base = self.generator()  # first: loading another model drops the tuned one, never the base one
        return route(self.generator(adapter), base, adapter, self.embedder, self.config.tune.route_min_similarity)

    def release(self) -> None:
        self._generators.clear()


def _facts(name: str) -> tuple[str, str, bool, str | None]:
    """The built-in strategy's name, description, whether it reads sources and its adapter, from the one table."""
    from ragtune.strategies import spec

    s = spec(name)
    return s.name, s.description, s.reads_sources, s.adapter_kind


class Strategy(ABC):
    """One way of answering. Subclasses set `name`, `description`, `reads_sources`, `adapter_kind`."""

    name: str = ""
    description: str = ""
    reads_sources: bool = False
    adapter_kind: str | None = None  # the adapter it needs trained first ("finetune", "hybrid"), or None

    @abstractmethod
    def generator(self, ctx: StrategyContext) -> Generator: ...

    def answerer(self, ctx: StrategyContext) -> Answerer:
        from ragtune.strategies import StrategySpec, open_answerer

        if self.reads_sources and ctx.retriever is None:
            raise RagtuneError(f"strategy {self.name!r} reads sources but no index was built")
        facts = StrategySpec(self.name, self.description, self.reads_sources, self.adapter_kind)
        return open_answerer(
            facts,
            self.generator(ctx),
            ctx.config,
            retriever=ctx.retriever,
            embedder=ctx.embedder,
            calibration=ctx.calibration,
        )

    def answer_many(self, ctx: StrategyContext, questions: Sequence[str], *, progress: bool = True) -> list[Answer]:
        """The one batched path every strategy answers through."""
        return self.answerer(ctx).answer_many(list(questions), progress=progress)

    def answer_many_unrefused(
        self, ctx: StrategyContext, questions: Sequence[str], *, progress: bool = True
    ) -> tuple[list[Answer], list[Answer]]:
        """The answers, and each as it was before refusal (the same answer where nothing was refused).

        Why: what refusal costs in accuracy is the comparison's to show, not a number measured elsewhere. One
        generation serves both: the answers are generated with refusal off and then refused by the calibration,
        with `rag.apply_calibration`, the function the Answerer itself refuses with."""
        if not self.reads_sources or type(self).answer_many is not Strategy.answer_many:
            # Closed-book answers are refused only in the model's own words (no calibration); a strategy that answers
            # its own way is left to it.
            answers = self.answer_many(ctx, questions, progress=progress)
            return answers, answers
        from ragtune.rag import apply_calibration

        answerer = self.answerer(ctx)
        drafts = answerer.answer_many(list(questions), progress=progress, refuse=False)
        answers = [
            apply_calibration(
                d,
                answerer.calibration,
                min_relevance=answerer.min_relevance,
                min_answerable=answerer.min_answerable,
                refusal_text=ctx.config.rag.refusal_text,
            )
            for d in drafts
        ]
        return answers, drafts

    def _adapter(self, ctx: StrategyContext) -> Path:
        assert self.adapter_kind is not None
        adapter = ctx.adapters.get(self.adapter_kind)
        if adapter is None:
            raise RagtuneError(f"strategy {self.name!r} needs a trained {self.adapter_kind} adapter; none was trained")
        return adapter


class BaseStrategy(Strategy):
    name, description, reads_sources, adapter_kind = _facts("base")

    def generator(self, ctx: StrategyContext) -> Generator:
        return ctx.generator()


class RagStrategy(Strategy):
    name, description, reads_sources, adapter_kind = _facts("rag")

    def generator(self, ctx: StrategyContext) -> Generator:
        return ctx.generator()


class FinetuneStrategy(Strategy):
    name, description, reads_sources, adapter_kind = _facts("finetune")

    def generator(self, ctx: StrategyContext) -> Generator:
        """The adapter for questions of its domain, the base model for the rest (`tune.route_min_similarity`)."""
        return ctx.routed(self._adapter(ctx))


class HybridStrategy(Strategy):
    name, description, reads_sources, adapter_kind = _facts("hybrid")

    def generator(self, ctx: StrategyContext) -> Generator:
        """The adapter for questions of its domain; the base model answers the others from the same sources."""
        return ctx.routed(self._adapter(ctx))


class ServerStrategy(Strategy):
    """Another model behind an OpenAI-compatible server (vLLM, Ollama, llama.cpp server), closed-book or with
    sources, e.g. `ServerStrategy("llama-70b-rag", "http://gpu:8000/v1", "llama-70b", reads_sources=True)`."""

    def __init__(
        self, name: str, base_url: str, model: str, *, reads_sources: bool = True, api_key_env: str = "OPENAI_API_KEY"
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.model = model
        self.reads_sources = reads_sources
        self.api_key_env = api_key_env
        self.description = f"{model} at {base_url}" + (" answering from retrieved sources" if reads_sources else "")

    def generator(self, ctx: StrategyContext) -> Generator:
        models = dataclasses.replace(
            ctx.config.models,
            generator_backend="openai",
            openai_base_url=self.base_url,
            openai_model=self.model,
            openai_api_key_env=self.api_key_env,
        )
        return ctx.generator(models=models)


def builtin_strategies() -> list[Strategy]:
    return [BaseStrategy(), RagStrategy(), FinetuneStrategy(), HybridStrategy()]


def parse_server_strategy(spec: str) -> ServerStrategy:
    """`NAME=URL#MODEL[+rag]` from the command line, e.g. `big=http://gpu:8000/v1#llama-70b+rag`."""
    try:
        name, rest = spec.split("=", 1)
        url, model = rest.rsplit("#", 1)
    except ValueError:
        raise RagtuneError(
            f"--server-strategy {spec!r}: expected NAME=URL#MODEL (add +rag to answer from sources), "
            "e.g. big=http://127.0.0.1:8000/v1#llama-3-8b+rag"
        ) from None
    reads = model.endswith("+rag")
    model = model.removesuffix("+rag")
    if not name or not url or not model:
        raise RagtuneError(f"--server-strategy {spec!r}: NAME, URL and MODEL must all be given")
    return ServerStrategy(name, url, model, reads_sources=reads)
