"""RAG answering on SQuAD 2.0 (../shared/data/squad2-dev-sample500): retrieval, answers, citations, refusal, speed.

The 411 distinct contexts are indexed as one corpus (LanceDB, hybrid retrieval, top-5) and all 500 questions (242
answerable, 258 not) are answered with the default models through `Answerer.answer_many`, once, with refusal off.

- Recall@5: the question's own context is among the five sources.
- Answerable questions: accuracy (a gold answer appears in the normalised answer), token F1 and exact match, after
  refusal (a refused answerable question counts as wrong); the same model closed-book (`Answerer` without a
  retriever, same extraction) is the baseline, on the same questions in the same process.
- Refusal: the calibration is **cross-fitted**: the questions are split in two folds by their context (no passage is
  in both), a calibration is fitted on one fold and decides the other fold's refusals through `apply_calibration`,
  the same function the Answerer uses, and vice versa. So no question is refused by a threshold fitted on itself.
  The fit is `fit_calibration_held_out` (`ragtune calibrate --held-out`) with the target's 15%: it picks its
  in-fit share by splitting its own fold in two by context again, so the held-out fold plays no part in any
  choice. Refusal recall/precision on unanswerable questions and the share of answerable ones refused. The same
  folds fitted the plain way at `ragtune calibrate`'s default (refuse at most 10% of the fit's own answerable
  questions) are reported beside it.
- Citations: share of answer sentences (of answers given) attributed to a supporting source.
- Speed: wall time of the batched answering (retrieval, compression, generation, support) per question.

`RAGTUNE_BENCH_RAG_SAMPLE=N` answers a stratified subset of about N questions (every k-th answerable and
unanswerable one) over the same full index, for a shared machine. `--quick` answers 80 questions (40 answerable)
over their contexts and 80 others: a smoke run, too small for the targets (with 20 + 20 the cross-fitted
calibration's held-out fit had too few unanswerable questions with sources in a fold to fit).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import Row, Section

SQUAD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "squad2-dev-sample500"
TARGET_FALSE_REFUSAL = 0.15  # the target: the share of answerable questions refused, on questions not fitted on
DEFAULT_FIT_SHARE = 0.10  # `ragtune calibrate`'s default: the share refused of the fit's own answerable questions


def _scores(text: str, answers: list[str], refused: bool) -> tuple[float, float, float]:
    """(accuracy, F1, exact match) by compare's rules (`ragtune.text`); a refusal scores 0 on an answerable question."""
    from ragtune.text import answer_correct, exact_match, token_f1

    if refused or not answers:
        return 0.0, 0.0, 0.0
    return float(answer_correct(text, answers)), token_f1(text, answers), float(exact_match(text, answers))


@dataclass
class _Answered:
    """One pass of the default Answerer over the questions (refusal off), its timings, and the closed-book baseline
    on every other answerable question."""

    config: Any
    drafts: list[Any]
    closed: list[Any]
    closed_idx: list[int]
    index_s: float
    batch_s: float
    batch_cpu: float
    closed_s: float
    load: tuple[float, float]  # 1-minute load average before and after the batch
    prefix_questions: int
    prefix_s: dict[bool, float] = field(default_factory=dict)


@dataclass
class _Refusals:
    """Refusal decided per fold by a calibration fitted on the other fold, and the plain fit's decisions."""

    finals: list[Any]
    plain_refused: list[bool]
    fitted: list[Any]
    everything: Any


def run(quick: bool = False) -> Section:
    section = Section(title="rag (SQuAD 2.0 dev sample, 411 contexts indexed, SmolLM2-135M + MiniLM, top-5)")
    if not SQUAD.is_dir():
        section.notes.append(f"skipped: {SQUAD} not found")
        return section
    queries, truth, contexts = _questions(quick)
    doc_of = {c: f"ctx-{i:03d}" for i, c in enumerate(sorted(set(contexts)))}
    gold = [truth[q["id"]] for q in queries]
    answered = _answer(queries, gold, contexts, doc_of, quick)
    refusals = _cross_fit(queries, gold, answered)
    _rows(section, queries, gold, doc_of, answered, refusals)
    return section


