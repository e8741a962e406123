"""From documents alone to a question file: facts, wordings, filters, changed facts and unanswerable questions.

Every fact asked about gives a training question and a reworded test question (so that test wording differs from
every training question, as in Ovadia et al. 2024); a fact the updated documents change gives a training question
and a changed-fact question instead. The result loads through `ragtune.evaluate.questions` unchanged.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ragtune.config import SynthConfig
from ragtune.corpus.document import Document
from ragtune.models.generator import Generator
from ragtune.retrieve import Retriever
from ragtune.synth import filters as F
from ragtune.synth import wellformed as W
from ragtune.synth.candidates import Fact, sample_facts
from ragtune.synth.diff import changed_facts
from ragtune.synth.fields import field_draft, form_facts
from ragtune.synth.overlap import PEOPLE_EVIDENCE_OVERLAP, evidence_overlap, mean, nearest_overlap
from ragtune.synth.questions import Draft, anchored, model_drafts, wh_draft, which_of_two, yes_no
from ragtune.synth.reword import Mentions, document_mentions, reword_twin
from ragtune.synth.textkit import normalize_answer
from ragtune.synth.unanswerable import unanswerable_questions


@dataclass(frozen=True)
class SynthQuestion:
    """One line of the question file."""

    id: str
    question: str
    answer: str
    split: str
    answerable: bool = True
    doc_id: str = ""
    evidence: str = ""  # the sentence the answer comes from, as in the document
    shape: str = "wh"  # wh, yesno, choice or unanswerable
    fact_id: str = ""
    changed: bool = False
    answers_v2: tuple[str, ...] = ()
    old_answers: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "split": self.split,
            "answerable": self.answerable,
            "doc_id": self.doc_id,
            "evidence": self.evidence,
            "shape": self.shape,
            "fact_id": self.fact_id,
        }
        if not self.answerable:
            del out["answer"]
        if self.changed:
            out |= {"changed": True, "answers_v2": list(self.answers_v2), "old_answers": list(self.old_answers)}
        return out


@dataclass(frozen=True)
class SynthStats:
    facts_found: int  # facts the rules found in the documents
    drafted: int  # facts worded (before the filters)
    dropped: Mapping[str, int]  # filter -> drafts it dropped
    facts: int  # facts kept (asked about)
    changed: int
    unanswerable: int
    writer: str
    seconds: float

    @property
    def kept_share(self) -> float:
        return self.facts / self.drafted if self.drafted else 0.0


@dataclass(frozen=True)
class SynthResult:
    questions: tuple[SynthQuestion, ...]
    stats: SynthStats
    shapes: Mapping[str, int] = field(default_factory=dict)

    def summary(self, examples: int = 3) -> dict[str, Any]:
        """What results.json and the report say about synthesized questions: counts and a few examples."""
        split = Counter(q.split for q in self.questions)
        picked = [q for q in self.questions if q.split == "test" and q.answerable and not q.changed][:examples]
        picked += [q for q in self.questions if q.changed][:1] + [q for q in self.questions if not q.answerable][:1]
        return {
            "synthesized": True,
            "writer": self.stats.writer,
            "facts": self.stats.facts,
            "train": split["train"],
            "test": split["test"],
            "changed": self.stats.changed,
            "unanswerable": self.stats.unanswerable,
            "shapes": dict(self.shapes),
            "drafted": self.stats.drafted,
            "kept_share": round(self.stats.kept_share, 3),
            "dropped": dict(self.stats.dropped),
            "seconds": round(self.stats.seconds, 1),
            "examples": [{"question": q.question, "answer": q.answer, "evidence": q.evidence} for q in picked],
            "wording": self.wording(),
        }

    def wording(self) -> dict[str, Any]:
        """How close the wordings are to their evidence sentence and the test ones to the training questions (the
        share of content words found there; see `ragtune.synth.overlap`), beside people's range."""
        train = [q for q in self.questions if q.split == "train" and q.answerable]
        test = [q for q in self.questions if q.split == "test" and q.answerable and not q.changed]
        train_texts = [q.question for q in train]
        return {
            "evidence_overlap_test": mean([evidence_overlap(q.question, q.evidence, q.answer) for q in test]),
            "evidence_overlap_train": mean([evidence_overlap(q.question, q.evidence, q.answer) for q in train]),
            "evidence_overlap_people": list(PEOPLE_EVIDENCE_OVERLAP),
            "nearest_train_overlap_test": mean([nearest_overlap(q.question, train_texts, q.answer) for q in test]),
        }


