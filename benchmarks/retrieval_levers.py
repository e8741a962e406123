"""Retrieval levers on the QA suite (HotpotQA dev52, the SQuAD 2.0 sample, the bundled sample): "answer in the
retrieved chunks" (top 5) per data set and their macro average, and for HotpotQA "both supporting paragraphs in the
top 5", for plain hybrid search (no lever), linked documents (`retrieval.linked_documents`, on by default), the
second hop, a reranker trained on each corpus alone (`tune --kind reranker` without --data: no question of the suite
is used) and hop with reranker. Every lever alone over the plain baseline, in the same process.

`python -m benchmarks.retrieval_levers [--quick]` runs it alone; bench_retrieval adds its rows to `make bench`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.harness import Row
from benchmarks.qa_data import QASet, hotpot_supporting_titles, hotpotqa, sample, squad2
from ragtune.store.base import Hit
from ragtune.text import is_decision

LEVERS = ("hybrid", "hybrid+links", "hybrid+hop", "hybrid+rerank", "hybrid+hop+rerank")
TOP_K = 5


def qa_sets(quick: bool) -> list[QASet]:
    n = 15 if quick else None
    return [hotpotqa(n), squad2(n if quick else 80), sample(n if quick else 144)]


def _answer_in(texts: Sequence[str], golds: Sequence[str]) -> bool:
    from ragtune.rerank import holds_answer

    joined = "\n".join(texts)
    return any(holds_answer(joined, g) for g in golds)


def measure_set(
    qaset: QASet, workspace: Path, progress: bool = False, quick: bool = False
) -> dict[str, dict[str, float]]:
    """Per lever: answer-in-top-5 (answerable questions whose gold is not yes/no), both-gold-in-top-5 (HotpotQA),
    query p50 ms, and the reranker's training seconds."""
    from ragtune.config import Config
    from ragtune.models.loader import load_embedder
    from ragtune.rerank import train_on_store
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents

    config = Config(workspace=str(workspace))
    if quick:
        config.tune.reranker_queries = 100
    embedder = load_embedder(config.models)
    store = open_store(config, embedder.identity)
    sync_documents(list(qaset.documents), store, embedder, config, prune=True, progress=progress)
    store.close()
    start = time.perf_counter()
    folder = train_on_store(config, workspace / "reranker", progress=progress).folder
    train_s = time.perf_counter() - start
    gold_titles = hotpot_supporting_titles() if qaset.name == "hotpotqa" else {}
    questions = [q for q in qaset.questions if q.answerable]
    store = open_store(config, embedder.identity)
    out: dict[str, dict[str, float]] = {}
    try:
        for lever in LEVERS:
            retrieval = replace(
                config.retrieval,
                linked_documents="links" in lever,
                second_hop="hop" in lever,
                reranker=str(folder) if "rerank" in lever else "",
            )
            retriever = Retriever(store, embedder, retrieval)
            answer_in, both, ms = [], [], []
            for q in questions:
                t0 = time.perf_counter()
                hits = retriever.search(q.question, k=TOP_K)
                ms.append((time.perf_counter() - t0) * 1000)
                if not is_decision(q.golds):
                    answer_in.append(_answer_in([h.chunk.text for h in hits], q.golds))
                if q.id in gold_titles:
                    both.append(set(gold_titles[q.id]) <= {h.chunk.doc_id for h in hits})
            out[lever] = {
                "answer_in_top5": statistics.mean(answer_in) if answer_in else 0.0,
                "both_gold_top5": statistics.mean(both) if both else float("nan"),
                "p50_ms": statistics.median(ms),
                "train_s": train_s if "rerank" in lever else 0.0,
            }
    finally:
        store.close()
    return out


FUSIONS = ((10, 1.0), (10, 0.5), (10, 0.25), (20, 1.0), (20, 0.5), (20, 0.25))  # (rerank_candidates, weight)


def _score_once(model: Any) -> None:
    """Make `model` (a CrossEncoderReranker) score each (query, chunk) pair once: its own fusion then replays at each
    weight of FUSIONS for the cost of one scoring pass."""
    cache: dict[tuple[str, str], float] = {}
    score = model.scores

    def scores(query: str, hits: Sequence[Hit]) -> list[float]:
        todo = [h for h in hits if (query, h.chunk.id) not in cache]
        cache.update(((query, h.chunk.id), v) for h, v in zip(todo, score(query, todo) if todo else [], strict=True))
        return [cache[(query, h.chunk.id)] for h in hits]

    model.scores = scores


