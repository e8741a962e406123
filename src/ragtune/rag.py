"""Answering: retrieve -> compress the sources -> prompt within the token budget -> generate -> extract -> cite ->
refuse. One `Answerer` serves every strategy: with a retriever it answers from sources (rag, hybrid), without one
closed-book (base, finetune).

Why the sources are compressed: on a CPU the prompt is most of the cost of an answer, and a small model reads a
few relevant sentences better than five whole passages. Each retrieved chunk is split into sentences; the ones most
relevant to the question (rare question words they contain, embedding similarity, the chunk's rank) are shown, in
document order, under the chunk's citation number. `rag.source_sentences = 0` shows whole chunks instead.

Why answers are extracted: small models often restate the question ("The bridge was opened by Ilse Mahr") or
wander off. The answer is cut to the part that does not repeat the question and, when it is close to a span of the
sources, to that span, so that what the user reads is short and checkable.

Why refusal is calibrated: whether an answer is supported is a score (see `ragtune.citations`), and where to cut
depends on the models and the documents, so the cut is fitted on labelled questions (`ragtune calibrate`).
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ragtune.calibration import (
    Calibration,
    CalibrationError,
    CalibrationRecord,
    LabelledQuestion,
    answer_matches,
    can_hold_out,
    default_calibration,
    fit_calibration,
    fit_calibration_held_out,
    load_calibration,
)
from ragtune.citations import (
    STOPWORDS,
    Attribution,
    SupportModel,
    attribute,
    claim_text,
    content_terms,
    idf_weights,
    normalize_answer,
    parse_citations,
    split_sentences,
    support_features,
    weighted_coverage,
    words,
)
from ragtune.config import Config
from ragtune.errors import RagtuneError
from ragtune.models.copying import answer_type, span_starts
from ragtune.models.embedder import Embedder
from ragtune.models.generator import (
    CopyingGenerator,
    CopySpec,
    GenerationParams,
    GenerationResult,
    Generator,
    Message,
)
from ragtune.prompts import FEW_SHOT_ANSWER, REFUSAL, SourceText, closed_book_messages, rag_messages
from ragtune.store.base import Hit
from ragtune.workspace import Workspace

if TYPE_CHECKING:
    from ragtune.retrieve import Retriever

__all__ = [
    "Answer",
    "AnswerStream",
    "Answerer",
    "PromptTooLongError",
    "SentenceSupport",
    "Source",
    "extract_span",
    "load_calibration",
]

# Phrases with which a model says it cannot answer; such an answer becomes the refusal.
_REFUSAL_PATTERNS = re.compile(
    r"(do(?:es)? not (?:say|mention|contain|provide|specify|state)|not (?:mentioned|stated|specified|provided|given)"
    r"|no information|cannot (?:be )?(?:answer|determine)|can't (?:answer|determine)|unknown|not enough information)",
    re.IGNORECASE,
)
_ANSWER_PREFIX = re.compile(r"^\s*(?:answer\s*:|the answer is\s*:?|a\s*:)\s*", re.IGNORECASE)
# Rank prior of a sentence's chunk: a sentence of the first chunk beats an equally good one of the fifth.
_RANK_PENALTY = 0.1
# Headings ("Skellet S3 Weather Station: Datasheet") share the question's words but never hold its answer; shown
# to a small model they are what it copies. A heading is shown only when no sentence scores better.
_HEADING_PENALTY = 1.0
_HEADING_WORDS = 10
# A question that says what kind of answer it wants (how many, when, who: `answer_type`) is answered by a sentence
# that holds one. Without this prior the shown sentence is often the one that introduces the asked-about thing ("The
# Skellet S3 is Quorrin's third-generation weather station") rather than the one with its range in metres.
# Sentence holding the gold answer shown first, with 0.3 / without: bundled sample test 0.694 / 0.639, its training
# questions 0.861 / 0.843, changed facts 0.676 / 0.676, 242 SQuAD questions 0.822 / 0.826.
_TYPED_SENTENCE_BONUS = 0.3
_EXAMPLE_ANSWER = normalize_answer(parse_citations(FEW_SHOT_ANSWER)[0])
_MESSAGE_OVERHEAD = 8  # template tokens around each message (role markers, newlines)
_SENTENCE_CACHE = 20_000


class PromptTooLongError(RagtuneError):
    """The question alone (with the instructions) does not fit the context window; sources are cut, never it."""


@dataclass(frozen=True)
class Source:
    number: int  # as cited: [number]
    doc_id: str
    title: str
    chunk_id: str
    score: float  # the retriever's score
    text: str  # the whole chunk
    page: int | None = None
    heading: str | None = None
    excerpt: str = ""  # what the model was shown of it ("" when nothing: it was retrieved but not relevant enough)


@dataclass(frozen=True)
class SentenceSupport:
    text: str
    source_number: int | None  # the source that supports it best, None when none does
    support: float  # calibrated probability that the source backs it
    cited: bool  # the model cited that source itself (and the source does support it)
    lexical: tuple[float, ...] = ()  # per source (in source order): share of the sentence's words it contains
    embedding: tuple[float, ...] = ()  # per source: best cosine between the claim and one of its sentences


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    sources: tuple[Source, ...]
    sentences: tuple[SentenceSupport, ...]
    tokens_in: int
    tokens_out: int
    timings: Mapping[str, float]  # retrieval_s, generation_s, total_s (a batch's time is shared by its questions)
    raw: str = ""  # the model's own words, before extraction
    support: float = 0.0  # the answer's support: the weakest sentence's
    refusal_reason: str = ""  # "" when answered; else why it was refused
    signals: Mapping[str, float] = field(default_factory=dict)  # relevance, coverage, answerable, ... (diagnostics)
    citations: tuple[int, ...] = ()  # the numbers the model cited, checked or not

    @property
    def supported_share(self) -> float:
        """Share of the answer's sentences attributed to a source."""
        if not self.sentences:
            return 0.0
        return sum(s.source_number is not None for s in self.sentences) / len(self.sentences)


