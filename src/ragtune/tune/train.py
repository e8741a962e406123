"""LoRA training on the transformers Trainer: answer-only loss, dynamic padding, held-out eval, checkpoints, resume.

Runs unchanged on one CPU, one GPU, or many processes: under `torchrun` or `accelerate launch` the Trainer picks up
the distributed environment (gloo on CPU, NCCL on GPUs; DeepSpeed/FSDP by accelerate config), so scale-out is
configuration, not code. Only the main process writes files.

Layout of an adapter folder (`out`):
    adapter_model.safetensors, adapter_config.json   the PEFT LoRA adapter (what `load_generator(adapter=)` reads)
    ragtune_manifest.json                            base model + fingerprint, data hash, settings, metrics
    train.jsonl, eval.jsonl                          the examples actually trained and held out (readable)
    checkpoints/                                     while training: Trainer checkpoints (+ a run manifest)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import resource
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.config import Config, TuneConfig
from ragtune.errors import InputFileError, RagtuneError
from ragtune.jsonl import read_user_text
from ragtune.models.adapters import MANIFEST_NAME, AdapterManifest, check_base, write_manifest
from ragtune.models.chat import render_training_pair
from ragtune.models.training import show_progress
from ragtune.prompts import REFUSAL
from ragtune.strategies import ADAPTER_KINDS
from ragtune.tune.checkpoints import (
    CHECKPOINTS,
    RUN_STATE,
    complete_checkpoints,
    drop_partial_checkpoints,
    latest_unfinished,
)
from ragtune.tune.data import (
    Example,
    QAPair,
    TrainingFile,
    chunk_examples,
    qa_training_split,
    raft_from_retriever,
    read_examples,
    read_training_file,
    split_heldout,
    write_jsonl,
)
from ragtune.tune.early_stop import RecallLog, RecallProbe, recall_stop_callback
from ragtune.tune.knowledge import answerer_render
from ragtune.tune.replay import ORIGIN as REPLAY_ORIGIN
from ragtune.tune.replay import base_replay

if TYPE_CHECKING:
    from ragtune.corpus.document import Chunk
    from ragtune.models.generator import Message
    from ragtune.models.registry import GeneratorFiles
    from ragtune.retrieve import Retriever

log = logging.getLogger(__name__)

KINDS = ADAPTER_KINDS  # what `ragtune tune --kind` trains: the adapters strategies need
IGNORE_INDEX = -100


class TuneError(RagtuneError):
    """Training cannot start or continue; the message says why and what to do."""


@dataclass(frozen=True)
class TrainResult:
    adapter_dir: Path
    metrics: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Features:
    """One tokenized example: ids and labels of equal length; prompt positions carry IGNORE_INDEX (no loss)."""

    input_ids: list[int]
    labels: list[int]

    @property
    def answer_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)


# --------------------------------------------------------------------------------------------------- tokenizing


def tokenize_example(tokenizer: Any, example: Example, max_seq_len: int) -> Features:
    """Prompt + completion token ids, with the loss on the completion only (raw text: on every token).

    The prompt is tokenized exactly as the generator tokenizes it at inference (`render_prompt`, no special tokens
    added), and prompt and completion are tokenized apart so the boundary is the one inference sees. Too long:
    the prompt is cut from the left (the question sits at its end), then the completion from the right.
    """
    if example.messages:
        prompt, completion = render_training_pair(tokenizer, example.messages)
        p = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        c = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
        c = c[:max_seq_len]
        room = max_seq_len - len(c)
        p = p[len(p) - room :] if room > 0 else []
        return Features(p + c, [IGNORE_INDEX] * len(p) + c)
    eos = tokenizer.eos_token or ""
    ids = list(tokenizer(example.text + eos, add_special_tokens=False)["input_ids"])[:max_seq_len]
    return Features(ids, list(ids))


def tokenize_all(tokenizer: Any, examples: Sequence[Example], max_seq_len: int) -> list[Features]:
    out = []
    for ex in examples:
        f = tokenize_example(tokenizer, ex, max_seq_len)
        if f.answer_tokens:
            out.append(f)
    return out


# ------------------------------------------------------------------------------------------------ building data


def build_examples(
    training: TrainingFile,
    tune: TuneConfig,
    *,
    kind: str = "finetune",
    retriever: Retriever | None = None,
    refusal_text: str = REFUSAL,
    few_shot: bool = True,
    render: Callable[[str, Sequence[Chunk]], list[Message]] | None = None,
) -> tuple[list[Example], list[Example]]:
    """(train, eval) examples for a training file.

    QA pairs become closed-book examples plus `tune.paraphrases` rewordings, with held-out rewordings for eval
    (finetune), or RAFT examples with sources from the knowledge base (hybrid, needs `retriever`). Chat and text
    lines are taken as they are, a random `tune.eval_share` of them held out.
    """
    train, held = split_heldout(list(training.examples), tune.eval_share, seed=tune.seed)
    pairs = list(training.pairs)
    if not pairs:
        return train, held
    if kind == "hybrid":
        if retriever is None:
            raise TuneError(
                f"{training.path}: question/answer lines for a hybrid (RAFT) adapter need the knowledge base to find "
                "each answer's source: ingest documents first (`ragtune ingest DOCS`), or pass RAFT examples in the "
                "'messages' form"
            )
        raft = raft_from_retriever(pairs, retriever, tune, refusal_text=refusal_text, few_shot=few_shot, render=render)
        raft_train, raft_held = split_heldout(raft, tune.eval_share, seed=tune.seed)
        return train + raft_train, held + raft_held
    qa_train, qa_held = qa_training_split(pairs, tune.paraphrases, tune.eval_share, seed=tune.seed)
    return train + qa_train, held + qa_held


# ----------------------------------------------------------------------------------------------------- training


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the process's peak resident memory, which is what a CPU user pays for.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load_base(config: Config) -> tuple[Any, Any, GeneratorFiles]:
    from ragtune.models.hf import load_causal_lm, resolve_device
    from ragtune.models.registry import resolve_generator

    if config.models.generator_backend != "transformers":
        raise TuneError(
            f"training needs models.generator_backend = 'transformers' (got '{config.models.generator_backend}'): "
            "a LoRA adapter is trained on local weights"
        )
    files = resolve_generator(config.models)
    device = resolve_device(config.models.device)
    if os.environ.get("LOCAL_RANK") is not None and device.startswith("cuda"):
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    # float32 master weights: LoRA on bf16 weights loses the small updates that teach facts; bf16 is autocast.
    model, tokenizer = load_causal_lm(files, dtype="float32", device=device)
    if config.models.threads > 0:
        import torch

        torch.set_num_threads(config.models.threads)
    return model, tokenizer, files


def _collate(pad_id: int) -> Any:
    """Pads each batch to its own longest example (labels with IGNORE_INDEX), not to a fixed length."""
    import torch

    def collate(batch: Sequence[Mapping[str, Sequence[int]]]) -> dict[str, Any]:
        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[i, :n] = torch.tensor(b["input_ids"], dtype=torch.long)
            labels[i, :n] = torch.tensor(b["labels"], dtype=torch.long)
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}

    return collate


def micro_batches(batch_size: int, grad_accum: int, longest: int, max_batch_tokens: int) -> tuple[int, int]:
    """(examples per pass, accumulation steps) for an optimizer step of batch_size x grad_accum examples, with at
    most `max_batch_tokens` padded tokens per pass. Why: activation memory grows with batch x length (and with
    length squared in attention), so RAFT's long examples need smaller passes than closed-book pairs."""
    if max_batch_tokens <= 0 or batch_size * longest <= max_batch_tokens:
        return batch_size, grad_accum
    fits = max(1, max_batch_tokens // max(1, longest))
    micro = max(d for d in range(1, batch_size + 1) if batch_size % d == 0 and d <= fits)
    return micro, grad_accum * (batch_size // micro)


def answer_loss(model: Any, batch: Mapping[str, Any]) -> Any:
    """Mean next-token cross-entropy over the answer tokens, with logits computed only where a label follows.

    The vocabulary projection of a small model is a large share of its compute (49k x 576 for SmolLM2-135M), and
    a closed-book prompt is most of each example, so skipping prompt positions saves real time on a CPU. Equal to
    the model's own loss with the same labels (a test checks it).
    """
    import torch

    labels = batch["labels"]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE_INDEX
    outputs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep)
    logits = outputs.logits.reshape(-1, outputs.logits.shape[-1]).float()
    return torch.nn.functional.cross_entropy(logits, labels[:, 1:][keep[:, :-1]]), outputs


def _trainer_class() -> Any:
    from transformers import Trainer

    class AnswerOnlyTrainer(Trainer):
        loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides by the accumulation steps

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            loss, outputs = answer_loss(model, inputs)
            return (loss, outputs) if return_outputs else loss

    return AnswerOnlyTrainer


def _is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _tune_settings(tune: TuneConfig) -> dict[str, Any]:
    return dataclasses.asdict(tune)


@dataclass(frozen=True)
class _Run:
    """What one training run trains on, whether new or resumed: the run's own kind, settings and examples."""

    kind: str
    tune: TuneConfig
    train_examples: list[Example]
    eval_examples: list[Example]
    data_hash: str
    max_steps: int | None


def _resumed_run(out: Path, config: Config, files: GeneratorFiles, max_steps: int | None) -> _Run:
    """The unfinished run in `out`, with the examples and settings it saved (its base model checked)."""
    ckpt_dir, run_state = out / CHECKPOINTS, out / CHECKPOINTS / RUN_STATE
    if not run_state.is_file():
        if (out / MANIFEST_NAME).is_file():
            raise TuneError(f"{out}: this training run already finished; nothing to resume")
        raise TuneError(f"{out}: no unfinished training run to resume (no {CHECKPOINTS}/{RUN_STATE})")
    state = json.loads(run_state.read_text(encoding="utf-8"))
    check_base(ckpt_dir, files.name, files.fingerprint)
    eval_file = out / "eval.jsonl"
    saved = state["tune"]
    return _Run(
        kind=state["kind"],
        tune=dataclasses.replace(config.tune, **{k: v for k, v in saved.items() if k in _tune_settings(config.tune)}),
        train_examples=read_examples(out / "train.jsonl"),
        eval_examples=read_examples(eval_file) if eval_file.is_file() and eval_file.stat().st_size else [],
        data_hash=state["data_hash"],
        # The run's own length, or the learning-rate schedule would change under it.
        max_steps=state.get("max_steps") if max_steps is None else max_steps,
    )


def _new_run(
    data: Path,
    out: Path,
    config: Config,
    base: tuple[Any, Any, GeneratorFiles],
    kind: str,
    retriever: Retriever | None,
    max_steps: int | None,
    exclude: Sequence[str],
) -> _Run:
    """Examples built from `data` (with replay), written to `out` with the state a resume needs."""
    model, tokenizer, files = base
    run_state = out / CHECKPOINTS / RUN_STATE
    # Only the main process checks: the others would race with its first writes.
    if _is_main() and ((out / MANIFEST_NAME).is_file() or run_state.is_file()):
        raise TuneError(f"{out} already holds an adapter or a training run; choose another --out, or --resume the run")
    tune = config.tune
    training = read_training_file(data)
    train_examples, eval_examples = build_examples(
        training,
        tune,
        kind=kind,
        retriever=retriever,
        refusal_text=config.rag.refusal_text,
        few_shot=config.rag.few_shot,
        render=answerer_render(model, tokenizer, files.name, config, retriever) if retriever else None,
    )
    if not any(ex.origin == REPLAY_ORIGIN for ex in train_examples):  # else the file brings its own replay
        taught = [p.question for p in training.pairs]
        train_examples += base_replay(model, tokenizer, files.name, tune, len(train_examples), [*exclude, *taught])
    if _is_main():
        write_jsonl(train_examples, out / "train.jsonl")
        write_jsonl(eval_examples, out / "eval.jsonl")
        manifest = AdapterManifest(kind, files.name, files.fingerprint, training.sha256, _tune_settings(tune))
        write_manifest(out / CHECKPOINTS, manifest)  # the base check that a resume makes reads this
        state = {
            "kind": kind,
            "data_hash": training.sha256,
            "data": str(data),
            "tune": _tune_settings(tune),
            "max_steps": max_steps,
        }
        run_state.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return _Run(kind, tune, train_examples, eval_examples, training.sha256, max_steps)


def train_adapter(
    data: Path,
    out: Path,
    config: Config,
    *,
    kind: str = "finetune",
    resume: bool = False,
    progress: bool = True,
    retriever: Retriever | None = None,
    max_steps: int | None = None,
    exclude: Sequence[str] = (),
) -> TrainResult:
    """Train a LoRA adapter on `data` (a training JSONL) into `out`; returns the folder and its metrics.

    `resume=True` continues the run in `out` from its last complete checkpoint (after a crash or kill), with the
    examples that run saved; it refuses a run made on other base weights or with other data. `max_steps` caps the
    optimizer steps (for smoke runs); the epochs setting decides otherwise. `exclude` names questions that replay
    (`tune.replay_share`) must never train on, such as the probe forgetting is measured with.
    """
    if kind not in KINDS:
        raise TuneError(f"kind '{kind}' is not one of {', '.join(KINDS)}")
    out = Path(out)
    ckpt_dir = out / CHECKPOINTS
    started = time.perf_counter()
    model, tokenizer, files = _load_base(config)
    if resume:
        run = _resumed_run(out, config, files, max_steps)
    else:
        run = _new_run(data, out, config, (model, tokenizer, files), kind, retriever, max_steps, exclude)
    tune = run.tune

    train_features = tokenize_all(tokenizer, run.train_examples, tune.max_seq_len)
    eval_features = tokenize_all(tokenizer, run.eval_examples, tune.max_seq_len)
    if not train_features:
        raise InputFileError(f"{data}: no example has an answer token to learn after tokenizing")
    trainer = _make_trainer(model, tokenizer, train_features, eval_features, tune, ckpt_dir, progress, run.max_steps)
    show_progress(trainer, progress, f"training {run.kind}")
    recall_log = RecallLog()
    probe = RecallProbe.from_examples(run.train_examples, tune.recall_sample, tune.seed)
    if tune.stop_at_recall > 0 and len(probe):
        trainer.add_callback(recall_stop_callback(probe, tokenizer, files.name, tune.stop_at_recall, recall_log))

    last = None
    if resume:
        drop_partial_checkpoints(ckpt_dir)
        complete = complete_checkpoints(ckpt_dir)
        last = str(complete[-1]) if complete else None
        if last is None:
            log.warning("%s: no complete checkpoint yet; training starts from the beginning", ckpt_dir)
    fit_start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=last)
    fit_seconds = time.perf_counter() - fit_start

    metrics = _run_metrics(trainer, output, train_features, eval_features, fit_seconds)
    metrics.update(
        seconds=time.perf_counter() - started,
        resumed_from=Path(last).name if last else None,
        replay_examples=sum(1 for ex in run.train_examples if ex.origin == REPLAY_ORIGIN),
        recall_by_epoch=recall_log.by_epoch,
        stopped_early=recall_log.stopped_early,
    )
    if trainer.is_world_process_zero():
        trainer.model.save_pretrained(str(out))
        settings = _tune_settings(tune)
        write_manifest(out, AdapterManifest(run.kind, files.name, files.fingerprint, run.data_hash, settings, metrics))
        # The manifest is written last: its presence means the adapter is complete.
        if not tune.keep_checkpoints:
            shutil.rmtree(ckpt_dir, ignore_errors=True)
    return TrainResult(out, metrics)