def fusion_sweep(qaset: QASet, workspace: Path) -> dict[str, float]:
    """Answer in the top 5 per (rerank_candidates, rerank_weight) with the reranker `measure_set` trained into
    `workspace` (run that first, with `--root`)."""
    from ragtune.config import Config
    from ragtune.models.loader import load_embedder
    from ragtune.rerank import CrossEncoderReranker
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store

    config = Config(workspace=str(workspace))
    embedder = load_embedder(config.models)
    store = open_store(config, embedder.identity)
    model = CrossEncoderReranker(workspace / "reranker", 1.0, 60)
    _score_once(model)
    asked = [q for q in qaset.questions if q.answerable and not is_decision(q.golds)]
    out: dict[str, float] = {}
    try:
        for candidates, weight in ((0, 0.0), *FUSIONS):
            retrieval = replace(config.retrieval, rerank_candidates=max(candidates, 2))
            model.weight = weight
            reranker = model if candidates else None
            found = Retriever(store, embedder, retrieval, reranker=reranker).search_many(
                [q.question for q in asked], k=TOP_K
            )
            hits = [_answer_in([h.chunk.text for h in got], q.golds) for q, got in zip(asked, found, strict=True)]
            out[f"top {candidates}, weight {weight:g}" if candidates else "no reranker"] = statistics.mean(hits)
    finally:
        store.close()
    return out


def run(
    quick: bool = False, progress: bool = False, root: Path | None = None
) -> tuple[list[Row], dict[str, dict[str, dict[str, float]]]]:
    """The rows for `make bench`; `root` keeps each data set's index (and reranker) in `root/ws-NAME` for a rerun."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ragtune-levers-") as tmp:
        for qaset in qa_sets(quick):
            results[qaset.name] = measure_set(qaset, (root or Path(tmp)) / f"ws-{qaset.name}", progress, quick)
    rows: list[Row] = []
    for lever in LEVERS[1:]:
        for name, per in results.items():
            rows.append(
                Row(
                    name=f"{name}: answer in top {TOP_K}, {lever}",
                    value=per[lever]["answer_in_top5"],
                    unit="share",
                    baseline=per["hybrid"]["answer_in_top5"],
                    baseline_name="hybrid",
                )
            )
        macro = statistics.mean(per[lever]["answer_in_top5"] for per in results.values())
        base = statistics.mean(per["hybrid"]["answer_in_top5"] for per in results.values())
        rows.append(
            Row(
                name=f"QA suite macro answer in top {TOP_K}, {lever}",
                value=macro,
                unit="share",
                baseline=base,
                baseline_name="hybrid",
                target="+0.05, no set lower",
                passed=macro >= base + 0.05
                and all(per[lever]["answer_in_top5"] >= per["hybrid"]["answer_in_top5"] for per in results.values()),
            )
        )
        if "hotpotqa" in results:
            per = results["hotpotqa"]
            rows.append(
                Row(
                    name=f"hotpotqa: both gold paragraphs in top {TOP_K}, {lever}",
                    value=per[lever]["both_gold_top5"],
                    unit="share",
                    baseline=per["hybrid"]["both_gold_top5"],
                    baseline_name="hybrid",
                    target=">= 0.80",
                    passed=per[lever]["both_gold_top5"] >= 0.80,
                )
            )
    return rows, results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--root", type=Path, default=None, help="Keep the indexes here (a rerun embeds nothing).")
    parser.add_argument(
        "--fusion-sweep",
        action="store_true",
        help="Only replay the rerankers already trained under --root at each (rerank_candidates, rerank_weight).",
    )
    args = parser.parse_args(argv)
    if args.fusion_sweep:
        if args.root is None:
            parser.error("--fusion-sweep reads the rerankers a run with --root trained: give that --root")
        for qaset in qa_sets(args.quick):
            for name, share in fusion_sweep(qaset, args.root / f"ws-{qaset.name}").items():
                print(f"{qaset.name}: answer in top {TOP_K}, {name}: {share:.4f}", flush=True)
        return 0
    rows, results = run(args.quick, progress=True, root=args.root)
    for name, per in results.items():
        for lever, values in per.items():
            print(name, lever, {k: round(v, 4) for k, v in values.items()}, flush=True)
    for row in rows:
        ratio = f" ({row.ratio:.3f}x {row.baseline_name})" if row.ratio is not None else ""
        print(f"{row.name}: {row.value:.4f}{ratio} {row.target}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
