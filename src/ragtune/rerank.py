"""A cross-encoder reranker that ragtune trains on the user's own corpus (`ragtune tune --kind reranker`), and the
reranking that retrieval applies when `retrieval.reranker` names its folder.

Training follows the GPL recipe (Wang et al. 2022) with what ships offline: queries come from the user's labelled
questions when given, else from the corpus itself (a fact question the synth rules write from a sentence, and the
sentence itself as a claim about the rest of its passage); the chunk they came from is the positive, and BM25 and
dense neighbours that do not hold the answer are the hard negatives. The cross-encoder starts from the shipped
all-MiniLM-L6-v2 weights (a fresh one-logit head) and is trained with sentence-transformers' CrossEncoderTrainer.

At query time the cross-encoder scores the top `retrieval.rerank_candidates` of the hybrid search, and its ranking
is fused with the hybrid ranking by reciprocal rank fusion (`retrieval.rerank_weight` : 1): a reranker trained on
one corpus's synthetic queries never throws away what the first stage knew.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.corpus.chunking import embedding_text
from ragtune.corpus.document import Chunk, Document
from ragtune.errors import RagtuneError
from ragtune.models.adapters import MANIFEST_NAME, AdapterManifest, read_manifest, write_manifest
from ragtune.models.training import show_progress
from ragtune.store.base import Hit
from ragtune.text import contains_answer, normalize_answer

if TYPE_CHECKING:
    from ragtune.evaluate.questions import Question

KIND = "reranker"
MODEL_DIR = "model"
SETTING = "retrieval.reranker"


class RerankerError(RagtuneError):
    """`retrieval.reranker` does not name a usable reranker folder, or there is nothing to train a reranker on."""


# -- training data ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingQuery:
    """A query and how to tell its relevant chunks: one that holds `answer` (labelled and fact questions) or, when
    `answer` is empty, the chunk `chunk_id` it was written from. `passage` replaces that chunk's text as the
    positive (a claim query: the passage without the claim's own sentence)."""

    query: str
    answer: str = ""
    chunk_id: str = ""
    doc_id: str = ""
    passage: str = ""
    source: str = "synth"


@dataclass(frozen=True)
class PairExample:
    query: str
    passage: str
    label: float


def holds_answer(text: str, answer: str) -> bool:
    """The text holds the answer as whole normalised words; a 'yes'/'no' answer is held by no text."""
    return normalize_answer(answer) not in ("yes", "no") and contains_answer(text, answer)


def corpus_queries(chunks: Sequence[Chunk], limit: int, seed: int = 0) -> list[TrainingQuery]:
    """Queries written from the chunks alone, one chunk after another (coverage before depth): a fact question of
    the synth rules ("What percentage of ...?") and a claim (a sentence of the chunk, asked against the rest of its
    passage) per chunk, alternately, up to `limit`."""
    from ragtune.synth.candidates import sample_facts, usable_sentence
    from ragtune.synth.questions import wh_draft
    from ragtune.synth.textkit import split_sentences

    rng = random.Random(seed)
    by_id = {c.id: c for c in chunks}
    docs = [Document(id=c.id, text=c.text, metadata={"title": c.title}) for c in chunks]
    facts: dict[str, TrainingQuery] = {}
    for fact in sample_facts(docs, seed):
        if fact.doc_id not in facts:
            chunk = by_id[fact.doc_id]
            facts[fact.doc_id] = TrainingQuery(wh_draft(fact).question, fact.answer, chunk.id, chunk.doc_id)
    claims: dict[str, TrainingQuery] = {}
    for chunk in chunks:
        sentences = split_sentences(chunk.text)
        usable = [s for s in sentences if usable_sentence(s, 40)]
        if len(sentences) >= 3 and usable:
            claim = rng.choice(usable)
            rest = " ".join(s for s in sentences if s != claim)
            passage = f"{chunk.title}\n{rest}" if chunk.title else rest
            claims[chunk.id] = TrainingQuery(claim, "", chunk.id, chunk.doc_id, passage)
    order = list(by_id)
    rng.shuffle(order)
    out: list[TrainingQuery] = []
    for i, cid in enumerate(order):
        first, second = (facts, claims) if i % 2 == 0 else (claims, facts)
        picked = first.get(cid) or second.get(cid)
        if picked is not None:
            out.append(picked)
        if len(out) >= limit:
            break
    return out


def labelled_queries(path: Path, limit: int, seed: int = 0) -> list[TrainingQuery]:
    """The answerable questions of a question file (question/answer JSONL or SQuAD JSON), shuffled, up to `limit`."""
    from ragtune.evaluate.questions import load_questions

    return question_queries(load_questions(path), limit, seed)


def question_queries(questions: Sequence[Question], limit: int, seed: int = 0) -> list[TrainingQuery]:
    """The answerable questions with an answer, shuffled, up to `limit`: each relevant where its answer is."""
    asked = [q for q in questions if q.answerable and q.answers]
    random.Random(seed).shuffle(asked)
    return [TrainingQuery(q.question, q.answers[0], "", q.doc_id, source="labelled") for q in asked[:limit]]


def mining_retriever(store: Any, embedder: Any, retrieval: Any) -> Any:
    """The first stage alone (no reranker, no second hop) over `store`: where the hard negatives are mined."""
    from ragtune.retrieve import Retriever

    return Retriever(store, embedder, replace(retrieval, reranker="", second_hop=False))


def _relevant(hit: Hit, q: TrainingQuery) -> bool:
    if q.answer:
        return holds_answer(embedding_text(hit.chunk), q.answer) and (not q.doc_id or q.doc_id == hit.chunk.doc_id)
    return hit.chunk.id == q.chunk_id or hit.chunk.doc_id == q.doc_id


def _maybe_relevant(hit: Hit, q: TrainingQuery) -> bool:
    """Never a negative: a chunk that holds the answer, or one of the source chunk's document."""
    text = embedding_text(hit.chunk)
    return (
        (bool(q.answer) and holds_answer(text, q.answer)) or hit.chunk.doc_id == q.doc_id or hit.chunk.id == q.chunk_id
    )


def mine_examples(
    queries: Sequence[TrainingQuery],
    retriever: Any,
    chunks: Sequence[Chunk],
    negatives: int,
    seed: int = 0,
    depth: int = 30,
) -> list[PairExample]:
    """(query, passage, 1/0) rows: the positive, then `negatives` hard negatives drawn in turn from the BM25 and the
    dense neighbours (ranks 2 to `depth`: the very first neighbours are the likeliest unlabelled positives)."""
    rng = random.Random(seed)
    by_id = {c.id: c for c in chunks}
    out: list[PairExample] = []
    texts = [q.query for q in queries]
    dense = retriever.search_many(texts, k=depth, mode="dense")
    keyword = retriever.search_many(texts, k=depth, mode="bm25")
    for q, d_hits, k_hits in zip(queries, dense, keyword, strict=True):
        if q.passage:
            positive = q.passage
        elif q.chunk_id in by_id:
            positive = embedding_text(by_id[q.chunk_id])
        else:  # a labelled question: the best-ranked chunk that holds its answer
            found = next((h for h in (*k_hits, *d_hits) if _relevant(h, q)), None)
            if found is None:
                continue
            positive = embedding_text(found.chunk)
        pools = [[h for h in hits[1:] if not _maybe_relevant(h, q)] for hits in (k_hits, d_hits)]
        picked: dict[str, str] = {}
        for i in range(4 * negatives):
            pool = pools[i % 2]
            if len(picked) >= negatives or not any(pools):
                break
            if pool:
                hit = pool.pop(rng.randrange(len(pool)))
                picked.setdefault(hit.chunk.id, embedding_text(hit.chunk))
        if not picked:
            continue
        out.append(PairExample(q.query, positive, 1.0))
        out += [PairExample(q.query, text, 0.0) for text in picked.values()]
    return out


# -- training ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RerankerResult:
    folder: Path
    metrics: dict[str, Any] = field(default_factory=dict)


def base_weights(models: Any) -> tuple[Path, str, str]:
    """The cross-encoder's starting weights: the configured embedder's folder (the shipped all-MiniLM-L6-v2 by
    default), its name and the sha256 of its weight files."""
    from ragtune.models.registry import embedder_fingerprint, resolve_embedder

    folder = resolve_embedder(models)
    name = models.embedder.strip() or "default"
    return folder, name, embedder_fingerprint(folder, models)


def train_reranker(
    examples: Sequence[PairExample],
    out: Path,
    config: Any,
    *,
    data_note: dict[str, Any],
    progress: bool = True,
    measure: Callable[[Path, set[str]], dict[str, Any]] | None = None,
) -> RerankerResult:
    """Train a cross-encoder on `examples` (binary cross-entropy, one logit) and write it with a manifest to
    `out`; the manifest is written last, so its presence means the reranker is complete. `measure(folder, held-out
    query texts)` adds its figures to the manifest's metrics first (the saved model is in the folder by then)."""
    import hashlib

    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    if not examples:
        raise RerankerError("no training pairs: the corpus gave no query with a positive and a hard negative")
    tune = config.tune
    folder, name, fingerprint = base_weights(config.models)
    model = CrossEncoder(str(folder), num_labels=1, max_length=tune.reranker_max_length, device="cpu")
    rows, heldout = split_by_query(examples, HELDOUT_SHARE, tune.seed)
    dataset = Dataset.from_dict(
        {"query": [r.query for r in rows], "passage": [r.passage for r in rows], "label": [r.label for r in rows]}
    )
    args = CrossEncoderTrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=tune.reranker_epochs,
        per_device_train_batch_size=tune.reranker_batch_size,
        learning_rate=tune.reranker_learning_rate,
        warmup_steps=0.1,  # a float is a share of the steps (warmup_ratio is deprecated in transformers 5)
        save_strategy="no",
        logging_steps=10,
        report_to=[],
        disable_tqdm=not progress,
        use_cpu=True,
        seed=tune.seed,
        dataloader_num_workers=0,
    )
    positives = sum(r.label > 0 for r in rows)
    loss = BinaryCrossEntropyLoss(model, pos_weight=_pos_weight(len(rows), positives))
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss)
    show_progress(trainer, progress, "training the reranker")
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    model.save_pretrained(str(out / MODEL_DIR))
    accuracy = pairwise_accuracy(model, heldout)
    digest = hashlib.sha256("\n".join(f"{r.query}\t{r.passage}\t{r.label}" for r in examples).encode()).hexdigest()
    metrics = {
        "pairs": len(rows),
        "queries": positives,
        "train_loss": float(output.training_loss),
        "fit_seconds": round(seconds, 1),
        "steps": int(output.global_step),
        # Held-out queries: the share of (positive, negative) pairs ranked right; 0.5 is chance.
        "heldout_pairwise_accuracy": accuracy,
        "heldout_queries": sum(r.label > 0 for r in heldout),
    }
    settings = {
        "epochs": tune.reranker_epochs,
        "batch_size": tune.reranker_batch_size,
        "learning_rate": tune.reranker_learning_rate,
        "max_length": tune.reranker_max_length,
        "negatives": tune.reranker_negatives,
        "data": data_note,
    }
    if measure is not None and heldout:
        metrics |= measure(out, {r.query for r in heldout})
    write_manifest(out, AdapterManifest(KIND, name, fingerprint, digest, settings, metrics))
    return RerankerResult(out, metrics)


