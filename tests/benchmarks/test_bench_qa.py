"""The QA dev suite's data loaders, subsets, scoring and command line (no models: the suite's answers are measured by
running it, `python -m benchmarks qa`)."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from benchmarks import bench_qa, qa_data
from benchmarks.qa_scores import ALL, Record, score, summaries


def test_squad2_keeps_both_kinds_in_their_shares_and_indexes_every_context(shared_data: Path) -> None:
    s = qa_data.squad2(120, root=shared_data)
    shapes = Counter(q.shape for q in s.questions)
    assert len(s.documents) == 411
    assert sum(shapes.values()) == 120 and set(shapes) == {"extractive", "unanswerable"}
    assert abs(shapes["unanswerable"] / 120 - 258 / 500) < 0.02  # the data's own share
    assert all(q.golds and q.answerable for q in s.questions if q.shape == "extractive")
    assert all(not q.golds and not q.answerable for q in s.questions if q.shape == "unanswerable")
    assert s.has_unanswerable and not s.decides
    assert [q.id for q in qa_data.squad2(120, root=shared_data).questions] == [q.id for q in s.questions]


def test_hotpotqa_shapes_and_one_document_per_paragraph_title(shared_data: Path) -> None:
    s = qa_data.hotpotqa(None, root=shared_data)
    assert Counter(q.shape for q in s.questions) == {"bridge": 38, "comparison": 5, "yes/no": 9}
    ids = [d.id for d in s.documents]
    assert len(ids) == len(set(ids))  # deduplicated by title
    rows = [json.loads(x) for x in (shared_data / "hotpotqa-dev52" / "hotpot_dev_distractor_52.jsonl").open()]
    titles = {t for r in rows for t in r["context"]["title"]}
    assert set(ids) == titles and len(ids) < sum(len(r["context"]["title"]) for r in rows)
    supporting = {t for r in rows for t in r["supporting_facts"]["title"]}
    assert supporting <= set(ids)  # both facts of every question are in the corpus
    doc = next(d for d in s.documents if d.id == "Scott Derrickson")
    assert doc.title == "Scott Derrickson" and doc.text.startswith("Scott Derrickson (born July 16, 1966)")
    assert all(q.golds[0] in ("yes", "no") for q in s.questions if q.shape == "yes/no") and s.decides


def test_pubmedqa_documents_hold_the_abstract_without_its_conclusion(shared_data: Path) -> None:
    s = qa_data.pubmedqa(120, root=shared_data)
    data = json.loads((shared_data / "pubmedqa-dev500" / "pqal_dev500.json").read_text(encoding="utf-8"))
    assert len(s.documents) == 500 and len(s.questions) == 120
    by_id = {d.id: d for d in s.documents}
    for pmid, entry in list(data.items())[:100]:
        text = by_id[f"pmid-{pmid}"].text
        assert entry["LONG_ANSWER"][:80] not in text
        assert all(c[:60] in text for c in entry["CONTEXTS"])
        assert text.startswith(entry["LABELS"][0].capitalize() + ": ")
    shapes = Counter(q.shape for q in s.questions)
    assert set(shapes) == {"yes", "no", "maybe"} and shapes["yes"] > shapes["no"] > shapes["maybe"]
    assert all(q.golds == (q.shape,) for q in s.questions) and s.decides


def test_covidqa_indexes_every_article_and_spreads_its_questions(shared_data: Path) -> None:
    s = qa_data.covidqa(80, root=shared_data)
    assert len(s.documents) == 98 and len(s.questions) == 80
    assert all(q.golds and q.answerable and q.shape == "extractive" for q in s.questions)
    ids = [int(q.id) for q in s.questions]
    assert ids == sorted(ids) and len(set(ids)) == 80


def test_sample_asks_its_test_questions_without_changed_facts() -> None:
    s = qa_data.sample(None)
    assert len(s.documents) == 45
    assert Counter(q.shape for q in s.questions) == {"answerable": 108, "unanswerable": 36}
    from ragtune.samples import sample as sample_paths

    rows = [json.loads(x) for x in sample_paths().questions.read_text(encoding="utf-8").splitlines() if x.strip()]
    changed = {r["id"] for r in rows if r["changed"]}
    assert changed and not changed & {q.id for q in s.questions}
    assert {q.id for q in s.questions} == {r["id"] for r in rows if r["split"] == "test" and not r["changed"]}


def test_a_missing_data_set_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(qa_data.DataMissing, match="hotpotqa-dev52"):
        qa_data.hotpotqa(None, root=tmp_path)


def test_stratified_subsets_keep_shares_and_every_group() -> None:
    items = [("a", i) for i in range(90)] + [("b", i) for i in range(9)] + [("c", 0)]
    chosen = qa_data.stratified(items, 20, key=lambda x: x[0])
    kinds = Counter(k for k, _ in chosen)
    assert kinds == {"a": 18, "b": 2, "c": 1}
    assert chosen == qa_data.stratified(items, 20, key=lambda x: x[0])  # deterministic
    assert qa_data.spread(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert qa_data.spread([1, 2], 5) == [1, 2]


@dataclass(frozen=True)
class _Src:
    doc_id: str


@dataclass(frozen=True)
class _Answer:
    """The fields of an answer the suite reads (scoring is tested here; answering is measured by the suite)."""

    text: str
    refused: bool = False
    refusal_reason: str = ""
    sources: tuple[_Src, ...] = ()
    tokens_in: int = 0


def _record(text: str, gold: tuple[str, ...], *, shape: str = "yes", refused: bool = False, draft: str = "") -> Record:
    final = _Answer(text, refused=refused, refusal_reason="unsupported" if refused else "")
    return score(
        item_id=f"{shape}-{text}",
        dataset="d",
        shape=shape,
        config="c",
        question="q?",
        gold=gold,
        answerable=bool(gold),
        final=final,
        draft=_Answer(draft or text),
        seconds=0.5,
    )


def test_records_score_decisions_by_the_first_word_and_refusals_by_kind() -> None:
    yes = _record("Yes, in most patients.", ("yes",))
    late = _record("The study says yes.", ("yes",))
    refused = _record("The documents do not say.", ("no",), shape="no", refused=True, draft="No, it does not.")
    unanswerable = _record("The documents do not say.", (), shape="unanswerable", refused=True)
    assert yes.correct and yes.decision == "yes"
    assert not late.correct and late.decision == ""
    assert not refused.correct and refused.unrefused_correct
    assert unanswerable.correct
    stats = summaries([yes, late, refused, unanswerable], {"d": True})
    whole = next(s for s in stats if s.shape == ALL)
    assert whole.n == 4 and whole.answerable == 3
    assert whole.accuracy == pytest.approx(1 / 3) and whole.accuracy_unrefused == pytest.approx(2 / 3)
    assert whole.refusal_recall == 1.0 and whole.answerable_refused == pytest.approx(1 / 3)
    assert whole.opens_decision == pytest.approx(1 / 4)
    assert math.isnan(next(s for s in stats if s.shape == "unanswerable").accuracy)


def test_the_index_cache_key_follows_documents_and_chunking(tmp_path: Path) -> None:
    s = qa_data.sample(None)
    base = bench_qa.make_config({}, tmp_path)
    smaller = bench_qa.make_config({"corpus.chunk_tokens": "100"}, tmp_path)
    rag_only = bench_qa.make_config(bench_qa.PLAIN, tmp_path)
    fewer = qa_data.QASet(s.name, s.documents[1:], s.questions, s.note)
    key = bench_qa.store_key(s, base)
    assert key == bench_qa.store_key(s, rag_only)  # answering settings share one index
    assert key != bench_qa.store_key(s, smaller) and key != bench_qa.store_key(fewer, base)


def test_the_command_line_rejects_unknown_names_and_settings_before_loading_models() -> None:
    with pytest.raises(SystemExit, match="unknown nope"):
        bench_qa.main(["--datasets", "hotpotqa,nope"])
    with pytest.raises(SystemExit, match="rag.nope"):
        bench_qa.main(["--datasets", "hotpotqa", "--set", "rag.nope=1"])
    assert set(bench_qa.CONFIGS) == {"default", "plain", "closed-book"}
    assert not bench_qa.CONFIGS["closed-book"].reads_sources


def test_saved_answers_read_back_as_the_same_records(tmp_path: Path) -> None:
    records = [_record("Yes, it does.", ("yes",)), _record("The documents do not say.", (), shape="u", refused=True)]
    path = tmp_path / "run.jsonl"
    path.write_text("".join(json.dumps(asdict(r)) + "\n" for r in records), encoding="utf-8")
    assert bench_qa.read_records(path) == records
    assert bench_qa.read_records(tmp_path / "none.jsonl") == []