def _run_metrics(
    trainer: Any, output: Any, train_features: Sequence[Features], eval_features: Sequence[Features], fit_s: float
) -> dict[str, Any]:
    """Loss, steps, epochs, throughput and memory of a finished `trainer.train()`."""
    epochs = float(trainer.state.epoch or 0.0)
    tokens = sum(len(f.input_ids) for f in train_features) * epochs
    history = trainer.state.log_history
    metrics: dict[str, Any] = {
        "train_loss": float(output.training_loss),
        "steps": int(trainer.state.global_step),
        "epochs": epochs,
        "train_examples": len(train_features),
        "eval_examples": len(eval_features),
        "fit_seconds": fit_s,
        "peak_rss_mb": _peak_rss_mb(),
        "world_size": int(trainer.args.world_size),
        "train_tokens": int(tokens),
        "tokens_per_s": tokens / fit_s if fit_s > 0 else 0.0,
        "eval_loss_by_epoch": [round(float(h["eval_loss"]), 4) for h in history if "eval_loss" in h],
        "train_loss_by_step": [[int(h["step"]), round(float(h["loss"]), 4)] for h in history if "loss" in h],
    }
    if eval_features:
        evals = [h for h in history if "eval_loss" in h]
        if evals and evals[-1].get("step") == trainer.state.global_step:  # the last epoch's eval is the final one
            metrics["eval_loss"] = float(evals[-1]["eval_loss"])
        else:
            metrics["eval_loss"] = float(trainer.evaluate()["eval_loss"])
    return metrics


