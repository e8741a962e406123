"""Retrieval metrics against ir-measures (pytrec_eval), BEIR loading, and a small end-to-end evaluation."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import ir_measures
import pytest
from ir_measures import RR, R, nDCG

from ragtune.cli import main
from ragtune.errors import InputFileError
from ragtune.evaluate.retrieval import (
    evaluate_beir,
    load_beir,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
    score_runs,
)


def test_hand_computed_case() -> None:
    rels = {"a": 2, "b": 1, "z": 0}
    ranking = ["x", "a", "z", "b"]
    dcg = 2 / math.log2(3) + 1 / math.log2(5)  # ranks 2 and 4; 'z' is judged but not relevant
    idcg = 2 / 1 + 1 / math.log2(3)
    assert ndcg_at_k(ranking, rels, 10) == pytest.approx(dcg / idcg)
    assert recall_at_k(ranking, rels, 2) == 0.5 and recall_at_k(ranking, rels, 10) == 1.0
    assert mrr_at_k(ranking, rels, 10) == 0.5 and mrr_at_k(["x", "z"], rels, 10) == 0.0


def test_metrics_agree_with_ir_measures() -> None:
    rng = random.Random(7)
    docs = [f"d{i}" for i in range(300)]
    qrels: dict[str, dict[str, int]] = {}
    runs: dict[str, list[str]] = {}
    for q in range(60):
        judged = rng.sample(docs, rng.randint(1, 12))
        qrels[f"q{q}"] = {d: rng.choice([0, 1, 1, 2, 3]) for d in judged}
        if not any(qrels[f"q{q}"].values()):
            qrels[f"q{q}"][judged[0]] = 1
        # Rankings that often contain relevant documents, at varied depths.
        pool = list(dict.fromkeys(rng.sample(judged, len(judged)) + rng.sample(docs, 150)))
        runs[f"q{q}"] = pool[: rng.choice([5, 40, 120])]
    ours = score_runs(runs, qrels)
    qrel_list = [ir_measures.Qrel(q, d, r) for q, rels in qrels.items() for d, r in rels.items()]
    # Distinct descending scores so that trec_eval's order is exactly our ranking.
    run_list = [ir_measures.ScoredDoc(q, d, 1000.0 - i) for q, ranking in runs.items() for i, d in enumerate(ranking)]
    ref = ir_measures.calc_aggregate([nDCG @ 10, R @ 10, R @ 100, RR @ 10], qrel_list, run_list)
    assert ours.ndcg_10 == pytest.approx(ref[nDCG @ 10], abs=1e-9)
    assert ours.recall_10 == pytest.approx(ref[R @ 10], abs=1e-9)
    assert ours.recall_100 == pytest.approx(ref[R @ 100], abs=1e-9)
    assert ours.mrr_10 == pytest.approx(ref[RR @ 10], abs=1e-9)
    assert ours.queries == 60


def test_load_beir_scifact(shared_data: Path) -> None:
    data = load_beir(shared_data / "scifact", "test")
    assert len(data.corpus) == 5183 and len(data.queries) == 300
    assert sum(len(r) for r in data.qrels.values()) == 339
    assert data.qrels["1"] == {"31715818": 1}
    assert data.corpus[0].title and data.corpus[0].metadata == {"title": data.corpus[0].title}
    with pytest.raises(InputFileError, match="splits here: test, train"):
        load_beir(shared_data / "scifact", "dev")


def test_load_beir_on_what_is_not_beir(tmp_path: Path) -> None:
    """A folder of documents, a file or a typo given to --beir: say what a BEIR folder is, not 'use --split'."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Kessel has a bridge.", encoding="utf-8")
    for given, what in (
        (docs, "no qrels/ folder"),
        (docs / "a.txt", "a file, not a folder"),
        (tmp_path / "nope", "not found"),
    ):
        with pytest.raises(InputFileError, match=rf"not a BEIR data set \({what}\); a BEIR folder holds") as info:
            load_beir(given)
        assert str(given) in str(info.value) and "--questions" in str(info.value)


def test_load_beir_qrels_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    qrels = tmp_path / "qrels" / "test.tsv"
    qrels.write_bytes(b"q\xe9\td1\t1\n")
    with pytest.raises(InputFileError, match=rf"{qrels}: not UTF-8 text \(invalid byte 0xe9"):
        load_beir(tmp_path)


def _mini_beir(shared_data: Path, folder: Path, n_queries: int = 8, distractors: int = 16) -> Path:
    """A small BEIR folder cut from SciFact: some test queries, their relevant documents, a few others."""
    src = shared_data / "scifact"
    lines = (src / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], [line.split("\t") for line in lines[1:]]
    queries = sorted({r[0] for r in rows})[:n_queries]
    keep = [r for r in rows if r[0] in queries]
    wanted = {r[1] for r in keep}
    corpus = [json.loads(line) for line in (src / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    chosen = [d for d in corpus if d["_id"] in wanted] + [d for d in corpus if d["_id"] not in wanted][:distractors]
    all_queries = [json.loads(line) for line in (src / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    (folder / "qrels").mkdir(parents=True)
    (folder / "qrels" / "test.tsv").write_text("\n".join([header, *("\t".join(r) for r in keep)]), encoding="utf-8")
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in chosen), encoding="utf-8")
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps(q) for q in all_queries if q["_id"] in queries), encoding="utf-8"
    )
    return folder


def test_evaluate_beir_slice_and_cli(
    shared_data: Path, embedder: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ragtune.config import Config

    folder = _mini_beir(shared_data, tmp_path / "mini")
    config = Config(workspace=str(tmp_path / "ws"))
    scores, report = evaluate_beir(folder, config, embedder, progress=False)
    assert report.added == len(load_beir(folder).corpus) and report.chunks_written >= report.added
    assert set(scores) == {"dense", "bm25", "hybrid"}
    for mode, s in scores.items():
        assert s.queries == 8
        assert 0.5 < s.ndcg_10 <= 1.0, (mode, s)  # relevant documents among few distractors rank high
        if mode != "bm25":  # BM25 never returns a document that shares no word with the query
            assert s.recall_100 == 1.0  # every document is within the top 100 of a small corpus
    # The CLI: same workspace, so the corpus is already indexed and nothing is embedded again.
    with pytest.raises(SystemExit) as exit_info:
        main(["--workspace", str(tmp_path / "ws"), "eval-retrieval", "--beir", str(folder), "--json"])
    assert exit_info.value.code == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"dense", "bm25", "hybrid"}
    assert set(printed["hybrid"]) == {"ndcg@10", "recall@10", "recall@100", "mrr@10"}
    assert printed["bm25"]["ndcg@10"] == pytest.approx(scores["bm25"].ndcg_10)
    _, again = evaluate_beir(folder, config, embedder, progress=False)
    assert (again.added, again.updated, again.chunks_written) == (0, 0, 0)
