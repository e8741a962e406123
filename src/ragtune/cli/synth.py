"""`ragtune synth`: the question file compare reads, written from the documents alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from ragtune.cli._state import console, require_paths, state
from ragtune.config import Config
from ragtune.errors import RagtuneError


def synthesize_files(
    docs: Sequence[Path],
    updated_docs: Sequence[Path],
    config: Config,
    out: Path,
    *,
    force: bool,
    synth_model: str = "",
    comparison_index: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Documents (and their update) -> the question file `out`; returns the summary the report shows.

    `comparison_index`: search the comparison's own (cached) index of the documents for the unanswerable check, as
    `compare` does before it starts: the documents are then embedded once for both, not twice. `progress`: bars
    while that index is built (off for `compare --no-progress`)."""
    from ragtune.evaluate.experiment import corpus_retriever, load_documents
    from ragtune.synth.runner import check_out_path, run_synth, write_questions

    require_paths([*[("--docs", p) for p in docs], *[("--updated-docs", p) for p in updated_docs]])
    check_out_path(out, force)
    echo = lambda line: console.print(escape(line), highlight=False)  # noqa: E731
    v1 = load_documents(docs, config, warn=echo)
    v2 = load_documents(updated_docs, config, warn=echo) if updated_docs else []
    wants_index = comparison_index and config.synth.unanswerable_share > 0
    retriever = corpus_retriever(config, v1, progress=progress) if wants_index else None
    try:
        result = run_synth(v1, config, updated_docs=v2, synth_model=synth_model, echo=echo, retriever=retriever)
    finally:
        if retriever is not None:
            retriever.store.close()
    if not result.stats.facts:
        raise RagtuneError(
            f"{', '.join(map(str, docs))}: no question survived the filters ({result.stats.facts_found} facts found); "
            "the documents need sentences with numbers, dates or names"
        )
    write_questions(result, out, force=force)
    return result.summary() | {"file": str(out)}


def register(app: typer.Typer) -> None:
    app.command()(synth)


def synth(
    ctx: typer.Context,
    docs: list[Path] = typer.Option(..., "--docs", help="Documents: a folder or a file. Repeatable."),
    updated_docs: list[Path] = typer.Option(
        [], "--updated-docs", help="Version 2 of the documents: also ask about facts whose value changed."
    ),
    count: int | None = typer.Option(None, "--count", help="Facts to ask about (synth.count)."),
    out: Path = typer.Option(Path("qa.jsonl"), "--out", help="Question file to write (JSONL)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    synth_model: str = typer.Option(
        "", "--synth-model", help="Write the questions with a model behind an OpenAI-compatible server: URL#MODEL."
    ),
) -> None:
    """Write training and test questions (with answers and evidence) from your documents alone."""
    if count is not None and count < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--count")
    config = state(ctx).config(**{"synth.count": count})
    summary = synthesize_files(docs, updated_docs, config, out, force=force, synth_model=synth_model)
    console.print(
        f"wrote {summary['train']} training and {summary['test']} test questions about {summary['facts']} facts "
        f"({summary['changed']} changed, {summary['unanswerable']} unanswerable) to {escape(str(out))}",
        highlight=False,
    )
    wording = summary["wording"]
    if wording["evidence_overlap_test"] is not None:
        low, high = wording["evidence_overlap_people"]
        nearest = wording["nearest_train_overlap_test"]
        console.print(
            f"wording: test questions repeat {wording['evidence_overlap_test']:.2f} of their evidence's content words "
            f"(people's questions {low:.2f}-{high:.2f})"
            + (f" and {nearest:.2f} of their nearest training question's" if nearest is not None else ""),
            highlight=False,
            soft_wrap=True,
        )
