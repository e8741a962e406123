"""Retrieval over any DocumentStore: dense, keyword (BM25) and hybrid, top-k, filters, an optional reranker.

Hybrid mixes the dense and the BM25 ranking of the top `candidates` of each. By default (`fusion = "convex"`) it
adds their min-max normalised scores (`dense_weight * dense + bm25_weight * bm25`, weights normalised to sum 1), so
a passage one retriever scores far above the rest keeps that margin: on COVID-QA's long articles, whose questions
reuse their passage's terms, BM25's clear winners were lost to passages both rankings placed middling. `fusion =
"rrf"` is weighted reciprocal rank fusion (Cormack et al. 2009): each retriever contributes `weight / (rrf_k +
rank)`, ranks only, no scores. Both were measured on the QA suite and SciFact (Benchmarks › Retrieval levers).

A reranker is any callable `(query, hits) -> hits` (a cross-encoder you have locally, a rule, an API); it sees the
top `rerank_candidates` of the fused ranking and its order of them is final. `retrieval.reranker` names the folder
of one that `ragtune tune --kind reranker` trained (ragtune.rerank); it is loaded here, so every command that
searches uses it. Nothing is downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from ragtune.config import RetrievalConfig, choices_of
from ragtune.errors import RagtuneError
from ragtune.models.embedder import Embedder
from ragtune.store.base import DocumentStore, Filters, Hit
from ragtune.text import STOPWORDS, words

Reranker = Callable[[str, list[Hit]], list[Hit]]
MODES = choices_of(RetrievalConfig, "mode")
FUSIONS = choices_of(RetrievalConfig, "fusion")


class RetrievalError(RagtuneError, ValueError):
    """A retrieval setting or argument is invalid (unknown mode, k < 1)."""


def rrf_fuse(rankings: Sequence[Sequence[Hit]], weights: Sequence[float], k: int = 60) -> list[Hit]:
    """Weighted reciprocal rank fusion of ranked hit lists (rank 1 is the best); ties keep the first list's order."""
    scores: dict[str, float] = {}
    chunks: dict[str, Hit] = {}
    for hits, weight in zip(rankings, weights, strict=False):
        for rank, hit in enumerate(hits, start=1):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + weight / (k + rank)
            chunks.setdefault(hit.chunk.id, hit)
    order = sorted(scores, key=lambda cid: -scores[cid])
    return [Hit(chunks[cid].chunk, scores[cid]) for cid in order]


def convex_fuse(rankings: Sequence[Sequence[Hit]], weights: Sequence[float]) -> list[Hit]:
    """Weighted sum of min-max normalised scores; a chunk missing from a list gets 0 from it."""
    total = sum(weights) or 1.0
    scores: dict[str, float] = {}
    chunks: dict[str, Hit] = {}
    for hits, weight in zip(rankings, weights, strict=False):
        if not hits:
            continue
        values = [h.score for h in hits]
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        for hit in hits:
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + (weight / total) * (hit.score - low) / span
            chunks.setdefault(hit.chunk.id, hit)
    order = sorted(scores, key=lambda cid: -scores[cid])
    return [Hit(chunks[cid].chunk, scores[cid]) for cid in order]


def fuse(dense: Sequence[Hit], keyword: Sequence[Hit], config: RetrievalConfig) -> list[Hit]:
    """The dense and the BM25 ranking mixed as `config.fusion` says, with its weights."""
    weights = (config.dense_weight, config.bm25_weight)
    if config.fusion == "convex":
        return convex_fuse([dense, keyword], weights)
    return rrf_fuse([dense, keyword], weights, config.rrf_k)


