"""The time-budget planner: epochs, sequence lengths and example counts of every training job, fitted to a budget.

Training dominates a comparison on a CPU, so the run decides up front how much of it it can afford. The cost
model is tokens: a job costs (tokens per epoch, each example cut at the sequence length) x epochs / throughput.
The throughput is a fixed figure per device (or a setting), never a measured one, so that the same seed and data
always give the same plan and therefore the same numbers; the report shows planned against measured seconds.
The tokens are the padded ones the model really computes: the trainer pads each shuffled batch to its longest
example, which costs RAFT's examples of mixed length (300 to 900 tokens) about a fifth more than their sum.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

# Measured on the default generator on 2 CPU cores: a fixed cost per optimizer step (optimizer, LoRA bookkeeping,
# ~2 core-s) plus ~120 padded tokens per core-second (a least-squares fit to the six training jobs of a full and a
# quick `make demo`, 48 to 930 tokens per example; since then the full demo plans 898 s and measures about 800).
# On a GPU the same model trains far faster; the figures only need the order.
CPU_TOKENS_PER_S_PER_CORE = 120.0
CPU_STEP_CORE_SECONDS = 2.0
GPU_TOKENS_PER_S = 8000.0
GPU_STEP_SECONDS = 0.05


def default_speed(device: str) -> tuple[float, float]:
    """(training tokens per second, fixed seconds per optimizer step) assumed for `device`."""
    if device == "cuda":
        return GPU_TOKENS_PER_S, GPU_STEP_SECONDS
    cores = max(1, min(os.cpu_count() or 1, 16))
    return CPU_TOKENS_PER_S_PER_CORE * cores, CPU_STEP_CORE_SECONDS / cores


@dataclass(frozen=True)
class JobSpec:
    """A training job to plan: its example lengths in tokens and the most epochs the settings allow."""

    name: str
    kind: str  # "finetune" or "hybrid"
    lengths: tuple[int, ...]
    max_epochs: float
    max_seq_len: int
    batch_size: int = 4


@dataclass(frozen=True)
class PlannedJob:
    name: str
    kind: str
    examples: int  # the first this many (seeded order) of the job's examples are trained on
    available: int
    epochs: float
    max_seq_len: int
    tokens: int  # per epoch, after truncation
    planned_seconds: float


@dataclass(frozen=True)
class Plan:
    jobs: tuple[PlannedJob, ...]
    budget_seconds: float
    tokens_per_s: float
    step_seconds: float
    note: str

    def job(self, name: str) -> PlannedJob:
        for j in self.jobs:
            if j.name == name:
                return j
        raise KeyError(name)

    def as_dict(self) -> dict[str, object]:
        return {
            "jobs": [asdict(j) for j in self.jobs],
            "budget_seconds": self.budget_seconds,
            "tokens_per_s": self.tokens_per_s,
            "step_seconds": self.step_seconds,
            "planned_seconds": sum(j.planned_seconds for j in self.jobs),
            "note": self.note,
        }


def seq_len_for(lengths: Sequence[int], cap: int) -> int:
    """The longest example rounded up to a multiple of 16, at most `cap`: no padding paid beyond what data needs."""
    if not lengths:
        return min(cap, 64)
    longest = max(lengths)
    return int(min(cap, 16 * math.ceil(longest / 16)))


def _tokens(lengths: Sequence[int], seq_len: int, n: int | None = None) -> int:
    chosen = lengths if n is None else lengths[:n]
    return int(sum(min(x, seq_len) for x in chosen))


def padded_tokens(lengths: Sequence[int], seq_len: int, batch: int, n: int | None = None) -> float:
    """Expected tokens of one epoch over the first `n` examples once each batch of `batch` examples, drawn at random
    as the trainer shuffles them, is padded to its longest: n x E[the longest of `batch` examples drawn without
    replacement]. Exact, and deterministic, from the sorted lengths: the k-th shortest is the longest of a batch
    with probability C(k-1, batch-1) / C(n, batch)."""
    chosen = sorted(min(x, seq_len) for x in (lengths if n is None else lengths[:n]))
    count, b = len(chosen), max(1, batch)
    if count <= b:
        return float(count * (chosen[-1] if chosen else 0))
    total = math.comb(count, b)
    expected = sum(chosen[k - 1] * math.comb(k - 1, b - 1) / total for k in range(b, count + 1))
    return count * expected


def _epoch_seconds(lengths: Sequence[int], seq_len: int, n: int, batch: int, tps: float, step_s: float) -> float:
    return padded_tokens(lengths, seq_len, batch, n) / tps + math.ceil(n / max(1, batch)) * step_s


def _plan_hybrid(hybrid: JobSpec, allowance: float, tps: float, step_s: float, min_epochs: float) -> PlannedJob:
    """The most of `hybrid` that fits `allowance` seconds: more epochs up to its cap when a full pass fits, else
    one pass (`min_epochs`) over fewer examples: every example it sees, it sees whole."""
    seq = seq_len_for(hybrid.lengths, hybrid.max_seq_len)
    n = len(hybrid.lengths)

    def cost(count: int) -> float:
        return _epoch_seconds(hybrid.lengths, seq, count, hybrid.batch_size, tps, step_s)

    if n == 0 or cost(n) <= 0:
        epochs = hybrid.max_epochs
    elif cost(n) * min_epochs > allowance:
        epochs = min_epochs
        while n > 1 and cost(n) * epochs > allowance:
            n = max(1, int(n * 0.9))
    else:
        epochs = min(hybrid.max_epochs, math.floor(allowance / cost(n) * 10) / 10)
    tokens = _tokens(hybrid.lengths, seq, n)
    return PlannedJob(hybrid.name, hybrid.kind, n, len(hybrid.lengths), epochs, seq, tokens, cost(n) * epochs)


def plan_training(
    finetune_jobs: Sequence[JobSpec],
    hybrid: JobSpec | None,
    *,
    budget_seconds: float,
    tokens_per_s: float,
    step_seconds: float = 0.0,
    hybrid_share: float = 0.3,
    min_epochs: float = 1.0,
) -> Plan:
    """Fits every job into `budget_seconds`; an epoch costs its padded tokens / `tokens_per_s` plus `step_seconds`
    per step.

    The closed-book fine-tunes (100% and the learning-curve shares) get one shared epoch count, so the learning
    curve compares data amounts and not training lengths. The hybrid (RAFT) adapter gets `hybrid_share` of the
    budget; its examples are long, so when even `min_epochs` does not fit it trains on fewer examples instead.
    Budget one side leaves unused goes to the other: the hybrid's to the fine-tunes, and what the fine-tunes leave
    at their epoch cap back to the hybrid. Epochs are rounded down to a tenth.
    """
    notes: list[str] = []
    planned_hybrid: PlannedJob | None = None
    allowance = budget_seconds * hybrid_share
    if hybrid is not None:
        planned_hybrid = _plan_hybrid(hybrid, allowance, tokens_per_s, step_seconds, min_epochs)
    remaining = max(0.0, budget_seconds - (planned_hybrid.planned_seconds if planned_hybrid else 0.0))
    ft_jobs: list[PlannedJob] = []
    if finetune_jobs:
        seqs = {j.name: seq_len_for(j.lengths, j.max_seq_len) for j in finetune_jobs}
        per = {
            j.name: _epoch_seconds(j.lengths, seqs[j.name], len(j.lengths), j.batch_size, tokens_per_s, step_seconds)
            for j in finetune_jobs
        }
        per_epoch = sum(per.values())
        cap = min(j.max_epochs for j in finetune_jobs)
        epochs = cap if per_epoch <= 0 else min(cap, math.floor(remaining / per_epoch * 10) / 10)
        if epochs < min_epochs:
            notes.append(
                f"the budget allows only {epochs:.1f} epochs of fine-tuning; training {min_epochs:.0f} anyway "
                "(raise compare.time_budget_min for a fair fine-tune)"
            )
            epochs = min_epochs
        for j in finetune_jobs:
            tokens = _tokens(j.lengths, seqs[j.name])
            planned = per[j.name] * epochs
            ft_jobs.append(
                PlannedJob(j.name, j.kind, len(j.lengths), len(j.lengths), epochs, seqs[j.name], tokens, planned)
            )
    left = remaining - sum(j.planned_seconds for j in ft_jobs)
    if hybrid is not None and planned_hybrid is not None and left > 0:
        planned_hybrid = _plan_hybrid(
            hybrid, planned_hybrid.planned_seconds + left, tokens_per_s, step_seconds, min_epochs
        )
    if planned_hybrid is not None and planned_hybrid.examples < planned_hybrid.available:
        notes.append(
            f"hybrid trains on {planned_hybrid.examples} of {planned_hybrid.available} RAFT examples to fit its share "
            "of the budget"
        )
    jobs = ft_jobs + ([planned_hybrid] if planned_hybrid else [])  # the primary closed-book model trains first
    total = sum(j.planned_seconds for j in jobs)
    head = (
        f"training planned at {total / 60:.1f} of {budget_seconds / 60:.1f} budget minutes, assuming "
        f"{tokens_per_s:.0f} training tokens/s and {step_seconds:.2f} s per optimizer step"
    )
    return Plan(tuple(jobs), budget_seconds, tokens_per_s, step_seconds, "; ".join([head, *notes]))


def with_side_job(plan: Plan, spec: JobSpec, epochs: float) -> Plan:
    """`plan` plus a job trained beside the budget at `epochs` (a measurement, not a strategy: the forgetting
    baseline trains as long as the adapter it is compared with, so it cannot shorten the strategies' training)."""
    seq = seq_len_for(spec.lengths, spec.max_seq_len)
    n = len(spec.lengths)
    seconds = _epoch_seconds(spec.lengths, seq, n, spec.batch_size, plan.tokens_per_s, plan.step_seconds) * epochs
    job = PlannedJob(spec.name, spec.kind, n, n, epochs, seq, _tokens(spec.lengths, seq), seconds)
    note = f"{plan.note}; {spec.name} trains beside the budget ({seconds / 60:.1f} min planned)"
    return Plan((*plan.jobs, job), plan.budget_seconds, plan.tokens_per_s, plan.step_seconds, note)
