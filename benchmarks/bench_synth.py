"""Synthesized questions against human ones (../shared/data/covidqa) and rules against the 135M model as writer.

- COVID-QA: the first articles (4 quick, 10 full) are the corpus; rag (the default Answerer, refusal off, so that
  both sets are scored on the same footing) answers a seeded sample of the human questions about them (the
  baseline) and the synthesized test questions (answerable, reworded twins). Target: within 0.15 of each other.
- Writers on the bundled sample: the same facts worded by the rules and by the configured generator, each through
  the same filters; the share of drafts kept, and the seconds it took.
- Speed from documents alone: `ragtune compare --docs FOLDER --quick` with no questions (synth, then the whole
  quick comparison) on 1,000 paragraphs, SciFact abstracts one per file (200 with --quick). Target: under 10 min.
"""

from __future__ import annotations

import dataclasses
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Row, Section

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact" / "corpus.jsonl"
COVIDQA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "covidqa" / "200423_covidQA.json"
SAMPLE_DOCS = Path(__file__).resolve().parents[1] / "src" / "ragtune" / "samples" / "docs_v1"


def _covid_subset(articles: int, folder: Path) -> Path:
    data = json.loads(COVIDQA.read_text(encoding="utf-8"))
    path = folder / "covidqa-subset.json"
    path.write_text(json.dumps({"data": data["data"][:articles]}), encoding="utf-8")
    return path


def evidence_overlap(question: str, evidence: str, answer: str) -> float | None:
    """The share of the question's content words found in its evidence sentence (`ragtune.synth.overlap`, the one
    definition the report uses too)."""
    from ragtune.synth.overlap import evidence_overlap as overlap

    return overlap(question, evidence, answer)


def _mean(values: list[float | None]) -> float:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else float("nan")