@dataclass
class _Context:
    """One question between retrieval and generation."""

    question: str
    sources: list[Source]
    messages: list[Message] | None  # None: decided without generating (refused before asking the model)
    signals: dict[str, float]
    source_terms: list[list[str]]  # per source: content terms of its excerpt (what support is measured against)
    source_vectors: list[npt.NDArray[np.float32]]  # per source: vectors of its excerpt's sentences
    refusal_reason: str = ""
    retrieval_s: float = 0.0
    prompt: list[Message] | None = None  # what the model is (or would have been) asked
    copy: CopySpec | None = None  # what a copy-constrained answer may be: a span of the shown sentences


@dataclass(frozen=True)
class _ChunkSentences:
    sentences: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]
    vectors: npt.NDArray[np.float32]


def load_calibration_for(config: Config) -> Calibration:
    """The workspace's calibration (from `ragtune calibrate`), or the packaged default when there is none."""
    path = Workspace(config.workspace_path).calibration_file
    return load_calibration(path) if path.is_file() else default_calibration()


class Answerer:
    """Answers questions with a generator, from retrieved sources when a retriever is given, else closed-book."""

    def __init__(
        self,
        generator: Generator,
        config: Config,
        retriever: Retriever | None = None,
        embedder: Embedder | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.generator = generator
        self.config = config
        self.retriever = retriever
        self.embedder = embedder if embedder is not None else getattr(retriever, "embedder", None)
        if retriever is not None and self.embedder is None:
            raise RagtuneError("answering from sources needs an embedder (to measure support); pass embedder=")
        self.calibration = calibration if calibration is not None else load_calibration_for(config)
        self.refuse = True  # `ragtune calibrate` switches refusal off to see every answer
        self.last_answer: Answer | None = None
        self._sentences: OrderedDict[tuple[str, str], _ChunkSentences] = OrderedDict()
        rag = config.rag
        if rag.source_sentences < 0:
            raise RagtuneError(f"rag.source_sentences must be 0 (whole chunks) or more, got {rag.source_sentences}")
        if rag.answer_tokens < 1:
            raise RagtuneError(f"rag.answer_tokens must be at least 1, got {rag.answer_tokens}")

    # ------------------------------------------------------------------------------------------------ settings

    @property
    def reads_sources(self) -> bool:
        return self.retriever is not None

    @property
    def support_model(self) -> SupportModel:
        return self.calibration.support

    @property
    def min_relevance(self) -> float:
        value = self.config.rag.min_retrieval_score
        return self.calibration.min_relevance if value < 0 else value

    @property
    def min_answerable(self) -> float:
        value = self.config.rag.min_support
        return self.calibration.min_answerable if value < 0 else value

    def params(self) -> GenerationParams:
        g = self.config.generation
        return GenerationParams(
            max_new_tokens=max(1, min(g.max_new_tokens, self.config.rag.answer_tokens)),
            temperature=g.temperature,
            stop=tuple(g.stop),
            seed=g.seed,
        )

    def context_budget(self) -> int:
        """Tokens the prompt may take: the smaller of the setting and the model's window, less the answer."""
        window = min(self.config.rag.context_tokens, self.generator.context_window)
        return window - self.params().max_new_tokens

    # --------------------------------------------------------------------------------------------------- public

    def answer(self, question: str) -> Answer:
        return self.answer_many([question], progress=False)[0]

    def answer_many(self, questions: Sequence[str], progress: bool = True) -> list[Answer]:
        """Answers in the order asked; retrieval, embedding and generation each run batched over all questions."""
        questions = [self._check_question(q) for q in questions]
        if not questions:
            return []
        start = time.perf_counter()
        contexts = self._prepare(questions)
        asked = [i for i, c in enumerate(contexts) if c.messages is not None]
        results: dict[int, GenerationResult] = {}
        generation_s = 0.0
        if asked:
            t0 = time.perf_counter()
            outputs = self._generate(
                [contexts[i].messages or [] for i in asked], [contexts[i].copy for i in asked], progress
            )
            generation_s = time.perf_counter() - t0
            results = dict(zip(asked, outputs, strict=True))
        # Claim vectors for every answer at once (one embedding call for the batch).
        raws = {i: results[i].text for i in asked}
        answers = self._finish_many(contexts, raws, results)
        total = time.perf_counter() - start
        per_q = total / len(questions)
        out = []
        for i, a in enumerate(answers):
            timings = {
                "retrieval_s": contexts[i].retrieval_s,
                "generation_s": generation_s / len(asked) if i in results else 0.0,
                "total_s": per_q,
            }
            out.append(_replace(a, timings=timings))
        if out:
            self.last_answer = out[-1]
        return out

    def prompt(self, question: str) -> list[Message]:
        """The messages the model is asked for `question` (after retrieval, compression and budgeting)."""
        ctx = self._prepare([self._check_question(question)])[0]
        if ctx.prompt is not None:
            return list(ctx.prompt)
        return list(ctx.messages or rag_messages(ctx.question, [], few_shot=self.config.rag.few_shot))

    def stream(self, question: str) -> AnswerStream:
        """Yields the answer's text as it is generated; afterwards `.answer` (and `self.last_answer`) holds the
        full Answer, which may differ from what streamed: extraction shortens it, refusal replaces it."""
        question = self._check_question(question)
        start = time.perf_counter()
        context = self._prepare([question])[0]
        pieces: Iterator[str] = iter(())

        def finish(raw: str | None, seconds: float) -> Answer:
            result = None
            if raw is not None and context.messages is not None:
                result = GenerationResult(
                    text=raw,
                    tokens_in=sum(self.generator.count_tokens(m.content) for m in context.messages),
                    tokens_out=self.generator.count_tokens(raw),
                    seconds=seconds,
                    extra=dict(getattr(pieces, "extra", {})),  # the model's confidence, where the backend reports it
                )
            answer = self._finish_many([context], {0: raw} if raw is not None else {}, {0: result} if result else {})[0]
            timings = {
                "retrieval_s": context.retrieval_s,
                "generation_s": seconds,
                "total_s": time.perf_counter() - start,
            }
            answer = _replace(answer, timings=timings)
            self.last_answer = answer
            return answer

        if context.messages is None:
            return AnswerStream(iter(()), finish, generate=False)
        if self.copies and context.copy is not None:
            assert isinstance(self.generator, CopyingGenerator)
            pieces = self.generator.stream_copying(context.messages, context.copy, self.params())
        else:
            pieces = self.generator.stream(context.messages, self.params())
        return AnswerStream(pieces, finish, generate=True)

    # ----------------------------------------------------------------------------------------------- internals

    @staticmethod
    def _check_question(question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise RagtuneError("a question must be a non-empty string")
        return question.strip()

    @property
    def copies(self) -> bool:
        """Whether answers are generated as spans of the sources (a setting, and the generator must be able to)."""
        return self.reads_sources and self.config.rag.copy_answers and isinstance(self.generator, CopyingGenerator)

    def _call(
        self, conversations: list[list[Message]], copy: Sequence[CopySpec | None], params: GenerationParams
    ) -> list[GenerationResult]:
        if self.copies and all(c is not None for c in copy):
            assert isinstance(self.generator, CopyingGenerator)
            return self.generator.generate_copying(conversations, [c for c in copy if c is not None], params)
        return self.generator.generate(conversations, params)

    def _generate(
        self, conversations: list[list[Message]], copy: Sequence[CopySpec | None], progress: bool
    ) -> list[GenerationResult]:
        params = self.params()
        step = max(1, getattr(self.generator, "batch_size", 8)) * 4
        if len(conversations) <= step or not progress:
            return self._call(conversations, copy, params)
        from tqdm.auto import tqdm

        # Longest prompts first overall, in slices the generator batches itself: the bar moves, padding stays low.
        order = sorted(range(len(conversations)), key=lambda i: -sum(len(m.content) for m in conversations[i]))
        out: dict[int, GenerationResult] = {}
        with tqdm(total=len(conversations), desc="answering", unit="q") as bar:
            for s in range(0, len(order), step):
                part = order[s : s + step]
                answers = self._call([conversations[i] for i in part], [copy[i] for i in part], params)
                for i, r in zip(part, answers, strict=True):
                    out[i] = r
                bar.update(len(part))
        return [out[i] for i in range(len(conversations))]

    # -- before generation

    def _prepare(self, questions: list[str]) -> list[_Context]:
        if self.retriever is None:
            return [
                _Context(q, [], closed_book_messages(q), {}, [], [], prompt=closed_book_messages(q)) for q in questions
            ]
        assert self.embedder is not None
        t0 = time.perf_counter()
        hits_per_q = self.retriever.search_many(questions, k=self.config.retrieval.top_k)
        qvecs = np.asarray(self.embedder.embed_queries(questions), dtype=np.float32)
        self._embed_chunks([h for hits in hits_per_q for h in hits])
        share = (time.perf_counter() - t0) / len(questions)
        contexts = []
        for q, hits, qv in zip(questions, hits_per_q, qvecs, strict=True):
            t1 = time.perf_counter()
            ctx = self._context(q, hits, qv)
            ctx.retrieval_s = share + time.perf_counter() - t1
            contexts.append(ctx)
        return contexts

    def _embed_chunks(self, hits: Sequence[Hit]) -> None:
        """Split and embed the sentences of chunks not seen before, all in one embedding call."""
        assert self.embedder is not None
        todo: dict[tuple[str, str], list[str]] = {}
        for h in hits:
            key = (h.chunk.id, h.chunk.text)
            if key in self._sentences:
                self._sentences.move_to_end(key)
            elif key not in todo:
                todo[key] = split_sentences(h.chunk.text) or [h.chunk.text]
        if not todo:
            return
        flat = [s for ss in todo.values() for s in ss]
        vectors = np.asarray(self.embedder.embed_documents(flat), dtype=np.float32)
        offset = 0
        for key, ss in todo.items():
            self._sentences[key] = _ChunkSentences(
                tuple(ss), tuple(tuple(content_terms(s)) for s in ss), vectors[offset : offset + len(ss)]
            )
            offset += len(ss)
        while len(self._sentences) > _SENTENCE_CACHE:
            self._sentences.popitem(last=False)

    def _context(self, question: str, hits: Sequence[Hit], qv: npt.NDArray[np.float32]) -> _Context:
        sources_all = [_source(n, h) for n, h in enumerate(hits, start=1)]
        if not hits:
            return _Context(question, [], None, {"relevance": 0.0, "coverage": 0.0}, [], [], "no_sources")
        chunks = [self._sentences[(h.chunk.id, h.chunk.text)] for h in hits]
        # Every candidate sentence: (source index, sentence index).
        cand = [(r, j) for r, cs in enumerate(chunks) for j in range(len(cs.sentences))]
        terms = [chunks[r].terms[j] for r, j in cand]
        idf = idf_weights(terms)
        default_idf = float(np.log1p(len(terms)))
        q_terms = content_terms(question) or words(question)
        cosine = np.asarray([float(chunks[r].vectors[j] @ qv) for r, j in cand])
        coverage = np.asarray([weighted_coverage(q_terms, t, idf, default_idf) for t in terms])
        rank = np.asarray([r for r, _ in cand], dtype=float)
        heading = np.asarray([_is_heading(chunks[r].sentences[j]) for r, j in cand], dtype=float)
        kind = answer_type(question) if self.config.rag.typed_starts else ""
        avoid = frozenset(w for w in words(question) if w not in STOPWORDS)
        typed = np.asarray(
            [bool(kind) and bool(span_starts(chunks[r].sentences[j], avoid, kind)) for r, j in cand], dtype=float
        )
        score = coverage + cosine - _RANK_PENALTY * rank - _HEADING_PENALTY * heading + _TYPED_SENTENCE_BONUS * typed
        signals = {
            "relevance": float(cosine.max()),
            "coverage": float(coverage[int(np.argmax(score))]),
        }
        keep_n = self.config.rag.source_sentences
        order = list(np.argsort(-score, kind="stable"))
        if keep_n == 0:  # whole chunks, best chunk first: rank by the chunk's best sentence
            best_per_chunk: dict[int, float] = {}
            for k in order:
                best_per_chunk.setdefault(cand[k][0], float(score[k]))
            order = [k for r in sorted(best_per_chunk, key=lambda r: -best_per_chunk[r]) for k in _chunk_ids(cand, r)]
        else:
            order = order[:keep_n]
        fixed = self._fixed_tokens(question)
        budget = self.context_budget() - fixed
        if budget < 0:
            raise PromptTooLongError(
                f"the question and instructions take {fixed} tokens, more than the {self.context_budget()} the "
                f"context window leaves (rag.context_tokens = {self.config.rag.context_tokens}); shorten the question "
                "or raise rag.context_tokens"
            )
        chosen: dict[int, dict[int, str]] = {}
        for k in order:
            r, j = cand[k]
            sentence = chunks[r].sentences[j]
            cost = self.generator.count_tokens(sentence + " ") + (0 if r in chosen else 6)
            if cost <= budget:
                chosen.setdefault(r, {})[j] = sentence
                budget -= cost
            elif budget > 12:  # the best remaining sentence does not fit whole: cut it to what is left, then stop
                cut = self._truncate(sentence, budget - (0 if r in chosen else 6))
                if cut:
                    chosen.setdefault(r, {})[j] = cut
                break
            else:
                break
        sources: list[Source] = []
        shown: list[SourceText] = []
        source_terms: list[list[str]] = []
        source_vectors: list[npt.NDArray[np.float32]] = []
        for r, src in enumerate(sources_all):
            picked = chosen.get(r, {})
            excerpt = " ".join(picked[j] for j in sorted(picked))
            sources.append(_with_excerpt(src, excerpt))
            if excerpt:
                shown.append(SourceText(src.number, src.title, excerpt))
            # Support is measured against what the model was shown of the source.
            source_terms.append([t for j in sorted(picked) for t in chunks[r].terms[j]])
            idx = sorted(picked)
            source_vectors.append(chunks[r].vectors[idx] if idx else np.zeros((0, len(qv)), dtype=np.float32))
        messages = rag_messages(question, shown, few_shot=self.config.rag.few_shot)
        # No refusal among the copyable replies: it starts with "The", the word every restating answer starts with,
        # so the model would walk into it whenever it meant to restate. Refusing is the calibrated decision's job.
        # Nor may a span start at one of the question's own words: that is how a restatement starts, not an answer.
        copy = CopySpec(
            tuple(s for r in sorted(chosen) for _, s in sorted(chosen[r].items())),
            avoid_starts=avoid,
            answer_type=kind,
            end_at_citation=self.config.rag.short_spans,
            proximity=self.config.rag.start_proximity,
        )
        ctx = _Context(question, sources, messages, signals, source_terms, source_vectors, prompt=messages, copy=copy)
        if self.refuse and signals["relevance"] < self.min_relevance:
            ctx.messages, ctx.refusal_reason = None, "not_relevant"
        return ctx

    def _fixed_tokens(self, question: str) -> int:
        messages = rag_messages(question, [], few_shot=self.config.rag.few_shot)
        return sum(self.generator.count_tokens(m.content) + _MESSAGE_OVERHEAD for m in messages)

    def _truncate(self, text: str, budget: int) -> str:
        """The longest word-prefix of `text` within `budget` tokens (binary search over word counts)."""
        parts = text.split()
        lo, hi = 0, len(parts)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.generator.count_tokens(" ".join(parts[:mid]) + " …") <= budget:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(parts[:lo]) + " …" if lo else ""

    # -- after generation

    def _finish_many(
        self, contexts: Sequence[_Context], raws: Mapping[int, str | None], results: Mapping[int, GenerationResult]
    ) -> list[Answer]:
        drafts: dict[int, tuple[str, tuple[int, ...], bool, list[str]]] = {}
        claims: list[tuple[int, int, str]] = []
        for i, ctx in enumerate(contexts):
            raw = raws.get(i)
            if raw is None:
                continue
            text, cited, model_refused = self._clean(raw, ctx)
            sentences = [] if model_refused or not text else (split_sentences(text) or [text])
            drafts[i] = (text, cited, model_refused, sentences)
            if self.reads_sources:
                claims += [(i, n, claim_text(s, ctx.question)) for n, s in enumerate(sentences)]
        vectors: dict[tuple[int, int], npt.NDArray[np.float32]] = {}
        if claims and self.embedder is not None:
            embedded = np.asarray(self.embedder.embed_documents([c for _, _, c in claims]), dtype=np.float32)
            vectors = {(i, n): v for (i, n, _), v in zip(claims, embedded, strict=True)}
        out = []
        for i, ctx in enumerate(contexts):
            result = results.get(i)
            tokens_in = result.tokens_in if result else 0
            tokens_out = result.tokens_out if result else 0
            raw = raws.get(i)
            if i not in drafts:
                out.append(self._refusal(ctx, raw or "", ctx.refusal_reason or "no_sources", 0, 0))
                continue
            text, cited, model_refused, sentences = drafts[i]
            if not self.reads_sources:
                support = tuple(SentenceSupport(s, None, 0.0, False) for s in sentences)
                answer = Answer(ctx.question, text, False, (), support, tokens_in, tokens_out, {}, raw or "", 0.0)
                out.append(answer)
                continue
            attributions = [self._attribute(s, cited, ctx, vectors.get((i, n))) for n, s in enumerate(sentences)]
            signals = dict(ctx.signals)
            signals["model_refused"] = float(model_refused)
            signals["in_source"] = float(bool(text) and _in_sources(text, ctx))
            result_extra = results[i].extra if i in results else {}
            if "mean_logprob" in result_extra:  # the model's confidence (local models report it)
                signals["confidence"] = float(result_extra["mean_logprob"])
            answer = Answer(
                question=ctx.question,
                text=text,
                refused=False,
                sources=tuple(ctx.sources),
                sentences=tuple(
                    SentenceSupport(a.text, a.source_number, a.support, a.cited, a.lexical, a.embedding)
                    for a in attributions
                ),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                timings={},
                raw=raw or "",
                signals=signals,
                citations=cited,
            )
            if model_refused or not text:
                answer = self._refusal(ctx, raw or "", "model_refused", tokens_in, tokens_out, signals)
            else:
                answer = apply_calibration(
                    answer,
                    self.calibration,
                    min_relevance=self.min_relevance if self.refuse else -math.inf,
                    min_answerable=self.min_answerable if self.refuse else -math.inf,
                    refusal_text=self.config.rag.refusal_text,
                )
            out.append(answer)
        return out

    def _clean(self, raw: str, ctx: _Context) -> tuple[str, tuple[int, ...], bool]:
        """(answer text, cited numbers, the model refused) from the model's raw output."""
        line = next((ln.strip() for ln in raw.strip().splitlines() if ln.strip()), "")
        line = _ANSWER_PREFIX.sub("", line)
        text, cited = parse_citations(line)
        if not text or _REFUSAL_PATTERNS.search(text) or normalize_answer(text) == normalize_answer(REFUSAL):
            return "", cited, True
        if self.config.rag.few_shot and normalize_answer(text) == _EXAMPLE_ANSWER and not _in_sources(text, ctx):
            return "", cited, True  # the model repeated the worked example: it had no answer of its own
        if self.config.rag.extract_span:
            excerpts = [s.excerpt for s in ctx.sources if s.excerpt]
            text = extract_span(text, ctx.question, excerpts)
        if not cited and self.copies and ctx.copy is not None:
            # A copied span cites the source it was copied from (the first that holds it); attribution then checks
            # that source's support like any citation the model writes itself.
            cited = _sources_holding(text, ctx)[:1]
        return text, cited, False

    def _attribute(
        self, sentence: str, cited: Sequence[int], ctx: _Context, vector: npt.NDArray[np.float32] | None
    ) -> Attribution:
        lexical, embedding = support_features(sentence, vector, ctx.source_terms, ctx.source_vectors)
        numbers = [s.number for s in ctx.sources]
        return attribute(sentence, cited, numbers, lexical, embedding, self.support_model)

    def _refusal(
        self,
        ctx: _Context,
        raw: str,
        reason: str,
        tokens_in: int,
        tokens_out: int,
        signals: Mapping[str, float] | None = None,
    ) -> Answer:
        return Answer(
            question=ctx.question,
            text=self.config.rag.refusal_text,
            refused=True,
            sources=tuple(ctx.sources),
            sentences=(),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            timings={},
            raw=raw,
            support=0.0,
            refusal_reason=reason,
            signals=dict(signals if signals is not None else ctx.signals),
        )


class AnswerStream(Iterator[str]):
    """Pieces of the answer as they are generated; `.answer` is the full Answer once the pieces are exhausted."""

    def __init__(
        self, pieces: Iterator[str], finish: Callable[[str | None, float], Answer], *, generate: bool = True
    ) -> None:
        self._pieces = iter(pieces)
        self._finish = finish
        self._generate = generate
        self._parts: list[str] = []
        self._start = time.perf_counter()
        self.answer: Answer | None = None

    def __iter__(self) -> AnswerStream:
        return self

    def __next__(self) -> str:
        if self.answer is not None:
            raise StopIteration
        try:
            piece = next(self._pieces)
        except StopIteration:
            raw = "".join(self._parts) if self._generate else None
            self.answer = self._finish(raw, time.perf_counter() - self._start)
            if not self._generate:  # refused before asking the model: the refusal is the whole stream
                return self.answer.text
            raise
        self._parts.append(piece)
        return piece


# ------------------------------------------------------------------------------------------------------- helpers


def _replace(answer: Answer, **changes: Any) -> Answer:
    import dataclasses

    return dataclasses.replace(answer, **changes)


def _chunk_ids(cand: Sequence[tuple[int, int]], r: int) -> list[int]:
    return [k for k, (rr, _) in enumerate(cand) if rr == r]


def _source(number: int, hit: Hit) -> Source:
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


def _with_excerpt(source: Source, excerpt: str) -> Source:
    return _replace_source(source, excerpt=excerpt)


def _replace_source(source: Source, **changes: Any) -> Source:
    import dataclasses

    return dataclasses.replace(source, **changes)


def _is_heading(sentence: str) -> bool:
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


def _sources_holding(text: str, ctx: _Context) -> tuple[int, ...]:
    """Numbers of the sources whose shown excerpt holds `text` (compared normalized)."""
    needle = normalize_answer(text)
    if not needle:
        return ()
    return tuple(s.number for s in ctx.sources if s.excerpt and needle in normalize_answer(s.excerpt))


def _in_sources(text: str, ctx: _Context) -> bool:
    return bool(_sources_holding(text, ctx))


_TOKEN = re.compile(r"\S+")
_CLAUSE = re.compile(r"\s*(?:;|,\s+(?:which|who|whose|where|while|but|and|as|because|although)\b|\s+because\b)\s*")
_COPULAS = frozenset({"is", "are", "was", "were", "has", "have", "had"})
_SNAP_F1 = 0.6  # below this a source span is a different answer, not the same one worded differently
_SNAP_RECALL = 2 / 3
_SNAP_MAX_WORDS = 4
_EDGES = "\"'()[]{}<>.,;:!? "


def _strip_restatement(answer: str, question: str) -> str:
    """The answer without the question it restates in front of it.

    "The waste heat is removed in a condenser." asked "What happens to waste heat in the Rankine cycle?" gives
    "removed in a condenser": everything before the first word the question does not contain goes. What follows
    is kept, question words included ("enforced by the courts of member states" keeps "member states"), because
    cutting inside an answer loses it more often than it sharpens it.
    """
    from ragtune.citations import STOPWORDS

    q_terms = set(content_terms(question))
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(answer)]
    flags = []  # per token: 2 adds something the question does not say, 1 function word, 0 repeats the question
    for _, _, tok in tokens:
        ws = words(tok)
        new = [w for w in ws if w not in STOPWORDS and content_terms(w) and content_terms(w)[0] not in q_terms]
        flags.append(2 if new else (1 if ws and all(w in STOPWORDS for w in ws) else 0))
    # Only a sentence that restates the question (two or more of its words) is cut; "RNA interference pathway"
    # asked about a pathway is an answer, not a restatement.
    if len(tokens) < 5 or flags.count(0) < 2 or 2 not in flags:
        return answer
    first = flags.index(2)
    last = len(flags) - 1
    while last > first and flags[last] == 1:  # no dangling "of the" at the end
        last -= 1
    return answer[tokens[first][0] : tokens[last][1]]


def _drop_restated_tail(answer: str, question: str) -> str:
    """ "RNA interference pathway is present in all eukaryotes" asked what is present in all eukaryotes: the answer
    is what comes before a copula that is followed only by the question's own words."""
    from ragtune.citations import STOPWORDS

    q_terms = set(content_terms(question))
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(answer)]
    for i, (start, _, tok) in enumerate(tokens):
        if i == 0 or tok.lower() not in _COPULAS:
            continue
        tail = [w for _, _, t in tokens[i + 1 :] for w in words(t)]
        if tail and all(w in STOPWORDS or (content_terms(w) or [""])[0] in q_terms for w in tail):
            return answer[:start].rstrip()
    return answer


