"""`ragtune tune --kind embedder`: the shipped all-MiniLM-L6-v2 tuned on labelled HotpotQA questions over their
real paragraphs (a short real training), its manifest, and how a tuned embedder is used: a new workspace ingested
with it, the old one refusing it, and eval-retrieval keeping its vectors in a table of their own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.models.adapters import read_manifest
from ragtune.rerank import PairExample
from ragtune.store import open_store
from ragtune.store.sync import sync_documents
from ragtune.tune.embedder import Triplet, split_heldout, triplets
from tests.hotpot import hotpot_documents
from tests.store.test_cli_kb import _run

SMALL = ["--set", "tune.embedder_batch_size=8", "--set", "tune.embedder_epochs=1"]


def test_triplets_take_one_hard_negative_per_query() -> None:
    rows = [
        PairExample("q1", "positive one", 1.0),
        PairExample("q1", "negative a", 0.0),
        PairExample("q1", "negative b", 0.0),
        PairExample("q2", "positive two", 1.0),
        PairExample("q3", "positive three", 1.0),  # no negative mined: no triplet
        PairExample("q3-other", "stray negative", 0.0),
    ]
    assert triplets(rows) == [Triplet("q1", "positive one", "negative a")]


def test_a_question_asked_twice_stays_on_one_side_of_the_held_out_split() -> None:
    rows = [Triplet(f"q{i % 10}", f"p{i}", f"n{i}") for i in range(30)]
    train, heldout = split_heldout(rows, 0.1, seed=0)
    assert len(heldout) == 3 and len({r.query for r in heldout}) == 1  # one question of ten, with its 3 rows
    assert not {r.query for r in train} & {r.query for r in heldout} and len(train) + len(heldout) == 30


def test_tune_embedder_then_use_it_on_a_new_workspace(
    shared_data: Path, embedder: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs, rows = hotpot_documents(shared_data, questions=24)
    config = Config(workspace=str(tmp_path / "ws"))
    store = open_store(config, embedder.identity)
    sync_documents(docs, store, embedder, config, progress=False)
    store.close()
    qa = tmp_path / "qa.jsonl"
    spans = [r for r in rows if r["answer"].lower() not in ("yes", "no")]
    qa.write_text("\n".join(json.dumps({"question": r["question"], "answer": r["answer"]}) for r in spans))
    ws = ["--workspace", config.workspace]

    code, _, err = _run(capsys, *ws, "tune", "--kind", "embedder", "--no-progress")
    assert code == 1 and "--data" in err and "0.719" in err and "Traceback" not in err

    code, out, _ = _run(capsys, *ws, *SMALL, "tune", "--kind", "embedder", "--data", str(qa), "--no-progress")
    assert code == 0, out
    model = Path(next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("embedder: ")))
    assert "held-out questions" in out and f"models.embedder={model}" in out
    manifest = read_manifest(model.parent)
    assert manifest.kind == "embedder" and manifest.base_model_fingerprint == embedder.identity.fingerprint
    m = manifest.metrics
    assert m["triplets"] >= 10 and m["steps"] >= 2 and m["heldout_triplets"] >= 1
    assert 0.0 <= m["heldout_accuracy_before"] <= 1.0 and 0.0 <= m["heldout_accuracy_after"] <= 1.0
    assert manifest.config["data"]["source"] == str(qa)

    # The old workspace holds the shipped embedder's vectors: it refuses the tuned one and keeps its documents.
    tuned = ["--set", f"models.embedder={model}"]
    code, _, err = _run(capsys, *ws, *tuned, "search", spans[0]["question"])
    assert code == 1 and "all-MiniLM-L6-v2" in err and "Traceback" not in err
    # A new workspace ingested with it answers searches.
    source = tmp_path / "docs.jsonl"
    source.write_text("\n".join(json.dumps({"id": d.id, "title": d.id, "text": d.text}) for d in docs))
    new = ["--workspace", str(tmp_path / "tuned-ws")]
    code, out, _ = _run(capsys, *new, *tuned, "ingest", str(source), "--no-progress")
    assert code == 0 and f"added {len(docs)}" in out
    code, out, _ = _run(capsys, *new, *tuned, "search", spans[0]["question"], "--json", "-k", "5")
    assert code == 0 and len(json.loads(out)) == 5


def test_eval_retrieval_gives_a_tuned_embedder_a_table_of_its_own(embedder: Any) -> None:
    from ragtune.evaluate.retrieval import BeirData, table_name
    from ragtune.models.embedder import EmbedderIdentity

    data = BeirData(name="scifact", corpus=[], queries={}, qrels={})
    assert table_name(data, embedder.identity) == table_name(data) == "beir_scifact"
    tuned = EmbedderIdentity("/runs/embedder/model", "ab" * 32, embedder.dim)
    assert table_name(data, tuned) == "beir_scifact_" + "ab" * 6
