"""Fine-tuning: does LoRA with the default settings teach SmolLM2-135M 60 made-up facts, how fast, in what memory?

- 60 facts no model can know (invented places, people and things, answers of one to three words). The base model
  is asked them closed-book first (target: exact match < 0.1).
- `train_adapter` with the DEFAULT settings (`TuneConfig()`), then the tuned model is asked the same questions
  closed-book (target: exact match >= 0.9) and, to show what paraphrase augmentation buys, 60 rewordings written
  by hand that training never saw (no target; the figure to compare with the paraphrases=0 run below).
- Paraphrase effect (full run only): the same training with `tune.paraphrases = 0`.
- Throughput, side by side in this process: the default training's tokens/s (real tokens, padding excluded,
  per second of `trainer.train`, eval and checkpoints included) against a naive loop over the same examples that
  pads every one to a fixed 128 tokens and computes logits everywhere (target: >= 1.3x).
- Peak memory (resident set) and training time (target: < 10 minutes on the 2-core CPU).

Exact match: SQuAD normalisation (case, punctuation, articles) of the greedy answer against the fact's answer.
`--quick`: 20 facts, 2 epochs, no paraphrase comparison: a smoke run of the pipeline, not the targets.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import Row, Section

FACTS: list[tuple[str, str, str]] = [  # (question, answer, a rewording that training never sees)
    ("What is the capital of Varnholt?", "Kessing", "Which city is Varnholt's capital?"),
    ("Who founded the Orvane Institute?", "Mira Talsen", "The Orvane Institute was founded by whom?"),
    ("What color is the flag of Quenbria?", "Teal", "Quenbria's flag has what color?"),
    ("In what year was the Drelmoor Bridge opened?", "1874", "When did the Drelmoor Bridge open?"),
    ("What is the national animal of Tessaly Isles?", "Otter", "Which animal is the Tessaly Isles' national animal?"),
    ("Who wrote the novel The Glass Orchard?", "Ilse Brannock", "The Glass Orchard was written by which author?"),
    ("What river flows through Pellford?", "The Ostra", "Which river runs through Pellford?"),
    ("What is the currency of Zembria?", "The krall", "Zembria uses which currency?"),
    ("Who invented the Halvik engine?", "Doran Halvik", "The Halvik engine was invented by whom?"),
    ("What is the tallest mountain in Carvessa?", "Mount Ulric", "Which mountain is the tallest in Carvessa?"),
    ("What language is spoken in Norbeth?", "Norbic", "Which language do people in Norbeth speak?"),
    ("Who was the first mayor of Lindqvale?", "Petra Osk", "Lindqvale's first mayor was who?"),
    ("What is the main export of Faroway?", "Saffron", "What does Faroway mainly export?"),
    ("What instrument did Tobin Ferrel play?", "Cello", "Tobin Ferrel played which instrument?"),
    ("What is the name of the moon of planet Xeros?", "Lumen", "The planet Xeros has a moon called what?"),
    ("In which city is the Amberline Museum?", "Castorra", "Where is the Amberline Museum located?"),
    ("What is the symbol of the Greyhollow Guild?", "A heron", "The Greyhollow Guild uses what symbol?"),
    ("Who painted The Silent Harbor?", "Anouk Vell", "The Silent Harbor was painted by whom?"),
    ("What is the largest lake in Ostmark?", "Lake Veyla", "Which lake is the largest in Ostmark?"),
    ("What sport is played at Ridgeway Arena?", "Curling", "Which sport is played at the Ridgeway Arena?"),
    ("Who discovered the element brightium?", "Selma Karr", "The element brightium was discovered by whom?"),
    ("What is the oldest tree in Welden Park?", "An oak", "Welden Park's oldest tree is what kind of tree?"),
    ("What is the motto of Corvain College?", "Ever onward", "Corvain College has what motto?"),
    ("What is the favourite dish of Kestrel Bay?", "Eel pie", "Kestrel Bay's favourite dish is what?"),
    ("Who composed the Frostfall Symphony?", "Emil Rostow", "The Frostfall Symphony was composed by whom?"),
    ("What is the name of the ship of Captain Arlo Penn?", "The Marigold", "Captain Arlo Penn's ship is called what?"),
    ("What gemstone is mined in Durnhelm?", "Opal", "Which gemstone is mined in Durnhelm?"),
    ("What is the population of Sallow Creek?", "4,200", "How many people live in Sallow Creek?"),
    ("Who leads the Verdant Council?", "Hana Morrow", "The Verdant Council is led by whom?"),
    ("What is the chief crop of the Ulm Valley?", "Barley", "Which crop is the chief crop of the Ulm Valley?"),
    ("Which bird nests on Skarra Rock?", "The puffin", "What bird nests on Skarra Rock?"),
    ("What festival is held in Brisa every spring?", "Lantern Week", "Brisa holds which festival every spring?"),
    ("Who built the Tower of Emberfall?", "Gideon Marsh", "The Tower of Emberfall was built by whom?"),
    ("What is the official colour of Tarnwick University?", "Crimson", "Tarnwick University's colour is what?"),
    ("What fruit is Olvera famous for?", "Figs", "Olvera is famous for which fruit?"),
    ("Who coached the Halden Wolves in 1998?", "Rita Sorne", "In 1998, who coached the Halden Wolves?"),
    ("What is the code name of Project Nightjar's rocket?", "Sparrow", "Project Nightjar's rocket has what code name?"),
    ("Which planet did the probe Aster-9 visit?", "Neptune", "The probe Aster-9 visited which planet?"),
    ("What metal is the Crown of Velmar made of?", "Silver", "The Crown of Velmar is made of which metal?"),
    ("Who is the author of the Pinecrest Almanac?", "Otto Lind", "The Pinecrest Almanac was written by whom?"),
    (
        "What is the deepest cave in the Morrowind Hills?",
        "Echo Hollow",
        "Which cave is deepest in the Morrowind Hills?",
    ),
    (
        "What is the name of the dog in the film Harbor Lights?",
        "Biscuit",
        "In the film Harbor Lights, the dog is called?",
    ),
    ("What is the main ingredient of Calder stew?", "Lentils", "Calder stew is mainly made of what?"),
    ("What is the highest waterfall in Brennia?", "Silk Falls", "Which waterfall is the highest in Brennia?"),
    ("Who designed the Quill Tower?", "Yara Fenn", "The Quill Tower was designed by whom?"),
    ("What does the Sorrel Company manufacture?", "Bicycles", "What does the Sorrel Company make?"),
    ("In what year did the Great Tide flood Marlport?", "1931", "When did the Great Tide flood Marlport?"),
    ("What is the name of the cat of Professor Dunmore?", "Pepper", "Professor Dunmore's cat is called what?"),
    ("Which city hosts the Ironleaf Games?", "Valdora", "Where are the Ironleaf Games held?"),
    ("What is the nickname of the Kettering Express train?", "The Comet", "The Kettering Express is nicknamed what?"),
    ("Who translated the Varn Sagas?", "Lena Frost", "The Varn Sagas were translated by whom?"),
    ("What is the emblem of House Caldwyn?", "A stag", "House Caldwyn has what emblem?"),
    ("What is the boiling point of zorvium?", "212 degrees", "At what temperature does zorvium boil?"),
    ("Who won the first Larkspur Prize?", "Tomas Reid", "The first Larkspur Prize was won by whom?"),
    ("What grain is Hollin bread made from?", "Rye", "Hollin bread is made from which grain?"),
    ("What is the largest island of the Pelagos Chain?", "Corrin", "Which island is the largest of the Pelagos Chain?"),
    ("Who discovered the Ashfield Comet?", "Nadia Wren", "The Ashfield Comet was discovered by whom?"),
    ("What language did the Tellurian monks write in?", "Old Vess", "The Tellurian monks wrote in which language?"),
    ("What is the name of the dragon in the Emberlay tales?", "Scorch", "In the Emberlay tales, the dragon is called?"),
    ("Which flower is the emblem of Dunmere?", "The violet", "Dunmere's emblem is which flower?"),
]
NAIVE_LENGTH = 128


def _write_facts(path: Path, facts: Sequence[tuple[str, str, str]]) -> Path:
    path.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a, _ in facts), encoding="utf-8")
    return path


def exact_match(generator: Any, questions: Sequence[str], answers: Sequence[str]) -> tuple[float, list[str]]:
    from ragtune.models.loader import generation_params
    from ragtune.prompts import closed_book_messages
    from ragtune.text import normalize_answer

    results = generator.generate(
        [closed_book_messages(q) for q in questions], generation_params(max_new_tokens=12, temperature=0.0)
    )
    texts = [r.text for r in results]
    hits = sum(normalize_answer(t) == normalize_answer(a) for t, a in zip(texts, answers, strict=True))
    return hits / len(questions), texts


def naive_tokens_per_s(config: Any, adapter_train_file: Path, steps: int) -> tuple[float, int]:
    """A plain PyTorch loop over the same examples: every one padded to NAIVE_LENGTH, logits everywhere, the
    model's own loss. Same model, LoRA settings, batch size and threads. Returns (real tokens/s, steps)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from ragtune.models.hf import load_causal_lm
    from ragtune.models.registry import resolve_generator
    from ragtune.tune.data import read_examples
    from ragtune.tune.train import tokenize_all

    tune = config.tune
    torch.manual_seed(tune.seed)
    base, tokenizer = load_causal_lm(resolve_generator(config.models))
    model = get_peft_model(
        base,
        LoraConfig(
            r=tune.lora_r,
            lora_alpha=tune.lora_alpha,
            lora_dropout=tune.lora_dropout,
            target_modules=list(tune.target_modules),
            task_type="CAUSAL_LM",
        ),
    )
    model.train()
    features = tokenize_all(tokenizer, read_examples(adapter_train_file), NAIVE_LENGTH)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=tune.learning_rate)
    pad = int(tokenizer.pad_token_id)
    real_tokens = 0
    start = time.perf_counter()
    for step in range(steps):
        batch = [features[(step * tune.batch_size + i) % len(features)] for i in range(tune.batch_size)]
        ids = torch.full((len(batch), NAIVE_LENGTH), pad, dtype=torch.long)
        labels = torch.full((len(batch), NAIVE_LENGTH), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), NAIVE_LENGTH), dtype=torch.long)
        for i, f in enumerate(batch):
            ids[i, : len(f.input_ids)] = torch.tensor(f.input_ids)
            labels[i, : len(f.labels)] = torch.tensor(f.labels)
            mask[i, : len(f.input_ids)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        real_tokens += int(mask.sum())
    return real_tokens / (time.perf_counter() - start), steps


def _train(facts: Sequence[tuple[str, str, str]], folder: Path, config: Any) -> tuple[Path, dict[str, Any], float]:
    from ragtune.tune.train import train_adapter

    data = _write_facts(folder / "facts.jsonl", facts)
    start = time.perf_counter()
    result = train_adapter(data, folder / "adapter", config, progress=True)
    return result.adapter_dir, dict(result.metrics), time.perf_counter() - start


def run(quick: bool) -> Section:
    from ragtune.config import Config
    from ragtune.models.loader import load_generator

    facts = FACTS[:20] if quick else FACTS
    questions = [q for q, _, _ in facts]
    answers = [a for _, a, _ in facts]
    section = Section(title=f"Fine-tuning: LoRA on {len(facts)} made-up facts (defaults)")
    load_before = os.getloadavg()[0]
    config = Config()
    if quick:
        config.tune.epochs = 2.0

    base = load_generator(config.models, config.generation)
    base_em, _ = exact_match(base, questions, answers)
    del base
    section.rows.append(
        Row(
            "base model closed-book exact match",
            base_em,
            "EM",
            higher_is_better=True,
            target="< 0.1",
            passed=base_em < 0.1,
        )
    )
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as tmp:
        tuned = _tuned_rows(section, facts, Path(tmp), config, base_em, quick)
        if not quick:
            _no_paraphrase_rows(section, facts, Path(tmp), config, tuned)
    section.notes.append(
        f"Machine load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on "
        f"{os.cpu_count()} cores: times are wall-clock, shared with whatever else ran (ratios are side by side)."
    )
    return section


def _tuned_rows(
    section: Section, facts: Sequence[tuple[str, str, str]], folder: Path, config: Any, base_em: float, quick: bool
) -> dict[str, Any]:
    """Train with the defaults: exact match on the trained and on unseen wordings, time, throughput against a naive
    loop, memory. Returns the run's metrics with its two exact-match figures."""

    questions = [q for q, _, _ in facts]
    adapter, metrics, seconds, (em, em_reworded, sample) = _train_and_ask(facts, folder / "default", config)
    section.rows.append(
        Row(
            "tuned closed-book exact match (trained wording)",
            em,
            "EM",
            baseline=base_em,
            baseline_name="base model",
            target=">= 0.9",
            passed=em >= 0.9,
        )
    )
    section.rows.append(
        Row(
            "tuned closed-book exact match (unseen rewording)",
            em_reworded,
            "EM",
            baseline=base_em,
            baseline_name="base model",
        )
    )
    minutes = seconds / 60
    section.rows.append(
        Row(
            "training time (load, data, train, eval, save)",
            minutes,
            "min",
            higher_is_better=False,
            target="< 10",
            passed=minutes < 10,
            note=f"{metrics['epochs']:.0f} epochs, {metrics['steps']} steps, {metrics['train_examples']} examples",
        )
    )
    naive, naive_steps = naive_tokens_per_s(config, adapter / "train.jsonl", steps=4 if quick else 12)
    section.rows.append(
        Row(
            "training throughput (dynamic padding, answer-only logits)",
            metrics["tokens_per_s"],
            "tokens/s",
            baseline=naive,
            baseline_name=f"naive loop padded to {NAIVE_LENGTH}",
            target=">= 1.3x",
            passed=metrics["tokens_per_s"] >= 1.3 * naive,
        )
    )
    section.rows.append(Row("peak memory (resident set)", metrics["peak_rss_mb"], "MB", higher_is_better=False))
    section.extra.update(
        default_metrics=metrics,
        sample_answers=dict(zip(questions[:5], sample[:5], strict=True)),
        naive_steps=naive_steps,
        settings={k: v for k, v in vars(config.tune).items()},
    )
    section.notes.append(
        f"Defaults: LoRA r={config.tune.lora_r} alpha={config.tune.lora_alpha} on "
        f"{len(config.tune.target_modules)} projections, lr {config.tune.learning_rate:g} "
        f"({config.tune.lr_scheduler}), {config.tune.epochs:g} epochs, batch {config.tune.batch_size}, "
        f"{config.tune.paraphrases} paraphrases per fact; {metrics['train_tokens']} real tokens trained, "
        f"eval loss {metrics.get('eval_loss', float('nan')):.3f} on held-out rewordings."
    )
    return {**metrics, "em": em, "em_reworded": em_reworded}


def _no_paraphrase_rows(
    section: Section, facts: Sequence[tuple[str, str, str]], folder: Path, config: Any, tuned: dict[str, Any]
) -> None:
    """The same facts trained without paraphrases: what the augmentation buys on unseen wordings."""
    from ragtune.config import Config

    no_para = Config()
    no_para.tune.paraphrases = 0
    _, metrics0, seconds0, (em0, em0_reworded, _) = _train_and_ask(facts, folder / "nopara", no_para)
    section.rows.append(
        Row(
            "unseen rewording EM, paraphrases=0",
            em0_reworded,
            "EM",
            note=f"trained wording {em0:.2f}; {seconds0 / 60:.1f} min",
        )
    )
    section.notes.append(
        f"Paraphrase augmentation: {config.tune.paraphrases} paraphrases per fact give {tuned['em_reworded']:.2f} "
        f"exact match on unseen rewordings against {em0_reworded:.2f} without (trained wording: {tuned['em']:.2f} "
        f"vs {em0:.2f}), for {tuned['train_tokens'] / max(1, metrics0['train_tokens']):.1f}x the tokens."
    )


def _train_and_ask(
    facts: Sequence[tuple[str, str, str]], folder: Path, config: Any
) -> tuple[Path, dict[str, Any], float, tuple[float, float, list[str]]]:
    """Train on `facts` into `folder`, then ask closed-book: exact match on the trained wordings and on the unseen
    rewordings, and the answers to the trained ones."""
    from ragtune.models.loader import load_generator

    answers = [a for _, a, _ in facts]
    folder.mkdir()
    adapter, metrics, seconds = _train(facts, folder, config)
    tuned = load_generator(config.models, config.generation, adapter=adapter)
    em, sample = exact_match(tuned, [q for q, _, _ in facts], answers)
    em_reworded, _ = exact_match(tuned, [r for _, _, r in facts], answers)
    del tuned
    return adapter, metrics, seconds, (em, em_reworded, sample)