def human_overlaps(subset: Path) -> list[float | None]:
    """`evidence_overlap` of each answerable human question of a SQuAD-style file, against the sentence of its
    context that holds the answer's start."""
    import re

    out: list[float | None] = []
    for article in json.loads(subset.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            bounds = [0, *(m.end() for m in re.finditer(r"(?<=[.!?])\s+", context)), len(context)]
            for qa in paragraph["qas"]:
                if not qa.get("answers"):
                    continue
                first = qa["answers"][0]
                start = first["answer_start"]
                i = max(k for k in range(len(bounds) - 1) if bounds[k] <= start)
                out.append(evidence_overlap(qa["question"], context[bounds[i] : bounds[i + 1]], first["text"]))
    return out


def _accuracy(answerer: object, questions: list[tuple[str, tuple[str, ...]]]) -> float:
    from ragtune.text import answer_correct

    answers = answerer.answer_many([q for q, _ in questions], progress=False, refuse=False)  # type: ignore[attr-defined]
    return sum(answer_correct(a.text, gold) for a, (_, gold) in zip(answers, questions, strict=True)) / len(questions)


def compare_from_documents(section: Section, paragraphs: int) -> None:
    """Times `ragtune compare --docs FOLDER --quick` without --questions, as a user would run it, in its own
    process: `paragraphs` SciFact abstracts, one file each, are the documents."""
    import subprocess
    import sys

    if not SCIFACT.is_file():
        section.notes.append(f"compare from documents alone skipped: {SCIFACT} not found")
        return
    with tempfile.TemporaryDirectory(prefix="ragtune-bench-docs-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        with SCIFACT.open(encoding="utf-8") as f:
            for i, line in zip(range(paragraphs), f, strict=False):
                doc = json.loads(line)
                (folder / f"{i:04d}-{doc['_id']}.md").write_text(f"# {doc['title']}\n\n{doc['text']}\n", "utf-8")
        command = [sys.executable, "-m", "ragtune", "--workspace", f"{tmp}/ws", "compare", "--docs", str(folder)]
        t0 = time.perf_counter()
        done = subprocess.run(
            [*command, "--quick", "--out", f"{tmp}/out", "--no-progress"], capture_output=True, text=True, cwd=tmp
        )
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            section.notes.append(f"compare from documents alone failed (exit {done.returncode}): {done.stderr[-800:]}")
            return
        results = json.loads((Path(tmp) / "out" / "results.json").read_text(encoding="utf-8"))
    synthesized = results.get("data", {}).get("synthesized") or {}
    section.rows.append(
        Row(
            f"compare --quick from {paragraphs} paragraphs alone (synth included)",
            seconds / 60,
            "min",
            higher_is_better=False,
            target="< 10" if paragraphs >= 1000 else "",
            passed=seconds < 600 if paragraphs >= 1000 else None,
            note=f"{synthesized.get('train', '?')} train / {synthesized.get('test', '?')} test questions synthesized",
        )
    )
    section.extra["compare_from_documents"] = {"paragraphs": paragraphs, "seconds": seconds, "synthesized": synthesized}


def run(quick: bool = False) -> Section:
    from ragtune.config import load_config
    from ragtune.models.loader import load_embedder, load_generator

    section = Section(title="synth (questions from documents alone; SmolLM2-135M + MiniLM)")
    n_articles, n_questions, count = (4, 30, 30) if quick else (10, 60, 60)
    with tempfile.TemporaryDirectory(prefix="ragtune-bench-synth-") as tmp:
        config = load_config(environ={}, overrides={"workspace": tmp, "synth.count": str(count)})
        embedder = load_embedder(config.models)
        generator = load_generator(config.models, config.generation)
        if COVIDQA.is_file():
            _covid_rows(section, config, embedder, generator, Path(tmp), n_articles, n_questions)
        else:
            section.notes.append(f"COVID-QA skipped: {COVIDQA} not found")
        _writer_rows(section, config, generator)
    compare_from_documents(section, 200 if quick else 1000)
    return section


def _covid_rows(
    section: Section, config: Any, embedder: Any, generator: Any, tmp: Path, n_articles: int, n_questions: int
) -> None:
    """RAG accuracy on synthesized test questions beside the human ones on the same COVID-QA articles, and why
    they differ: how much of its evidence sentence each question repeats."""
    from ragtune.evaluate.experiment import load_documents
    from ragtune.evaluate.questions import load_questions
    from ragtune.rag import Answerer
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents
    from ragtune.synth import synthesize

    subset = _covid_subset(n_articles, tmp)
    docs = load_documents([subset], config)
    store = open_store(config, embedder.identity)
    try:
        sync_documents(docs, store, embedder, config, progress=False)
        retriever = Retriever(store, embedder, config.retrieval)
        human = [q for q in load_questions(subset) if q.answerable]
        human = random.Random(0).sample(human, min(n_questions, len(human)))
        t0 = time.perf_counter()
        result = synthesize(docs, config.synth, generator, retriever)
        synth_s = time.perf_counter() - t0
        test = [q for q in result.questions if q.split == "test" and q.answerable and not q.changed]
        answerer = Answerer(generator, config, retriever=retriever)
        human_acc = _accuracy(answerer, [(q.question, q.answers) for q in human])
        synth_acc = _accuracy(answerer, [(q.question, (q.answer,)) for q in test])
    finally:
        store.close()
    section.rows.append(
        Row(
            f"COVID-QA, {n_articles} articles: rag accuracy on {len(test)} synthesized test questions",
            synth_acc,
            "accuracy",
            baseline=human_acc,
            baseline_name=f"{len(human)} human questions",
            target="within 0.15",
            passed=abs(synth_acc - human_acc) <= 0.15,
        )
    )
    section.rows.append(Row("COVID-QA synthesis time", synth_s, "s", higher_is_better=False))
    section.rows.append(
        Row(
            "COVID-QA: share of a test question's content words found in its evidence sentence, synthesized",
            _mean([evidence_overlap(q.question, q.evidence, q.answer) for q in test]),
            "share",
            baseline=_mean(human_overlaps(subset)),
            baseline_name="human questions",
            higher_is_better=False,
        )
    )
    section.extra["covid_examples"] = [q.record() for q in test[:10]]


def _writer_rows(section: Section, config: Any, generator: Any) -> None:
    """On the bundled sample: the share of wh-drafts the filters keep and the seconds it takes, with the rules as
    the writer beside SmolLM2-135M as the writer."""
    from ragtune.evaluate.experiment import load_documents
    from ragtune.synth import synthesize

    docs = load_documents([SAMPLE_DOCS], config)
    shares: dict[str, tuple[float, float, int]] = {}
    cfg = dataclasses.replace(config.synth, unanswerable_share=0.0, yes_no_share=0.0, choice_share=0.0)
    for writer in ("rules", "generator"):
        t0 = time.perf_counter()
        r = synthesize(docs, cfg, generator, None, writer=generator if writer == "generator" else None)
        shares[writer] = (r.stats.kept_share, time.perf_counter() - t0, r.stats.facts)
        section.extra[f"sample_{writer}"] = [q.record() for q in r.questions[:20]]
    section.rows.append(
        Row(
            "bundled sample: share of wh-drafts kept by the filters, rules",
            shares["rules"][0],
            "share",
            baseline=shares["generator"][0],
            baseline_name="SmolLM2-135M as writer",
        )
    )
    section.rows.append(
        Row(
            "bundled sample: seconds to keep the facts, rules",
            shares["rules"][1],
            "s",
            baseline=shares["generator"][1],
            baseline_name="SmolLM2-135M as writer",
            higher_is_better=False,
        )
    )
