"""Choosing the evidence and building the prompt: which sentences of the retrieved chunks the model is shown, under
which citation numbers, within the token budget.

Why sentences, not chunks: on a CPU the prompt is most of the cost of an answer, and a small model reads a few
relevant sentences better than five whole passages. Each retrieved chunk is split into sentences; the ones most
relevant to the question (rare question words they contain, embedding similarity, the chunk's rank) are shown, in
document order, under the chunk's citation number. `rag.source_sentences = 0` shows whole chunks instead.

Why more than one document: a question that joins two facts ("What position was held by the woman who played
Corliss Archer?") has them in two documents, and the best sentence of the first rarely holds the second. So the
shown sentences come from at least `rag.min_documents` documents where the retrieved chunks span that many.

The RAFT builder in `ragtune.tune` builds its training prompts with the same `EvidenceSelector` and `build_prompt`,
so that the hybrid adapter is trained on exactly the prompts it is asked.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ragtune.citations import idf_weights, weighted_coverage
from ragtune.errors import RagtuneError
from ragtune.models.copying import span_starts
from ragtune.models.generator import Message
from ragtune.prompts import SourceText, rag_messages
from ragtune.rag.answer import Source
from ragtune.store.base import Hit
from ragtune.text import STOPWORDS, QuestionForm, answer_type, content_terms, split_sentences, words

if TYPE_CHECKING:
    from ragtune.config import RagConfig
    from ragtune.models.embedder import Embedder

# Rank prior of a sentence's chunk: a sentence of the first chunk beats an equally good one of the fifth.
_RANK_PENALTY = 0.1
# Headings ("Skellet S3 Weather Station: Datasheet") share the question's words but never hold its answer; shown
# to a small model they are what it copies. A heading is shown only when no sentence scores better.
_HEADING_PENALTY = 1.0
_HEADING_WORDS = 10
# A question that says what kind of answer it wants (how many, when, who: `answer_type`) is answered by a sentence
# that holds one. Without this prior the shown sentence is often the one that introduces the asked-about thing ("The
# Skellet S3 is Quorrin's third-generation weather station") rather than the one with its range in metres.
_TYPED_SENTENCE_BONUS = 0.3
MESSAGE_OVERHEAD = 8  # template tokens around each message (role markers, newlines)
_SOURCE_OVERHEAD = 6  # tokens of a source's "[n] title:" line
_SENTENCE_CACHE = 20_000


class PromptTooLongError(RagtuneError):
    """The question alone (with the instructions) does not fit the context window; sources are cut, never it."""


@dataclass(frozen=True)
class ChunkSentences:
    sentences: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]
    vectors: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Evidence:
    """What the model is shown for one question, and what support is later measured against."""

    sources: tuple[Source, ...]  # every retrieved chunk, with the excerpt shown of it ("" when none)
    shown: tuple[SourceText, ...]  # the prompt's numbered sources
    sentences: tuple[str, ...]  # the shown sentences in prompt order: what a copied span may come from
    best: tuple[int, str] | None  # (source number, sentence) of the best-scoring shown sentence
    source_terms: tuple[tuple[str, ...], ...]  # per source: content terms of its excerpt
    source_vectors: tuple[npt.NDArray[np.float32], ...]  # per source: vectors of its excerpt's sentences
    relevance: float  # best question-sentence cosine of all candidates
    coverage: float  # weighted share of the question's terms in the best sentence


def form_hint(form: QuestionForm) -> str:
    """What the prompt adds after a question of this form, so the model answers in it."""
    if form.kind == "polar":
        return "Answer yes or no."
    if form.kind == "choice":
        return "Answer " + " or ".join(form.options) + "."
    return ""


def build_prompt(
    question: str, shown: Sequence[SourceText], form: QuestionForm, *, few_shot: bool = True, capable: bool = False
) -> list[Message]:
    """The messages the model is asked: instructions, the worked example, the numbered sources and the question
    (with what its form asks for). Used for answering and for RAFT training alike; `capable`: the capable reader's
    instructions."""
    hint = form_hint(form)
    return rag_messages(f"{question.strip()} {hint}".strip(), shown, few_shot=few_shot, capable=capable)


def is_heading(sentence: str) -> bool:
    """A short line that does not end like a sentence, a markdown heading, or a question: a title, not a statement."""
    text = sentence.strip()
    if text.startswith("#") or text.endswith("?"):  # a FAQ's question is a heading too: it never holds the answer
        return True
    words_ = text.split()
    if len(words_) > _HEADING_WORDS or text[:1] in "-*•" or " | " in text or re.search(r"[.!?;:)\"'”]$", text):
        return False  # long, a list item, a table row, or ends like a sentence
    if not re.search(r"\d", text):
        return True
    # A short fragment with a number ("Founded in 2009", "Maximum: 10") may be an answer; a title-cased line of
    # several words ("Skellet S3 Weather Station: Datasheet") is still a title.
    alpha = [w for w in words_ if w[:1].isalpha()]
    return len(alpha) >= 3 and sum(w[:1].isupper() for w in alpha) >= 0.7 * len(alpha)


def source_of(number: int, hit: Hit) -> Source:
    meta = hit.chunk.metadata
    page = meta.get("page")
    heading = meta.get("heading")
    return Source(
        number=number,
        doc_id=hit.chunk.doc_id,
        title=hit.chunk.title,
        chunk_id=hit.chunk.id,
        score=float(hit.score),
        text=hit.chunk.text,
        page=int(page) if isinstance(page, (int, float)) and not isinstance(page, bool) else None,
        heading=str(heading) if heading else None,
    )


class EvidenceSelector:
    """Splits retrieved chunks into sentences (embedded once, cached) and chooses what the model is shown."""

    def __init__(self, embedder: Embedder, count_tokens: Callable[[str], int], settings: RagConfig) -> None:
        self.embedder = embedder
        self.count_tokens = count_tokens
        self.settings = settings
        self._cache: OrderedDict[tuple[str, str], ChunkSentences] = OrderedDict()

    def embed(self, hits: Sequence[Hit]) -> None:
        """Split and embed the sentences of chunks not seen before, all in one embedding call."""
        todo: dict[tuple[str, str], list[str]] = {}
        for h in hits:
            key = (h.chunk.id, h.chunk.text)
            if key in self._cache:
                self._cache.move_to_end(key)
            elif key not in todo:
                todo[key] = split_sentences(h.chunk.text) or [h.chunk.text]
        if not todo:
            return
        flat = [s for ss in todo.values() for s in ss]
        vectors = np.asarray(self.embedder.embed_documents(flat), dtype=np.float32)
        offset = 0
        for key, ss in todo.items():
            self._cache[key] = ChunkSentences(
                tuple(ss), tuple(tuple(content_terms(s)) for s in ss), vectors[offset : offset + len(ss)]
            )
            offset += len(ss)
        while len(self._cache) > _SENTENCE_CACHE:
            self._cache.popitem(last=False)

    def sentences_shown(self, form: QuestionForm) -> int:
        """Sentences shown for a question of this form (0: whole chunks). A yes/no or choice answer is picked,
        not copied, so it can read more without being drawn to copy the wrong one."""
        rag = self.settings
        return rag.source_sentences if form.kind == "open" else rag.decision_sentences

    def select(
        self, question: str, hits: Sequence[Hit], qv: npt.NDArray[np.float32], form: QuestionForm, budget: int
    ) -> Evidence:
        """The evidence for `question` from its `hits` (already `embed`ded), within `budget` prompt tokens."""
        sources_all = [source_of(n, h) for n, h in enumerate(hits, start=1)]
        if not hits:
            return Evidence((), (), (), None, (), (), 0.0, 0.0)
        chunks = [self._cache[(h.chunk.id, h.chunk.text)] for h in hits]
        cand = [(r, j) for r, cs in enumerate(chunks) for j in range(len(cs.sentences))]
        score, cosine, coverage, bridge = self._scores(question, chunks, cand, qv)
        best_k = int(np.argmax(score))
        # An open answer is copied from what is shown, so another document's sentence is shown only when it holds the
        # bridge (a two-fact question); a yes/no or choice answer is picked, and reads the other document anyway.
        floor = self.settings.bridge_min if form.kind == "open" else -1.0
        order = self._order(score, bridge, cand, [h.chunk.doc_id for h in hits], self.sentences_shown(form), floor)
        chosen = self._fit(order, cand, chunks, budget)
        return self._evidence(sources_all, chunks, chosen, cand[best_k], qv, float(cosine.max()), coverage[best_k])

    # -- scoring and choosing

    def _scores(
        self,
        question: str,
        chunks: Sequence[ChunkSentences],
        cand: Sequence[tuple[int, int]],
        qv: npt.NDArray[np.float32],
    ) -> tuple[npt.NDArray[np.float64], ...]:
        """Per candidate sentence: its score, cosine and coverage of the question, and its coverage of the bridge:
        what the best sentence adds to the question (the entity a second fact is about, "Shirley Temple" for "the
        woman who played Corliss Archer")."""
        terms = [chunks[r].terms[j] for r, j in cand]
        idf = idf_weights(terms)
        default_idf = float(np.log1p(len(terms)))
        q_terms = content_terms(question) or words(question)
        cosine = np.asarray([float(chunks[r].vectors[j] @ qv) for r, j in cand])
        coverage = np.asarray([weighted_coverage(q_terms, t, idf, default_idf) for t in terms])
        rank = np.asarray([r for r, _ in cand], dtype=float)
        heading = np.asarray([is_heading(chunks[r].sentences[j]) for r, j in cand], dtype=float)
        kind = answer_type(question) if self.settings.typed_starts else ""
        avoid = frozenset(w for w in words(question) if w not in STOPWORDS)
        typed = np.asarray(
            [bool(kind) and bool(span_starts(chunks[r].sentences[j], avoid, kind)) for r, j in cand], dtype=float
        )
        score = coverage + cosine - _RANK_PENALTY * rank - _HEADING_PENALTY * heading + _TYPED_SENTENCE_BONUS * typed
        bridge = np.zeros(len(terms))
        if self.settings.min_documents > 1:  # only a second document is ranked by the bridge
            bridge_terms = list(set(terms[int(np.argmax(score))]) - set(q_terms))
            bridge = np.asarray([weighted_coverage(bridge_terms, t, idf, default_idf) for t in terms])
        return score, cosine, coverage, bridge

    def _order(
        self,
        score: npt.NDArray[np.float64],
        bridge: npt.NDArray[np.float64],
        cand: Sequence[tuple[int, int]],
        doc_ids: Sequence[str],
        keep_n: int,
        bridge_floor: float,
    ) -> list[int]:
        """Candidates in the order they are offered to the budget: the `keep_n` best sentences, plus the best
        sentence of each next-best document until `rag.min_documents` documents are shown (best by its score plus
        `rag.bridge_weight` times its coverage of the bridge, and only when that coverage reaches `bridge_floor`);
        with `keep_n` 0 every sentence of every chunk, best chunk first."""
        ranked = [int(k) for k in np.argsort(-score, kind="stable")]
        if keep_n == 0:  # whole chunks, best chunk first: rank by the chunk's best sentence
            chunk_order: list[int] = []
            for k in ranked:
                if cand[k][0] not in chunk_order:
                    chunk_order.append(cand[k][0])
            return [k for r in chunk_order for k in range(len(cand)) if cand[k][0] == r]
        order = ranked[:keep_n]
        docs = {doc_ids[cand[k][0]] for k in order}
        hop = score + self.settings.bridge_weight * bridge
        for k in (int(k) for k in np.argsort(-hop, kind="stable")):
            if len(docs) >= self.settings.min_documents:
                break
            if k not in order and doc_ids[cand[k][0]] not in docs and bridge[k] >= bridge_floor:
                order.append(k)
                docs.add(doc_ids[cand[k][0]])
        return order

    def _fit(
        self, order: Sequence[int], cand: Sequence[tuple[int, int]], chunks: Sequence[ChunkSentences], budget: int
    ) -> dict[int, dict[int, str]]:
        """{source index: {sentence index: text}} of the ordered candidates that fit the budget; the first that
        does not fit whole is cut to what is left, and nothing after it is shown."""
        chosen: dict[int, dict[int, str]] = {}
        for k in order:
            r, j = cand[k]
            sentence = chunks[r].sentences[j]
            header = 0 if r in chosen else _SOURCE_OVERHEAD
            cost = self.count_tokens(sentence + " ") + header
            if cost <= budget:
                chosen.setdefault(r, {})[j] = sentence
                budget -= cost
                continue
            if budget > 12 and (cut := self._truncate(sentence, budget - header)):
                chosen.setdefault(r, {})[j] = cut
            break
        return chosen

    def _truncate(self, text: str, budget: int) -> str:
        """The longest word-prefix of `text` within `budget` tokens (binary search over word counts)."""
        parts = text.split()
        lo, hi = 0, len(parts)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.count_tokens(" ".join(parts[:mid]) + " …") <= budget:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(parts[:lo]) + " …" if lo else ""

    def _evidence(
        self,
        sources_all: Sequence[Source],
        chunks: Sequence[ChunkSentences],
        chosen: dict[int, dict[int, str]],
        best: tuple[int, int],
        qv: npt.NDArray[np.float32],
        relevance: float,
        coverage: float,
    ) -> Evidence:
        import dataclasses

        sources, shown, terms, vectors = [], [], [], []
        for r, src in enumerate(sources_all):
            picked = chosen.get(r, {})
            idx = sorted(picked)
            excerpt = " ".join(picked[j] for j in idx)
            sources.append(dataclasses.replace(src, excerpt=excerpt))
            if excerpt:
                shown.append(SourceText(src.number, src.title, excerpt))
            # Support is measured against what the model was shown of the source.
            terms.append(tuple(t for j in idx for t in chunks[r].terms[j]))
            vectors.append(chunks[r].vectors[idx] if idx else np.zeros((0, len(qv)), dtype=np.float32))
        sentences = tuple(s for r in sorted(chosen) for _, s in sorted(chosen[r].items()))
        br, bj = best
        shown_best = (sources_all[br].number, chosen[br][bj]) if bj in chosen.get(br, {}) else None
        if shown_best is None and sentences:  # the best one did not fit: the first shown stands in
            r0 = min(chosen)
            shown_best = (sources_all[r0].number, chosen[r0][min(chosen[r0])])
        return Evidence(
            tuple(sources), tuple(shown), sentences, shown_best, tuple(terms), tuple(vectors), relevance, coverage
        )
