"""What the report says of the questions (where they come from, how close their wordings are) and of the readers
that answered them: lines of markdown, each list empty when results.json has nothing to say."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ragtune.evaluate.records import num
from ragtune.evaluate.results import Results


def reader_lines(results: Results) -> list[str]:
    """Which reader each strategy answered with (rag.reader): the small model's aids, or a capable model's own
    whole answers."""
    readers = [f"{name} {s.reader}" for name, s in results.strategies.items() if s.reader]
    if not readers:
        return []
    return [
        "Readers (rag.reader; small: sentences shown, copied spans, short answers; capable: whole chunks, the "
        "model's own whole answer and citations): " + ", ".join(readers) + ".",
        "",
    ]


def retrieval_lines(results: Results) -> list[str]:
    """What each measured retriever finds and costs (compare.tune_retriever): rag's beside the tuned one's."""
    rows = [(name, s.retrieval) for name, s in results.strategies.items() if s.retrieval is not None]
    if not rows:
        return []
    out = ["| retriever of | answer in the sources | query p50 | training |", "|---|---|---|---|"]
    for name, m in rows:
        found = "-" if m.answer_in_sources is None else f"{m.answer_in_sources:.2f} (top {m.k}, {m.questions} q.)"
        train = results.strategies[name].train_seconds
        out.append(f"| {name} | {found} | {m.query_ms_p50:.0f} ms | {train / 60:.1f} min |")
    return ["Retrieval (compare.tune_retriever: a reranker trained on the training questions):", "", *out, ""]


def synthesized_lines(synth: Mapping[str, Any] | None) -> list[str]:
    """What the report says when the questions were synthesized from the documents (`ragtune synth`)."""
    if not synth:
        return []
    lines = [
        f"Questions synthesized from the documents ({synth.get('writer')}, file {synth.get('file', '')}): "
        f"{synth.get('facts')} facts, {synth.get('train')} training and {synth.get('test')} test questions, "
        f"{synth.get('changed')} changed facts, {synth.get('unanswerable')} unanswerable; "
        f"{synth.get('kept_share', 0):.0%} of drafts passed the filters. For example:"
    ]
    for ex in synth.get("examples", []):
        answer = f" -> {ex['answer']}" if ex.get("answer") else " (unanswerable)"
        lines.append(f"- {ex['question']}{answer}")
    return [*lines, ""]


def wording_lines(data: Any) -> list[str]:
    """Where the questions come from, how close the test wordings are to their evidence (beside people's range) and
    to the training questions, and each strategy's accuracy on near-repeats and on the others."""
    synth = data.synthesized or {}
    lines = []
    if data.question_source:
        where = "from the documents" if data.question_source == "synthesized" else f"({data.questions.file})"
        lines.append(f"Questions: {data.question_source} {where}.")
    w = synth.get("wording") or {}
    if w.get("evidence_overlap_test") is not None:
        low, high = w.get("evidence_overlap_people", (0.35, 0.6))
        lines.append(
            f"A test question repeats {w['evidence_overlap_test']:.0%} of its evidence sentence's content words on "
            f"average (training questions {num(w.get('evidence_overlap_train')):.0%}); people's questions repeat "
            f"{low:.0%}-{high:.0%} of theirs, so these are easier to find and copy than a user's own."
        )
    split = data.wording or {}
    if split.get("nearest_train_overlap") is not None:
        close, far = split.get("close", 0), split.get("far", 0)
        by = ", ".join(
            f"{name} {acc:.2f} / {split.get('accuracy_far', {}).get(name, math.nan):.2f}"
            for name, acc in (split.get("accuracy_close") or {}).items()
        )
        lines.append(
            f"A test question shares {split['nearest_train_overlap']:.0%} of its content words with its nearest "
            f"training question on average; {close} of {close + far} share at least "
            f"{split.get('close_threshold', 0.75):.0%}. Accuracy on those / on the others: {by or 'n/a'}."
        )
    return [*lines, ""] if lines else []