def heldout_retrieval(
    queries: Sequence[TrainingQuery], store: Any, embedder: Any, retrieval: Any, folder: Path
) -> dict[str, float]:
    """Does the reranker find more than the search it reranks? For each held-out query, whether a relevant chunk is
    in the top `retrieval.top_k` without it and with it, and the mean reciprocal rank of the first one in the
    reranked candidates. Queries written from the corpus are easy for the first stage (they repeat their passage),
    so a reranker that cannot beat it here is unlikely to on a user's questions."""
    from ragtune.retrieve import Retriever

    plain = mining_retriever(store, embedder, retrieval)
    model = CrossEncoderReranker(folder, retrieval.rerank_weight, retrieval.rrf_k, retrieval.rerank_int8)
    reranked = Retriever(store, embedder, plain.config, reranker=model)  # as retrieval.reranker would load it
    k, depth = retrieval.top_k, max(retrieval.top_k, retrieval.rerank_candidates)
    found = {"hybrid": 0.0, "reranked": 0.0}
    reciprocal = {"hybrid": 0.0, "reranked": 0.0}
    for q in queries:
        for name, retriever in (("hybrid", plain), ("reranked", reranked)):
            hits = retriever.search(q.query, k=depth)
            rank = next((i for i, h in enumerate(hits, start=1) if _relevant(h, q)), None)
            found[name] += rank is not None and rank <= k
            reciprocal[name] += 1.0 / rank if rank else 0.0
    n = max(len(queries), 1)
    return {
        "heldout_found_at_k": k,
        "heldout_found_hybrid": round(found["hybrid"] / n, 4),
        "heldout_found_reranked": round(found["reranked"] / n, 4),
        "heldout_mrr_hybrid": round(reciprocal["hybrid"] / n, 4),
        "heldout_mrr_reranked": round(reciprocal["reranked"] / n, 4),
    }


