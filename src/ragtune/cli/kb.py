"""Knowledge-base commands: `ragtune ingest`, `ragtune search`, `ragtune eval-retrieval`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ragtune.cli._state import console, err_console, state
from ragtune.errors import InputFileError, RagtuneError

_NUMBER_FIELDS = ("page", "position")  # stored as integers: a text value was a query error from the store


def _parse_filters(items: list[str]) -> dict[str, object]:
    filters: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"{item!r}: expected FIELD=VALUE, e.g. --filter source=docs/guide.md")
        key, value = (part.strip() for part in item.split("=", 1))
        if key in _NUMBER_FIELDS:
            if not value.isdigit():
                raise typer.BadParameter(f"{item!r}: {key} is a number, e.g. --filter {key}=3")
            filters[key] = int(value)
        else:
            filters[key] = value
    return filters


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(search)
    app.command("eval-retrieval")(eval_retrieval)


def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or folders (.txt .md .html .pdf .docx .jsonl)."),
    prune: bool = typer.Option(
        False, "--prune", help="Remove stored documents that came from under PATHs but are no longer there."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Add or update documents in the store (only what changed is embedded); exit code 1 if a file failed."""
    from ragtune.models.loader import load_embedder
    from ragtune.store import open_store
    from ragtune.store.sync import ingest as run_ingest

    config = state(ctx).config()
    missing = [str(p) for p in paths if not p.expanduser().exists()]
    if len(missing) == len(paths) and not prune:  # fail before the embedder loads; --prune may name a gone folder
        raise InputFileError(f"{', '.join(missing)}: no such file or folder; nothing to ingest")
    embedder = load_embedder(config.models, config.store.embed_batch_size)
    store = open_store(config, embedder.identity)
    try:
        report = run_ingest(paths, store, embedder, config, prune=prune, progress=progress)
    finally:
        store.close()
    for failure in report.failed:
        err_console.print(
            f"[red]failed:[/] {escape(failure.path)}: {escape(failure.reason)}", highlight=False, soft_wrap=True
        )
    console.print(report.summary(), highlight=False, markup=False)
    if report.failed:
        raise typer.Exit(1)


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for."),
    k: int | None = typer.Option(None, "--top-k", "-k", help="Results (default retrieval.top_k)."),
    mode: str | None = typer.Option(None, "--mode", help="dense, bm25 or hybrid (default retrieval.mode)."),
    filter_: list[str] = typer.Option([], "--filter", help="FIELD=VALUE on doc_id or metadata (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
) -> None:
    """Search the store and print the best chunks with their scores and sources."""
    from ragtune.models.loader import load_embedder
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store

    config = state(ctx).config()
    filters = _parse_filters(filter_)
    _check_reranker(config)
    embedder = load_embedder(config.models, config.store.embed_batch_size)
    store = open_store(config, embedder.identity, must_exist=True)
    try:
        retriever = Retriever(store, embedder, config.retrieval)
        if store.count() == 0:
            raise RagtuneError("the store is empty: add documents first with `ragtune ingest PATH`")
        hits = retriever.search(query, k=k, mode=mode, filters=filters or None)
    finally:
        store.close()
    if as_json:
        payload = [
            {
                "rank": i,
                "score": h.score,
                "chunk_id": h.chunk.id,
                "doc_id": h.chunk.doc_id,
                "title": h.chunk.title,
                "source": h.chunk.metadata.get("source"),
                "page": h.chunk.metadata.get("page"),
                "heading": h.chunk.metadata.get("heading"),
                "text": h.chunk.text,
            }
            for i, h in enumerate(hits, start=1)
        ]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not hits:
        console.print("no matching passages")
        return
    for i, h in enumerate(hits, start=1):
        where = [str(h.chunk.metadata.get("source") or h.chunk.doc_id)]
        if h.chunk.metadata.get("page") is not None:
            where.append(f"p. {h.chunk.metadata['page']}")
        if h.chunk.metadata.get("heading"):
            where.append(str(h.chunk.metadata["heading"]))
        title = escape(h.chunk.title or h.chunk.doc_id)
        console.print(f"[bold]{i}. {title}[/]  ({h.score:.4f})  {escape(' · '.join(where))}", highlight=False)
        text = " ".join(h.chunk.text.split())
        console.print(text[:400] + ("…" if len(text) > 400 else ""), highlight=False, markup=False)
        console.print()