def _questions(quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """The questions asked, their ground truth and the contexts indexed (`RAGTUNE_BENCH_RAG_SAMPLE`, `--quick`)."""
    queries = json.loads((SQUAD / "queries.json").read_text(encoding="utf-8"))["queries"]
    truth = json.loads((SQUAD / "ground_truth.json").read_text(encoding="utf-8"))
    contexts = sorted({q["context"] for q in queries})
    sample = int(os.environ.get("RAGTUNE_BENCH_RAG_SAMPLE", "0") or 0)
    if sample and not quick:  # a stratified subset (every k-th of each kind), all contexts still indexed
        kinds = [[q for q in queries if truth[q["id"]]["is_impossible"] == flag] for flag in (False, True)]
        queries = [q for group in kinds for q in group[:: max(1, round(len(queries) / sample))]]
    if quick:  # 40 + 40 questions over their own contexts and 80 others: the fewest the held-out fit can split
        answerable = [q for q in queries if not truth[q["id"]]["is_impossible"]][:40]
        unanswerable = [q for q in queries if truth[q["id"]]["is_impossible"]][:40]
        queries = answerable + unanswerable
        own = {q["context"] for q in queries}
        contexts = sorted(own) + [c for c in contexts if c not in own][:80]
    return queries, truth, contexts


def _answer(
    queries: list[dict[str, Any]], gold: list[dict[str, Any]], contexts: list[str], doc_of: dict[str, str], quick: bool
) -> _Answered:
    """Index the contexts and answer every question once with refusal off (refusal is decided afterwards, per
    fold); then the prompts' shared start reused and not, and the closed-book baseline."""
    from ragtune.config import load_config
    from ragtune.corpus.document import Document
    from ragtune.models.loader import load_embedder, load_generator
    from ragtune.rag import Answerer
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents

    workspace = tempfile.mkdtemp(prefix="ragtune-bench-rag-")
    try:
        # Defaults, unless the environment overrides a setting (RAGTUNE_RAG__COPY_ANSWERS=false to compare).
        config = load_config(overrides={"workspace": workspace})
        embedder = load_embedder(config.models)
        generator = load_generator(config.models, config.generation)
        store = open_store(config, embedder.identity)
        docs = [Document(id=doc_of[c], text=c, metadata={"title": ""}) for c in contexts]
        t0 = time.perf_counter()
        sync_documents(docs, store, embedder, config, progress=False)
        index_s = time.perf_counter() - t0

        answerer = Answerer(generator, config, retriever=Retriever(store, embedder, config.retrieval))
        generator.generate([[m for m in answerer.prompt("warm-up question?")]], answerer.params())
        load_before = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        drafts = answerer.answer_many([q["question"] for q in queries], progress=True, refuse=False)
        batch_s, batch_cpu = time.perf_counter() - t0, time.process_time() - c0
        load_after = os.getloadavg()[0]
        # The same questions with the prompts' shared start (instructions, worked example) computed per batch
        # instead of once: what `generation.reuse_prefix` saves, both timed here, the reused one second.
        prefix_q = [q["question"] for q in queries[: 24 if quick else 64]]
        prefix_s: dict[bool, float] = {}
        if hasattr(generator, "reuse_prefix"):
            for reuse in (False, True):
                generator.reuse_prefix = reuse
                t1 = time.perf_counter()
                answerer.answer_many(prefix_q, progress=False, refuse=False)
                prefix_s[reuse] = (time.perf_counter() - t1) / len(prefix_q)
            generator.reuse_prefix = config.generation.reuse_prefix
        store.close()

        # Closed-book baseline: the same model, extraction and answer length, on every other answerable question
        # (half of them is plenty for a rate near zero, and the machine is shared).
        closed_idx = [i for i, g in enumerate(gold) if not g["is_impossible"]][::2]
        t0 = time.perf_counter()
        closed = Answerer(generator, config).answer_many([queries[i]["question"] for i in closed_idx], progress=True)
        closed_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return _Answered(
        config,
        drafts,
        closed,
        closed_idx,
        index_s,
        batch_s,
        batch_cpu,
        closed_s,
        (load_before, load_after),
        len(prefix_q),
        prefix_s,
    )


def _cross_fit(queries: list[dict[str, Any]], gold: list[dict[str, Any]], answered: _Answered) -> _Refusals:
    """Each fold's refusals by a calibration fitted on the other fold (`fit_calibration_held_out`, the target's
    share), and the same folds fitted the plain way at `ragtune calibrate`'s default, for comparison."""
    from ragtune.calibration import fit_calibration, fit_calibration_held_out, refuses
    from ragtune.rag import apply_calibration, calibration_record

    drafts = answered.drafts
    records = [calibration_record(a, g["answers"], not g["is_impossible"]) for a, g in zip(drafts, gold, strict=True)]
    fold = [zlib.crc32(q["context"].encode("utf-8")) % 2 for q in queries]
    # The fold's own split for choosing its in-fit share: another bit of the same hash, so still by context.
    inner = [(zlib.crc32(q["context"].encode("utf-8")) >> 1) % 2 for q in queries]
    finals: list[Any] = [None] * len(queries)
    plain_refused = [False] * len(queries)
    fitted = []
    for f in (0, 1):
        train = [r for r, k in zip(records, fold, strict=True) if k != f]
        halves = [inner[i] for i, k in enumerate(fold) if k != f]
        cal = fit_calibration_held_out(train, halves, max_false_refusal=TARGET_FALSE_REFUSAL, fitted_on={"fold": 1 - f})
        fitted.append(cal)
        plain = fit_calibration(train, max_false_refusal=DEFAULT_FIT_SHARE)
        for i, k in enumerate(fold):
            if k == f:
                plain_refused[i] = refuses(plain, records[i])
                finals[i] = apply_calibration(
                    drafts[i],
                    cal,
                    min_relevance=cal.min_relevance,
                    min_answerable=cal.min_answerable,
                    refusal_text=answered.config.rag.refusal_text,
                )
    # The packaged default calibration (calibration.DEFAULT_CALIBRATION) is this fit, at calibrate's default.
    everything = fit_calibration(records, max_false_refusal=DEFAULT_FIT_SHARE, fitted_on={"benchmark": "all"})
    return _Refusals(finals, plain_refused, fitted, everything)


def _rows(
    section: Section,
    queries: list[dict[str, Any]],
    gold: list[dict[str, Any]],
    doc_of: dict[str, str],
    answered: _Answered,
    refusals: _Refusals,
) -> None:
    """The section's rows, notes and JSON extras from the answers and the refusals."""
    drafts, finals = answered.drafts, refusals.finals
    ans_idx = [i for i, g in enumerate(gold) if not g["is_impossible"]]
    una_idx = [i for i, g in enumerate(gold) if g["is_impossible"]]
    hits = [any(s.doc_id == doc_of[q["context"]] for s in d.sources) for q, d in zip(queries, drafts, strict=True)]
    recall5 = sum(hits) / len(queries)
    section.rows.append(Row("Recall@5 of the gold context", recall5, "", target=">= 0.90", passed=recall5 >= 0.90))
    section.rows += _accuracy_rows(gold, answered, finals, ans_idx)
    section.rows += _refusal_rows(finals, refusals.plain_refused, ans_idx, una_idx)
    section.rows += _citation_rows(finals)
    section.rows += _cost_rows(answered, len(queries))
    section.notes += _notes(answered.config, len(queries), len(ans_idx), answered, refusals.fitted)
    section.extra = {
        "refusal_reasons": dict(Counter(a.refusal_reason for a in finals if a.refused)),
        "calibration_all_questions": refusals.everything.to_json(),
        "fold_calibrations": [c.to_json() for c in refusals.fitted],
        "examples": [
            {
                "question": queries[i]["question"],
                "gold": gold[i]["answers"][:1],
                "raw": drafts[i].raw,
                "answer": finals[i].text,
                "refused": finals[i].refused,
            }
            for i in range(0, len(queries), max(1, len(queries) // 25))
        ],
    }


def _accuracy_rows(gold: list[dict[str, Any]], answered: _Answered, finals: list[Any], ans_idx: list[int]) -> list[Row]:
    """Accuracy, F1 and exact match on the answerable questions, after refusal and with it off, beside the same
    model closed-book."""
    drafts, n_ans = answered.drafts, len(ans_idx)
    final_scores = [_scores(finals[i].text, gold[i]["answers"], finals[i].refused) for i in ans_idx]
    draft_scores = [_scores(drafts[i].text, gold[i]["answers"], drafts[i].refused) for i in ans_idx]
    closed_scores = [
        _scores(c.text, gold[i]["answers"], c.refused)
        for i, c in zip(answered.closed_idx, answered.closed, strict=True)
    ]
    acc = sum(s[0] for s in final_scores) / n_ans
    f1 = sum(s[1] for s in final_scores) / n_ans
    acc_closed = sum(s[0] for s in closed_scores) / len(answered.closed_idx)
    return [
        Row(
            "answer accuracy, answerable (after refusal)",
            acc,
            "",
            baseline=acc_closed,
            baseline_name="same model closed-book",
            target=">= 0.40 and >= 5x closed-book",
            passed=acc >= 0.40 and acc >= 5 * acc_closed,
        ),
        Row("token F1, answerable (after refusal)", f1, "", target=">= 0.30", passed=f1 >= 0.30),
        Row("exact match, answerable (after refusal)", sum(s[2] for s in final_scores) / n_ans, ""),
        Row("answer accuracy, answerable, refusal off", sum(s[0] for s in draft_scores) / n_ans, ""),
        Row("token F1, answerable, refusal off", sum(s[1] for s in draft_scores) / n_ans, ""),
    ]


def _refusal_rows(finals: list[Any], plain_refused: list[bool], ans_idx: list[int], una_idx: list[int]) -> list[Row]:
    """Refusal recall and precision of the cross-fitted calibration, and of calibrate's default fit."""
    refused_una = sum(finals[i].refused for i in una_idx)
    refused_ans = sum(finals[i].refused for i in ans_idx)
    refusal_recall = refused_una / max(1, len(una_idx))
    false_refusal = refused_ans / len(ans_idx)
    plain_false = sum(plain_refused[i] for i in ans_idx) / len(ans_idx)
    return [
        Row(
            "refusal recall, unanswerable (cross-fitted)",
            refusal_recall,
            "",
            target=">= 0.30 with <= 15% answerable refused",
            passed=refusal_recall >= 0.30 and false_refusal <= 0.15,
        ),
        Row("answerable questions refused", false_refusal, "", higher_is_better=False, target="<= 0.15"),
        Row(
            "refusal recall, calibrate's default fit (10% of the fit's own)",
            sum(plain_refused[i] for i in una_idx) / max(1, len(una_idx)),
            "",
            note=f"{plain_false:.1%} of answerable questions refused",
        ),
        Row("refusal precision", refused_una / max(1, refused_una + refused_ans), ""),
    ]


def _citation_rows(finals: list[Any]) -> list[Row]:
    """How many sentences of the given answers a source supports, and how many cite it themselves."""
    sentences = [s for a in finals if not a.refused for s in a.sentences]
    return [
        Row(
            "answer sentences with a supporting source",
            sum(s.source_number is not None for s in sentences) / max(1, len(sentences)),
            "",
        ),
        Row(
            "answer sentences whose own [n] citation checks out",
            sum(s.cited for s in sentences) / max(1, len(sentences)),
            "",
        ),
    ]


def _cost_rows(answered: _Answered, questions: int) -> list[Row]:
    """Seconds per question in batches, with the shared prompt start cached or not, and this process's CPU time."""
    drafts, prefix_s = answered.drafts, answered.prefix_s
    per_q = answered.batch_s / questions
    tokens_in = sum(d.tokens_in for d in drafts) / questions
    tokens_out = sum(d.tokens_out for d in drafts) / questions
    rows = [
        Row(
            "batch answering, top-5 sources",
            per_q,
            "s/question",
            higher_is_better=False,
            target="<= 1.0",
            passed=per_q <= 1.0,
            note=f"{tokens_in:.0f} prompt + {tokens_out:.1f} answer tokens per question, wall clock",
        )
    ]
    if prefix_s:
        rows.append(
            Row(
                f"batch answering of {answered.prefix_questions} questions, shared prompt start cached once",
                prefix_s[True],
                "s/question",
                baseline=prefix_s[False],
                baseline_name="recomputed for every batch",
                higher_is_better=False,
            )
        )
    rows.append(
        Row(
            "batch answering, CPU time of this process",
            answered.batch_cpu / questions,
            "CPU-s/question",
            higher_is_better=False,
            note="2 cores: an idle machine answers in about half this wall time",
        )
    )
    return rows


def _notes(config: Any, questions: int, answerable: int, answered: _Answered, fitted: list[Any]) -> list[str]:
    closed = len(answered.closed_idx)
    return [
        f"answers copied from the sources while generating: {config.rag.copy_answers}; "
        f"{config.rag.source_sentences} source sentences shown; batch {config.generation.batch_size}",
        f"{questions} questions ({answerable} answerable); index built in {answered.index_s:.0f} s; closed-book "
        f"answering {answered.closed_s / max(1, closed):.2f} s/question on {closed} answerable questions",
        f"the machine was shared: 1-minute load average {answered.load[0]:.1f} before and {answered.load[1]:.1f} "
        "after the batch (2 cores), so wall times are upper bounds",
        "refusal cross-fitted over 2 folds split by context (crc32 % 2): each fold's thresholds come from the other "
        f"fold, fitted to refuse at most {TARGET_FALSE_REFUSAL:.0%} of answerable questions it has not seen; in-fit "
        "shares chosen within the fitting fold (halves by the next bit of crc32): "
        + ", ".join(
            f"{c.fitted_on['held_out']['fit_share']:.0%} "
            f"(its halves refused {c.fitted_on['held_out']['held_out_false_refusal']:.1%} of each other's answerable)"
            for c in fitted
        ),
        "fold calibrations: "
        + "; ".join(
            f"relevance >= {c.min_relevance:.3f}, P(answerable) >= {c.min_answerable:.3f}, "
            f"support weights ({c.support.w_lexical:.2f}, {c.support.w_embedding:.2f}, {c.support.bias:.2f})"
            for c in fitted
        ),
    ]