HELDOUT_SHARE = 0.1


HELDOUT_MIN_QUERIES = 5  # with fewer, every query trains and nothing is measured


def held_out_queries(queries: Iterable[str], share: float, seed: int) -> set[str]:
    """A random `share` of the distinct queries, at least one when there are HELDOUT_MIN_QUERIES or more, none with
    fewer: a query asked twice stays on one side (shared by the reranker's and the embedder's training)."""
    ordered = sorted(set(queries))
    random.Random(seed).shuffle(ordered)
    return set(ordered[: int(len(ordered) * share) or (1 if len(ordered) >= HELDOUT_MIN_QUERIES else 0)])


def split_by_query(
    examples: Sequence[PairExample], share: float, seed: int
) -> tuple[list[PairExample], list[PairExample]]:
    """Training rows (shuffled) and the rows of a held-out `share` of the queries (see `held_out_queries`)."""
    held = held_out_queries({e.query for e in examples}, share, seed)
    train = [e for e in examples if e.query not in held]
    random.Random(seed).shuffle(train)
    return train, [e for e in examples if e.query in held]


def pairwise_accuracy(model: Any, examples: Sequence[PairExample]) -> float | None:
    """Share of a query's (positive, negative) pairs the model scores in the right order; None without pairs."""
    if not examples:
        return None
    scores = model.predict([(e.query, e.passage) for e in examples], batch_size=32, show_progress_bar=False)
    by_query: dict[str, tuple[list[float], list[float]]] = {}
    for e, score in zip(examples, scores, strict=True):
        by_query.setdefault(e.query, ([], []))[0 if e.label > 0 else 1].append(float(score))
    right = total = 0
    for pos, neg in by_query.values():
        right += sum(p > n for p in pos for n in neg)
        total += len(pos) * len(neg)
    return right / total if total else None


