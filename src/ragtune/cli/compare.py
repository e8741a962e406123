"""`ragtune compare`: RAG vs fine-tuning vs hybrid on the bundled sample or on the user's own data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from ragtune.cli._state import console, require_paths, state
from ragtune.cli.synth import synthesize_files

if TYPE_CHECKING:
    from ragtune.config import Config
    from ragtune.evaluate.experiment import CompareRequest, ComparisonOutcome


def register(app: typer.Typer) -> None:
    app.command()(compare)


def compare(
    ctx: typer.Context,
    docs: list[Path] = typer.Option(
        [], "--docs", help="Documents: a folder or a file (a JSONL corpus, or a SQuAD JSON's contexts). Repeatable."
    ),
    questions: Path | None = typer.Option(
        None,
        "--questions",
        help="Questions: JSONL (question, answer/answers, id, split, answerable) or SQuAD JSON. Without it, "
        "--docs gets questions synthesized from the documents (as `ragtune synth` writes them).",
    ),
    updated_docs: list[Path] = typer.Option(
        [], "--updated-docs", help="Version 2 of the documents, for the freshness test. Repeatable."
    ),
    general_probe: Path | None = typer.Option(
        None, "--general-probe", help="General-knowledge questions (JSONL) for the forgetting test."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="A short run: small training budget, fewer questions, no learning curve."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for report.html, report.md and results.json (default: a new one in reports/)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the whole comparison (compare.seed)."),
    budget_min: float | None = typer.Option(
        None, "--budget-min", help="Training time budget in minutes (compare.time_budget_min)."
    ),
    server_strategy: list[str] = typer.Option(
        [],
        "--server-strategy",
        help="Add a model behind an OpenAI-compatible server: NAME=URL#MODEL (append +rag to give it sources).",
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars (for logs)."),
    synth_model: str = typer.Option(
        "", "--synth-model", help="Without --questions: write them with a model on a server (URL#MODEL)."
    ),
) -> None:
    """Build base, rag, finetune and hybrid on the data, measure them side by side and recommend one."""
    from ragtune.evaluate.experiment import run_comparison, sample_request
    from ragtune.evaluate.strategies import builtin_strategies, parse_server_strategy

    config = state(ctx).config(**_overrides(seed, budget_min))
    if questions is not None and not docs:
        raise typer.BadParameter("--questions needs --docs (or give neither for the bundled sample)")
    if docs:
        request, out = _own_data_request(
            ctx,
            config,
            docs,
            questions,
            updated_docs,
            general_probe,
            quick=quick,
            out=out,
            synth_model=synth_model,
            progress=not no_progress,
        )
    else:
        if updated_docs or general_probe:
            raise typer.BadParameter("--updated-docs and --general-probe need --docs")
        request = sample_request(quick=quick)
    strategies = builtin_strategies() + [parse_server_strategy(s) for s in server_strategy]
    console.print(f"[bold]ragtune compare[/] on {request.label}{' (quick)' if quick else ''}")
    outcome = run_comparison(
        request,
        config,
        out_dir=out,
        strategies=strategies,
        progress=not no_progress,
        echo=lambda line: console.print(escape(line), highlight=False),
    )
    _print_outcome(outcome)


def _overrides(seed: int | None, budget_min: float | None) -> dict[str, object]:
    overrides: dict[str, object] = {}
    if seed is not None:
        overrides["compare.seed"] = seed
    if budget_min is not None:
        # One budget asked for: it binds the --quick run too.
        overrides["compare.time_budget_min"] = budget_min
        overrides["compare.quick_time_budget_min"] = budget_min
    return overrides


def _own_data_request(
    ctx: typer.Context,
    config: Config,
    docs: list[Path],
    questions: Path | None,
    updated_docs: list[Path],
    general_probe: Path | None,
    *,
    quick: bool,
    out: Path | None,
    synth_model: str,
    progress: bool,
) -> tuple[CompareRequest, Path | None]:
    """The comparison of the user's files, and the report folder (chosen here when questions are synthesized)."""
    from ragtune.evaluate.experiment import CompareRequest

    require_paths(
        [
            *[("--docs", p) for p in docs],
            ("--questions", questions),
            *[("--updated-docs", p) for p in updated_docs],
            ("--general-probe", general_probe),
        ]
    )
    synthesized = None
    if questions is None:
        # Documents alone: synthesize the questions first, into the report's folder.
        out = out or state(ctx).workspace_for(config).new_report_dir()
        questions = out / "questions.synth.jsonl"
        console.print(f"no --questions: synthesizing them from the documents into {escape(str(questions))}")
        synthesized = synthesize_files(
            docs,
            updated_docs,
            config,
            questions,
            force=True,
            synth_model=synth_model,
            comparison_index=True,
            progress=progress,
        )
    request = CompareRequest(
        docs=tuple(docs),
        questions=questions,
        updated_docs=tuple(updated_docs),
        general_probe=general_probe,
        quick=quick,
        label=str(docs[0]),
        synthesized=synthesized,
    )
    return request, out


def _print_outcome(outcome: ComparisonOutcome) -> None:
    console.print()
    console.print(f"[bold]Report:[/] {escape(str(outcome.paths['html']))}")
    console.print(f"        {outcome.paths['markdown']}", markup=False)
    console.print(f"        {outcome.paths['json']}", markup=False)
    console.print()
    console.print(escape(outcome.summary), highlight=False)
