"""results.json -> report.html (self-contained, inline SVG plots), report.md and a terminal summary.

The report reads nothing but the Results (results.py) read back from results.json as written, so every number and
every plot in it can be traced to a JSON field; each figure's caption names the fields it draws.
"""

from __future__ import annotations

import html
import io
import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ragtune.evaluate.advisor import INCONCLUSIVE, RANKS_FIRST
from ragtune.evaluate.metrics import Estimate
from ragtune.evaluate.records import num
from ragtune.evaluate.report_data import reader_lines, retrieval_lines, synthesized_lines, wording_lines
from ragtune.evaluate.results import FreshnessSummary, Results, Skipped
from ragtune.evaluate.strategy_measures import ReplayContrast

# One colour per built-in strategy, so the same strategy looks the same in every plot.
COLOURS = {"base": "#8c8c8c", "rag": "#1f77b4", "finetune": "#ff7f0e", "hybrid": "#2ca02c"}
_EXTRA = ["#9467bd", "#d62728", "#17becf", "#bcbd22", "#e377c2", "#7f7f7f"]


def _colour(name: str, i: int) -> str:
    return COLOURS.get(name, _EXTRA[i % len(_EXTRA)])


def fmt(x: Any, digits: int = 2) -> str:
    v = num(x)
    return "n/a" if math.isnan(v) else f"{v:.{digits}f}"


def fmt_est(e: Estimate | None, digits: int = 2) -> str:
    """`0.72 [0.63, 0.80]`, or n/a."""
    if e is None or math.isnan(e.value):
        return "n/a"
    return f"{fmt(e.value, digits)} [{fmt(e.ci_low, digits)}, {fmt(e.ci_high, digits)}]"


def fmt_s(x: Any) -> str:
    v = num(x)
    if math.isnan(v):
        return "n/a"
    return f"{v:.2f} s" if v < 10 else (f"{v:.0f} s" if v < 600 else f"{v / 60:.1f} min")


def _est_value(e: Estimate | float | None) -> float:
    return e.value if isinstance(e, Estimate) else num(e)


# ---------------------------------------------------------------------------------------------------------- plots


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})  # no date: same run, same file
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg") :]


def _figure(width: float = 6.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "ragtune"  # stable element ids: the same results give the same SVG
    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def plot_accuracy(results: Results) -> str:
    names = list(results.strategies)
    fig, ax = _figure()
    for i, name in enumerate(names):
        e = results.strategies[name].accuracy
        v, lo, hi = e.value, e.ci_low, e.ci_high
        if math.isnan(v):
            continue
        ax.bar(i, v, color=_colour(name, i), width=0.6)
        ax.errorbar(i, v, yerr=[[v - lo], [hi - v]], color="black", capsize=6, lw=1.2)
        ax.text(i, hi + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("answer accuracy (95% CI)")
    return _svg(fig)


def plot_freshness(results: Results) -> str | None:
    rows = [(n, s.freshness) for n, s in results.strategies.items() if s.freshness is not None]
    if not rows:
        return None
    fig, ax = _figure()
    width = 0.38
    for i, (name, f) in enumerate(rows):
        before, after = f.before.value, f.after.value
        ax.bar(
            i - width / 2,
            0 if math.isnan(before) else before,
            width,
            color="#c7c7c7",
            label="before" if i == 0 else None,
        )
        ax.bar(i + width / 2, 0 if math.isnan(after) else after, width, color=_colour(name, i), label=None)
        ax.text(i + width / 2, (0 if math.isnan(after) else after) + 0.02, fmt(after), ha="center", fontsize=9)
    ax.set_xticks(range(len(rows)), [n for n, _ in rows])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("changed facts answered\nwith the NEW value")
    ax.legend(["before update (grey)"], frameon=False, fontsize=8, loc="upper left")
    return _svg(fig)


def plot_learning_curve(results: Results) -> str | None:
    curve = results.learning_curve
    points = curve.points
    if len(points) < 2:
        return None
    fig, ax = _figure()
    xs = [p.share * 100 for p in points]
    ys = [p.accuracy.value for p in points]
    lo = [p.accuracy.ci_low for p in points]
    hi = [p.accuracy.ci_high for p in points]
    ax.fill_between(xs, lo, hi, color=COLOURS["finetune"], alpha=0.2, lw=0)
    ax.plot(xs, ys, marker="o", color=COLOURS["finetune"], label=curve.strategy)
    base = results.strategies.get("base")
    if base is not None:
        ax.axhline(base.accuracy.value, color=COLOURS["base"], ls="--", label="base")
    ax.set_xlabel("share of the training questions (%)")
    ax.set_ylabel("answer accuracy")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig)


def plot_costs(results: Results) -> str:
    names = list(results.strategies)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "ragtune"
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2))
    width = 0.38
    for i, name in enumerate(names):
        s = results.strategies[name]
        p50, p95 = s.latency_p50_s, s.latency_p95_s
        ax1.bar(i - width / 2, 0 if math.isnan(p50) else p50, width, color=_colour(name, i))
        ax1.bar(i + width / 2, 0 if math.isnan(p95) else p95, width, color=_colour(name, i), alpha=0.5)
        setup = s.train_seconds + (results.costs.index_build_seconds if s.reads_sources else 0.0)
        ax2.bar(i, 0 if math.isnan(setup) else setup / 60, 0.6, color=_colour(name, i))
    for ax in (ax1, ax2):
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_xticks(range(len(names)), names, fontsize=8)
    ax1.set_ylabel("seconds per answer\n(solid p50, light p95)")
    ax2.set_ylabel("set-up minutes\n(index build + training)")
    return _svg(fig)