def _token_f1(a: Sequence[str], b: Sequence[str]) -> float:
    from collections import Counter

    common = sum((Counter(a) & Counter(b)).values())
    if not common:
        return 0.0
    p, r = common / len(a), common / len(b)
    return 2 * p * r / (p + r)


def _recall(span: Sequence[str], target: Sequence[str]) -> float:
    from collections import Counter

    return sum((Counter(span) & Counter(target)).values()) / len(target)


def _snap(answer: str, excerpts: Sequence[str]) -> str:
    """The span of the excerpts closest to `answer` (token F1 >= 0.5), copied as the source writes it; else the
    answer unchanged. A small model's near-copy ("Sky Active service") becomes the source's words ("Sky Active")."""
    target = normalize_answer(answer).split()
    if not target:
        return answer
    if any(normalize_answer(answer) in normalize_answer(excerpt) for excerpt in excerpts):
        return answer  # already a span of the sources
    if len(target) > _SNAP_MAX_WORDS:
        return answer  # a longer answer that merges several phrases would lose its point when cut to one
    best, best_f1 = answer, _SNAP_F1
    for excerpt in (sentence for e in excerpts for sentence in split_sentences(e)):
        spans = [(m.start(), m.end(), normalize_answer(m.group())) for m in _TOKEN.finditer(excerpt)]
        for i in range(len(spans)):
            norm: list[str] = []
            for j in range(i, min(len(spans), i + len(target) + 3)):
                norm += spans[j][2].split()
                if not norm:
                    continue
                f1 = _token_f1(norm, target)
                # The span must keep most of the answer's words: a fragment of it is a different, vaguer answer.
                if f1 > best_f1 and _recall(norm, target) >= _SNAP_RECALL:
                    best, best_f1 = excerpt[spans[i][0] : spans[j][1]], f1
    return best