def eval_retrieval(
    ctx: typer.Context,
    beir: Path | None = typer.Option(None, "--beir", help="A BEIR folder: corpus.jsonl, queries.jsonl, qrels/."),
    split: str = typer.Option("test", "--split", help="Which qrels/<split>.tsv to score."),
    questions: Path | None = typer.Option(
        None, "--questions", help="Instead of --beir: a question file; scores the store's retrieval by answers."
    ),
    k: int = typer.Option(5, "--top-k", "-k", help="With --questions: chunks retrieved per question."),
    as_json: bool = typer.Option(False, "--json", help='Print {"dense": {"ndcg@10": ...}, "bm25": ..., ...}.'),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar while indexing."),
) -> None:
    """nDCG@10, Recall@10, Recall@100 and MRR@10 of dense, BM25 and hybrid retrieval on a BEIR data set (and of
    the configured reranker and second hop); with --questions, the share whose answer is in the top k chunks."""
    from ragtune.evaluate.retrieval import evaluate_beir
    from ragtune.models.loader import load_embedder

    if (beir is None) == (questions is None):
        raise typer.BadParameter("give either --beir FOLDER or --questions FILE")
    config = state(ctx).config()
    _check_reranker(config)
    embedder = load_embedder(config.models, config.store.embed_batch_size)
    if questions is not None:
        _eval_questions(config, embedder, questions, k, as_json)
        return
    assert beir is not None
    scores, report = evaluate_beir(beir, config, embedder, split=split, progress=progress and not as_json)
    if as_json:
        typer.echo(json.dumps({mode: s.as_dict() for mode, s in scores.items()}, indent=2))
        return
    queries = next(iter(scores.values())).queries if scores else 0
    table = Table(title=f"{beir.name} ({split}: {queries} queries, {len(report.failed)} documents failed)")
    for column in ("retriever", "nDCG@10", "Recall@10", "Recall@100", "MRR@10"):
        table.add_column(column, justify="left" if column == "retriever" else "right")
    for mode, s in scores.items():
        table.add_row(mode, *(f"{v:.4f}" for v in s.as_dict().values()))
    console.print(table)


def _check_reranker(config: Any) -> None:
    """A bad retrieval.reranker named first, before any model loads (and before a missing store is)."""
    from ragtune.rerank import check_folder

    if config.retrieval.reranker:
        check_folder(config.retrieval.reranker)


def _eval_questions(config: Any, embedder: Any, path: Path, k: int, as_json: bool) -> None:
    from ragtune.evaluate.retrieval import evaluate_questions
    from ragtune.store import open_store

    store = open_store(config, embedder.identity, must_exist=True)
    try:
        if store.count() == 0:
            raise RagtuneError("the store is empty: add documents first with `ragtune ingest PATH`")
        scores = evaluate_questions(path, store, embedder, config, k)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps({mode: s.as_dict() for mode, s in scores.items()}, indent=2))
        return
    first = next(iter(scores.values()))
    table = Table(title=f"{path.name} ({first.questions} questions with a span answer, top {k} chunks)")
    for column in ("retriever", "answer in chunks", f"document in top {k}"):
        table.add_column(column, justify="left" if column == "retriever" else "right")
    for mode, s in scores.items():
        doc = "-" if s.doc_recall is None else f"{s.doc_recall:.4f} ({s.with_doc})"
        table.add_row(mode, f"{s.answer_in_chunks:.4f}", doc)
    console.print(table)
