"""What the pipeline loses between retrieval and the answer (issue #32): for every data set of the QA suite, each
reader's share of answerable questions whose answer is in the retrieved chunks, in the prompt, and in the final
answer (compare's rule), and the loss between them.

Readers:
- `small`: SmolLM2-135M, the embedded default, with the small reader's defaults (what `make demo` measures);
- `scripted-<style>`: a scripted reader behind a real OpenAI-compatible HTTP server (`benchmarks/scripted_reader.py`)
  that answers right whenever its prompt holds the answer, in three styles (terse with a citation, one sentence, a
  longer answer with the answer in its middle). Only `models.generator_backend=openai`, the URL and the model name
  are set, as a user pointing ragtune at vLLM would: so it answers with the capable reader `rag.reader = auto`
  gives a server. Its accuracy over "answer in the retrieved chunks" is what the pipeline keeps of what retrieval
  found; the target is >= 0.95 on every data set, and the bundled sample >= 0.95 outright.

A decision gold (yes / no / maybe) is not a span: it counts as in the chunks (the prompt) when any chunk was
retrieved (shown), since a perfect reader decides from the sources.

`python -m benchmarks reader-loss` (`--quick`: 15 questions per data set, the scripted readers only;
`python -m benchmarks.bench_reader_loss --readers scripted-terse --datasets sample` for one cell).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.bench_qa import Models, open_index
from benchmarks.harness import Row, Section, render
from benchmarks.qa_data import LOADERS, QUICK_QUESTIONS, DataMissing, QASet
from benchmarks.scripted_reader import STYLES, ScriptedServer
from ragtune.rag import Answer
from ragtune.text import answer_correct, contains_answer, is_decision

SMALL = "small"
READERS = (SMALL, *(f"scripted-{s}" for s in STYLES))
TARGET_KEPT = 0.95  # scripted reader: final accuracy >= 0.95 x the share with the answer in the retrieved chunks
TARGET_SAMPLE = 0.95  # scripted reader on the bundled sample, outright


@dataclass(frozen=True)
class Cell:
    """One reader on one data set, over its answerable questions."""

    dataset: str
    reader: str
    questions: int
    in_chunks: int
    in_prompt: int
    correct: int
    seconds: float

    @property
    def kept(self) -> float:
        """Final accuracy over the share whose answer retrieval found: what the pipeline keeps of it."""
        return self.correct / self.in_chunks if self.in_chunks else 0.0


def _holds(texts: Sequence[str], golds: Sequence[str]) -> bool:
    if is_decision(golds):
        return any(t.strip() for t in texts)
    return any(contains_answer(t, g) for t in texts for g in golds)


def measure(qaset: QASet, reader: str, answers: Sequence[Answer], seconds: float) -> Cell:
    rows = [(q, a) for q, a in zip(qaset.questions, answers, strict=True) if q.answerable]
    return Cell(
        dataset=qaset.name,
        reader=reader,
        questions=len(rows),
        in_chunks=sum(_holds([s.text for s in a.sources], q.golds) for q, a in rows),
        in_prompt=sum(_holds([s.excerpt for s in a.sources], q.golds) for q, a in rows),
        correct=sum(answer_correct(a.text, q.golds) and not a.refused for q, a in rows),
        seconds=seconds,
    )


def answer(qaset: QASet, overrides: dict[str, str], models: Models) -> tuple[list[Answer], float]:
    """The questions answered as compare's rag strategy answers them, refusal on (what a user reads)."""
    from ragtune.evaluate.strategies import RagStrategy, StrategyContext
    from ragtune.retrieve import Retriever

    config, store = open_index(qaset, overrides, models, progress=False)
    try:
        generator = models.generator(config)
        embedder = models.embedder(config)
        ctx = StrategyContext(
            config=config,
            embedder=embedder,
            retriever=Retriever(store, embedder, config.retrieval),
            loader=lambda m, a: generator,
        )
        t0 = time.perf_counter()
        finals, _ = RagStrategy().answer_many_unrefused(ctx, [q.question for q in qaset.questions], progress=False)
        return finals, time.perf_counter() - t0
    finally:
        store.close()