def extract_span(answer: str, question: str, excerpts: Sequence[str] = ()) -> str:
    """The short answer inside a model's output: without the restated question, snapped to a span of the sources
    when one is close, without trailing punctuation."""
    text = answer.strip()
    if not text:
        return text
    sentences = split_sentences(text)
    text = sentences[0] if sentences else text  # a second sentence is the model wandering off
    text = _strip_restatement(text, question)
    text = _CLAUSE.split(text, maxsplit=1)[0]  # "X, which is ..." answers with X
    text = _drop_restated_tail(text, question)
    if excerpts:
        text = _snap(text, excerpts)
    return text.strip(_EDGES) or answer.strip()


__all__ += ["CalibrationError", "apply_calibration", "calibrate", "calibration_record", "load_calibration_for"]


# --------------------------------------------------------------------------------------------------- calibration


def apply_calibration(
    answer: Answer,
    calibration: Calibration,
    *,
    min_relevance: float,
    min_answerable: float,
    refusal_text: str = REFUSAL,
) -> Answer:
    """Score an answer's support with `calibration` and refuse it when retrieval found nothing relevant enough or
    the answer is unlikely to be supported. The Answerer decides with this; the benchmark re-decides answers given
    with refusal off under a calibration fitted on other questions, with the same code."""
    if answer.refused or not answer.sources:
        return answer
    numbers = [s.number for s in answer.sources]
    sentences = []
    for s in answer.sentences:
        if len(s.lexical) != len(numbers):  # no features (closed-book): nothing to rescore
            sentences.append(s)
            continue
        a = attribute(s.text, answer.citations, numbers, s.lexical, s.embedding, calibration.support)
        sentences.append(SentenceSupport(a.text, a.source_number, a.support, a.cited, a.lexical, a.embedding))
    signals = dict(answer.signals)
    first = sentences[0] if sentences else None
    signals["support"] = (
        max(
            (calibration.support.score(lx, em) for lx, em in zip(first.lexical, first.embedding, strict=True)),
            default=0.0,
        )
        if first is not None
        else 0.0
    )
    signals["answerable"] = calibration.answerable.probability(signals)
    scored = dataclasses.replace(
        answer,
        sentences=tuple(sentences),
        support=min((s.support for s in sentences), default=0.0),
        signals=signals,
    )
    reason = ""
    if signals.get("relevance", 0.0) < min_relevance:
        reason = "not_relevant"
    elif signals["answerable"] < min_answerable:
        reason = "unsupported"
    if not reason:
        return scored
    return dataclasses.replace(
        scored, text=refusal_text, refused=True, sentences=(), support=0.0, refusal_reason=reason
    )