def _make_trainer(
    model: Any,
    tokenizer: Any,
    train_features: Sequence[Features],
    eval_features: Sequence[Features],
    tune: TuneConfig,
    ckpt_dir: Path,
    progress: bool,
    max_steps: int | None,
) -> Any:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import TrainingArguments, set_seed

    set_seed(tune.seed)  # LoRA's initialisation draws from the global generator
    lora = LoraConfig(
        r=tune.lora_r,
        lora_alpha=tune.lora_alpha,
        lora_dropout=tune.lora_dropout,
        target_modules=list(tune.target_modules),
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, lora)
    use_cpu = not torch.cuda.is_available() or str(next(model.parameters()).device) == "cpu"
    steps_per_epoch = math.ceil(len(train_features) / (tune.batch_size * tune.grad_accum))
    longest = max(len(f.input_ids) for f in [*train_features, *eval_features])
    micro, accum = micro_batches(tune.batch_size, tune.grad_accum, longest, tune.max_batch_tokens)
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        per_device_train_batch_size=micro,
        per_device_eval_batch_size=micro,
        gradient_accumulation_steps=accum,
        learning_rate=tune.learning_rate,
        lr_scheduler_type=tune.lr_scheduler,
        warmup_steps=int(tune.warmup_ratio * steps_per_epoch * tune.epochs),
        weight_decay=0.0,
        num_train_epochs=tune.epochs,
        max_steps=max_steps if max_steps is not None else -1,
        logging_steps=max(1, min(10, steps_per_epoch)),
        eval_strategy="epoch" if eval_features and tune.eval_every_epoch else "no",
        save_strategy="steps",
        save_steps=tune.save_steps,
        save_total_limit=2,
        seed=tune.seed,
        data_seed=tune.seed,
        bf16=tune.bf16,
        use_cpu=use_cpu,
        report_to=[],
        disable_tqdm=not progress,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
        label_names=["labels"],
    )
    trainer_cls = _trainer_class()
    trainer = trainer_cls(
        model=peft_model,
        args=args,
        train_dataset=[{"input_ids": f.input_ids, "labels": f.labels} for f in train_features],
        eval_dataset=[{"input_ids": f.input_ids, "labels": f.labels} for f in eval_features] or None,
        data_collator=_collate(int(tokenizer.pad_token_id)),
    )
    return trainer


