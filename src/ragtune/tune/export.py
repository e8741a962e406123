"""Exporting a trained adapter: merged weights (any transformers/vLLM/TGI server loads them), or a GGUF LoRA adapter
that llama.cpp applies on top of the base GGUF at load time (`llama-cli -m base.gguf --lora adapter.gguf`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ragtune.config import Config
from ragtune.errors import BackendUnavailableError, RagtuneError
from ragtune.models.adapters import AdapterManifest, check_base, write_manifest

log = logging.getLogger(__name__)

FORMATS = ("merged", "gguf")
LLAMACPP_HINT = "pip install 'ragtune[llamacpp]'"


class ExportError(RagtuneError):
    """An adapter cannot be exported in the asked format."""


def _base(config: Config, adapter: Path) -> tuple[Any, AdapterManifest]:
    from ragtune.models.registry import resolve_generator

    files = resolve_generator(config.models)
    return files, check_base(adapter, files.name, files.fingerprint)


def export_merged(adapter: Path, out: Path, config: Config) -> Path:
    """Base model with the LoRA update folded into its weights, saved as a Hugging Face folder with its tokenizer.

    The folder carries the adapter's manifest (kind 'merged-<kind>') so reports can tell what it was trained on.
    """
    from peft import PeftModel

    from ragtune.models.hf import load_causal_lm

    files, manifest = _base(config, adapter)
    model, tokenizer = load_causal_lm(files, dtype="float32", device="cpu")
    merged = PeftModel.from_pretrained(model, str(adapter), is_trainable=False).merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    info = {**manifest.metrics, "merged_from": str(adapter)}
    write_manifest(
        out,
        AdapterManifest(
            f"merged-{manifest.kind}",
            manifest.base_model_name,
            manifest.base_model_fingerprint,
            manifest.data_hash,
            manifest.config,
            info,
        ),
    )
    return out


def _permute_rows(weights: Any, n_head: int) -> Any:
    """llama.cpp's row order for q/k projections (convert_hf_to_gguf permutes them for its rotary layout).

    Applied to LoRA's B matrix (its rows are the projection's outputs); A is left as it is.
    """
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _gguf_field(reader: Any, key: str) -> Any:
    field = reader.fields.get(key)
    if field is None:
        return None
    value = field.parts[field.data[0]]
    if field.types and field.types[0].name == "STRING":
        return bytes(value).decode("utf-8")
    return value.tolist()[0] if hasattr(value, "tolist") else value


def write_gguf_lora(adapter: Path, base_gguf: Path, out: Path) -> Path:
    """Write the PEFT adapter in `adapter` as a llama.cpp GGUF LoRA adapter for the model in `base_gguf`.

    Tensor names follow the base GGUF's architecture (gguf's own name map), shapes are PEFT's (A: r x in, B: out x r,
    which GGUF stores as llama.cpp expects), and every adapted tensor is checked against the base GGUF.
    """
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    reader = gguf.GGUFReader(str(base_gguf))
    arch_name = _gguf_field(reader, "general.architecture")
    arch = next((a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch_name), None)
    if arch is None:
        raise ExportError(f"{base_gguf}: unknown GGUF architecture '{arch_name}'")
    n_blocks = int(_gguf_field(reader, f"{arch_name}.block_count") or 0)
    n_head = int(_gguf_field(reader, f"{arch_name}.attention.head_count") or 0)
    n_head_kv = int(_gguf_field(reader, f"{arch_name}.attention.head_count_kv") or n_head)
    base_shapes = {t.name: [int(x) for x in t.shape] for t in reader.tensors}
    names = gguf.get_tensor_name_map(arch, n_blocks)
    permute = arch_name == "llama"  # only llama-family conversions reorder q/k rows

    writer = gguf.GGUFWriter(str(out), arch_name)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    written = 0
    for key in sorted(weights):
        if not key.endswith(".lora_A.weight"):
            continue
        module = key[: -len(".lora_A.weight")]
        hf_name = module.removeprefix("base_model.model.")
        target = names.get_name(hf_name + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise ExportError(f"{adapter}: no GGUF tensor for '{hf_name}' in a '{arch_name}' model")
        lora_a = weights[key].astype(np.float32)
        lora_b = weights[module + ".lora_B.weight"].astype(np.float32)
        if permute and hf_name.endswith("self_attn.q_proj"):
            lora_b = _permute_rows(lora_b, n_head)
        elif permute and hf_name.endswith("self_attn.k_proj"):
            lora_b = _permute_rows(lora_b, n_head_kv)
        base = base_shapes.get(target)
        # llama.cpp's own check: base ne = [in, out]; A ne = [in, r]; B ne = [r, out] (numpy shapes reversed).
        if base is None or base[0] != lora_a.shape[1] or base[1] != lora_b.shape[0]:
            raise ExportError(
                f"{adapter}: '{hf_name}' (A {lora_a.shape}, B {lora_b.shape}) does not fit '{target}' {base} of "
                f"{base_gguf}; was the adapter trained on this model?"
            )
        writer.add_tensor(target.removesuffix(".weight") + ".weight.lora_a", lora_a)
        writer.add_tensor(target.removesuffix(".weight") + ".weight.lora_b", lora_b)
        written += 1
    if not written:
        raise ExportError(f"{adapter}: no LoRA weights found in adapter_model.safetensors")
    out.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def export_gguf(adapter: Path, out: Path, config: Config) -> Path:
    """A GGUF LoRA adapter for llama.cpp (needs the [llamacpp] extra, which is used to check the file loads)."""
    files, _ = _base(config, adapter)  # first: a folder that is no adapter is the error to show, not a missing extra
    try:
        import llama_cpp
    except ImportError as exc:
        raise BackendUnavailableError(
            f"exporting a GGUF adapter needs llama-cpp-python, which is not installed ({exc}): `{LLAMACPP_HINT}`. "
            "Or export merged weights with --export merged."
        ) from exc
    if files.gguf is None:
        raise ExportError(
            f"generator '{files.name}' came as a transformers folder, not a GGUF file: llama.cpp needs the base model "
            "as GGUF too. Export merged weights (--export merged) and convert those with llama.cpp's converter."
        )
    path = write_gguf_lora(adapter, files.gguf, out)
    # Loading it once proves llama.cpp accepts the file before we tell the user it is ready.
    llm = llama_cpp.Llama(model_path=str(files.gguf), lora_path=str(path), n_ctx=256, verbose=False)
    del llm
    return path


def export_adapter(adapter: Path, fmt: str, out: Path, config: Config) -> Path:
    if fmt == "merged":
        return export_merged(adapter, out, config)
    if fmt == "gguf":
        return export_gguf(adapter, out, config)
    raise ExportError(f"export format '{fmt}' is not one of {', '.join(FORMATS)}")
