"""`ragtune tune`: train a LoRA adapter (closed-book fine-tune or RAFT hybrid), resume a killed run, export one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import typer

from ragtune.cli._state import console, err_console, state
from ragtune.errors import RagtuneError


def register(app: typer.Typer) -> None:
    app.command()(tune)


def tune(
    ctx: typer.Context,
    data: Path | None = typer.Option(
        None,
        "--data",
        "-d",
        help="Training JSONL: {question, answer}, {messages} or {text} per line.",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Adapter folder (default: WORKSPACE/adapters/KIND/<time>)."
    ),
    kind: str = typer.Option(
        "finetune",
        "--kind",
        help="finetune (closed-book), hybrid (RAFT: learns to read retrieved sources), reranker (a cross-encoder "
        "for retrieval, trained on the ingested documents; --data optional) or embedder (the retrieval embedder "
        "itself, on labelled questions: --data; re-ingest with it).",
    ),
    from_docs: bool = typer.Option(
        False, "--from-docs", help="Also train on the store's chunks as raw text (continued pre-training)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the unfinished run in --out (default: the workspace's latest)."
    ),
    export: str | None = typer.Option(
        None, "--export", help="After training (or for --adapter): also write 'merged' weights or a 'gguf' LoRA."
    ),
    adapter: Path | None = typer.Option(None, "--adapter", help="Export this existing adapter (with --export)."),
    epochs: float | None = typer.Option(None, "--epochs", help="Passes over the data (default tune.epochs)."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after this many optimizer steps."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar with the loss."),
) -> None:
    """Train a LoRA adapter on your facts or documents; prints the adapter's folder."""
    from ragtune.tune.checkpoints import latest_unfinished
    from ragtune.tune.export import FORMATS, export_adapter
    from ragtune.tune.train import KINDS, prepare_data, train_adapter

    config = state(ctx).config(**{"tune.epochs": epochs})
    workspace = state(ctx).workspace_for(config)
    if kind == "reranker":
        _tune_reranker(config, workspace, data, out, progress)
        return
    if kind == "embedder":
        _tune_embedder(config, workspace, data, out, progress)
        return
    if kind not in KINDS:
        raise typer.BadParameter(
            f"'{kind}' is not one of {', '.join((*KINDS, 'reranker', 'embedder'))}", param_hint="--kind"
        )
    if export is not None and export not in FORMATS:
        raise typer.BadParameter(f"'{export}' is not one of {', '.join(FORMATS)}", param_hint="--export")

    if adapter is not None:  # export only
        if export is None:
            raise typer.BadParameter("--adapter is for exporting: add --export merged or --export gguf")
        target = out or _export_path(adapter, export)
        console.print(f"exported: {export_adapter(adapter, export, target, config)}", markup=False)
        return

    if resume:
        folder = out or latest_unfinished(workspace.adapters_dir)
        if folder is None:
            raise RagtuneError(f"no unfinished training run under {workspace.adapters_dir}; pass --out FOLDER")
        console.print(f"resuming {folder}", markup=False)
        result = train_adapter(Path(), folder, config, resume=True, progress=progress, max_steps=max_steps)
    else:
        if data is None and not from_docs:
            raise typer.BadParameter("give --data FILE (question/answer, messages or text lines) or --from-docs")
        folder = _out_folder(workspace, kind, out)
        with prepare_data(config, data=data, kind=kind, from_docs=from_docs, folder=folder) as (path, retriever):
            result = train_adapter(
                path, folder, config, kind=kind, progress=progress, retriever=retriever, max_steps=max_steps
            )
    console.print(_summary(result.metrics), highlight=False, markup=False)
    if export is not None:
        target = _export_path(result.adapter_dir, export)
        console.print(f"exported: {export_adapter(result.adapter_dir, export, target, config)}", markup=False)
    console.print(f"adapter: {result.adapter_dir}", highlight=False, soft_wrap=True, markup=False)


def _summary(m: Mapping[str, Any]) -> str:
    """One line on what training did: examples, epochs, steps, time, speed and losses."""
    summary = (
        f"{m['train_examples']} examples, {m['epochs']:.1f} epochs, {m['steps']} steps in {m['fit_seconds']:.0f} s "
        f"({m['tokens_per_s']:.0f} tokens/s), train loss {m['train_loss']:.3f}"
    )
    return summary + (f", eval loss {m['eval_loss']:.3f}" if "eval_loss" in m else "")