class Retriever:
    """Search a store the way `config` says; `search` for one query, `search_many` for a batch (one embedding call)."""

    def __init__(
        self,
        store: DocumentStore,
        embedder: Embedder,
        config: RetrievalConfig,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config
        if reranker is None and config.reranker.strip():
            from ragtune.rerank import load_reranker

            reranker = load_reranker(config.reranker.strip(), config.rerank_weight, config.rrf_k, config.rerank_int8)
        self.reranker = reranker
        self._titles: TitleIndex | None = None  # built on the first search that follows links (see _linked)
        self._check_mode(config.mode)
        if config.fusion not in FUSIONS:
            raise RetrievalError(f"retrieval.fusion = {config.fusion!r}; choose one of {', '.join(FUSIONS)}")

    @staticmethod
    def _check_mode(mode: str) -> str:
        mode = "bm25" if mode == "keyword" else mode
        if mode not in MODES:
            raise RetrievalError(f"retrieval mode {mode!r} is unknown; choose one of {', '.join(MODES)}")
        return mode

    def refresh(self) -> None:
        """Forget what was read from the store once (the title index); call it after documents changed."""
        self._titles = None

    def search(
        self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        return self.search_many([query], k=k, mode=mode, filters=filters)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int | None = None,
        mode: str | None = None,
        filters: Filters | None = None,
    ) -> list[list[Hit]]:
        k = self.config.top_k if k is None else k
        if k < 1:
            raise RetrievalError(f"k = {k}: ask for at least one result")
        mode = self._check_mode(mode or self.config.mode)
        candidates = max(self.config.candidates, k)
        rerank = self.config.rerank_candidates
        vectors: npt.NDArray[np.float32] | None = None
        if mode in ("dense", "hybrid") and queries:
            vectors = np.asarray(self.embedder.embed_queries(list(queries)), dtype=np.float32)
        out: list[list[Hit]] = []
        for i, query in enumerate(queries):
            vector = vectors[i] if vectors is not None else None
            depth = candidates if mode == "hybrid" else max(rerank, k) if self.reranker else k
            hits = self._ranked(query, vector, mode, depth, filters)
            if self.config.second_hop and mode == "hybrid" and hits:
                hits = self._second_hop(query, hits, candidates, filters)
            if self.reranker is not None:
                hits = list(self.reranker(query, hits[:rerank])) + hits[rerank:]
            if self.config.linked_documents and hits:
                hits = self._linked(query, vector, hits, mode, filters)
            if self.config.named_documents:
                hits = self._named_first(query, vector, hits, max(k, candidates), mode, filters)
            out.append(hits[:k])
        return out

    def _ranked(
        self, query: str, vector: npt.NDArray[np.float32] | None, mode: str, k: int, filters: Filters | None
    ) -> list[Hit]:
        """One search of the store in `mode`, its top `k`: dense, BM25, or both fused as configured."""
        if mode == "bm25":
            return self.store.keyword_search(query, k, filters)
        assert vector is not None  # embedded for dense and hybrid
        if mode == "dense":
            return self.store.dense_search(vector, k, filters)
        return fuse(
            self.store.dense_search(vector, k, filters), self.store.keyword_search(query, k, filters), self.config
        )

    def _named_first(
        self,
        query: str,
        vector: npt.NDArray[np.float32] | None,
        hits: list[Hit],
        k: int,
        mode: str,
        filters: Filters | None,
    ) -> list[Hit]:
        """The best chunks of each document the query names by its exact title in quotes, searched within that
        document alone, lead `hits` (two named documents take turns). Why: a question that says which report it
        asks about ("In “20080102X00005”, what is listed under Rated Power?") is answered from that report, but a
        title is one token of the query against words every report of the form shares, so fused search found the
        named report in the top 5 for 20 of 30 such questions. A quoted phrase that is no stored title changes
        nothing."""
        if filters and "title" in filters:
            return hits  # the caller chose the document already
        named: list[list[Hit]] = []
        for title in quoted_titles(query):
            within = self._ranked(query, vector, mode, k, {**(filters or {}), "title": title})
            if within:
                named.append(within)
        if not named:
            return hits
        led: dict[str, Hit] = {}
        for rank in range(max(len(n) for n in named)):
            for within in named:
                if rank < len(within):
                    led.setdefault(within[rank].chunk.id, within[rank])
        return list(led.values()) + [h for h in hits if h.chunk.id not in led]

    def _second_hop(self, query: str, first: list[Hit], candidates: int, filters: Filters | None) -> list[Hit]:
        """The question plus the bridge entities (names the best first hit adds to the question) searched again: the
        first search's top `HOP_KEEP` stay on top, then the second search's hits and the rest of the first take
        turns. A question that joins two facts finds the second fact's passage through the first, and a reader of
        the top 10 still sees most of what the first search found. Decided on the QA suite against fusing both
        rankings by RRF (it pushed the first fact's passage out of the top 5), against keeping 1 or 2 (they cost
        the bundled sample and SQuAD questions) and against the second search's hits all before the first's rest
        (it cost a capable reader's top 10 three COVID-QA and two sample answers; taking turns, two and none)."""
        names = bridge_names(query, first[0])
        if not names:
            return first
        hop = f"{query} {' '.join(names)}"
        vector = np.asarray(self.embedder.embed_queries([hop]), dtype=np.float32)[0]
        second = self._ranked(hop, vector, "hybrid", candidates, filters)  # fused as the first search was
        return take_turns(first[:HOP_KEEP], [second, first[HOP_KEEP:]])

    def _linked(
        self,
        query: str,
        vector: npt.NDArray[np.float32] | None,
        hits: list[Hit],
        mode: str,
        filters: Filters | None,
    ) -> list[Hit]:
        """Documents whose titles the question or the top `LINK_FROM` hits mention join the results: the first
        `HOP_KEEP` hits stay on top, then the linked documents' best chunks and the rest of the hits take turns.
        Why: a question that joins two facts names the first fact's subject, and that passage names the second's
        ("Who wrote These Boots Are Made for Walkin'..." -> a passage that says "written by Lee Hazlewood" -> the
        document titled "Lee Hazlewood"); a title is how a corpus of articles or pages refers to another. On the
        QA suite's HotpotQA both supporting paragraphs reached the top 5 for 33 -> 48 of 52 questions (see
        Benchmarks › Retrieval levers)."""
        if self._titles is None:
            self._titles = TitleIndex({d.doc_id: d.title for d in self.store.documents().values()})
        kept = {hit.chunk.doc_id for hit in hits[:HOP_KEEP]}
        # The question's mentions first, then the best hit's, each in reading order. Measured against ordering
        # the linked documents by the first search's rank: on HotpotQA that put the passages most like the
        # question, not the one the link names, first (both supporting paragraphs in the top 5 for 46 of 52
        # against 48).
        linked: list[str] = []
        for own, text in [("", query)] + [(h.chunk.doc_id, h.chunk.text) for h in hits[:LINK_FROM]]:
            for doc_id in self._titles.mentioned(text):
                if doc_id != own and doc_id not in kept and doc_id not in linked:
                    linked.append(doc_id)
        if not linked:
            return hits
        best: dict[str, Hit] = {}
        for hit in hits:
            best.setdefault(hit.chunk.doc_id, hit)
        found: list[Hit] = []
        for doc_id in linked[:LINK_LIMIT]:
            within = (
                [best[doc_id]]
                if doc_id in best
                else self._ranked(query, vector, mode, 1, {**(filters or {}), "doc_id": doc_id})
            )
            found.extend(within[:1])  # nothing where the caller's filters leave the document out
        return take_turns(hits[:HOP_KEEP], [found, hits[HOP_KEEP:]]) if found else hits


HOP_KEEP = 3  # hits of the first search that stay on top of a second hop or of linked documents
LINK_FROM = 3  # the top hits whose mentions of other documents' titles are followed (see Retriever._linked)
LINK_LIMIT = 3  # linked documents one search adds at most


def take_turns(top: Sequence[Hit], pools: Sequence[Sequence[Hit]]) -> list[Hit]:
    """`top`, then the next hit of each pool in turn, each chunk once."""
    merged = {hit.chunk.id: hit for hit in top}
    queues = [list(pool) for pool in pools]
    while any(queues):
        for queue in queues:  # the next hit of each pool not already taken, in turn
            while queue:
                hit = queue.pop(0)
                if hit.chunk.id not in merged:
                    merged[hit.chunk.id] = hit
                    break
    return list(merged.values())


# Words and single marks, so that a title and a mention of it tokenize alike ("Guns N' Roses", "I\"s").
_TOKEN = re.compile(r"\w+|[^\w\s]")
# A trailing parenthetical that tells apart articles of one name ("Sinister (film)"); a mention leaves it out.
_DISAMBIGUATION = re.compile(r"\s*\([^()]*\)\s*$")
_SENTENCE_END = {".", "!", "?", ":", ";"}
_POSSESSIVE = {"'", "’", "s"}  # what stands between a name and the word after it ("Editors' Summary", "Ada's")


class TitleIndex:
    """Which stored documents a text mentions by title. A mention is the title's exact words and case (without a
    trailing "(film)"-style parenthetical). What reads as no reference is left out:
    - a title without a capital letter (a file name such as "refund-policy");
    - a title in capitals of more than one word (a heading used as a title: "METHODS AND RESULTS");
    - a title shared by more than `MAX_SHARED` documents;
    - a one-word title where a sentence or line starts ("Introduction" there is a heading or any capitalised word)
      or inside a longer name ("Summary" in "the Editors' Summary", "Manchester" in "Manchester United").
    """

    MAX_SHARED = 3
    MAX_WORDS = 16

    def __init__(self, titles: dict[str, str]) -> None:
        by_tokens: dict[tuple[str, ...], list[str]] = {}
        for doc_id, title in titles.items():
            tokens = tuple(_TOKEN.findall(_DISAMBIGUATION.sub("", title)))
            letters = "".join(tokens)
            heading = len(tokens) > 1 and letters.isupper()
            if 0 < len(tokens) <= self.MAX_WORDS and any(c.isupper() for c in letters) and not heading:
                by_tokens.setdefault(tokens, []).append(doc_id)
        self._docs = {t: ids for t, ids in by_tokens.items() if len(ids) <= self.MAX_SHARED}
        self._longest = max((len(t) for t in self._docs), default=0)

    def mentioned(self, text: str) -> list[str]:
        """Ids of the documents `text` mentions, in the order of their first mention; the longest title wins where
        titles overlap ("Manchester United F.C." over "Manchester")."""
        out: list[str] = []
        for line in text.splitlines():
            tokens = _TOKEN.findall(line)
            i = 0
            while i < len(tokens):
                match = self._longest_at(tokens, i)
                if match:
                    out.extend(d for d in self._docs[match] if d not in out)
                    i += len(match)
                else:
                    i += 1
        return out

    def _longest_at(self, tokens: list[str], i: int) -> tuple[str, ...] | None:
        for n in range(min(self._longest, len(tokens) - i), 0, -1):
            key = tuple(tokens[i : i + n])
            if key in self._docs and (n > 1 or _stands_alone(tokens, i)):
                return key
        return None


def _stands_alone(tokens: list[str], i: int) -> bool:
    """Whether the one word at `i` is a name of its own: not where a sentence starts, and no capitalised word
    joined to it before (across a possessive: "Editors' Summary") or after ("Manchester United")."""
    j = i - 1
    while j >= 0 and tokens[j] in _POSSESSIVE:
        j -= 1
    if j < 0 or tokens[j] in _SENTENCE_END:
        return False
    # A capital that only opens the sentence ("The Introduction says") joins nothing.
    joined_before = tokens[j][:1].isupper() and j > 0 and tokens[j - 1] not in _SENTENCE_END
    joined_after = i + 1 < len(tokens) and tokens[i + 1][:1].isupper()
    return not (joined_before or joined_after)


# A phrase in curly or straight double quotes: how a question names a document by its title.
_QUOTED = re.compile(r"“([^”]{1,200})”|\"([^\"]{1,200})\"")


def quoted_titles(query: str) -> list[str]:
    """The phrases `query` puts in double quotes, in order, each once: the titles it may name."""
    out: list[str] = []
    for match in _QUOTED.finditer(query):
        phrase = " ".join((match.group(1) or match.group(2)).split())
        if phrase and phrase not in out:
            out.append(phrase)
    return out


# A name: capitalised words, possibly joined by a lower-case particle ("Bank of England", "Ludwig van Beethoven").
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|de|van|von|da|del|and)\s+)?[A-Z][\w'’.-]*)*")


def bridge_names(query: str, hit: Hit, limit: int = 3) -> list[str]:
    """Names in the hit's title and text that the question does not already contain (a capitalised stop word that
    only opens a sentence is no name), the first `limit` in reading order."""
    asked = set(words(query))
    names: list[str] = []
    for text in (hit.chunk.title, hit.chunk.text):
        for match in _NAME.finditer(text):
            name = match.group(0).rstrip(".")
            parts = words(name)
            if not parts or set(parts) <= asked or (len(parts) == 1 and parts[0] in STOPWORDS):
                continue
            if name not in names:
                names.append(name)
            if len(names) >= limit:
                return names
    return names
