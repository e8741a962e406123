"""Answering: retrieve -> choose the evidence -> prompt within the token budget -> generate in the question's form ->
extract -> cite -> refuse. One `Answerer` serves every strategy: with a retriever it answers from sources (rag,
hybrid), without one closed-book (base, finetune).

Each step has its own module: `evidence` (what the model is shown, and the prompt), `forms` (yes/no, choice and
open answers), `extract` (the span inside a free answer), `calibrate` (refusal). This one runs them in order,
batched over many questions.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ragtune.calibration import Calibration, applies_to, decide, default_calibration, fitted_for
from ragtune.citations import (
    Attribution,
    SupportModel,
    attribute,
    claim_terms,
    claim_text,
    parse_citations,
    support_features,
)
from ragtune.config import Config
from ragtune.errors import RagtuneError
from ragtune.models.generator import (
    CopyingGenerator,
    CopySpec,
    GenerationParams,
    GenerationResult,
    Generator,
    Message,
    model_identity,
)
from ragtune.prompts import FEW_SHOT_ANSWER, REFUSAL, SourceText, closed_book_messages
from ragtune.rag import forms
from ragtune.rag.answer import Answer, SentenceSupport
from ragtune.rag.calibrate import apply_calibration, load_calibration_for
from ragtune.rag.drafts import ANSWER_PREFIX, REFUSAL_PATTERNS, Draft, capable_draft
from ragtune.rag.evidence import (
    MESSAGE_OVERHEAD,
    Evidence,
    EvidenceSelector,
    PromptTooLongError,
    build_prompt,
    form_hint,
)
from ragtune.rag.extract import extract_span
from ragtune.rag.reader import choose_reader
from ragtune.text import (
    STOPWORDS,
    QuestionForm,
    answer_type,
    normalize_answer,
    question_form,
    split_sentences,
    without_list_marker,
    words,
)

if TYPE_CHECKING:
    from ragtune.models.embedder import Embedder
    from ragtune.retrieve import Retriever

_EXAMPLE_ANSWER = normalize_answer(parse_citations(FEW_SHOT_ANSWER)[0])
_OPEN = QuestionForm("open")
log = logging.getLogger(__name__)
_NO_EVIDENCE = Evidence((), (), (), None, (), (), 0.0, 0.0)  # a closed-book answer is shown nothing


@dataclass
class _Context:
    """One question between retrieval and generation."""

    question: str
    form: QuestionForm
    evidence: Evidence
    messages: list[Message]  # what the model is (or would have been) asked
    copy: CopySpec | None  # what a copy-constrained answer may be
    refusal_reason: str = ""  # decided before generating: the model is not asked
    retrieval_s: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)


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
        self.reader = choose_reader(config, generator)
        # The settings as this reader answers with them: the small reader's as they are, the capable one's own.
        self.config = self.reader.settings(config, generator)
        self.retriever = retriever
        self.embedder = embedder if embedder is not None else getattr(retriever, "embedder", None)
        if retriever is not None and self.embedder is None:
            raise RagtuneError("answering from sources needs an embedder (to measure support); pass embedder=")
        self.calibration = calibration if calibration is not None else load_calibration_for(config)
        # A refusal model fitted to another generator's answers is not used (its retrieval floor still is: that is a
        # property of the embedder); a calibration of the user's own says so once, the packaged one silently.
        names = (model_identity(generator), generator.name)
        self.calibrated = applies_to(self.calibration, names)
        if not self.calibrated and self.calibration is not default_calibration() and self.reads_sources:
            log.warning(
                "the refusal calibration was fitted for %s, not %s: it is not used (run `ragtune calibrate` with "
                "this generator)",
                fitted_for(self.calibration),
                names[0],
            )
        self.last_answer: Answer | None = None
        self._polar_bias: tuple[float, ...] | None = None  # measured on first use (`polar_bias`)
        self.evidence = (
            EvidenceSelector(self.embedder, generator.count_tokens, self.config.rag)
            if self.embedder is not None
            else None
        )

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
        """The calibrated floor on P(answerable), when the calibration was fitted for this generator; else none
        (the model's own refusal and the retrieval floor decide)."""
        value = self.config.rag.min_support
        if value >= 0:
            return value
        return self.calibration.min_answerable if self.calibrated else -np.inf

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

    @property
    def _claim_words(self) -> int:
        """A sentence shorter than this is embedded with its question to be checked: a copied span ("1889") means
        nothing alone; a capable reader's sentence is always read with it, as it answers in its own words ("Based on
        [2], the answer is Tomas Vell.") rather than in the source's."""
        return 10**6 if self.reader.capable else 6

    @property
    def copies(self) -> bool:
        """Whether answers are generated constrained (spans of the sources, or the replies a form allows): a
        setting, and the generator must be able to."""
        return self.config.rag.copy_answers and isinstance(self.generator, CopyingGenerator)

    def form_of(self, question: str) -> QuestionForm:
        """The form the question is answered in (`rag.answer_forms` off: every question is open)."""
        return question_form(question) if self.config.rag.answer_forms else _OPEN

    # --------------------------------------------------------------------------------------------------- public

    def answer(self, question: str, *, refuse: bool = True) -> Answer:
        return self.answer_many([question], progress=False, refuse=refuse)[0]

    def answer_many(self, questions: Sequence[str], progress: bool = True, *, refuse: bool = True) -> list[Answer]:
        """Answers in the order asked; retrieval, embedding and generation each run batched over all questions.
        `refuse=False` answers every question (refusal decided later, e.g. by `apply_calibration`)."""
        questions = [self._check_question(q) for q in questions]
        if not questions:
            return []
        start = time.perf_counter()
        contexts = self._prepare(questions, refuse)
        asked = [i for i, c in enumerate(contexts) if not c.refusal_reason]
        results: dict[int, GenerationResult] = {}
        generation_s = 0.0
        if asked:
            t0 = time.perf_counter()
            outputs = self._generate([contexts[i].messages for i in asked], [contexts[i].copy for i in asked], progress)
            generation_s = time.perf_counter() - t0
            results = dict(zip(asked, outputs, strict=True))
        answers = self._finish_many(contexts, results, refuse)
        per_q = (time.perf_counter() - start) / len(questions)
        out = []
        for i, a in enumerate(answers):
            timings = {
                "retrieval_s": contexts[i].retrieval_s,
                "generation_s": generation_s / len(asked) if i in results else 0.0,
                "total_s": per_q,
            }
            out.append(dataclasses.replace(a, timings=timings))
        self.last_answer = out[-1]
        return out

    def prompt(self, question: str) -> list[Message]:
        """The messages the model is asked for `question` (after retrieval, evidence choice and budgeting)."""
        return list(self._prepare([self._check_question(question)], refuse=False)[0].messages)

    def stream(self, question: str, *, refuse: bool = True) -> AnswerStream:
        """Yields the answer's text as it is generated; afterwards `.answer` (and `self.last_answer`) holds the
        full Answer, which may differ from what streamed: extraction shortens it, a form reshapes it, refusal
        replaces it."""
        question = self._check_question(question)
        start = time.perf_counter()
        context = self._prepare([question], refuse)[0]
        pieces: Iterator[str] = iter(())

        def finish(raw: str | None, seconds: float) -> Answer:
            results = {}
            if raw is not None and not context.refusal_reason:
                results[0] = GenerationResult(
                    text=raw,
                    tokens_in=sum(self.generator.count_tokens(m.content) for m in context.messages),
                    tokens_out=self.generator.count_tokens(raw),
                    seconds=seconds,
                    extra=dict(getattr(pieces, "extra", {})),  # the model's confidence, where the backend reports it
                )
            answer = self._finish_many([context], results, refuse)[0]
            timings = {
                "retrieval_s": context.retrieval_s,
                "generation_s": seconds,
                "total_s": time.perf_counter() - start,
            }
            answer = dataclasses.replace(answer, timings=timings)
            self.last_answer = answer
            return answer

        if context.refusal_reason:
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

    def _call(
        self, conversations: list[list[Message]], copy: Sequence[CopySpec | None], params: GenerationParams
    ) -> list[GenerationResult]:
        """Rows with a copy spec generate constrained (when the generator can), the others freely: a closed-book
        batch mixes both (only its yes/no and choice questions are constrained)."""
        if not self.copies:
            return self.generator.generate(conversations, params)
        assert isinstance(self.generator, CopyingGenerator)
        constrained = [i for i, c in enumerate(copy) if c is not None]
        free = [i for i, c in enumerate(copy) if c is None]
        out: dict[int, GenerationResult] = {}
        if constrained:
            specs = [c for c in copy if c is not None]
            rows = [conversations[i] for i in constrained]
            out.update(zip(constrained, self.generator.generate_copying(rows, specs, params), strict=True))
        if free:
            out.update(zip(free, self.generator.generate([conversations[i] for i in free], params), strict=True))
        return [out[i] for i in range(len(conversations))]

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
                out.update(zip(part, answers, strict=True))
                bar.update(len(part))
        return [out[i] for i in range(len(conversations))]

    # -- before generation

    def _prepare(self, questions: list[str], refuse: bool) -> list[_Context]:
        forms_ = [self.form_of(q) for q in questions]
        if self.retriever is None:
            return [self._closed_book(q, f) for q, f in zip(questions, forms_, strict=True)]
        assert self.embedder is not None and self.evidence is not None
        t0 = time.perf_counter()
        hits_per_q = self.retriever.search_many(questions, k=self.config.retrieval.top_k)
        qvecs = np.asarray(self.embedder.embed_queries(questions), dtype=np.float32)
        self.evidence.embed([h for hits in hits_per_q for h in hits])
        share = (time.perf_counter() - t0) / len(questions)
        contexts = []
        for q, form, hits, qv in zip(questions, forms_, hits_per_q, qvecs, strict=True):
            t1 = time.perf_counter()
            ctx = self._context(q, form, self.evidence.select(q, hits, qv, form, self.evidence_budget(q, form)))
            if refuse and not ctx.refusal_reason:
                ctx.refusal_reason = decide(ctx.signals, min_relevance=self.min_relevance)
            ctx.retrieval_s = share + time.perf_counter() - t1
            contexts.append(ctx)
        return contexts

    def _closed_book(self, question: str, form: QuestionForm) -> _Context:
        messages = closed_book_messages(f"{question} {form_hint(form)}".strip())
        copy = forms.copy_spec(form, _NO_EVIDENCE, avoid=(), answer_type="", short_spans=False, proximity=0.0)
        return _Context(question, form, _NO_EVIDENCE, messages, copy if form.kind != "open" else None)

    def polar_bias(self) -> tuple[float, ...]:
        """The small reader's contextual calibration of yes/no (`forms.contextual_bias`), measured once per
        Answerer on the prompt it asks with; () when off or when answers are not constrained."""
        if not (self.copies and self.config.rag.polar_calibration > 0):
            return ()
        if self._polar_bias is None:
            assert isinstance(self.generator, CopyingGenerator)
            polar = QuestionForm("polar")
            prompts = [
                build_prompt(q, [SourceText(1, "", q)], polar, few_shot=self.config.rag.few_shot)
                for q in forms.CONTENT_FREE
            ]
            strength = self.config.rag.polar_calibration
            self._polar_bias = forms.contextual_bias(self.generator, prompts, self.params(), strength)
        return self._polar_bias

    def evidence_budget(self, question: str, form: QuestionForm) -> int:
        """Prompt tokens left for the evidence once the instructions and the question are in."""
        messages = build_prompt(question, [], form, few_shot=self.config.rag.few_shot, capable=self.reader.capable)
        fixed = sum(self.generator.count_tokens(m.content) + MESSAGE_OVERHEAD for m in messages)
        budget = self.context_budget() - fixed
        if budget < 0:
            raise PromptTooLongError(
                f"the question and instructions take {fixed} tokens, more than the {self.context_budget()} the "
                f"context window leaves (rag.context_tokens = {self.config.rag.context_tokens}); shorten the question "
                "or raise rag.context_tokens"
            )
        return budget

    def _context(self, question: str, form: QuestionForm, evidence: Evidence) -> _Context:
        rag = self.config.rag
        messages = build_prompt(question, evidence.shown, form, few_shot=rag.few_shot, capable=self.reader.capable)
        signals = {"relevance": evidence.relevance, "coverage": evidence.coverage}
        if not evidence.sources:
            return _Context(question, form, evidence, messages, None, "no_sources", signals=signals)
        copy = forms.copy_spec(
            form,
            evidence,
            avoid=frozenset(w for w in words(question) if w not in STOPWORDS),
            answer_type=answer_type(question) if rag.typed_starts else "",
            short_spans=rag.short_spans,
            proximity=rag.start_proximity,
            polar_bias=self.polar_bias() if form.kind == "polar" else (),
        )
        return _Context(question, form, evidence, messages, copy, signals=signals)

    # -- after generation

    def _finish_many(
        self, contexts: Sequence[_Context], results: Mapping[int, GenerationResult], refuse: bool
    ) -> list[Answer]:
        drafts = {i: self._clean(results[i].text, contexts[i]) for i in results}
        claims = [
            (i, n, claim_text(s, contexts[i].question, min_words=self._claim_words))
            for i, d in drafts.items()
            for n, s in enumerate(d.sentences)
        ]
        vectors: dict[tuple[int, int], npt.NDArray[np.float32]] = {}
        if claims and self.embedder is not None and self.reads_sources:  # one embedding call for the batch
            embedded = np.asarray(self.embedder.embed_documents([c for _, _, c in claims]), dtype=np.float32)
            vectors = {(i, n): v for (i, n, _), v in zip(claims, embedded, strict=True)}
        out = []
        for i, ctx in enumerate(contexts):
            result = results.get(i)
            if result is None:
                out.append(self._refusal(ctx, "", ctx.refusal_reason or "no_sources", None, ctx.signals))
            else:
                out.append(self._finish(ctx, drafts[i], result, vectors, i, refuse))
        return out

    def _finish(
        self,
        ctx: _Context,
        draft: Draft,
        result: GenerationResult,
        vectors: Mapping[tuple[int, int], npt.NDArray[np.float32]],
        i: int,
        refuse: bool,
    ) -> Answer:
        if not self.reads_sources:
            if draft.model_refused or not draft.text:
                # Its own "I don't know" ("The copyright holder is unknown."): a refusal, not a wrong answer, so
                # it is never counted a hallucination. Nothing else refuses a closed-book answer.
                return self._refusal(ctx, result.text, "model_refused", result, {})
            support = tuple(SentenceSupport(s, None, 0.0, False) for s in draft.sentences)
            return Answer(
                ctx.question, draft.text, False, (), support, result.tokens_in, result.tokens_out, {}, result.text,
                form=ctx.form.kind, reader=self.reader.kind, finish_reason=result.finish_reason,
            )  # fmt: skip
        signals = dict(ctx.signals)
        signals["model_refused"] = float(draft.model_refused)
        signals["in_source"] = float(bool(draft.text) and bool(self._sources_holding(draft.text, ctx)))
        if "mean_logprob" in result.extra:  # the model's confidence (local models report it)
            signals["confidence"] = float(result.extra["mean_logprob"])
        if draft.model_refused or not draft.text:
            return self._refusal(ctx, result.text, "model_refused", result, signals)
        attributions = [
            self._attribute(s, draft.cited_by(n), ctx, vectors.get((i, n))) for n, s in enumerate(draft.sentences)
        ]
        answer = Answer(
            question=ctx.question,
            text=draft.text,
            refused=False,
            sources=ctx.evidence.sources,
            sentences=tuple(
                SentenceSupport(a.text, a.source_number, a.support, a.cited, a.lexical, a.embedding)
                for a in attributions
            ),
            tokens_in=result.tokens_in,
            tokens_out=result.tokens_out,
            timings={},
            raw=result.text,
            signals=signals,
            citations=draft.cited,
            form=ctx.form.kind,
            reader=self.reader.kind,
            finish_reason=result.finish_reason,
        )
        return apply_calibration(
            answer,
            self.calibration,
            min_relevance=self.min_relevance if refuse else -np.inf,
            min_answerable=self.min_answerable if refuse else -np.inf,
            refusal_text=self.config.rag.refusal_text,
        )

    def _clean(self, raw: str, ctx: _Context) -> Draft:
        """The answer text, its citations and whether the model refused, from the model's raw output."""
        if self.reader.capable:
            return capable_draft(raw, ctx.form, ctx.question)
        line = next((ln.strip() for ln in raw.strip().splitlines() if ln.strip()), "")
        line = ANSWER_PREFIX.sub("", line)
        text, cited = parse_citations(line)
        text = without_list_marker(text)  # a span copied from the start of a list item
        refused = bool(REFUSAL_PATTERNS.search(text)) or normalize_answer(text) == normalize_answer(REFUSAL)
        if not text or refused:  # before shaping: "No information" is a refusal, not a "No"
            return Draft("", cited, True, ())
        if ctx.form.kind != "open":
            shaped, rests_on = forms.shape(ctx.form, text, ctx.evidence)
            return Draft(shaped, cited or rests_on, False, tuple(split_sentences(shaped) or [shaped]))
        sources = ctx.evidence.sources
        example = self.config.rag.few_shot and normalize_answer(text) == _EXAMPLE_ANSWER
        if example and sources and not self._sources_holding(text, ctx):
            return Draft("", cited, True, ())  # the model repeated the worked example: no answer of its own
        if self.config.rag.extract_span:
            text = extract_span(text, ctx.question, [s.excerpt for s in sources if s.excerpt])
        if not cited and self.copies and ctx.copy is not None:
            # A copied span cites the source it was copied from (the first that holds it); attribution then checks
            # that source's support like any citation the model writes itself.
            cited = self._sources_holding(text, ctx)[:1]
        return Draft(text, cited, False, tuple(split_sentences(text) or [text]) if text else ())

    @staticmethod
    def _sources_holding(text: str, ctx: _Context) -> tuple[int, ...]:
        """Numbers of the sources whose shown excerpt holds `text` (compared normalized).

        This is provenance, not correctness (`text.contains_answer`), so it matches inside words on purpose: a span
        copied token by token can stop mid-word at the token limit ("... as Corl") and still came from its source."""
        needle = normalize_answer(text)
        if not needle:
            return ()
        return tuple(s.number for s in ctx.evidence.sources if s.excerpt and needle in normalize_answer(s.excerpt))

    def _attribute(
        self, sentence: str, cited: Sequence[int], ctx: _Context, vector: npt.NDArray[np.float32] | None
    ) -> Attribution:
        ev = ctx.evidence
        # A capable reader's sentence is checked on what it claims; a copied span on all its words, as calibrated.
        terms = claim_terms(sentence, ctx.question) if self.reader.capable else []
        lexical, embedding = support_features(
            sentence, vector, list(map(list, ev.source_terms)), list(ev.source_vectors), terms
        )
        return attribute(sentence, cited, [s.number for s in ev.sources], lexical, embedding, self.support_model)

    def _refusal(
        self, ctx: _Context, raw: str, reason: str, result: GenerationResult | None, signals: Mapping[str, float]
    ) -> Answer:
        return Answer(
            question=ctx.question,
            text=self.config.rag.refusal_text,
            refused=True,
            sources=ctx.evidence.sources,
            sentences=(),
            tokens_in=result.tokens_in if result else 0,
            tokens_out=result.tokens_out if result else 0,
            timings={},
            raw=raw,
            support=0.0,
            refusal_reason=reason,
            signals=dict(signals),
            form=ctx.form.kind,
            reader=self.reader.kind,
            finish_reason=result.finish_reason if result else "",
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
