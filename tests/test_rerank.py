"""The reranker that ragtune trains (`tune --kind reranker`), its loading through `retrieval.reranker`, the fused
reranking, and the second hop: real HotpotQA paragraphs, the real all-MiniLM-L6-v2 weights, a short real training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ragtune.cli import main
from ragtune.config import Config, RetrievalConfig
from ragtune.corpus.chunking import embedding_text
from ragtune.models.adapters import read_manifest
from ragtune.rerank import (
    CrossEncoderReranker,
    RerankerError,
    base_weights,
    check_folder,
    corpus_queries,
    holds_answer,
    mine_examples,
)
from ragtune.retrieve import Retriever, bridge_names, rrf_fuse
from ragtune.store import open_store
from ragtune.store.base import Hit
from ragtune.store.sync import sync_documents
from tests.hotpot import hotpot_documents

# A short training: a few dozen pairs, one pass, short inputs.
SMALL = [
    "--set",
    "tune.reranker_queries=24",
    "--set",
    "tune.reranker_negatives=1",
    "--set",
    "tune.reranker_max_length=128",
    "--set",
    "tune.reranker_batch_size=8",
    "--set",
    "tune.reranker_epochs=1",
]


@pytest.fixture
def hotpot_store(shared_data: Path, embedder: Any, tmp_path: Path) -> Any:
    config = Config(workspace=str(tmp_path / "ws"))
    store = open_store(config, embedder.identity)
    docs, rows = hotpot_documents(shared_data)
    sync_documents(docs, store, embedder, config, progress=False)
    yield config, store, rows
    store.close()


def test_holds_answer_whole_words_and_no_yes_no() -> None:
    assert holds_answer("Founded in 1914 in Paris.", "1914")
    assert not holds_answer("Founded in 19145.", "1914")
    assert not holds_answer("yes, it was", "yes")


def test_queries_and_hard_negatives_from_the_corpus(hotpot_store: Any, embedder: Any) -> None:
    config, store, _ = hotpot_store
    chunks = store.chunks()
    queries = corpus_queries(chunks, limit=40, seed=0)
    by_id = {c.id: c for c in chunks}
    assert len(queries) == 40 and len({q.chunk_id for q in queries}) == 40  # one query per chunk first
    facts = [q for q in queries if q.answer]
    claims = [q for q in queries if not q.answer]
    assert facts and claims
    for q in facts:  # a fact question is answered by its own chunk, and does not give its answer away
        assert holds_answer(by_id[q.chunk_id].text, q.answer) and q.query.endswith("?")
    for q in claims:  # a claim is a sentence of its chunk, asked against the rest of the passage
        assert q.query in by_id[q.chunk_id].text and q.query not in q.passage
    retriever = Retriever(store, embedder, config.retrieval)
    examples = mine_examples(queries, retriever, chunks, negatives=2, seed=0)
    positives = [e for e in examples if e.label == 1.0]
    assert len(positives) >= 30 and len(examples) > 2 * len(positives)
    source = {q.query: q for q in queries}
    texts = {embedding_text(c): c for c in chunks}
    for e in examples:
        if e.label == 0.0:
            q, chunk = source[e.query], texts[e.passage]
            assert chunk.doc_id != q.doc_id and not (q.answer and holds_answer(e.passage, q.answer))


def test_tune_reranker_then_search_and_eval_use_it(
    hotpot_store: Any, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, store, rows = hotpot_store
    store.close()
    ws = ["--workspace", config.workspace]
    with pytest.raises(SystemExit) as exit_info:
        main([*ws, *SMALL, "tune", "--kind", "reranker", "--no-progress"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    folder = Path(next(line.split(": ", 1)[1] for line in printed.splitlines() if line.startswith("reranker: ")))
    manifest = read_manifest(folder)
    _, _, fingerprint = base_weights(config.models)
    assert manifest.kind == "reranker" and manifest.base_model_fingerprint == fingerprint
    assert manifest.metrics["queries"] >= 18 and manifest.metrics["pairs"] >= 36
    assert manifest.config["data"]["source"].startswith("corpus")
    assert manifest.metrics["heldout_queries"] >= 2 and 0.0 <= manifest.metrics["heldout_pairwise_accuracy"] <= 1.0
    assert "held-out pairwise accuracy" in printed
    # The held-out queries searched without and with it: what the user reads before turning it on.
    m = manifest.metrics
    assert m["heldout_found_at_k"] == 5 and "held-out queries with a relevant chunk in the top 5" in printed
    for key in ("heldout_found_hybrid", "heldout_found_reranked", "heldout_mrr_hybrid", "heldout_mrr_reranked"):
        assert 0.0 <= m[key] <= 1.0
    assert m["heldout_mrr_hybrid"] > 0  # written from the corpus: the first stage finds most of them
    assert check_folder(str(folder)) == folder.resolve()

    # Search with it: the reranked top 5 are the first stage's top `rerank_candidates`, in the fused order (linked
    # documents off, which would place what hits mention after the top 3 of either).
    question = rows[0]["question"]
    unlinked = [*ws, "--set", "retrieval.linked_documents=false"]
    with pytest.raises(SystemExit):
        main([*unlinked, "--set", f"retrieval.reranker={folder}", "search", question, "--json", "-k", "5"])
    reranked = json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit):
        main([*unlinked, "search", question, "--json", "-k", "20"])
    plain = json.loads(capsys.readouterr().out)
    assert len(reranked) == 5 and {h["chunk_id"] for h in reranked} <= {h["chunk_id"] for h in plain}
    defaults = RetrievalConfig()  # the fusion `search` applies: the top rerank_candidates, at rerank_weight
    weight = defaults.rerank_weight
    model = CrossEncoderReranker(folder, weight=weight, rrf_k=60)
    first = [Hit(_chunk(h), h["score"]) for h in plain][: defaults.rerank_candidates]
    scores = model.scores(question, first)
    by_model = [h for _, h in sorted(zip(scores, first, strict=True), key=lambda p: -p[0])]
    expected = [h.chunk.id for h in rrf_fuse([by_model, first], (weight, 1.0), 60)][:5]
    assert [h["chunk_id"] for h in reranked] == expected
    assert [h["score"] for h in reranked] == pytest.approx(
        [scores[[c.chunk.id for c in first].index(i)] for i in expected]
    )

    # eval-retrieval adds the reranked entry beside the three plain ones.
    from tests.evaluate.test_retrieval import _mini_beir

    beir = _mini_beir(shared_data, tmp_path / "mini", n_queries=4, distractors=6)
    with pytest.raises(SystemExit) as exit_info:
        main([*ws, "--set", f"retrieval.reranker={folder}", "eval-retrieval", "--beir", str(beir), "--json"])
    assert exit_info.value.code == 0
    scores_json = json.loads(capsys.readouterr().out)
    assert set(scores_json) == {"dense", "bm25", "hybrid", "hybrid+rerank"}
    assert 0.0 < scores_json["hybrid+rerank"]["ndcg@10"] <= 1.0


def _chunk(hit: dict[str, Any]) -> Any:
    from ragtune.corpus.document import Chunk

    position = int(hit["chunk_id"].rsplit("#", 1)[1])
    return Chunk(hit["chunk_id"], hit["doc_id"], hit["text"], position, {"title": hit["title"] or ""})


@pytest.mark.parametrize("make", ["missing", "not_a_reranker"])
def test_a_bad_reranker_folder_is_one_clear_line(make: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "r"
    if make == "not_a_reranker":
        folder.mkdir()
    with pytest.raises(RerankerError, match="retrieval.reranker"):
        check_folder(str(folder))
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "x?", "answers": ["y"]}\n', encoding="utf-8")
    for command in (["search", "x"], ["eval-retrieval", "--questions", str(questions)]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--workspace", str(tmp_path / "ws"), "--set", f"retrieval.reranker={folder}", *command])
        err = capsys.readouterr().err.strip()
        assert exit_info.value.code == 1
        # The setting to mend, in one line, before any model loads (no progress bar of loading weights).
        assert err.startswith("error: retrieval.reranker") and "ragtune tune --kind reranker" in err
        assert "Traceback" not in err and "Loading weights" not in err


def test_second_hop_finds_the_bridge_paragraph(hotpot_store: Any, embedder: Any) -> None:
    _, store, rows = hotpot_store
    # The hop alone: linked documents, which would place what the hits mention after the top 3, are off.
    hop = Retriever(store, embedder, RetrievalConfig(second_hop=True, linked_documents=False))
    plain = Retriever(store, embedder, RetrievalConfig(linked_documents=False))
    questions = [r["question"] for r in rows]
    gold = [set(r["supporting_facts"]["title"]) for r in rows]
    got_hop = [g <= {h.chunk.doc_id for h in hop.search(q, k=5)} for q, g in zip(questions, gold, strict=True)]
    got_plain = [g <= {h.chunk.doc_id for h in plain.search(q, k=5)} for q, g in zip(questions, gold, strict=True)]
    # The hop keeps the first search's top 3, then the hits of the search with the bridge names and the rest in turn.
    q = questions[0]
    first = plain.search(q, k=100)
    names = bridge_names(q, first[0])
    assert names and not any(n in q for n in names)
    second = plain.search(f"{q} {' '.join(names)}", k=100)
    fused = [h.chunk.id for h in first[:3]]
    rest = [h.chunk.id for h in first[3:]]
    pools = [[h.chunk.id for h in second], rest]
    while len(fused) < 5:
        for pool in pools:
            while pool and pool[0] in fused:
                pool.pop(0)
            if pool and len(fused) < 5:
                fused.append(pool.pop(0))
    assert [h.chunk.id for h in hop.search(q, k=5)] == fused
    assert sum(got_hop) >= sum(got_plain)


def test_eval_retrieval_on_questions_counts_answers_in_chunks(
    hotpot_store: Any, embedder: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, store, rows = hotpot_store
    path = tmp_path / "qa.jsonl"
    lines: list[dict[str, Any]] = [{"question": r["question"], "answer": r["answer"]} for r in rows]
    # A question whose golds include a decision is a decision question (`ragtune.text.is_decision`): left out,
    # even when another gold is a span.
    lines.append({"question": rows[0]["question"] + " Or not?", "answers": ["yes", "Ed Wood"]})
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    spans = [r for r in rows if r["answer"].lower() not in ("yes", "no")]
    plain = Retriever(store, embedder, config.retrieval)
    by_hand = {
        mode: sum(
            any(holds_answer(h.chunk.text, r["answer"]) for h in plain.search(r["question"], k=3, mode=mode))
            for r in spans
        )
        / len(spans)
        for mode in ("dense", "bm25", "hybrid")
    }
    store.close()
    ws = ["--workspace", config.workspace, "--set", "retrieval.second_hop=true"]
    with pytest.raises(SystemExit) as exit_info:
        main([*ws, "eval-retrieval", "--questions", str(path), "-k", "3", "--json"])
    assert exit_info.value.code == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"dense", "bm25", "hybrid", "hybrid+hop"}
    for mode, share in by_hand.items():
        assert printed[mode]["answer_in_top3"] == pytest.approx(share) and printed[mode]["questions"] == len(spans)
    assert 0.0 <= printed["hybrid+hop"]["answer_in_top3"] <= 1.0


def test_labelled_questions_give_answer_holding_positives(hotpot_store: Any, embedder: Any, tmp_path: Path) -> None:
    from ragtune.rerank import labelled_queries

    config, store, rows = hotpot_store
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps({"question": r["question"], "answer": r["answer"]}) for r in rows))
    queries = labelled_queries(path, limit=100, seed=0)
    assert {q.query for q in queries} == {r["question"] for r in rows} and all(q.source == "labelled" for q in queries)
    retriever = Retriever(store, embedder, config.retrieval)
    examples = mine_examples(queries, retriever, store.chunks(), negatives=2, seed=0)
    answers = {q.query: q.answer for q in queries}
    positives = [e for e in examples if e.label == 1.0]
    assert positives  # yes/no answers are held by no chunk: those questions give no pair
    for e in examples:
        assert holds_answer(e.passage, answers[e.query]) == (e.label == 1.0)


def test_split_by_query_and_pairwise_accuracy() -> None:
    from ragtune.rerank import PairExample, pairwise_accuracy, split_by_query

    rows = [PairExample(f"q{i}", f"p{i}{j}", 1.0 if j == 0 else 0.0) for i in range(20) for j in range(3)]
    train, held = split_by_query(rows, 0.1, seed=0)
    assert len(held) == 6 and {e.query for e in train}.isdisjoint({e.query for e in held})

    class ByLength:  # a scorer: the longer passage wins
        def predict(self, pairs: list[tuple[str, str]], **_: Any) -> list[float]:
            return [float(len(p)) for _, p in pairs]

    examples = [PairExample("q", "long positive", 1.0), PairExample("q", "neg", 0.0), PairExample("q", "x" * 20, 0.0)]
    assert pairwise_accuracy(ByLength(), examples) == 0.5
    assert pairwise_accuracy(ByLength(), []) is None


def test_held_out_queries_need_five_and_keep_a_query_on_one_side() -> None:
    from ragtune.rerank import HELDOUT_MIN_QUERIES, held_out_queries

    assert held_out_queries(["a", "b", "a", "c", "d"], 0.1, seed=0) == set()  # four distinct: all train
    five = [f"q{i}" for i in range(HELDOUT_MIN_QUERIES)]
    assert len(held_out_queries(five + five, 0.1, seed=0)) == 1
    assert held_out_queries(five, 0.1, seed=3) == held_out_queries(reversed(five), 0.1, seed=3)  # order-free


def test_a_reranker_on_two_documents_says_it_is_unmeasured_and_prints_no_library_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two documents give two queries: nothing can be held out, so no held-out figures (they used to print 0.000
    for both, and a warning that the reranker does not help). The training's bar stays and nothing else prints from
    the libraries: no `{'train_runtime': ...}` dict, no sentence-transformers "Converting ... to CrossEncoder"."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text("# Returns\n\nYou can return any unused item within 30 days for a refund.\n")
    (docs / "shipping.md").write_text("# Shipping\n\nExpress shipping costs 12 euros and takes 2 days.\n")
    ws = ["--workspace", str(tmp_path / "ws")]
    with pytest.raises(SystemExit) as exit_info:
        main([*ws, "ingest", str(docs), "--no-progress"])
    assert exit_info.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*ws, "tune", "--kind", "reranker", "--out", str(tmp_path / "rr")])  # progress on: the Trainer's bar
    printed = capsys.readouterr()
    assert exit_info.value.code == 0, printed.err
    assert "too few to hold any out" in printed.err and "held-out queries with" not in printed.out
    assert "warning" not in printed.err
    assert "{'" not in printed.out + printed.err and "Converting" not in printed.err
    assert "training the reranker: 100%" in printed.err  # the bar says what it is
    metrics = read_manifest(tmp_path / "rr").metrics
    assert metrics["heldout_queries"] == 0 and "heldout_mrr_reranked" not in metrics
