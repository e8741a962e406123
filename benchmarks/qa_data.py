"""The QA dev suite's data sets (`python -m benchmarks qa`): each one a corpus and a fixed subset of its questions.

Every loader is deterministic (no random draw: a subset is evenly spaced over the questions sorted by id, within
each shape, so a rerun and another machine ask the same questions) and reads only `../shared/data` or the bundled
sample. A missing data set raises `DataMissing` with the path, so the suite can skip it and say why.

Shapes (how the questions differ, reported separately):
- `squad2`: `extractive` (answerable), `unanswerable`;
- `hotpotqa`: `bridge`, `comparison` and `yes/no` (gold yes or no, taken out of the other two);
- `pubmedqa`: `yes`, `no`, `maybe` (by the gold decision; the answer's first word is scored);
- `covidqa`: `extractive`;
- `sample`: `answerable`, `unanswerable` (the test split; changed-fact questions are left out: against the first
  documents their answer is the old value, and compare measures them separately, before and after the update).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ragtune.corpus.document import Document
from ragtune.text import is_decision, normalize_answer

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
T = TypeVar("T")


class DataMissing(Exception):
    """A data set's files are not there (../shared beside the checkout); the suite skips that data set."""


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    golds: tuple[str, ...]  # empty when unanswerable
    shape: str
    answerable: bool = True


@dataclass(frozen=True)
class QASet:
    name: str
    documents: tuple[Document, ...]  # the corpus, indexed on its own
    questions: tuple[QAItem, ...]
    note: str  # what was indexed and which questions were chosen, for the table

    @property
    def has_unanswerable(self) -> bool:
        return any(not q.answerable for q in self.questions)

    @property
    def decides(self) -> bool:
        """Some golds are a decision (yes/no/maybe): report how many answers open with one."""
        return any(is_decision(q.golds) for q in self.questions)

    @property
    def shapes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.shape for q in self.questions))


