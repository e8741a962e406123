"""Fixtures shared across the suite. Heavy ones (the real default models) are loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need it skip with a clear message when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared evaluation data not found at {SHARED_DATA} (clone the project with ../shared beside it)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's ragtune.toml or RAGTUNE_* variables, or writes into the checkout."""
    import os

    for name in list(os.environ):
        if name.startswith("RAGTUNE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The real default embedder (all-MiniLM-L6-v2 from its PyPI package)."""
    from ragtune.config import ModelsConfig
    from ragtune.models.loader import load_embedder

    return load_embedder(ModelsConfig())


@pytest.fixture(scope="session")
def generator() -> Iterator[Any]:
    """The real default generator (SmolLM2-135M-Instruct, transformers backend, float32)."""
    from ragtune.config import GenerationConfig, ModelsConfig
    from ragtune.models.loader import load_generator

    yield load_generator(ModelsConfig(), GenerationConfig())