def _out_folder(workspace: Any, kind: str, out: Path | None) -> Path:
    """--out, else a new folder WORKSPACE/adapters/KIND/<UTC time>."""
    return out or workspace.ensure().adapters_dir / kind / datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def _export_path(adapter: Path, fmt: str) -> Path:
    return adapter / "merged" if fmt == "merged" else adapter / "adapter.gguf"


def _nothing_held_out(queries: int, kind: str) -> None:
    """Too few queries to hold any out: say the model is unmeasured instead of printing figures of nothing."""
    from ragtune.rerank import HELDOUT_MIN_QUERIES

    err_console.print(
        f"[yellow]note:[/] {queries} queries are too few to hold any out ({HELDOUT_MIN_QUERIES} or more are needed), "
        f"so the {kind} was not measured here; measure it with `ragtune eval-retrieval --questions` before using it",
        highlight=False,
    )


def _tune_reranker(config: Any, workspace: Any, data: Path | None, out: Path | None, progress: bool) -> None:
    from ragtune.rerank import train_on_store

    result = train_on_store(config, _out_folder(workspace, "reranker", out), data, progress=progress)
    m = result.metrics
    console.print(
        f"{m['queries']} queries, {m['pairs']} pairs, {m['steps']} steps in {m['fit_seconds']:.0f} s, "
        f"train loss {m['train_loss']:.3f}",
        highlight=False,
        markup=False,
    )
    if not m["heldout_queries"]:
        _nothing_held_out(m["queries"], "reranker")
    accuracy = m.get("heldout_pairwise_accuracy")
    if accuracy is not None:
        console.print(f"held-out pairwise accuracy {accuracy:.3f} (0.5 is chance)", highlight=False, markup=False)
        if accuracy < 0.6:
            err_console.print(
                "[yellow]warning:[/] the reranker barely beats chance on held-out queries; measure it with "
                "`ragtune eval-retrieval` before setting retrieval.reranker",
                highlight=False,
            )
    if "heldout_mrr_reranked" in m:
        k = m["heldout_found_at_k"]
        console.print(
            f"held-out queries with a relevant chunk in the top {k}: {m['heldout_found_hybrid']:.3f} without the "
            f"reranker, {m['heldout_found_reranked']:.3f} with it (reciprocal rank {m['heldout_mrr_hybrid']:.3f} -> "
            f"{m['heldout_mrr_reranked']:.3f})",
            highlight=False,
            markup=False,
        )
        if m["heldout_mrr_reranked"] <= m["heldout_mrr_hybrid"]:
            err_console.print(
                "[yellow]warning:[/] on held-out queries the reranker ranks relevant chunks no higher than the "
                "search it reranks; leave retrieval.reranker empty unless `ragtune eval-retrieval` shows a gain on "
                "your own questions",
                highlight=False,
            )
    console.print(f"reranker: {result.folder}", highlight=False, soft_wrap=True, markup=False)
    console.print(
        f"use it with: --set retrieval.reranker={result.folder}", highlight=False, soft_wrap=True, markup=False
    )


def _tune_embedder(config: Any, workspace: Any, data: Path | None, out: Path | None, progress: bool) -> None:
    from ragtune.tune.embedder import tune_on_store

    result = tune_on_store(config, _out_folder(workspace, "embedder", out), data, progress=progress)
    m = result.metrics
    console.print(
        f"{m['triplets']} triplets, {m['steps']} steps in {m['fit_seconds']:.0f} s, train loss {m['train_loss']:.3f}",
        highlight=False,
        markup=False,
    )
    if not m["heldout_triplets"]:
        _nothing_held_out(m["triplets"], "embedder")
    before, after = m.get("heldout_accuracy_before"), m.get("heldout_accuracy_after")
    if before is not None and after is not None:
        console.print(
            f"held-out questions closer to their answer's chunk than to a hard negative: {before:.3f} -> {after:.3f} "
            f"({m['heldout_triplets']} questions)",
            highlight=False,
            markup=False,
        )
        if after <= before:
            err_console.print(
                "[yellow]warning:[/] the tuned embedder is no better on held-out questions; measure it with "
                "`ragtune eval-retrieval` before using it",
                highlight=False,
            )
    console.print(f"embedder: {result.model}", highlight=False, soft_wrap=True, markup=False)
    console.print(
        f"use it on a new workspace (its vectors differ from the store's): ragtune --workspace NEW "
        f"--set models.embedder={result.model} ingest DOCS",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