class _Drafter:
    """Words facts into drafts of the configured shapes; distractors come from facts of the same kind."""

    def __init__(
        self,
        facts: Sequence[Fact],
        config: SynthConfig,
        writer: Generator | None,
        docs: Sequence[Document] = (),
    ) -> None:
        self.config = config
        self.writer = writer
        # Another mention of what each document names, for the twins (`synth.reword`): computed once per document.
        self.mentions = {d.id: document_mentions(d) for d in docs} if config.reword else {}
        self.rng = random.Random(config.seed)
        self.by_kind: dict[tuple[str, str], list[str]] = {}
        for f in facts:
            self.by_kind.setdefault((f.kind, f.unit.lower()), []).append(f.span)

    def _other(self, fact: Fact) -> str:
        pool = [
            s
            for s in self.by_kind.get((fact.kind, fact.unit.lower()), [])
            if normalize_answer(s) != normalize_answer(fact.span)
        ]
        return self.rng.choice(pool) if pool else ""

    def draft(self, facts: Sequence[Fact]) -> list[Draft]:
        out: list[Draft | None] = []
        by_model: list[int] = []
        for f in facts:
            if f.kind == "field":  # a form's entry is asked by its label, within its document
                out.append(field_draft(f))
                continue
            r = self.rng.random()
            other = self._other(f)
            if r < self.config.yes_no_share:
                out.append(yes_no(f, other if other and self.rng.random() < 0.5 else ""))
            elif r < self.config.yes_no_share + self.config.choice_share and other:
                choice = which_of_two(f, other, swap=self.rng.random() < 0.5)
                # Options tacked onto a statement read as a splice: such a fact is asked without options instead.
                out.append(choice if W.options_read_as_options(choice) else wh_draft(f))
            elif self.writer is not None:
                by_model.append(len(out))
                out.append(None)
            else:
                out.append(wh_draft(f))
        if self.writer is not None and by_model:
            for i, d in zip(by_model, model_drafts([facts[i] for i in by_model], self.writer), strict=True):
                out[i] = d
        drafts = [d for d in out if d is not None]
        if self.mentions:
            drafts = [
                reword_twin(d, self.mentions.get(d.fact.doc_id, Mentions())) if not d.anchor else d for d in drafts
            ]
        # A subject that only describes ("the airplane", "participants") is asked within its document, named by its
        # title.
        return [
            anchored(d) if not d.anchor and (not W.subject_is_named(d.fact) or W.subject_is_bare(d.fact)) else d
            for d in drafts
        ]


def _filter(
    drafts: Sequence[Draft],
    kept: Sequence[Draft],
    config: SynthConfig,
    generator: Generator | None,
    dropped: Counter[str],
) -> list[Draft]:
    """The drafts that pass every filter, counting what each one drops."""
    train_questions = {normalize_answer(d.question) for d in kept}
    out: list[Draft] = []
    for d in drafts:
        if not F.answer_is_span(d):
            dropped["answer not a span of its evidence"] += 1
        elif not F.answer_not_in_question(d):
            dropped["answer in the question"] += 1
        elif why := W.problem(d):
            dropped[why] += 1
        elif not F.grounded(d):
            dropped["not about its evidence"] += 1
        elif normalize_answer(d.twin) in train_questions | {normalize_answer(d.question)}:
            dropped["test wording same as a training question"] += 1
        else:
            out.append(d)
            train_questions.add(normalize_answer(d.question))
    unique = F.drop_near_duplicates(out, config.dedupe_jaccard, kept)
    dropped["near-duplicate"] += len(out) - len(unique)
    if generator is None or not config.round_trip:
        return unique
    ok = F.round_trip(unique, generator)
    dropped["round trip failed"] += ok.count(False)
    return [d for d, good in zip(unique, ok, strict=True) if good]


