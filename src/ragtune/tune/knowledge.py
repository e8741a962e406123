"""Training prompts that read the knowledge base: the hybrid (RAFT) strategy's own prompt for given sources."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ragtune.config import Config

if TYPE_CHECKING:
    from ragtune.corpus.document import Chunk
    from ragtune.models.generator import Message
    from ragtune.retrieve import Retriever


def answerer_render(
    model: Any, tokenizer: Any, name: str, config: Config, retriever: Retriever
) -> Callable[[str, Sequence[Chunk]], list[Message]]:
    """The hybrid strategy's own prompt for a question and given source chunks: the answerer's evidence choice
    compresses them to the most relevant sentences within its token budget and `build_prompt` words the prompt, so
    RAFT examples are built by the very same code (and are short, which is most of what training costs on a CPU)."""
    import numpy as np

    from ragtune.models.hf import HFGenerator
    from ragtune.rag import Answerer, build_prompt
    from ragtune.store.base import Hit

    answerer = Answerer(HFGenerator(model, tokenizer, name), config, retriever=retriever)
    selector = answerer.evidence
    assert selector is not None  # an answerer with a retriever always has one
    embedder = retriever.embedder

    def render(question: str, sources: Sequence[Chunk]) -> list[Message]:
        hits = [Hit(c, 0.0) for c in sources]
        selector.embed(hits)
        qv = np.asarray(embedder.embed_queries([question]), dtype=np.float32)[0]
        form = answerer.form_of(question)
        evidence = selector.select(question, hits, qv, form, answerer.evidence_budget(question, form))
        # The reader's own prompt (small or capable: `ragtune.rag.reader`), as the hybrid strategy will ask it.
        capable = answerer.reader.capable
        return build_prompt(question, evidence.shown, form, few_shot=answerer.config.rag.few_shot, capable=capable)

    return render


__all__ = ["answerer_render"]
