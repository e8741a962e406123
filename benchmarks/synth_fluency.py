"""The fluency filter that issue #29 proposed, measured before it is built: does the generator's own per-token
likelihood of a synthesized question tell the hand-read bad questions from the good ones?

Each pair of the latest hand readings (`benchmarks/synth_reading/*-2989f52.jsonl`: HotpotQA, SciFact, COVID-QA, 50
each, judged `ok` or not with why) is scored three ways with the default generator (SmolLM2-135M-Instruct, plain
text after its BOS token, no chat template):

- `mean`: the question's mean token log-probability;
- `minimum`: its least likely token (a splice or a garble should show as one very unlikely token);
- `against source`: `mean` minus the same for its declarative evidence sentence (the issue's proposal: the same
  words, so what is left is the cost of the question's shape).

A filter is worth building only where a score ranks ok pairs above bad ones on every corpus: the table gives the
area under the ROC curve (0.5 is chance). Not part of `make bench` (1-2 min):

    python -m benchmarks.synth_fluency
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

READINGS = Path(__file__).resolve().parent / "synth_reading"
COMMIT = "2989f52"
FRAME = "According to the documents, "  # the test twins' frame: scored without it, as a question of its own


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half); None when a side is
    empty. The Mann-Whitney form of the ROC area."""
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def log_probs(model: Any, tokenizer: Any, text: str) -> list[float]:
    """Each token's log-probability given the ones before it (after the BOS token)."""
    import torch

    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        return []
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    with torch.no_grad():
        logits = model(torch.tensor([[start, *ids]])).logits[0, :-1].float()
    picked = torch.log_softmax(logits, -1)[torch.arange(len(ids)), torch.tensor(ids, dtype=torch.long)]
    return [float(v) for v in picked]


def scores(model: Any, tokenizer: Any, question: str, evidence: str) -> dict[str, float]:
    if question.startswith(FRAME):
        question = question[len(FRAME)].upper() + question[len(FRAME) + 1 :]
    q, e = log_probs(model, tokenizer, question), log_probs(model, tokenizer, evidence)
    mean_q = sum(q) / len(q)
    return {
        "mean": mean_q,
        "minimum": min(q),
        "against source": mean_q - (sum(e) / len(e) if e else mean_q),
    }


def main() -> int:
    from ragtune.config import ModelsConfig
    from ragtune.models.loader import load_generator

    generator: Any = load_generator(ModelsConfig())
    model, tokenizer = generator.model, generator.tokenizer
    rows: list[tuple[str, bool, dict[str, float]]] = []
    for path in sorted(READINGS.glob(f"*-{COMMIT}.jsonl")):
        corpus = path.name.split("-")[0]
        for line in path.read_text(encoding="utf-8").splitlines():
            pair = json.loads(line)
            rows.append((corpus, bool(pair["ok"]), scores(model, tokenizer, pair["question"], pair["evidence"])))
    corpora = sorted({c for c, _, _ in rows})
    subsets = [[r for r in rows if r[0] == c] for c in corpora] + [rows]
    print(
        "| ROC area of | "
        + " | ".join(
            f"{c} ({sum(not ok for _, ok, _ in s)} bad of {len(s)})"
            for c, s in zip([*corpora, "all"], subsets, strict=True)
        )
        + " |"
    )
    print("| --- |" + " ---: |" * (len(corpora) + 1))
    for name in ("mean", "minimum", "against source"):
        cells = []
        for subset in subsets:
            good = [s[name] for _, ok, s in subset if ok]
            bad = [s[name] for _, ok, s in subset if not ok]
            value = auc(good, bad)
            cells.append(f"{value:.2f}" if value is not None else "-")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
