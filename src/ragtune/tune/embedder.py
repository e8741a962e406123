"""`ragtune tune --kind embedder`: the bi-encoder itself fine-tuned on the user's labelled questions.

Each labelled question becomes a triplet: the question, the best-ranked chunk that holds its answer (the positive)
and one BM25 or dense neighbour without it (a hard negative), mined by the same code as the reranker's
(`ragtune.rerank.mine_examples`). sentence-transformers' MultipleNegativesRankingLoss then pulls each question
towards its positive and away from its hard negative and from every other positive in its batch.

Labelled questions only: on SciFact, tuning on questions written from the corpus lowered hybrid nDCG@10 (0.728 ->
0.719), because those questions repeat their passage's words and teach nothing the embedder does not already rank
well; SciFact's labelled train claims raised it to 0.745 (from 0.733; docs/benchmarks.md, Retrieval levers). A tuned
embedder writes different vectors: it is used through `models.embedder` on a workspace ingested with it, and a store
written by another model refuses it (`ragtune.store.base.claim_for`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import RagtuneError
from ragtune.models.adapters import AdapterManifest, write_manifest
from ragtune.models.training import show_progress
from ragtune.rerank import PairExample, held_out_queries, labelled_queries, mine_store

KIND = "embedder"
MODEL_DIR = "model"  # the sentence-transformers folder that models.embedder takes
HELDOUT_SHARE = 0.1


class EmbedderTuningError(RagtuneError):
    """Nothing to tune the embedder on (no labelled questions, an empty store, no question found in it)."""


@dataclass(frozen=True)
class Triplet:
    query: str
    positive: str
    negative: str


@dataclass(frozen=True)
class EmbedderResult:
    folder: Path
    model: Path  # the tuned sentence-transformers folder: --set models.embedder=<this>
    metrics: dict[str, Any] = field(default_factory=dict)


def triplets(examples: Sequence[PairExample]) -> list[Triplet]:
    """One (query, positive, hard negative) per query from mine_examples' rows: a positive row, then its negatives."""
    out: list[Triplet] = []
    positive: PairExample | None = None
    for row in examples:
        if row.label > 0:
            positive = row
        elif positive is not None and positive.query == row.query:
            out.append(Triplet(row.query, positive.passage, row.passage))
            positive = None  # one hard negative per query: MNRL's in-batch negatives do the rest
    return out


def split_heldout(rows: Sequence[Triplet], share: float, seed: int) -> tuple[list[Triplet], list[Triplet]]:
    """Training triplets and a held-out `share` of the questions (at least one when there are 5+); a question asked
    twice stays on one side."""
    held = held_out_queries((r.query for r in rows), share, seed)
    return [r for r in rows if r.query not in held], [r for r in rows if r.query in held]


def triplet_accuracy(model: Any, rows: Sequence[Triplet]) -> float | None:
    """Share of held-out triplets whose query is closer to its positive than to its hard negative; None without."""
    if not rows:
        return None
    queries = model.encode_query([r.query for r in rows], normalize_embeddings=True, convert_to_numpy=True)
    positives = model.encode_document([r.positive for r in rows], normalize_embeddings=True, convert_to_numpy=True)
    negatives = model.encode_document([r.negative for r in rows], normalize_embeddings=True, convert_to_numpy=True)
    right = ((queries * positives).sum(axis=1) > (queries * negatives).sum(axis=1)).sum()
    return float(right) / len(rows)


def train_embedder(
    rows: Sequence[Triplet], out: Path, config: Any, *, data_note: dict[str, Any], progress: bool = True
) -> EmbedderResult:
    """Fine-tune the configured embedder on `rows` (a held-out tenth of them scores it before and after) and write
    it with a manifest to `out`; the manifest is written last, so its presence means the folder is complete."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers

    from ragtune.models.registry import embedder_fingerprint, resolve_embedder

    tune = config.tune
    train, heldout = split_heldout(rows, HELDOUT_SHARE, tune.seed)
    if len(train) < 2:
        raise EmbedderTuningError(
            f"only {len(train)} training triplet(s): give more labelled questions whose answers are in the store"
        )
    base = resolve_embedder(config.models)
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    before = triplet_accuracy(model, heldout)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=tune.embedder_epochs,
        per_device_train_batch_size=min(tune.embedder_batch_size, len(train)),
        learning_rate=tune.embedder_learning_rate,
        warmup_steps=0.1,  # a float is a share of the steps
        save_strategy="no",
        logging_steps=10,
        report_to=[],
        disable_tqdm=not progress,
        use_cpu=True,
        seed=tune.seed,
        dataloader_num_workers=0,
        batch_sampler=BatchSamplers.NO_DUPLICATES,  # a text twice in a batch would be its own negative
    )
    columns = {
        "anchor": [r.query for r in train],
        "positive": [r.positive for r in train],
        "negative": [r.negative for r in train],
    }
    loss = MultipleNegativesRankingLoss(model)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_dict(columns), loss=loss)
    show_progress(trainer, progress, "training the embedder")
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    model.save(str(out / MODEL_DIR))
    metrics = {
        "triplets": len(train),
        "train_loss": float(output.training_loss),
        "fit_seconds": round(seconds, 1),
        "steps": int(output.global_step),
        # Held-out questions: the share whose positive is closer than their hard negative, before and after.
        "heldout_triplets": len(heldout),
        "heldout_accuracy_before": before,
        "heldout_accuracy_after": triplet_accuracy(model, heldout),
    }
    settings = {
        "epochs": tune.embedder_epochs,
        "batch_size": tune.embedder_batch_size,
        "learning_rate": tune.embedder_learning_rate,
        "data": data_note,
    }
    digest = hashlib.sha256("\n".join(f"{r.query}\t{r.positive}\t{r.negative}" for r in rows).encode()).hexdigest()
    name = config.models.embedder.strip() or "default"
    write_manifest(
        out, AdapterManifest(KIND, name, embedder_fingerprint(base, config.models), digest, settings, metrics)
    )
    return EmbedderResult(out, out / MODEL_DIR, metrics)


def tune_on_store(config: Any, out: Path, data: Path | None, *, progress: bool = True) -> EmbedderResult:
    """`ragtune tune --kind embedder --data qa.jsonl`: triplets mined from the workspace's store for the labelled
    questions of `data`, the embedder tuned on them and written to `out`."""
    from ragtune.models.loader import load_embedder

    if data is None:
        raise EmbedderTuningError(
            "--kind embedder needs labelled questions (--data qa.jsonl): tuned on questions written from the corpus "
            "it lowered SciFact's nDCG@10 (0.728 -> 0.719). Without labels, keep the shipped embedder or try "
            "`ragtune tune --kind reranker` and measure both with `ragtune eval-retrieval`"
        )
    tune = config.tune
    embedder = load_embedder(config.models, config.store.embed_batch_size)
    mined = mine_store(config, embedder, lambda _: labelled_queries(data, tune.embedder_queries, tune.seed), 1)
    rows = triplets(mined.examples)
    if not rows:
        raise EmbedderTuningError(
            f"{data}: none of its {len(mined.queries)} answerable questions has its answer in a stored chunk; "
            "ingest the documents they are about first"
        )
    note = {
        "source": str(data),
        "chunks": mined.chunks,
        "questions": len(mined.queries),
        "mining_seconds": round(mined.seconds, 1),
    }
    return train_embedder(rows, out, config, data_note=note, progress=progress)
