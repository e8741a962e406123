from __future__ import annotations

import pytest

from ragtune.errors import RagtuneError
from ragtune.models.hf import resolve_device


def test_a_device_torch_does_not_know_is_named_as_the_setting() -> None:
    """models.device=tpu failed as 'cannot load the sentence-transformers folder ... reinstall the model'."""
    with pytest.raises(RagtuneError, match="models.device: 'tpu' is not a device torch knows; use 'auto', 'cpu'"):
        resolve_device("tpu")
    assert resolve_device("cpu") == "cpu" and resolve_device("auto") in ("cpu", "cuda")
