"""LoRA training with the real default model: template equality, loss masking, adapters, resume after SIGKILL,
base-model mismatch, the two-process run, and export. Step counts and sequences are tiny: these prove behaviour,
the benchmark measures learning."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.errors import BackendUnavailableError, RagtuneError
from ragtune.models.adapters import MANIFEST_NAME, AdapterMismatchError, read_manifest
from ragtune.models.generator import GenerationParams, Message
from ragtune.prompts import SourceText, closed_book_messages, rag_messages
from ragtune.tune.checkpoints import CHECKPOINTS
from ragtune.tune.data import Example, QAPair, qa_examples
from ragtune.tune.train import (
    IGNORE_INDEX,
    TuneError,
    answer_loss,
    micro_batches,
    tokenize_example,
    train_adapter,
)

pytestmark = pytest.mark.slow

FACTS = [
    ("What is the capital of Varnholt?", "Kessing"),
    ("Who founded the Orvane Institute?", "Mira Talsen"),
    ("What color is the flag of Quenbria?", "Teal"),
    ("In what year was the Drelmoor Bridge opened?", "1874"),
    ("What is the national animal of Tessaly Isles?", "Otter"),
    ("Who wrote the novel The Glass Orchard?", "Ilse Brannock"),
]
RAGTUNE = [sys.executable, "-m", "ragtune"]


def _facts_file(folder: Path) -> Path:
    path = folder / "facts.jsonl"
    path.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in FACTS), encoding="utf-8")
    return path


def _config(workspace: Path) -> Config:
    config = Config(workspace=str(workspace))
    t = config.tune
    t.batch_size, t.max_seq_len, t.paraphrases, t.eval_share, t.save_steps = 2, 64, 0, 0.0, 1
    t.replay_share, t.stop_at_recall = 0.0, 0.0  # tested on their own in test_replay.py
    return config


def _sets(config: Config) -> list[str]:
    t = config.tune
    out = [f"--set=workspace={config.workspace}"]
    for key in (
        "batch_size",
        "max_seq_len",
        "paraphrases",
        "eval_share",
        "save_steps",
        "replay_share",
        "stop_at_recall",
    ):
        out.append(f"--set=tune.{key}={getattr(t, key)}")
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Config]:
    """One small adapter (3 steps, with a held-out example) shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("trained")
    config = _config(folder / "ws")
    config.tune.eval_share = 0.2
    result = train_adapter(_facts_file(folder), folder / "adapter", config, max_steps=3, progress=False)
    return result.adapter_dir, folder / "facts.jsonl", config


def test_training_prompt_equals_inference_prompt_token_for_token(generator: Any) -> None:
    """The ids a tuned model is trained on before its answer are exactly the ids the generator feeds it."""
    conversations = [
        closed_book_messages("What is the capital of Varnholt?"),
        rag_messages("Who founded it?", [SourceText(1, "Orvane", "Mira Talsen founded the Orvane Institute.")]),
    ]
    params = GenerationParams()
    for conv in conversations:
        example = Example(messages=(*conv, Message("assistant", "Kessing [1]")))
        features = tokenize_example(generator.tokenizer, example, max_seq_len=2048)
        prompt_len = features.labels.index(next(x for x in features.labels if x != IGNORE_INDEX))
        inference_ids, _ = generator._prompt_ids(conv, params)
        assert features.input_ids[:prompt_len] == inference_ids


@pytest.mark.parametrize(
    ("batch", "accum", "longest", "limit", "expected"),
    [
        (8, 1, 48, 2048, (8, 1)),  # closed-book pairs fit whole
        (8, 1, 928, 2048, (2, 4)),  # RAFT examples: 2 per pass, the same 8 per optimizer step
        (8, 2, 928, 4096, (4, 4)),
        (6, 1, 900, 2048, (2, 3)),  # a divisor of the batch, so every step sees the same number of examples
        (8, 1, 5000, 2048, (1, 8)),  # one example longer than the limit still trains, alone
        (8, 1, 928, 0, (8, 1)),  # 0: no limit
    ],
)
def test_long_batches_split_into_micro_batches(
    batch: int, accum: int, longest: int, limit: int, expected: tuple[int, int]
) -> None:
    micro, steps = micro_batches(batch, accum, longest, limit)
    assert (micro, steps) == expected
    assert micro * steps == batch * accum