def calibration_record(answer: Answer, answers: Sequence[str], answerable: bool) -> CalibrationRecord:
    """What `fit_calibration` needs from one answer given with refusal off, and its labels."""
    n = len(answer.sources)
    first = answer.sentences[0] if answer.sentences else None
    has_features = first is not None and len(first.lexical) == n
    gold = tuple(
        any(normalize_answer(a) and normalize_answer(a) in normalize_answer(s.excerpt or "") for a in answers)
        for s in answer.sources
    )
    return CalibrationRecord(
        answerable=answerable,
        correct=answerable and not answer.refused and answer_matches(answer.text, answers),
        signals={k: float(v) for k, v in answer.signals.items()},
        lexical=first.lexical if has_features and first is not None else tuple(0.0 for _ in range(n)),
        embedding=first.embedding if has_features and first is not None else tuple(0.0 for _ in range(n)),
        gold_in_source=gold,
        has_sources=bool(answer.sources),
    )


def calibrate(
    answerer: Answerer,
    questions: Sequence[LabelledQuestion],
    *,
    max_false_refusal: float = 0.1,
    relevance_quantile: float = 0.02,
    held_out: bool = False,
    progress: bool = True,
    fitted_on: Mapping[str, Any] | None = None,
) -> tuple[Calibration, list[Answer]]:
    """Answer `questions` with refusal off, fit a Calibration on what happened; returns it and the answers.

    `held_out`: `max_false_refusal` holds for questions the fit has not seen (`fit_calibration_held_out`). The
    questions are split in two by the document their best source comes from, so that questions about one passage
    stay together; if that split leaves a half without enough of either kind, by their order instead."""
    if not answerer.reads_sources:
        raise CalibrationError("calibration needs an answerer that reads sources (the rag or hybrid strategy)")
    previous = answerer.refuse
    answerer.refuse = False
    try:
        answers = answerer.answer_many([q.question for q in questions], progress=progress)
    finally:
        answerer.refuse = previous
    records = [calibration_record(a, q.answers, q.answerable) for a, q in zip(answers, questions, strict=True)]
    info = {"generator": answerer.generator.name, **(fitted_on or {})}
    if not held_out:
        calibration = fit_calibration(
            records, max_false_refusal=max_false_refusal, relevance_quantile=relevance_quantile, fitted_on=info
        )
        return calibration, answers
    groups = [
        zlib.crc32(a.sources[0].doc_id.encode("utf-8")) % 2 if a.sources else i % 2 for i, a in enumerate(answers)
    ]
    if not can_hold_out(records, groups):
        groups = [i % 2 for i in range(len(records))]
    calibration = fit_calibration_held_out(
        records, groups, max_false_refusal=max_false_refusal, relevance_quantile=relevance_quantile, fitted_on=info
    )
    return calibration, answers