def _pos_weight(rows: int, positives: int) -> Any:
    import torch

    return torch.tensor(max(rows - positives, 1) / max(positives, 1))


# -- loading and reranking -----------------------------------------------------------------------------------------


class CrossEncoderReranker:
    """`(query, hits) -> hits`: the cross-encoder's ranking of `hits`, fused with their incoming order."""

    def __init__(self, folder: Path, weight: float, rrf_k: int, int8: bool = True, batch_size: int = 32) -> None:
        import torch
        from sentence_transformers.cross_encoder import CrossEncoder

        self.folder = folder
        self.weight = weight
        self.rrf_k = rrf_k
        self.batch_size = batch_size
        self.model = CrossEncoder(str(folder / MODEL_DIR), device="cpu")
        if int8:  # dynamic int8 linear layers: several times faster on a CPU, the ranking nearly unchanged
            with warnings.catch_warnings():  # torch's notice that its quantized tensors move to torchao
                warnings.simplefilter("ignore", UserWarning)
                torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)

    def scores(self, query: str, hits: Sequence[Hit]) -> list[float]:
        pairs = [(query, embedding_text(h.chunk)) for h in hits]
        values = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return [float(v) for v in values]

    def __call__(self, query: str, hits: list[Hit]) -> list[Hit]:
        if len(hits) < 2:
            return list(hits)
        from ragtune.retrieve import rrf_fuse

        scores = self.scores(query, hits)
        ranked = [Hit(h.chunk, s) for s, h in sorted(zip(scores, hits, strict=True), key=lambda p: -p[0])]
        if self.weight == 0:
            return list(hits)
        fused = rrf_fuse([ranked, hits], (self.weight, 1.0), self.rrf_k)
        by_id = {h.chunk.id: h for h in ranked}
        return [by_id[h.chunk.id] for h in fused]  # the cross-encoder's score travels with the hit


