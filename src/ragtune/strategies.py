"""What a strategy is, written once: its name, whether it reads retrieved sources, the adapter it needs, and how its
answerer opens. `ragtune ask`, `ragtune serve`, `ragtune compare` and `ragtune tune` all read this table.

- base: the untuned model, closed-book (the floor every other strategy must beat);
- rag: the untuned model answering from retrieved sources;
- finetune: the model with a LoRA adapter trained on the documents' facts, closed-book;
- hybrid: the model with a RAFT adapter (trained to read retrieved sources), answering from retrieved sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragtune.errors import RagtuneError

if TYPE_CHECKING:
    from ragtune.calibration import Calibration
    from ragtune.config import Config
    from ragtune.models.embedder import Embedder
    from ragtune.models.generator import Generator
    from ragtune.rag import Answerer
    from ragtune.retrieve import Retriever


class UnknownStrategyError(RagtuneError, ValueError):
    """A strategy name that is not one of `NAMES`."""


@dataclass(frozen=True)
class StrategySpec:
    name: str
    description: str
    reads_sources: bool  # answers from retrieved sources (and so is calibrated and may refuse)
    adapter_kind: str | None  # the adapter it needs trained first ("finetune" or "hybrid"), None for none
    tune_command: str = ""  # how a user trains that adapter

    @property
    def tuned(self) -> bool:
        return self.adapter_kind is not None


SPECS: tuple[StrategySpec, ...] = (
    StrategySpec("base", "the untuned model, closed-book", False, None),
    StrategySpec("rag", "the untuned model answering from retrieved sources", True, None),
    StrategySpec("finetune", "a LoRA adapter trained on the documents, closed-book", False, "finetune", "ragtune tune"),
    StrategySpec(
        "hybrid",
        "a RAFT adapter trained to read retrieved sources, answering from them",
        True,
        "hybrid",
        "ragtune tune --kind hybrid",
    ),
)
NAMES: tuple[str, ...] = tuple(s.name for s in SPECS)
ADAPTER_KINDS: tuple[str, ...] = tuple(s.adapter_kind for s in SPECS if s.adapter_kind is not None)


def spec(name: str) -> StrategySpec:
    """The strategy called `name`; an error naming the choices for any other name."""
    for s in SPECS:
        if s.name == name:
            return s
    raise UnknownStrategyError(f"unknown strategy {name!r}: choose one of {', '.join(NAMES)}")


def open_answerer(
    strategy: StrategySpec,
    generator: Generator,
    config: Config,
    *,
    retriever: Retriever | None = None,
    embedder: Embedder | None = None,
    calibration: Calibration | None = None,
) -> Answerer:
    """The strategy's Answerer over `generator` (already carrying the strategy's adapter, if it needs one): with the
    retriever when the strategy reads sources, closed-book otherwise; a closed-book answerer is never calibrated."""
    from ragtune.rag import Answerer

    if strategy.reads_sources and retriever is None:
        raise RagtuneError(f"strategy {strategy.name!r} reads retrieved sources: it needs a retriever")
    return Answerer(
        generator,
        config,
        retriever=retriever if strategy.reads_sources else None,
        embedder=embedder,
        calibration=calibration if strategy.reads_sources else None,
    )