def spread(items: Sequence[T], n: int) -> list[T]:
    """`n` items evenly spaced over `items` (all of them when there are no more than `n`)."""
    if n >= len(items):
        return list(items)
    return [items[i * len(items) // n] for i in range(max(0, n))]


def stratified(items: Sequence[T], n: int, key: Callable[[T], str]) -> list[T]:
    """About `n` items, each group (by `key`) keeping its share, at least one per group; order kept."""
    if n >= len(items):
        return list(items)
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    chosen = {id(x) for g in groups.values() for x in spread(g, max(1, round(n * len(g) / len(items))))}
    return [x for x in items if id(x) in chosen]


def _need(path: Path) -> Path:
    if not path.exists():
        raise DataMissing(f"{path} not found (clone the project with ../shared beside it)")
    return path


# ------------------------------------------------------------------------------------------------------ squad2


def squad2(n: int | None = 150, root: Path = SHARED) -> QASet:
    """SQuAD 2.0 dev sample: all 411 contexts indexed; about `n` questions, answerable and not in their shares."""
    import json

    folder = _need(root / "squad2-dev-sample500")
    queries = json.loads((folder / "queries.json").read_text(encoding="utf-8"))["queries"]
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    contexts = sorted({q["context"] for q in queries})
    docs = tuple(Document(id=f"ctx-{i:03d}", text=c, metadata={"title": ""}) for i, c in enumerate(contexts))
    items = [
        QAItem(
            id=str(q["id"]),
            question=str(q["question"]),
            golds=tuple(truth[q["id"]]["answers"]) if not truth[q["id"]]["is_impossible"] else (),
            shape="unanswerable" if truth[q["id"]]["is_impossible"] else "extractive",
            answerable=not truth[q["id"]]["is_impossible"],
        )
        for q in sorted(queries, key=lambda q: str(q["id"]))
    ]
    chosen = items if n is None else stratified(items, n, lambda q: q.shape)
    note = f"{len(docs)} contexts indexed; {len(chosen)} of {len(items)} questions (evenly spaced by id per shape)"
    return QASet("squad2", docs, tuple(chosen), note)


# ---------------------------------------------------------------------------------------------------- hotpotqa


def hotpot_shape(kind: str, answer: str) -> str:
    return "yes/no" if normalize_answer(answer) in ("yes", "no") else kind


def hotpotqa(n: int | None = None, root: Path = SHARED) -> QASet:
    """HotpotQA dev, distractor setting: every context paragraph (its title and sentences) one document of one
    corpus for all questions, deduplicated by title (the first text seen is kept; in dev52 repeats are identical)."""
    import json

    path = _need(root / "hotpotqa-dev52" / "hotpot_dev_distractor_52.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs: dict[str, Document] = {}
    for row in rows:
        for title, sentences in zip(row["context"]["title"], row["context"]["sentences"], strict=True):
            if title not in docs:
                body = "".join(sentences).strip()
                # The title is the document's title, as a JSONL corpus line {"id", "title", "text"} gives it:
                # chunks are embedded and shown under it, and it often names the bridge entity.
                docs[title] = Document(id=title, text=body, metadata={"title": title})
    items = [
        QAItem(str(r["id"]), str(r["question"]), (str(r["answer"]),), hotpot_shape(str(r["type"]), str(r["answer"])))
        for r in sorted(rows, key=lambda r: str(r["id"]))
    ]
    chosen = items if n is None else stratified(items, n, lambda q: q.shape)
    note = f"{len(docs)} paragraphs indexed (deduplicated by title); {len(chosen)} of {len(items)} questions"
    return QASet("hotpotqa", tuple(docs.values()), tuple(chosen), note)


def hotpot_supporting_titles(root: Path = SHARED) -> dict[str, tuple[str, ...]]:
    """Per HotpotQA question id, the titles (document ids of `hotpotqa()`) of its gold supporting paragraphs."""
    import json

    path = _need(root / "hotpotqa-dev52" / "hotpot_dev_distractor_52.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {str(r["id"]): tuple(dict.fromkeys(r["supporting_facts"]["title"])) for r in rows}


# ---------------------------------------------------------------------------------------------------- pubmedqa


def pubmed_document(pmid: str, entry: Mapping[str, Any]) -> Document:
    """The abstract without its conclusion: each section under its label as a heading (no LONG_ANSWER)."""
    contexts = [str(c) for c in entry["CONTEXTS"]]
    labels = [str(x) for x in entry.get("LABELS") or []][: len(contexts)]
    labels += [""] * (len(contexts) - len(labels))
    sections = [
        f"{label.capitalize()}: {text}" if label else text for label, text in zip(labels, contexts, strict=True)
    ]
    return Document(id=f"pmid-{pmid}", text="\n\n".join(sections), metadata={"title": ""})


def pubmedqa(n: int | None = 150, root: Path = SHARED) -> QASet:
    """PubMedQA expert-labelled dev 500: one document per question, all 500 indexed; about `n` questions asked,
    each decision (yes / no / maybe) in its share. The decision is scored: the answer's first word."""
    import json

    path = _need(root / "pubmedqa-dev500" / "pqal_dev500.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    docs = tuple(pubmed_document(pmid, data[pmid]) for pmid in sorted(data))
    items = [
        QAItem(pmid, str(e["QUESTION"]), (str(e["final_decision"]),), str(e["final_decision"]))
        for pmid, e in sorted(data.items())
    ]
    chosen = items if n is None else stratified(items, n, lambda q: q.shape)
    note = f"{len(docs)} abstracts indexed (without conclusions); {len(chosen)} of {len(items)} questions"
    return QASet("pubmedqa", docs, tuple(chosen), note)


# ----------------------------------------------------------------------------------------------------- covidqa


def covidqa(n: int | None = 100, root: Path = SHARED) -> QASet:
    """COVID-QA: all 98 articles indexed (read as `ragtune compare` reads a SQuAD file); about `n` questions evenly
    spaced by id. Matched on answer text (some offsets do not line up)."""
    from ragtune.evaluate.questions import load_questions, squad_documents

    path = _need(root / "covidqa" / "200423_covidQA.json")
    docs = tuple(squad_documents(path))
    questions = sorted(load_questions(path), key=lambda q: (len(q.id), q.id))  # ids are numbers: numeric order
    items = [QAItem(q.id, q.question, q.answers, "extractive", q.answerable) for q in questions]
    chosen = items if n is None else spread(items, n)
    note = f"{len(docs)} articles indexed; {len(chosen)} of {len(items)} questions (evenly spaced by id)"
    return QASet("covidqa", docs, tuple(chosen), note)


# ------------------------------------------------------------------------------------------------------ sample


def sample(n: int | None = None) -> QASet:
    """The bundled sample: docs_v1 indexed (as compare reads a folder); its test questions without changed facts."""
    from ragtune.config import CorpusConfig
    from ragtune.corpus.loaders import load_paths
    from ragtune.samples import sample as sample_paths
    from ragtune.samples import sample_questions

    root = sample_paths().docs_v1
    docs = tuple(load_paths([root], CorpusConfig(), root=root).documents)
    items = [
        QAItem(q.id, q.question, q.answers, "answerable" if q.answerable else "unanswerable", q.answerable)
        for q in sorted(sample_questions("test", changed=False), key=lambda q: q.id)
    ]
    chosen = items if n is None else stratified(items, n, lambda q: q.shape)
    note = (
        f"{len(docs)} documents (docs_v1) indexed; {len(chosen)} of {len(items)} test questions "
        "(changed-fact ones left out)"
    )
    return QASet("sample", docs, tuple(chosen), note)


# Full-run sizes: what fits the suite's budget (about 25 minutes on 2 idle cores, the plain configuration's whole
# chunks costing most), a 95% interval of about +-0.1 per data set (+-0.15 on covidqa, whose plain answers cost
# most). --quick asks QUICK_QUESTIONS of each data set, --limit N about N (every question when N is larger).
FULL_QUESTIONS = {"squad2": 80, "hotpotqa": 52, "pubmedqa": 80, "covidqa": 40, "sample": 144}
LOADERS: dict[str, Callable[[int | None], QASet]] = {
    "squad2": lambda n: squad2(FULL_QUESTIONS["squad2"] if n is None else n),
    "hotpotqa": lambda n: hotpotqa(FULL_QUESTIONS["hotpotqa"] if n is None else n),
    "pubmedqa": lambda n: pubmedqa(FULL_QUESTIONS["pubmedqa"] if n is None else n),
    "covidqa": lambda n: covidqa(FULL_QUESTIONS["covidqa"] if n is None else n),
    "sample": lambda n: sample(FULL_QUESTIONS["sample"] if n is None else n),
}
QUICK_QUESTIONS = 15