def run_cells(
    datasets: Sequence[str],
    readers: Sequence[str],
    limit: int | None,
    settings: Mapping[str, str] | None = None,
) -> tuple[list[Cell], list[str], list[str]]:
    """Every reader on every data set: the cells, notes, and the recall-at-k table. `settings` (as `--set` gives
    them) apply to every reader, so that a default is measured on and off with both."""
    models = Models()
    cells: list[Cell] = []
    notes: list[str] = []
    sets: list[QASet] = []
    for name in datasets:
        try:
            sets.append(LOADERS[name](limit))
        except DataMissing as exc:
            notes.append(f"{name} skipped: {exc}")
    golds = {q.question: q.golds for s in sets for q in s.questions if q.answerable}
    with ScriptedServer(golds) as server:
        for qaset in sets:
            for reader in readers:
                overrides: dict[str, str] = dict(settings or {})
                if reader != SMALL:
                    overrides |= {
                        "models.generator_backend": "openai",
                        "models.openai_base_url": server.base_url,
                        "models.openai_model": reader.removeprefix("scripted-"),
                    }
                answers, seconds = answer(qaset, overrides, models)
                cell = measure(qaset, reader, answers, seconds)
                cells.append(cell)
                print(
                    f"   {qaset.name} / {reader}: in chunks {cell.in_chunks}, in prompt {cell.in_prompt}, correct "
                    f"{cell.correct} of {cell.questions} ({seconds:.0f} s)",
                    flush=True,
                )
    return cells, notes, recall_at_k(sets, models, settings or {})


TOP_KS = (5, 10, 15, 20)


def recall_at_k(sets: Sequence[QASet], models: Models, settings: Mapping[str, str]) -> list[str]:
    """How rag.capable_top_k was chosen: per data set, the share of answerable questions whose answer is in the top k
    retrieved chunks (a capable reader is shown them whole, so this is its "answer in the prompt")."""
    from ragtune.retrieve import Retriever

    table = ["| data set | " + " | ".join(f"top {k}" for k in TOP_KS) + " |", "| --- |" + " ---: |" * len(TOP_KS)]
    for qaset in sets:
        config, store = open_index(qaset, dict(settings), models, progress=False)
        try:
            search = Retriever(store, models.embedder(config), config.retrieval)
            asked = [q for q in qaset.questions if q.answerable]
            hits = search.search_many([q.question for q in asked], k=max(TOP_KS))
        finally:
            store.close()
        shares = [
            sum(_holds([h.chunk.text for h in found[:k]], q.golds) for q, found in zip(asked, hits, strict=True))
            / max(1, len(asked))
            for k in TOP_KS
        ]
        table.append(f"| {qaset.name} | " + " | ".join(f"{x:.2f}" for x in shares) + " |")
    return table


def section(cells: Sequence[Cell], notes: Sequence[str], recall: Sequence[str] = ()) -> Section:
    sec = Section(title="Reader loss: answer in the retrieved chunks -> in the prompt -> in the final answer")
    table = [
        "| data set | reader | questions | in chunks | in prompt | correct | kept (correct / in chunks) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in cells:
        n = max(1, c.questions)
        table.append(
            f"| {c.dataset} | {c.reader} | {c.questions} | {c.in_chunks / n:.2f} | {c.in_prompt / n:.2f} | "
            f"{c.correct / n:.2f} | {c.kept:.2f} |"
        )
        if c.reader.startswith("scripted"):
            sec.rows.append(
                Row(
                    f"{c.dataset} {c.reader}: accuracy / answer in chunks",
                    c.kept,
                    "ratio",
                    target=f">= {TARGET_KEPT}",
                    passed=c.kept >= TARGET_KEPT,
                )
            )
            if c.dataset == "sample":
                sec.rows.append(
                    Row(
                        f"sample {c.reader}: accuracy",
                        c.correct / n,
                        "accuracy",
                        target=f">= {TARGET_SAMPLE}",
                        passed=c.correct / n >= TARGET_SAMPLE,
                    )
                )
    sec.tables.append("\n".join(table))
    if recall:
        sec.tables.append("Answer in the top k retrieved chunks (rag.capable_top_k):\n\n" + "\n".join(recall))
    sec.notes.extend(notes)
    sec.notes.append(
        "Scripted readers answer through models.generator_backend=openai and rag.reader=auto (capable: whole chunks, "
        "rag.capable_top_k); small is SmolLM2-135M with the small reader's defaults (retrieval.top_k)."
    )
    return sec


def run(quick: bool = False) -> Section:
    """`python -m benchmarks reader-loss`."""
    readers = [r for r in READERS if r != SMALL] if quick else list(READERS)
    return section(*run_cells(list(LOADERS), readers, QUICK_QUESTIONS if quick else None))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_reader_loss")
    parser.add_argument("--datasets", default=",".join(LOADERS))
    parser.add_argument("--readers", default=",".join(READERS))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--set", action="append", default=[], metavar="SECTION.FIELD=VALUE", help="A setting for every reader."
    )
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    cells = run_cells(args.datasets.split(","), args.readers.split(","), args.limit, settings)
    print(render([section(*cells)]))


if __name__ == "__main__":
    main()