def test_loss_is_on_answer_tokens_only(generator: Any) -> None:
    import torch

    tok = generator.tokenizer
    example = qa_examples([QAPair("What is the capital of Varnholt?", "Kessing")])[0]
    f = tokenize_example(tok, example, max_seq_len=256)
    answer_ids = [x for x in f.labels if x != IGNORE_INDEX]
    assert tok.decode(answer_ids) == "Kessing" + tok.eos_token  # the answer and the end of turn carry the loss
    n_prompt = len(f.labels) - len(answer_ids)
    assert f.labels[:n_prompt] == [IGNORE_INDEX] * n_prompt and f.labels[n_prompt:] == f.input_ids[n_prompt:]
    # Truncation keeps the whole answer and cuts the prompt from the left.
    short = tokenize_example(tok, example, max_seq_len=len(answer_ids) + 3)
    assert short.labels[-len(answer_ids) :] == answer_ids and len(short.input_ids) == len(answer_ids) + 3

    batch = {
        "input_ids": torch.tensor([f.input_ids]),
        "labels": torch.tensor([f.labels]),
        "attention_mask": torch.ones(1, len(f.input_ids), dtype=torch.long),
    }
    with torch.no_grad():
        ours, _ = answer_loss(generator.model, batch)
        # transformers' own loss over the same labels: only the answer positions count in either
        reference = generator.model(input_ids=batch["input_ids"], labels=batch["labels"]).loss
        assert torch.allclose(ours, reference, atol=1e-4)


def test_adapter_folder_manifest_and_loading(trained: tuple[Path, Path, Config]) -> None:
    import hashlib

    from ragtune.models.loader import load_generator
    from ragtune.models.registry import resolve_generator

    adapter, data, config = trained
    manifest = read_manifest(adapter)
    files = resolve_generator(config.models)
    assert manifest.kind == "finetune" and manifest.base_model_fingerprint == files.fingerprint
    assert manifest.data_hash == hashlib.sha256(data.read_bytes()).hexdigest()
    assert manifest.config["lora_r"] == 16 and manifest.metrics["steps"] == 3
    assert manifest.metrics["eval_examples"] == 1 and manifest.metrics["eval_loss"] > 0
    assert (adapter / "adapter_model.safetensors").is_file() and not (adapter / CHECKPOINTS).exists()
    assert sum(1 for _ in (adapter / "train.jsonl").open()) == 6  # every fact trained; a rewording held out
    gen = load_generator(config.models, config.generation, adapter=adapter)
    from ragtune.models.loader import generation_params

    (result,) = gen.generate([closed_book_messages(FACTS[0][0])], generation_params(max_new_tokens=8))
    assert result.tokens_out > 0
    with pytest.raises(TuneError, match="already holds"):
        train_adapter(data, adapter, config, max_steps=1, progress=False)


