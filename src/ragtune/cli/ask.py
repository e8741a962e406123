"""`ragtune ask` (answer questions with one of the four strategies) and `ragtune calibrate` (fit refusal)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from ragtune.cli._state import console, err_console, state
from ragtune.errors import InputFileError, RagtuneError
from ragtune.jsonl import iter_records
from ragtune.strategies import NAMES as STRATEGIES
from ragtune.strategies import spec

if TYPE_CHECKING:
    from ragtune.calibration import Calibration
    from ragtune.config import Config
    from ragtune.rag import Answer, Answerer


def read_questions(path: Path) -> list[tuple[str, str]]:
    """(id, question) pairs from a JSONL file of `{"id", "question"}`; errors name the line and the field."""
    out: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    shape = '{"id": "q1", "question": "..."}'
    for where, line_no, record in iter_records(path, what="question file", shape=f"a JSON object like {shape}"):
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            raise InputFileError(f"{where}: field 'question' is missing or empty (a string is required)")
        qid = str(record.get("id", line_no))
        if qid in seen:  # answers are matched back to questions by id
            raise InputFileError(f"{where}: duplicate id {qid!r} (first used on line {seen[qid]}); ids must be unique")
        seen[qid] = line_no
        out.append((qid, question.strip()))
    if not out:
        raise InputFileError(f"{path}: no questions (expected one JSON object per line)")
    return out


def _adapter_for(strategy: str, adapter: Path | None, config: Config) -> Path | None:
    from ragtune.workspace import Workspace

    if not spec(strategy).tuned:
        if adapter is not None:
            raise typer.BadParameter(f"--adapter is for the finetune and hybrid strategies, not '{strategy}'")
        return None
    if adapter is not None:
        if not adapter.is_dir():
            raise RagtuneError(f"--adapter {adapter}: no such folder")
        return adapter
    found = Workspace(config.workspace_path).latest_adapter(strategy)
    if found is None:
        raise RagtuneError(
            f"strategy '{strategy}' needs an adapter: train one with `{spec(strategy).tune_command} ...` or pass "
            "--adapter DIR"
        )
    return found


@contextmanager
def open_answerer(config: Config, strategy: str, adapter: Path | None) -> Iterator[Answerer]:
    """The Answerer for `strategy`, with the store open while it is used."""
    from ragtune.models.loader import load_embedder, load_generator
    from ragtune.strategies import open_answerer as open_strategy

    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"--strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    adapter_dir = _adapter_for(strategy, adapter, config)
    generator = load_generator(config.models, config.generation, adapter=adapter_dir)
    embedder = None
    if adapter_dir is not None and config.tune.route_min_similarity > 0:
        from ragtune.tune.routing import route_questions, trained_questions

        questions = trained_questions(adapter_dir)
        if questions:
            # Outside the adapter's domain the base model answers (tune.route_min_similarity).
            base = load_generator(config.models, config.generation)
            embedder = load_embedder(config.models, config.store.embed_batch_size)
            generator = route_questions(generator, base, questions, embedder, config.tune.route_min_similarity)
    if not spec(strategy).reads_sources:
        yield open_strategy(spec(strategy), generator, config)
        return
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store

    embedder = embedder or load_embedder(config.models, config.store.embed_batch_size)
    store = open_store(config, embedder.identity, must_exist=True)
    try:
        if store.count() == 0:
            err_console.print(
                "[yellow]warning:[/] the store is empty, so every answer is a refusal; add documents with "
                "`ragtune ingest PATH`",
                highlight=False,
            )
        retriever = Retriever(store, embedder, config.retrieval)
        yield open_strategy(spec(strategy), generator, config, retriever=retriever, embedder=embedder)
    finally:
        store.close()


def _print_answer(answer: Answer, *, with_text: bool = True) -> None:
    if with_text:
        console.print(answer.text, highlight=False, soft_wrap=True, markup=False)
    if answer.refused and answer.refusal_reason:
        reasons = {
            "no_sources": "nothing was retrieved",
            "not_relevant": "no retrieved passage is relevant enough",
            "unsupported": "the answer is not supported by the sources",
            "model_refused": "the model found no answer in the sources",
        }
        console.print(f"[dim](refused: {escape(reasons.get(answer.refusal_reason, answer.refusal_reason))})[/]")
    for sentence in answer.sentences:
        where = f"[{sentence.source_number}]" if sentence.source_number is not None else "unsupported"
        cited = " (cited)" if sentence.cited else ""
        console.print(f"  {where} support {sentence.support:.2f}{cited}", style="dim", highlight=False, markup=False)
    shown = [s for s in answer.sources if s.excerpt] or list(answer.sources)
    if shown:
        console.print("\nSources:")
    for source in shown:
        place = f", p. {source.page}" if source.page is not None else (f", {source.heading}" if source.heading else "")
        title = f"{source.title} " if source.title else ""
        console.print(
            f"  [{source.number}] {title}({source.doc_id}{place}) score {source.score:.3f}",
            highlight=False,
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command()(ask)
    app.command()(calibrate)


def ask(
    ctx: typer.Context,
    question: str | None = typer.Argument(None, help="The question (or use --questions FILE)."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
    questions: Path | None = typer.Option(
        None, "--questions", help='Answer a JSONL file of {"id", "question"} in batches; one JSON line each.'
    ),
    stream: bool = typer.Option(False, "--stream", help="Print the answer as it is generated."),
    strategy: str = typer.Option(
        "rag", "--strategy", help="base (closed-book), rag (default), finetune (adapter), hybrid (adapter+rag)."
    ),
    adapter: Path | None = typer.Option(
        None, "--adapter", help="Adapter folder for finetune/hybrid (default: the workspace's latest of that kind)."
    ),
    top_k: int | None = typer.Option(None, "--top-k", "-k", help="Sources retrieved (default retrieval.top_k)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar for --questions."),
) -> None:
    """Answer a question from your documents, with its sources; refuses when the documents do not say."""
    if question is None and questions is None:
        raise typer.BadParameter("give a QUESTION, or --questions FILE to answer a file of them")
    if question is not None and questions is not None:
        raise typer.BadParameter("give either a QUESTION or --questions FILE, not both")
    if question is not None and not question.strip():
        raise typer.BadParameter("the question is empty")
    if stream and (as_json or questions is not None):
        raise typer.BadParameter("--stream prints text as it comes; it does not combine with --json or --questions")
    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"--strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    config = state(ctx).config(**({"retrieval.top_k": top_k} if top_k is not None else {}))
    batch = read_questions(questions) if questions is not None else []
    with open_answerer(config, strategy, adapter) as answerer:
        if batch:
            answers = answerer.answer_many([q for _, q in batch], progress=progress)
            for (qid, _), answer in zip(batch, answers, strict=True):
                sys.stdout.write(json.dumps({"id": qid, **answer.to_json(), "strategy": strategy}) + "\n")
            sys.stdout.flush()
            return
        assert question is not None
        if stream:
            _stream_answer(answerer, question)
            return
        answer = answerer.answer(question)
    if as_json:
        sys.stdout.write(json.dumps({**answer.to_json(), "strategy": strategy}, indent=2) + "\n")
    else:
        _print_answer(answer)


def _stream_answer(answerer: Answerer, question: str) -> None:
    pieces = answerer.stream(question)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    final = pieces.answer
    assert final is not None
    # What streamed is the model's own words; extraction or refusal may have changed them.
    changed = final.text.strip() != final.raw.strip()
    if changed and final.raw:
        console.print(f"[bold]answer:[/] {escape(final.text)}", highlight=False, soft_wrap=True)
    _print_answer(final, with_text=False)


def calibrate(
    ctx: typer.Context,
    questions: Path = typer.Argument(
        ..., help='Labelled questions, JSONL: {"id", "question", "answers": [...], "answerable": true|false}.'
    ),
    max_false_refusal: float = typer.Option(
        0.1, "--max-false-refusal", help="Largest share of answerable questions the threshold may refuse."
    ),
    relevance_quantile: float = typer.Option(
        0.02, "--relevance-quantile", help="Share of good retrievals the relevance floor may refuse."
    ),
    held_out: bool = typer.Option(
        False,
        "--held-out",
        help="Read --max-false-refusal as the share refused of answerable questions the fit has not seen: the "
        "fit picks its own share by fitting on one half of the questions and trying the other half.",
    ),
    strategy: str = typer.Option("rag", "--strategy", help="rag or hybrid: the strategy whose refusal to fit."),
    adapter: Path | None = typer.Option(None, "--adapter", help="Adapter folder for the hybrid strategy."),
    as_json: bool = typer.Option(False, "--json", help="Print the fitted calibration as JSON."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Fit the refusal thresholds and support weights on labelled questions; saves WORKSPACE/calibration.json."""
    from ragtune.calibration import check_labels, load_labelled, save_calibration
    from ragtune.rag import calibrate as fit
    from ragtune.workspace import Workspace

    if strategy not in STRATEGIES or not spec(strategy).reads_sources:
        raise typer.BadParameter("--strategy: only rag and hybrid read sources, so only they refuse")
    if not 0.0 <= max_false_refusal < 1.0:
        raise typer.BadParameter(f"--max-false-refusal {max_false_refusal}: give a share in [0, 1), e.g. 0.1")
    if not 0.0 <= relevance_quantile < 1.0:
        raise typer.BadParameter(f"--relevance-quantile {relevance_quantile}: give a share in [0, 1), e.g. 0.02")
    labelled = load_labelled(questions)
    check_labels(labelled, str(questions), held_out=held_out)  # before the models load and answer them all
    config = state(ctx).config()
    with open_answerer(config, strategy, adapter) as answerer:
        calibration, _ = fit(
            answerer,
            labelled,
            max_false_refusal=max_false_refusal,
            relevance_quantile=relevance_quantile,
            held_out=held_out,
            progress=progress,
            fitted_on={"file": str(questions), "strategy": strategy},
        )
    path = save_calibration(calibration, Workspace(config.workspace_path).calibration_file)
    if as_json:
        sys.stdout.write(json.dumps({"path": str(path), **calibration.to_json()}, indent=2) + "\n")
        return
    _print_calibration(calibration, path)


def _print_calibration(calibration: Calibration, path: Path) -> None:
    info = calibration.fitted_on
    console.print(
        f"calibrated on {info.get('questions')} questions ({info.get('answerable')} answerable): "
        f"relevance floor {calibration.min_relevance:.3f}, answerable threshold {calibration.min_answerable:.3f}, "
        f"support threshold {calibration.support.threshold:.3f}; on these questions it refuses "
        f"{info.get('fit_refusal_recall', 0):.0%} of the unanswerable and {info.get('fit_false_refusal', 0):.0%} "
        "of the answerable",
        highlight=False,
    )
    if "held_out" in info:
        chosen = info["held_out"]
        console.print(
            f"held out: fitted to refuse {chosen['fit_share']:.0%} of its own answerable questions, which refused "
            f"{chosen['held_out_false_refusal']:.0%} of the answerable and {chosen['held_out_refusal_recall']:.0%} "
            f"of the unanswerable questions of the half it was not fitted on (asked: at most "
            f"{chosen['target_false_refusal']:.0%})",
            highlight=False,
        )
    console.print(f"saved {path}", highlight=False, markup=False)
