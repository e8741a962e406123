"""Settings -> a ready Embedder or Generator. The one entry point other areas use to get a model.

Offline by default: every model comes from local files (packaged, a local path, or the Hugging Face cache);
only `models.allow_network = true` lets a hub id be downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from ragtune.config import GenerationConfig, ModelsConfig, choices_of
from ragtune.errors import BackendUnavailableError, RagtuneError
from ragtune.models.adapters import check_base
from ragtune.models.embedder import Embedder
from ragtune.models.generator import GenerationParams, Generator
from ragtune.models.registry import DEFAULT_EMBEDDER, embedder_fingerprint, resolve_embedder, resolve_generator

BACKENDS = choices_of(ModelsConfig, "generator_backend")


def generation_params(generation: GenerationConfig | None = None, **overrides: object) -> GenerationParams:
    """The per-call parameters that the `[generation]` settings describe (keyword arguments override them)."""
    g = generation or GenerationConfig()
    values: dict[str, object] = {
        "max_new_tokens": g.max_new_tokens,
        "temperature": g.temperature,
        "stop": tuple(g.stop),
        "seed": g.seed,
    }
    values.update(overrides)
    return GenerationParams(**values)  # type: ignore[arg-type]


def _set_threads(models: ModelsConfig) -> None:
    if models.threads > 0:
        import torch

        torch.set_num_threads(models.threads)


def load_embedder(models: ModelsConfig, batch_size: int = 64) -> Embedder:
    """The configured embedder (all-MiniLM-L6-v2 from its package by default), encoding `batch_size` texts at a
    time (`store.embed_batch_size`)."""
    from ragtune.models.hf import resolve_device
    from ragtune.models.st_embedder import STEmbedder

    folder = resolve_embedder(models)
    name = DEFAULT_EMBEDDER.name if models.embedder.strip() in ("", "default") else models.embedder
    _set_threads(models)
    return STEmbedder(
        folder,
        name=name,
        device=resolve_device(models.device),
        batch_size=batch_size,
        fingerprint=embedder_fingerprint(folder, models),
    )


def load_generator(
    models: ModelsConfig, generation: GenerationConfig | None = None, adapter: Path | None = None
) -> Generator:
    """The configured generator on its backend, with a LoRA adapter merged in when one is given.

    An adapter is checked against the base model's fingerprint before it is loaded (transformers backend only).
    """
    generation = generation or GenerationConfig()
    backend = models.generator_backend
    if backend not in BACKENDS:
        raise RagtuneError(f"models.generator_backend: '{backend}' is not one of {', '.join(BACKENDS)}")
    if adapter is not None and backend != "transformers":
        raise RagtuneError(
            f"an adapter ({adapter}) needs models.generator_backend = 'transformers', not '{backend}'"
            + (" (merge the adapter and serve the merged model instead)" if backend == "openai" else "")
        )
    if backend == "openai":
        from ragtune.models.openai_compat import OpenAICompatGenerator

        if not models.openai_model:
            raise RagtuneError(
                "models.openai_model is empty: name the model the OpenAI-compatible server should use "
                "(e.g. --set models.openai_model=Qwen/Qwen2.5-7B-Instruct)"
            )
        return OpenAICompatGenerator(
            base_url=models.openai_base_url,
            model=models.openai_model,
            api_key=os.environ.get(models.openai_api_key_env, "") if models.openai_api_key_env else "",
            timeout_s=models.request_timeout_s,
            max_retries=models.max_retries,
            fallback_context_window=models.openai_context_window,
        )

    files = resolve_generator(models)
    _set_threads(models)
    if backend == "llamacpp":
        from ragtune.models.llamacpp import LlamaCppGenerator

        if files.gguf is None:
            raise BackendUnavailableError(
                f"models.generator_backend = 'llamacpp' needs a .gguf model; '{files.name}' is a transformers folder"
            )
        return LlamaCppGenerator(files, threads=models.threads or None)

    from ragtune.models.hf import HFGenerator, load_causal_lm

    # The adapter is checked before anything heavy is loaded: a mismatch fails fast.
    manifest = check_base(Path(adapter), files.name, files.fingerprint) if adapter is not None else None
    model, tokenizer = load_causal_lm(files, dtype=models.dtype, device=_device(models))
    name = files.name
    if adapter is not None and manifest is not None:
        from peft import PeftModel

        # Merged: generation then runs at the base model's speed, and nothing downstream sees PEFT.
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False).merge_and_unload()
        model.eval()
        name = f"{files.name} + {manifest.kind} adapter {Path(adapter).name}"
    return HFGenerator(
        model,
        tokenizer,
        name=name,
        batch_size=generation.batch_size,
        reuse_prefix=generation.reuse_prefix,
        base_name=files.name,
    )


def _device(models: ModelsConfig) -> str:
    from ragtune.models.hf import resolve_device

    return resolve_device(models.device)