# ---------------------------------------------------------------------------------------------------------- tables

SUMMARY_COLUMNS = (
    ("accuracy", "accuracy [95% CI]"),
    ("accuracy_refusal_off", "acc. refusal off"),
    ("exact_match", "EM"),
    ("token_f1", "F1"),
    ("semantic_similarity", "sem. sim."),
    ("hallucination", "halluc."),
    ("refusal_recall", "refusal R"),
    ("refusal_precision", "refusal P"),
    ("answerable_refused", "ans. refused"),
    ("citation_rate", "cites"),
    ("citation_precision", "cite prec."),
)


def summary_table(results: Results) -> str:
    """The per-strategy Markdown table (the one the README quotes)."""
    head = [
        "strategy",
        *(label for _, label in SUMMARY_COLUMNS),
        "fresh after update",
        "forgetting",
        "p50 / p95",
        "tokens/answer",
        "training",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in results.strategies.items():
        cells = [f"**{name}**"]
        for key, _ in SUMMARY_COLUMNS:
            value = getattr(s.scores, key)
            cells.append(fmt_est(value) if key == "accuracy" else fmt(_est_value(value)))
        cells.append(fmt(s.freshness.after.value) if s.freshness else "n/a")
        cells.append(fmt(s.forgetting.drop) if s.forgetting else "n/a")
        cells.append(f"{fmt(s.latency_p50_s)} / {fmt(s.latency_p95_s)} s")
        cells.append(fmt(s.scores.tokens_per_answer, 1))
        cells.append(fmt_s(s.train_seconds) if s.train_seconds > 0 else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _paired_table(results: Results) -> str:
    if not results.paired:
        return "_no paired tests_"
    lines = ["| B vs A | metric | B - A [95% CI] | p | test | significant |", "|---|---|---|---|---|---|"]
    for r in results.paired:
        lines.append(
            f"| {r.b} vs {r.a} | {r.metric} | {fmt(r.difference)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}] "
            f"| {fmt(r.p_value, 3)} | {r.method} | {'yes' if r.significant else 'no'} |"
        )
    return "\n".join(lines)


def _learning_table(results: Results) -> str:
    curve = results.learning_curve
    if not curve.points:
        return f"_skipped: {curve.skipped or 'not run'}_"
    lines = ["| share of train | examples | accuracy [95% CI] | training |", "|---|---|---|---|"]
    for p in curve.points:
        lines.append(f"| {p.share * 100:.0f}% | {p.examples} | {fmt_est(p.accuracy)} | {fmt_s(p.train_seconds)} |")
    if curve.skipped:
        lines.append(f"\n_{curve.skipped}_")
    return "\n".join(lines)


def _freshness_lines(results: Results) -> list[str]:
    f = results.freshness
    if isinstance(f, Skipped):
        return [f"_skipped: {f.skipped}_"]
    counts = ", ".join(f"{k} {v}" for k, v in asdict(f.sync).items())
    lines = [
        f"- changed-fact questions: {f.changed_questions}",
        f"- re-sync of the updated documents: {fmt_s(f.resync_seconds)} (documents {counts})",
        f"- retraining the tuned model to learn them: {fmt_s(f.retrain_seconds)} "
        f"({'measured' if f.retrain_measured else 'estimated from the measured training tokens/s'})",
        "",
        "| strategy | new value before | new value after | old value after |",
        "|---|---|---|---|",
    ]
    for name, s in results.strategies.items():
        fr = s.freshness
        if fr is not None:
            lines.append(f"| {name} | {fmt_est(fr.before)} | {fmt_est(fr.after)} | {fmt_est(fr.old_after)} |")
    return lines


def _cost_lines(results: Results) -> list[str]:
    c = results.costs
    lines = [
        f"- index build: {fmt_s(c.index_build_seconds)}, index on disk: {fmt(c.index_mb)} MB, {c.chunks} chunks",
        f"- peak memory of the run: {fmt(c.peak_memory_mb, 0)} MB",
        "",
        "| strategy | training | adapter on disk | p50 | p95 | tokens in / out per answer |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in results.strategies.items():
        lines.append(
            f"| {name} | {fmt_s(s.train_seconds) if s.train_seconds > 0 else '-'} | "
            f"{fmt(s.adapter_mb) + ' MB' if s.adapter_mb else '-'} | {fmt(s.latency_p50_s)} s | "
            f"{fmt(s.latency_p95_s)} s | "
            f"{fmt(s.scores.tokens_in_per_answer, 0)} / {fmt(s.scores.tokens_per_answer, 1)} |"
        )
    return lines


def _stage_table(results: Results) -> str:
    lines = ["| stage | seconds | this run |", "|---|---|---|"]
    for s in results.stages:
        lines.append(f"| {s.name} | {fmt(s.seconds, 1)} | {'reused from cache' if s.cached else 'computed'} |")
    return "\n".join(lines)


def _plan_lines(results: Results) -> list[str]:
    plan = results.plan
    if not plan.jobs and not plan.note:
        return []
    lines = [f"- {plan.note}"]
    for job in plan.jobs:
        lines.append(
            f"- {job.name}: {job.examples} examples x {fmt(job.epochs, 1)} epochs at up to {job.max_seq_len} "
            f"tokens (~{job.tokens} tokens/epoch), planned {fmt_s(job.planned_seconds)}"
        )
    return lines


def summary_paragraph(results: Results) -> str:
    """One paragraph for the terminal: the recommendation and the numbers behind it."""
    rec = results.recommendation
    strategies = results.strategies
    parts = [f"{name} {fmt_est(s.accuracy)}" for name, s in strategies.items()]
    text = f"Answer accuracy on {results.data.questions.test_answerable} test questions: " + "; ".join(parts) + "."
    fresh = results.freshness
    if isinstance(fresh, FreshnessSummary):
        after = {n: s.freshness.after.value for n, s in strategies.items() if s.freshness}
        text += (
            f" After the document update (re-sync {fmt_s(fresh.resync_seconds)}) the share of changed facts "
            "answered with the new value was " + ", ".join(f"{n} {fmt(v)}" for n, v in after.items()) + "."
        )
    if rec.strategy == INCONCLUSIVE:
        text += " No strategy is recommended (inconclusive): " + "; ".join(rec.reasons[:2]) + "."
    elif rec.reasons or rec.ranking:
        # Its three main reasons; the leader's bare score says nothing the reasons do not.
        reasons = [r for r in rec.reasons if not r.startswith(f"{rec.strategy} {RANKS_FIRST}")]
        # "Recommended: rag, because rag is recommended: its accuracy ..." says the verdict twice.
        reasons = [r.removeprefix(f"{rec.strategy} is recommended: ") for r in reasons]
        text += f" Recommended: {rec.strategy}, because " + "; ".join(reasons[:3]) + "."
    return text


def constraints_line(constraints: Mapping[str, Any]) -> str:
    """What the advisor was told, in words: "documents change weekly, answers must cite their sources, no latency
    budget, retraining on cpu"."""
    c = dict(constraints)
    latency = c.get("max_latency_ms") or 0
    parts = [
        f"documents change {c.get('update_frequency', '?')}",
        "answers must cite their sources" if c.get("require_citations") else "citations not required",
        f"latency budget {latency:g} ms per answer" if latency else "no latency budget",
        f"retraining on {c.get('compute_budget', '?')}",
    ]
    known = {"update_frequency", "require_citations", "max_latency_ms", "compute_budget"}
    parts += [f"{k} {v}" for k, v in sorted(c.items()) if k not in known]
    return ", ".join(parts)


def render_markdown(results: Results) -> str:
    rec = results.recommendation
    data = results.data
    q = data.questions
    out = [
        "# ragtune comparison: RAG vs fine-tuning vs hybrid",
        "",
        f"Data: {data.documents} documents ({data.source_docs}), {q.train} training questions, "
        f"{q.test} test questions ({q.test_answerable} answerable, {q.unanswerable} unanswerable), "
        f"{q.changed} changed-fact questions. Split: {data.split_note}.",
        *synthesized_lines(data.synthesized),
        *wording_lines(data),
        f"Models: generator {results.generator}, embedder {results.embedder}. "
        f"Seed {results.seed}{', quick run' if results.quick else ''}.",
        f"Refusal calibration: {results.calibration.get('note', 'n/a')}.",
        "",
        f"## Recommendation: **{rec.strategy}**",
        "",
        *[f"- {r}" for r in rec.reasons],
        "",
        "| rank | strategy | score | meets constraints |",
        "|---|---|---|---|",
        *[
            f"| {i} | {r.name} | {fmt(r.score)} | {'yes' if r.meets_constraints else 'no'} |"
            for i, r in enumerate(rec.ranking, 1)
        ],
        "",
        f"Constraints (settings `advisor.*`): {constraints_line(rec.constraints)}",
        "",
        "## Results per strategy",
        "",
        "Accuracy: a gold answer appears in the normalized answer (answerable test questions). Hallucination: answered "
        "but wrong on an answerable question, unsupported by its sources, or answered an unanswerable one. "
        "'fresh after "
        "update': share of changed-fact questions answered with the new value. Forgetting: drop of general-probe "
        "accuracy against base.",
        "",
        summary_table(results),
        "",
        *reader_lines(results),
        *retrieval_lines(results),
        "## Paired significance (same questions)",
        "",
        _paired_table(results),
        "",
        "## Freshness",
        "",
        *_freshness_lines(results),
        "",
        "## Data dependency (learning curve)",
        "",
        _learning_table(results),
        "",
        "## Forgetting (general-knowledge probe)",
        "",
        *_forgetting_lines(results),
        "",
        "## Costs",
        "",
        *_cost_lines(results),
        "",
        "## Training plan",
        "",
        *_plan_lines(results),
        "",
        "## Stages",
        "",
        _stage_table(results),
        "",
    ]
    return "\n".join(out)


def _forgetting_lines(results: Results) -> list[str]:
    probe = results.general_probe
    if isinstance(probe, Skipped):
        return [f"_skipped: {probe.skipped}_"]
    lines = [
        f"{probe} general-knowledge questions, asked closed-book.",
        "",
        "| model | probe accuracy | drop vs base |",
        "|---|---|---|",
    ]
    notes = []
    for name, s in results.strategies.items():
        f = s.forgetting
        if f is None:
            continue
        lines.append(f"| {name} | {fmt_est(f.probe_accuracy)} | {fmt(f.drop)} |")
        if f.unrouted_probe_accuracy is not None:
            lines.append(f"| {name} without routing | {fmt_est(f.unrouted_probe_accuracy)} | {fmt(f.unrouted_drop)} |")
            notes.append(
                f"Routing (tune.route_min_similarity: questions far from everything the adapter was trained on go "
                f"to the base model) changes {name}'s probe drop from {fmt(f.unrouted_drop)} to {fmt(f.drop)}."
            )
        c = f.replay_contrast
        if c is not None:
            lines.append(f"| {_contrast_label(name, c)} | {fmt_est(c.probe_accuracy)} | {fmt(c.drop)} |")
            notes.append(_contrast_note(name, c, f.drop, s.accuracy))
    return lines + (["", *notes] if notes else [])


def _contrast_label(name: str, c: ReplayContrast) -> str:
    """The forgetting table's row for the replay contrast: the replay setting it was trained with."""
    return f"{name} with replay (share {c.contrast_share:g})" if c.contrast_share > 0 else f"{name} without replay"


def _contrast_note(name: str, c: ReplayContrast, drop: float | None, accuracy: Estimate) -> str:
    """What replay changes, from without replay to with it, whichever of the two the strategy (its probe `drop`, its
    test `accuracy`) was trained with."""
    what = "Replay (the base model's own answers to general prompts mixed into training)"
    if c.with_replay:
        return (
            f"{what} at share {c.contrast_share:g} would change {name}'s probe drop from {fmt(drop)} (share "
            f"{c.strategy_share:g}, as trained) to {fmt(c.drop)}, and its test accuracy from {fmt_est(accuracy)} to "
            f"{fmt_est(c.accuracy)}."
        )
    return (
        f"{what} at share {c.strategy_share:g}, as trained, changes {name}'s probe drop from {fmt(c.drop)} (share "
        f"{c.contrast_share:g}) to {fmt(drop)}, and its test accuracy from {fmt_est(c.accuracy)} to "
        f"{fmt_est(accuracy)}."
    )


def _md_to_html(md: str) -> str:
    """Just enough Markdown (headings, lists, tables, bold) for the report's own text; no user HTML gets through."""
    out: list[str] = []
    table: list[list[str]] = []
    in_list = False

    def inline(text: str) -> str:
        text = html.escape(text)
        parts = text.split("**")
        return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts)).replace("_", "_")

    def flush_table() -> None:
        if not table:
            return
        rows = [r for r in table if not all(set(c) <= {"-", ":"} for c in r)]
        out.append("<table>")
        for i, r in enumerate(rows):
            tag = "th" if i == 0 else "td"
            out.append("<tr>" + "".join(f"<{tag}>{inline(c)}</{tag}>" for c in r) + "</tr>")
        out.append("</table>")
        table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        flush_table()
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inline(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{inline(line.strip('_'))}</p>")
    flush_table()
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.3em .55em;text-align:left}th{background:#f4f4f4}figure{margin:1.2em 0}
figcaption{font-size:.85em;color:#555}code{background:#f4f4f4;padding:0 .2em}
svg{max-width:100%;height:auto}
"""


def render_html(results: Results) -> str:
    figures: list[tuple[str, str | None, str]] = [
        ("Answer accuracy with 95% bootstrap intervals", plot_accuracy(results), "strategies.*.accuracy"),
        (
            "Freshness: changed facts answered with the new value, before and after the update",
            plot_freshness(results),
            "strategies.*.freshness.before / .after",
        ),
        ("Learning curve of the fine-tuned model", plot_learning_curve(results), "learning_curve.points"),
        (
            "Latency per answer and set-up cost",
            plot_costs(results),
            "strategies.*.latency_p50_s / latency_p95_s / train_seconds, costs.index_build_seconds",
        ),
    ]
    figs = "\n".join(
        f"<figure>{svg}<figcaption>{html.escape(title)}. From results.json: "
        f"<code>{html.escape(src)}</code></figcaption></figure>"
        for title, svg, src in figures
        if svg
    )
    body = _md_to_html(render_markdown(results))
    # Figures go right after the recommendation block: the first "Results per strategy" heading.
    marker = "<h2>Results per strategy</h2>"
    body = body.replace(marker, "<h2>Figures</h2>\n" + figs + "\n" + marker, 1)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>ragtune comparison</title>"
        f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _json_default(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    return str(x)


def _clean(x: Any) -> Any:
    """NaN -> null so results.json is strict JSON (browsers and jq reject NaN)."""
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, Mapping):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def write_report(results: Results, out_dir: Path) -> dict[str, Path]:
    """Writes results.json, report.md and report.html into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clean = _clean(results.to_json())
    paths = {
        "json": out_dir / "results.json",
        "markdown": out_dir / "report.md",
        "html": out_dir / "report.html",
    }
    paths["json"].write_text(json.dumps(clean, indent=2, default=_json_default) + "\n", encoding="utf-8")
    # The report is rendered from the JSON as written (None for NaN), exactly what a reader can check.
    reread = Results.from_json(json.loads(paths["json"].read_text(encoding="utf-8")))
    paths["markdown"].write_text(render_markdown(reread), encoding="utf-8")
    paths["html"].write_text(render_html(reread), encoding="utf-8")
    return paths