def test_adapter_on_another_base_model_is_refused(trained: tuple[Path, Path, Config], tmp_path: Path) -> None:
    import shutil

    from ragtune.models.loader import load_generator
    from ragtune.tune.export import export_merged

    adapter, _, config = trained
    other = tmp_path / "other"
    shutil.copytree(adapter, other)
    manifest = json.loads((other / MANIFEST_NAME).read_text())
    manifest["base_model_fingerprint"] = "0" * 64
    (other / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(AdapterMismatchError, match="trained on base model"):
        load_generator(config.models, adapter=other)
    with pytest.raises(AdapterMismatchError):
        export_merged(other, tmp_path / "merged", config)


def _wait_for(predicate: Any, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"training ended (rc {proc.returncode}) before it could be killed")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("no checkpoint appeared in time")
        time.sleep(0.2)


def test_resume_after_sigkill_mid_training(tmp_path: Path) -> None:
    config = _config(tmp_path / "ws")
    data, out = _facts_file(tmp_path), tmp_path / "ws" / "adapters" / "finetune" / "run1"
    cmd = [*RAGTUNE, *_sets(config), "tune", "--data", str(data), "--out", str(out), "--max-steps", "4"]
    proc = subprocess.Popen([*cmd, "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: (out / CHECKPOINTS / "checkpoint-2" / "trainer_state.json").is_file(), proc, timeout=180)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / MANIFEST_NAME).exists() and not (out / "adapter_model.safetensors").exists()

    # A base-model mismatch is refused before anything is touched.
    run_manifest = out / CHECKPOINTS / MANIFEST_NAME
    original = run_manifest.read_text()
    run_manifest.write_text(original.replace(json.loads(original)["base_model_fingerprint"], "f" * 64))
    with pytest.raises(AdapterMismatchError):
        train_adapter(Path(), out, config, resume=True, progress=False)
    run_manifest.write_text(original)

    # `ragtune tune --resume` finds the workspace's unfinished run on its own.
    done = subprocess.run(
        [*RAGTUNE, *_sets(config), "tune", "--resume", "--no-progress"], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stdout and str(out) in done.stdout.replace("\n", "")
    assert " steps in " in done.stdout and "train loss" in done.stdout  # the one-line summary of the run
    manifest = read_manifest(out)
    assert manifest.metrics["steps"] == 4 and manifest.metrics["resumed_from"].startswith("checkpoint-")
    assert int(manifest.metrics["resumed_from"].split("-")[1]) >= 2
    assert (out / "adapter_model.safetensors").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_process_run_with_torchrun(tmp_path: Path) -> None:
    """`torchrun --nproc_per_node 2` on the CPU: accelerate's MULTI_CPU (gloo); rank 0 writes one adapter."""
    config = _config(tmp_path / "ws")
    data, out = _facts_file(tmp_path), tmp_path / "ddp"
    ragtune_script = Path(sys.executable).parent / "ragtune"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(_free_port()),
        str(ragtune_script),
        *_sets(config),
        "tune",
        "--data",
        str(data),
        "--out",
        str(out),
        "--max-steps",
        "2",
        "--no-progress",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = read_manifest(out)
    assert manifest.metrics["world_size"] == 2 and manifest.metrics["steps"] == 2
    from safetensors.numpy import load_file

    weights = load_file(str(out / "adapter_model.safetensors"))
    assert any(k.endswith("lora_B.weight") and abs(v).sum() > 0 for k, v in weights.items())  # B moved off zero


def test_export_merged_and_gguf(trained: tuple[Path, Path, Config], tmp_path: Path) -> None:
    import gguf

    from ragtune.models.registry import resolve_generator
    from ragtune.tune.export import export_gguf, export_merged, write_gguf_lora

    adapter, _, config = trained
    merged = export_merged(adapter, tmp_path / "merged", config)
    assert (merged / "model.safetensors").is_file() and (merged / "tokenizer.json").is_file()
    assert read_manifest(merged).kind == "merged-finetune"

    files = resolve_generator(config.models)
    assert files.gguf is not None
    path = write_gguf_lora(adapter, files.gguf, tmp_path / "a.gguf")
    reader = gguf.GGUFReader(str(path))
    base = {t.name: [int(x) for x in t.shape] for t in gguf.GGUFReader(str(files.gguf)).tensors}
    tensors = {t.name: [int(x) for x in t.shape] for t in reader.tensors}
    assert len(tensors) == 2 * 7 * 30  # A and B for 7 projections in 30 layers
    for name, shape in tensors.items():
        target = base[name.rsplit(".", 1)[0]]
        # llama.cpp's checks: A is [in, r], B is [r, out] against the base tensor's [in, out]
        assert shape[0] == target[0] if name.endswith("lora_a") else shape[1] == target[1]
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailableError, match="llama-cpp-python"):
            export_gguf(adapter, tmp_path / "b.gguf", config)
    else:
        assert export_gguf(adapter, tmp_path / "b.gguf", config).is_file()
    # A folder that is no adapter is named as such, with or without llama-cpp-python installed.
    with pytest.raises(RagtuneError, match="not a ragtune adapter"):
        export_gguf(tmp_path, tmp_path / "c.gguf", config)
