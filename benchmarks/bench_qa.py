"""The QA dev suite (issue #18): rag answers over five data sets of different question shapes, beside the plain
configuration it must beat and the same model closed-book as the floor. Every `rag.*` default is decided here.

Data sets (see `benchmarks/qa_data.py`), each indexed as its own corpus (LanceDB, default retrieval): `squad2`
(extractive and unanswerable), `hotpotqa` (bridge, comparison, yes/no), `pubmedqa` (yes/no/maybe, the decision
scored), `covidqa` (long articles), `sample` (the bundled sample's test questions).

Configurations: `CONFIGS` below, one line each. `default` is the shipped defaults (no ragtune.toml, no RAGTUNE_*
variables: this measures what a user gets), `plain` shows whole chunks and lets the model answer freely,
`closed-book` is the same generator without sources. Each configuration answers through compare's own strategies
(`RagStrategy` or `BaseStrategy`): one generation with refusal off, refused afterwards with the calibration
(`answer_many_unrefused`), so the accuracy after refusal and with refusal off come from the same answers and the
figures are the ones compare would report. Refusal uses the packaged default calibration (the store's workspace has
none), which was fitted on all 500 SQuAD questions, these 150 among them: the squad2 refusal figures are in-sample.

Scoring (compare's scorer, `ragtune.text.answer_correct`): a gold answer appears in the answer as whole
normalized words; a yes/no/maybe gold must be the answer's first word. Accuracy and F1 are over answerable questions
(a refused one is wrong); unanswerable questions count in the refusal figures only. The macro average weighs each
data set the same.

`python -m benchmarks qa` runs everything (`--quick`: 15 questions per data set). For iterating:

    python -m benchmarks.bench_qa [--datasets hotpotqa,pubmedqa] [--configs default,plain]
                                  [--set rag.x=y ...] [--tag NAME] [--limit N] [--quick] [--resume]
    python -m benchmarks.bench_qa --report TAG    # the tables of a saved run again

`--set` adds one configuration, named by `--tag` (default `custom`): the shipped defaults with those settings, run
beside the listed configurations (so `--configs plain --set rag.source_sentences=2 --tag two` compares one change
with the plain baseline). Results: `benchmarks/results/qa/TAG.json` (the summaries) and `TAG.jsonl` (every answer:
id, dataset, shape, config, question, gold, answer, correct, refused, unrefused answer, ...). Ingested stores are
kept in `benchmarks/results/qa-cache/`, keyed by a hash of the documents, the embedder and the chunk settings, so a
rerun does not re-embed; models are loaded once per process. The JSONL grows as each data set x configuration
finishes; `--resume` continues an interrupted run of the same tag (on a shared machine a full run can take hours).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.harness import RESULTS_DIR, Row, Section, render
from benchmarks.qa_data import LOADERS, QUICK_QUESTIONS, DataMissing, QASet
from benchmarks.qa_scores import (
    ALL,
    Difference,
    Record,
    Summary,
    accuracy_table,
    detail_table,
    difference,
    macro,
    score,
    summaries,
)

if TYPE_CHECKING:
    from ragtune.config import Config
    from ragtune.models.embedder import Embedder
    from ragtune.models.generator import Generator
    from ragtune.retrieve import Retriever
    from ragtune.store.base import DocumentStore


@dataclass(frozen=True)
class Setup:
    """A configuration of the suite: settings on top of the shipped defaults, and whether it reads sources."""

    overrides: Mapping[str, str] = field(default_factory=dict)
    reads_sources: bool = True


PLAIN = {
    "rag.copy_answers": "false",
    "rag.source_sentences": "0",
    "rag.typed_starts": "false",
    "rag.extract_span": "false",
    "rag.answer_forms": "false",
}
CONFIGS: dict[str, Setup] = {
    "default": Setup(),  # the shipped defaults
    "plain": Setup(PLAIN),  # whole chunks, free answer: the simple thing every default must beat
    "closed-book": Setup(reads_sources=False),  # the same generator without sources: the floor
}
# One default flipped each: how the defaults were decided (`--ablations` runs them beside CONFIGS).
ABLATIONS: dict[str, Setup] = {
    "no-forms": Setup({"rag.answer_forms": "false"}),  # every question answered with a copied span
    "two-documents": Setup({"rag.min_documents": "2"}),  # open questions also read another document's sentence
}
MAIN, BASELINE, FLOOR = "default", "plain", "closed-book"
QA_RESULTS = RESULTS_DIR / "qa"
CACHE = RESULTS_DIR / "qa-cache"


# ------------------------------------------------------------------------------------------------------ models


class Models:
    """The embedders and generators of one process, each loaded once and shared by data sets and configurations."""

    def __init__(self) -> None:
        self._embedders: dict[str, Embedder] = {}
        self._generators: dict[str, Generator] = {}

    def embedder(self, config: Config) -> Embedder:
        from ragtune.models.loader import load_embedder

        key = repr(dataclasses.astuple(config.models))
        if key not in self._embedders:
            self._embedders[key] = load_embedder(config.models)
        return self._embedders[key]

    def generator(self, config: Config) -> Generator:
        from ragtune.models.loader import load_generator

        key = repr((dataclasses.astuple(config.models), dataclasses.astuple(config.generation)))
        if key not in self._generators:
            self._generators[key] = load_generator(config.models, config.generation)
            # One unmeasured answer, so the first data set does not pay for the model's first call.
            from ragtune.rag import Answerer

            Answerer(self._generators[key], config).answer_many(["What is a warm-up question?"], progress=False)
        return self._generators[key]


def make_config(overrides: Mapping[str, str], workspace: Path) -> Config:
    """The shipped defaults with `overrides` (as `--set` gives them): no ragtune.toml and no environment read."""
    from ragtune.config import Config, apply_overrides

    return apply_overrides(Config(), {**overrides, "workspace": str(workspace)}, "qa suite")


def store_key(qaset: QASet, config: Config) -> str:
    """What an index depends on: the documents, the embedder and the chunk settings (and the store's table)."""
    h = hashlib.sha256()
    for doc in sorted(qaset.documents, key=lambda d: d.id):
        h.update(f"{doc.id}\x00{doc.content_hash}\x00".encode())
    h.update(repr((config.models.embedder, dataclasses.astuple(config.corpus), config.store.table)).encode())
    return f"{qaset.name}-{h.hexdigest()[:12]}"


def open_index(qaset: QASet, overrides: Mapping[str, str], models: Models, progress: bool) -> tuple[Config, Any]:
    """The configuration (its workspace = the data set's cached index) and the store, ingested when not yet there.

    A finished ingest leaves a marker file; without one (new, or interrupted) the sync runs, and as it syncs by
    content hash an interrupted ingest resumes instead of starting again."""
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents

    probe = make_config(overrides, CACHE)
    workspace = CACHE / store_key(qaset, probe)
    config = make_config(overrides, workspace)
    embedder = models.embedder(config)
    store: DocumentStore = open_store(config, embedder.identity)
    done = workspace / "ingested"
    if not done.is_file():
        t0 = time.perf_counter()
        print(f"   indexing {qaset.name}: {len(qaset.documents)} documents ...", flush=True)
        sync_documents(list(qaset.documents), store, embedder, config, prune=True, progress=progress)
        done.write_text(f"{time.perf_counter() - t0:.1f} s\n", encoding="utf-8")
    return config, store


# ----------------------------------------------------------------------------------------------------- answers


def answer_set(
    qaset: QASet,
    name: str,
    setup: Setup,
    models: Models,
    *,
    progress: bool,
    retriever: Callable[[Config, Embedder], Retriever] | None = None,
) -> tuple[list[Record], float]:
    """Every question of `qaset` answered by one configuration, as compare answers: (records, seconds).
    `retriever` replaces the index's search (the reader-ceiling benchmark shows the gold paragraphs)."""
    from ragtune.evaluate.strategies import BaseStrategy, RagStrategy, StrategyContext
    from ragtune.retrieve import Retriever

    if setup.reads_sources:
        config, store = open_index(qaset, setup.overrides, models, progress)
    else:  # closed-book reads no index: none is built for it
        config, store = make_config(setup.overrides, CACHE / "closed-book"), None
    try:
        generator = models.generator(config)
        embedder = models.embedder(config)
        search = Retriever(store, embedder, config.retrieval) if store is not None else None
        if retriever is not None and setup.reads_sources:
            search = retriever(config, embedder)
        ctx = StrategyContext(config=config, embedder=embedder, retriever=search, loader=lambda m, a: generator)
        strategy = RagStrategy() if setup.reads_sources else BaseStrategy()
        questions = [q.question for q in qaset.questions]
        t0 = time.perf_counter()
        finals, drafts = strategy.answer_many_unrefused(ctx, questions, progress=progress)
        seconds = time.perf_counter() - t0
    finally:
        if store is not None:
            store.close()
    per_q = seconds / max(1, len(questions))
    records = [
        score(
            item_id=q.id,
            dataset=qaset.name,
            shape=q.shape,
            config=name,
            question=q.question,
            gold=q.golds,
            answerable=q.answerable,
            final=f,
            draft=d,
            seconds=per_q,
        )
        for q, f, d in zip(qaset.questions, finals, drafts, strict=True)
    ]
    return records, seconds


@dataclass
class Outcome:
    """What one run measured; `section()` turns it into the harness's table."""

    configs: list[str]
    datasets: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decides: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0

    def stats(self) -> list[Summary]:
        return summaries(self.records, self.decides)

    def diffs(self) -> list[Difference]:
        if BASELINE not in self.configs:
            return []
        out = [difference(self.records, d, BASELINE, c) for d in self.datasets for c in self.configs if c != BASELINE]
        return [x for x in out if x is not None]


def read_records(path: Path) -> list[Record]:
    """The answers a run wrote (its JSONL); nothing when there is no file yet."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Record(**{**r, "gold": tuple(r["gold"]), "sources": tuple(r["sources"])}) for r in rows]


def run_suite(
    datasets: Sequence[str],
    configs: Mapping[str, Setup],
    *,
    limit: int | None = None,
    progress: bool = True,
    sink: Path | None = None,
    resume: bool = False,
) -> Outcome:
    """Load each data set, answer it with each configuration; a missing data set is skipped with a note.

    Each data set x configuration's answers are appended to `sink` (JSONL) as soon as they are scored, so an
    interrupted run keeps what it measured; with `resume`, a pair whose answers are already there for the same
    questions is read back instead of answered again (the tag must then name the same settings)."""
    models = Models()
    outcome = Outcome(configs=list(configs))
    earlier = read_records(sink) if sink is not None and resume else []
    if sink is not None:
        sink.parent.mkdir(parents=True, exist_ok=True)
        sink.write_text("".join(json.dumps(dataclasses.asdict(r), ensure_ascii=False) + "\n" for r in earlier))
    start = time.perf_counter()
    for name in datasets:
        try:
            qaset = LOADERS[name](limit)
        except DataMissing as exc:
            outcome.notes.append(f"{name} skipped: {exc}")
            continue
        outcome.datasets.append(name)
        outcome.decides[name] = qaset.decides
        outcome.notes.append(f"{name}: {qaset.note}")
        ids = {q.id for q in qaset.questions}
        for cname, setup in configs.items():
            kept = [r for r in earlier if r.dataset == name and r.config == cname and r.id in ids]
            if {r.id for r in kept} == ids and len(kept) == len(ids):
                outcome.records.extend(kept)
                print(f"   {name} / {cname}: {len(kept)} answers from {sink}", flush=True)
                continue
            records, seconds = answer_set(qaset, cname, setup, models, progress=progress)
            outcome.records.extend(records)
            if sink is not None:
                with sink.open("a", encoding="utf-8") as fh:
                    fh.writelines(json.dumps(dataclasses.asdict(r), ensure_ascii=False) + "\n" for r in records)
            acc = [r.correct for r in records if r.answerable]
            print(
                f"   {name} / {cname}: {len(records)} questions in {seconds:.0f} s, "
                f"accuracy {sum(acc) / max(1, len(acc)):.3f}",
                flush=True,
            )
    outcome.seconds = time.perf_counter() - start
    return outcome


# ------------------------------------------------------------------------------------------------------- table


def _get(stats: Sequence[Summary], dataset: str, config: str) -> Summary | None:
    return next((s for s in stats if s.dataset == dataset and s.config == config and s.shape == ALL), None)


def target_rows(stats: Sequence[Summary]) -> list[Row]:
    """The issue's targets, checked on the default configuration where its data set ran."""
    rows: list[Row] = []
    cb = {d: s.accuracy for d in ("hotpotqa", "pubmedqa") if (s := _get(stats, d, FLOOR)) is not None}
    if (h := _get(stats, "hotpotqa", MAIN)) is not None:
        floor = cb.get("hotpotqa")
        ok = h.accuracy >= 0.30 and (floor is None or h.accuracy >= 2 * floor)
        rows.append(
            Row("hotpotqa accuracy (default)", h.accuracy, "", baseline=floor, baseline_name=FLOOR,
                target=">= 0.30 and >= 2x closed-book", passed=ok)
        )  # fmt: skip
    if (p := _get(stats, "pubmedqa", MAIN)) is not None:
        ok = p.accuracy >= 0.60 and p.opens_decision >= 0.95
        rows.append(
            Row("pubmedqa decision accuracy (default)", p.accuracy, "", baseline=cb.get("pubmedqa"),
                baseline_name=FLOOR, target=">= 0.60, >= 95% open with a decision", passed=ok,
                note=f"{p.opens_decision:.0%} open with yes/no/maybe")
        )  # fmt: skip
    if (q := _get(stats, "squad2", MAIN)) is not None:
        rows += [
            Row("squad2 accuracy after refusal (default)", q.accuracy, "", target=">= 0.40", passed=q.accuracy >= 0.4),
            Row("squad2 token F1 after refusal (default)", q.f1, "", target=">= 0.30", passed=q.f1 >= 0.30),
            Row("squad2 refusal recall (default)", q.refusal_recall, "", target=">= 0.3 with <= 15% answerable refused",
                passed=q.refusal_recall >= 0.3 and q.answerable_refused <= 0.15,
                note=f"{q.answerable_refused:.1%} of answerable refused; in-sample calibration")
        ]  # fmt: skip
    if (s := _get(stats, "sample", MAIN)) is not None:
        rows.append(
            Row("sample accuracy, refusal off (default)", s.accuracy_unrefused, "", target=">= 0.60",
                passed=s.accuracy_unrefused >= 0.60)
        )  # fmt: skip
    return rows


def comparison_rows(outcome: Outcome, stats: Sequence[Summary]) -> list[Row]:
    """Per configuration: the macro averages against plain and closed-book, per data set against plain, speed."""
    rows: list[Row] = []
    base = macro(stats, BASELINE, outcome.datasets) if BASELINE in outcome.configs else None
    floor = macro(stats, FLOOR, outcome.datasets) if FLOOR in outcome.configs else None
    for c in outcome.configs:
        acc, off = macro(stats, c, outcome.datasets)
        is_main = c == MAIN and base is not None
        rows.append(
            Row(f"macro accuracy, {c}", acc, "", baseline=base[0] if base and c != BASELINE else None,
                baseline_name=BASELINE, target=">= 1.3x plain" if is_main else "",
                passed=(acc >= 1.3 * base[0]) if is_main and base else None,
                note=f"refusal off {off:.3f}")
        )  # fmt: skip
        if c == MAIN and floor is not None:
            rows.append(Row(f"macro accuracy, {c} vs closed-book", acc, "", baseline=floor[0], baseline_name=FLOOR))
        for d in outcome.datasets:
            s, b = _get(stats, d, c), _get(stats, d, BASELINE)
            if s is not None and c != BASELINE:
                rows.append(
                    Row(f"{d} accuracy, {c}", s.accuracy, "", baseline=b.accuracy if b else None,
                        baseline_name=BASELINE, note=f"refusal off {s.accuracy_unrefused:.3f}, F1 {s.f1:.3f}")
                )  # fmt: skip
        mine = [r for r in outcome.records if r.config == c]
        per_q = sum(r.seconds for r in mine) / max(1, len(mine))
        rows.append(
            Row(f"answering, {c}", per_q, "s/question", higher_is_better=False,
                target="<= 1.0" if c == MAIN else "", passed=per_q <= 1.0 if c == MAIN else None,
                note=f"{len(mine)} questions, batch wall time")
        )  # fmt: skip
    return rows


def section(outcome: Outcome, title: str) -> Section:
    stats = outcome.stats()
    out = Section(title=title)
    out.rows = target_rows(stats) + comparison_rows(outcome, stats)
    out.tables = [
        accuracy_table(stats, outcome.configs, outcome.datasets),
        detail_table(stats, outcome.diffs(), BASELINE),
    ]
    out.notes = list(outcome.notes)
    if outcome.seconds:  # a saved run read back has no wall time of its own
        out.notes.append(f"suite wall time {outcome.seconds / 60:.1f} min (indexing included when not cached)")
    out.extra = {
        "summaries": [dataclasses.asdict(s) for s in stats],
        "paired": [dataclasses.asdict(d) for d in outcome.diffs()],
    }
    return out


def save(outcome: Outcome, sec: Section, tag: str, setups: Mapping[str, Setup]) -> tuple[Path, Path]:
    """The summaries (JSON) and every answer (JSONL) under benchmarks/results/qa/."""
    QA_RESULTS.mkdir(parents=True, exist_ok=True)
    summary, answers = QA_RESULTS / f"{tag}.json", QA_RESULTS / f"{tag}.jsonl"

    def clean(x: Any) -> Any:  # NaN is not JSON
        return None if isinstance(x, float) and math.isnan(x) else x

    payload = {
        "tag": tag,
        "configs": {c: {"overrides": dict(s.overrides), "reads_sources": s.reads_sources} for c, s in setups.items()},
        "datasets": outcome.datasets,
        "rows": [{**dataclasses.asdict(r), "ratio": r.ratio} for r in sec.rows],
        "summaries": [{k: clean(v) for k, v in s.items()} for s in sec.extra["summaries"]],
        "paired": sec.extra["paired"],
        "notes": sec.notes,
        "seconds": outcome.seconds,
    }
    summary.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    # The run appended its answers as it went (earlier ones it resumed from included); this run's set replaces them.
    answers.write_text(
        "".join(json.dumps(dataclasses.asdict(r), ensure_ascii=False) + "\n" for r in outcome.records),
        encoding="utf-8",
    )
    return summary, answers


def run(quick: bool = False) -> Section:
    """`python -m benchmarks qa`: every data set, every configuration of CONFIGS."""
    tag = "quick" if quick else "latest"
    limit = QUICK_QUESTIONS if quick else None
    outcome = run_suite(list(LOADERS), CONFIGS, limit=limit, progress=False, sink=QA_RESULTS / f"{tag}.jsonl")
    sec = section(outcome, f"QA dev suite ({'quick, ' if quick else ''}{len(outcome.datasets)} data sets x "
                  f"{len(CONFIGS)} configurations, SmolLM2-135M + MiniLM)")  # fmt: skip
    paths = save(outcome, sec, tag, CONFIGS)
    sec.notes.append(f"every answer: {paths[1]}")
    return sec


def _names(value: str, known: Sequence[str], what: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"--{what}: unknown {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def saved_outcome(tag: str) -> Outcome:
    """A finished (or interrupted) run, read back from its JSONL, to print its tables again without answering."""
    from ragtune.text import DECISIONS, normalize_answer

    path = QA_RESULTS / f"{tag}.jsonl"
    records = read_records(path)
    if not records:
        raise SystemExit(f"{path}: no saved answers; run the suite with --tag {tag} first")
    outcome = Outcome(configs=list(dict.fromkeys(r.config for r in records)), records=records)
    outcome.datasets = list(dict.fromkeys(r.dataset for r in records))
    for d in outcome.datasets:
        golds = {normalize_answer(g) for r in records if r.dataset == d for g in r.gold}
        outcome.decides[d] = bool(golds & set(DECISIONS))
    outcome.notes.append(f"re-read from {path}")
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    from ragtune.config import ConfigError, parse_set_flags

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_qa", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(LOADERS), help="Comma-separated (default: all).")
    parser.add_argument("--configs", default=None, help="Comma-separated from CONFIGS (default: all).")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="Adds a configuration named by --tag: the defaults with these settings.")  # fmt: skip
    parser.add_argument("--tag", default="", help="Name of the --set configuration and of the result files.")
    parser.add_argument("--limit", type=int, default=None, help="At most N questions per data set.")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_QUESTIONS} questions per data set.")
    parser.add_argument(
        "--resume", action="store_true", help="Keep the answers of an interrupted run of the same --tag."
    )
    parser.add_argument("--ablations", action="store_true", help="Also run ABLATIONS (one default flipped each).")
    parser.add_argument("--report", metavar="TAG", help="Print the tables of a saved run again; answer nothing.")
    args = parser.parse_args(argv)
    if args.report:
        print(render([section(saved_outcome(args.report), f"QA dev suite, {args.report}")]))
        return 0
    datasets = _names(args.datasets, list(LOADERS), "datasets")
    names = _names(args.configs, list(CONFIGS), "configs") if args.configs else list(CONFIGS)
    if args.configs is None and args.set:
        names = [MAIN, BASELINE]  # a change is read against the defaults and the plain baseline
    setups = {n: CONFIGS[n] for n in names} | (ABLATIONS if args.ablations else {})
    tag = args.tag or ("custom" if args.set else ("quick" if args.quick else "latest"))
    if args.set:
        try:
            overrides = parse_set_flags(args.set)
            make_config(overrides, CACHE)  # a bad setting stops here, before any model loads
        except ConfigError as exc:
            raise SystemExit(str(exc)) from None
        setups = {tag: Setup(overrides), **setups}
    limit = QUICK_QUESTIONS if args.quick and args.limit is None else args.limit
    sink = QA_RESULTS / f"{tag}.jsonl"
    outcome = run_suite(datasets, setups, limit=limit, progress=True, sink=sink, resume=args.resume)
    sec = section(outcome, f"QA dev suite, {tag}")
    summary, answers = save(outcome, sec, tag, setups)
    print(render([sec]))
    print(f"\nsummaries: {summary}\nevery answer: {answers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