def check_folder(value: str) -> Path:
    """The reranker folder `retrieval.reranker` names, or one line saying what is wrong and how to fix it."""
    folder = Path(value).expanduser()
    fix = "train one with `ragtune tune --kind reranker` (it prints the folder) or leave retrieval.reranker empty"
    if not folder.is_dir():
        raise RerankerError(f"{SETTING} = {value!r}: no such folder; {fix}")
    if not (folder / MANIFEST_NAME).is_file() or not (folder / MODEL_DIR / "config.json").is_file():
        raise RerankerError(
            f"{SETTING} = {value!r}: not a reranker folder (no {MANIFEST_NAME} and {MODEL_DIR}/); {fix}"
        )
    try:
        kind = read_manifest(folder).kind
    except RagtuneError as exc:
        raise RerankerError(f"{SETTING} = {value!r}: {exc}") from exc
    if kind != KIND:
        raise RerankerError(f"{SETTING} = {value!r}: this folder holds a '{kind}' adapter, not a reranker; {fix}")
    return folder.resolve()


@lru_cache(maxsize=4)
def _load(folder: Path, mtime_ns: int, weight: float, rrf_k: int, int8: bool) -> CrossEncoderReranker:
    return CrossEncoderReranker(folder, weight, rrf_k, int8)


def load_reranker(value: str, weight: float, rrf_k: int, int8: bool = True) -> CrossEncoderReranker:
    """The reranker of `retrieval.reranker` (loaded once per process and folder version)."""
    folder = check_folder(value)
    return _load(folder, (folder / MANIFEST_NAME).stat().st_mtime_ns, weight, rrf_k, int8)


@dataclass(frozen=True)
class MinedStore:
    """Training pairs mined from a workspace's store, and what they came from."""

    chunks: int
    queries: list[TrainingQuery]
    examples: list[PairExample]
    seconds: float


def mine_store(
    config: Any,
    embedder: Any,
    pick: Callable[[Sequence[Chunk]], list[TrainingQuery]],
    negatives: int,
) -> MinedStore:
    """The queries `pick` chooses from the store's chunks, with their positive and `negatives` hard negatives mined
    by the first-stage search (shared by `tune --kind reranker` and `tune --kind embedder`)."""
    from ragtune.store import open_store

    store = open_store(config, embedder.identity, must_exist=True)
    try:
        chunks = store.chunks()
        if not chunks:
            raise RerankerError("the store is empty: add documents first with `ragtune ingest PATH`")
        start = time.perf_counter()
        queries = pick(chunks)
        retriever = mining_retriever(store, embedder, config.retrieval)
        examples = mine_examples(queries, retriever, chunks, negatives, config.tune.seed)
        return MinedStore(len(chunks), queries, examples, time.perf_counter() - start)
    finally:
        store.close()


def train_on_store(config: Any, out: Path, data: Path | None = None, *, progress: bool = True) -> RerankerResult:
    """`ragtune tune --kind reranker`: queries from `data` (labelled questions) or from the workspace's ingested
    corpus, hard negatives mined from its store, a cross-encoder trained and written to `out`."""
    from ragtune.models.loader import load_embedder
    from ragtune.store import open_store

    tune = config.tune
    embedder = load_embedder(config.models, config.store.embed_batch_size)

    def pick(chunks: Sequence[Chunk]) -> list[TrainingQuery]:
        if data is not None:
            return labelled_queries(data, tune.reranker_queries, tune.seed)
        return corpus_queries(chunks, tune.reranker_queries, tune.seed)

    mined = mine_store(config, embedder, pick, tune.reranker_negatives)
    note = {
        "source": str(data) if data is not None else "corpus (synthesized queries)",
        "chunks": mined.chunks,
        "queries": len(mined.queries),
        "mining_seconds": round(mined.seconds, 1),
    }

    def measure(folder: Path, held: set[str]) -> dict[str, Any]:
        store = open_store(config, embedder.identity)
        try:
            heldout = [q for q in mined.queries if q.query in held]
            return heldout_retrieval(heldout, store, embedder, config.retrieval, folder)
        finally:
            store.close()

    return train_reranker(mined.examples, out, config, data_note=note, progress=progress, measure=measure)