@contextlib.contextmanager
def prepare_data(
    config: Config, *, data: Path | None, kind: str, from_docs: bool, folder: Path
) -> Iterator[tuple[Path, Retriever | None]]:
    """The training file and, for a hybrid adapter, a retriever over the knowledge base (closed afterwards).

    `from_docs` adds every chunk of the store as raw text (continued pre-training) to `data`'s lines, written to
    `folder/source.jsonl` so the run is reproducible and resumable.
    """
    need_store = from_docs or kind == "hybrid"
    if not need_store:
        if data is None:
            raise TuneError("no training data: give a training file, or train from the knowledge base's documents")
        yield data, None
        return
    from ragtune.models.loader import load_embedder
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store

    embedder = load_embedder(config.models, config.store.embed_batch_size)
    store = open_store(config, embedder.identity, must_exist=True)
    try:
        if store.count() == 0:
            raise TuneError("the knowledge base is empty: add documents first with `ragtune ingest PATH`")
        path = data
        if from_docs:
            docs = chunk_examples(store.chunks())
            lines = []
            if data is not None:
                read_training_file(data)  # malformed lines are reported against the user's own file
                lines = [ln for ln in read_user_text(Path(data)).splitlines() if ln.strip()]
            lines += [json.dumps(e.to_json(), ensure_ascii=False) for e in docs]
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "source.jsonl"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if path is None:
            raise TuneError(
                "a hybrid (RAFT) adapter needs questions with answers: give a training file of {question, answer} "
                "lines; their sources are found in the knowledge base"
            )
        yield path, Retriever(store, embedder, config.retrieval) if kind == "hybrid" else None
    finally:
        store.close()


__all__ = [
    "KINDS",
    "Features",
    "QAPair",
    "TrainResult",
    "TuneError",
    "answer_loss",
    "build_examples",
    "latest_unfinished",
    "prepare_data",
    "tokenize_example",
    "train_adapter",
]