def _changed(
    docs: Sequence[Document],
    updated_docs: Sequence[Document],
    config: SynthConfig,
    generator: Generator | None,
    dropped: Counter[str],
) -> tuple[list[tuple[Draft, str]], int]:
    """Changed facts that pass the filters, each with its new value (at most a third of `config.count`), and how
    many were drafted."""
    changes = changed_facts(docs, updated_docs, config.max_sentence_words)
    new_value = {(c.fact.sentence, c.fact.start): c.new_answer for c in changes}
    passed = _filter([wh_draft(c.fact) for c in changes], [], config, generator, dropped)
    kept = [(d, new_value[(d.fact.sentence, d.fact.start)]) for d in passed][: max(1, config.count // 3)]
    dropped["changed facts beyond a third of the count"] += len(passed) - len(kept)
    return kept, len(changes)


def _lines(kept: Sequence[Draft], changed: Sequence[tuple[Draft, str]]) -> list[SynthQuestion]:
    """Per fact a training question and its reworded twin for testing; for a changed fact (the first ones of
    `kept`) the twin is the changed-fact question instead."""
    out: list[SynthQuestion] = []
    for n, d in enumerate(kept, start=1):
        fid = f"s{n:03d}"
        line = SynthQuestion(
            f"{fid}-train", d.question, d.answer, "train", True, d.fact.doc_id, d.fact.sentence, d.shape, fid
        )
        out.append(line)
        if n <= len(changed):
            new = changed[n - 1][1]
            out.append(
                replace(
                    line,
                    id=f"{fid}-v2",
                    question=d.twin,
                    split="test",
                    changed=True,
                    answers_v2=(new,),
                    old_answers=(d.answer,),
                )
            )
        else:
            out.append(replace(line, id=f"{fid}-test", question=d.twin, split="test"))
    return out


def synthesize(
    docs: Sequence[Document],
    config: SynthConfig,
    generator: Generator | None,
    retriever: Retriever | None = None,
    updated_docs: Sequence[Document] = (),
    writer: Generator | None = None,
    echo: Callable[[str], None] = lambda _: None,
) -> SynthResult:
    """Questions about `config.count` facts of `docs` (fewer when fewer pass the filters), changed-fact questions
    where `updated_docs` change a value, and unanswerable ones checked with `retriever` (none without one).

    `generator` answers the round trip (None skips it); `writer` words the wh-questions (None: the rules)."""
    t0 = time.perf_counter()
    facts = sample_facts(docs, config.seed, config.max_sentence_words, form_facts(docs))
    drafter = _Drafter(facts, config, writer, docs)
    dropped: Counter[str] = Counter()
    changed: list[tuple[Draft, str]] = []
    drafted = 0
    if updated_docs:
        changed, drafted = _changed(docs, updated_docs, config, generator, dropped)
        echo(f"synth: {drafted} changed facts found, {len(changed)} kept")
    changed_sentences = {d.fact.sentence for d, _ in changed}
    pool = [f for f in facts if f.sentence not in changed_sentences]
    kept: list[Draft] = [d for d, _ in changed]
    want = config.count
    at = 0
    while len(kept) < want and at < len(pool):
        n = math.ceil((want - len(kept)) * 1.5) + 4
        batch = drafter.draft(pool[at : at + n])
        at += n
        drafted += len(batch)
        passed = _filter(batch, kept, config, generator, dropped)
        dropped["more than the count"] += max(0, len(passed) - (want - len(kept)))
        kept += passed[: want - len(kept)]
        echo(f"synth: {len(kept)} of {want} facts kept from {drafted} drafted")
    questions = _lines(kept, changed)
    n_unanswerable = round(len(kept) * config.unanswerable_share)
    unanswerable = []
    if retriever is not None and n_unanswerable:
        names = [f for f in facts if f.kind == "name"]
        unanswerable = unanswerable_questions(kept[len(changed) :], names, retriever, n_unanswerable, config.seed)
    for i, u in enumerate(unanswerable, start=1):
        split = "test" if i % 2 else "train"
        questions.append(SynthQuestion(f"u{i:03d}", u.question, "", split, False, u.doc_id, "", "unanswerable"))
    stats = SynthStats(
        facts_found=len(facts),
        drafted=drafted,
        dropped={k: v for k, v in dropped.items() if v},
        facts=len(kept),
        changed=len(changed),
        unanswerable=len(unanswerable),
        writer=writer.name if writer is not None else "rules",
        seconds=time.perf_counter() - t0,
    )
    return SynthResult(tuple(questions), stats, dict(Counter(d.shape for d in kept)))
