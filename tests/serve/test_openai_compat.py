"""ragtune serving ragtune: the OpenAI-compatible generator backend (`ragtune.models.openai_compat`) pointed at this
server answers exactly as the local model does, batched and streamed."""

from __future__ import annotations

import pytest

from ragtune.config import GenerationConfig, ModelsConfig
from ragtune.errors import RagtuneError
from ragtune.models.generator import GenerationParams, Message
from ragtune.models.loader import load_generator
from ragtune.prompts import SourceText, closed_book_messages, rag_messages
from tests.serve.conftest import API_KEY, Served

pytestmark = pytest.mark.slow


def remote_models(served: Served, key_env: str) -> ModelsConfig:
    return ModelsConfig(
        generator_backend="openai",
        openai_base_url=served.url + "/v1",
        openai_model="base",
        openai_api_key_env=key_env,
        max_retries=0,
    )


def test_the_openai_backend_against_this_server_matches_the_local_model(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGTUNE_TEST_SERVE_KEY", API_KEY)
    remote = load_generator(remote_models(served, "RAGTUNE_TEST_SERVE_KEY"), GenerationConfig())
    local = served.engine.generator
    conversations = [
        closed_book_messages("What is the capital of France?"),
        rag_messages(
            "When does the ferry leave?",
            [SourceText(1, "Ferry timetable", "The Quillsound ferry leaves Port Ebber at 07:15 every weekday.")],
        ),
        [Message("system", "Reply in one word."), Message("user", "What colour is grass?")],
    ]
    params = GenerationParams(max_new_tokens=12)
    expected = local.generate(conversations, GenerationParams(max_new_tokens=12))
    got = remote.generate(conversations, params)
    assert [g.text for g in got] == [e.text.strip() for e in expected]
    assert [g.tokens_in for g in got] == [e.tokens_in for e in expected]  # the server reports real token counts
    assert [g.tokens_out for g in got] == [e.tokens_out for e in expected]
    assert "07:15" in got[1].text

    streamed = list(remote.stream(conversations[1], params))
    assert len(streamed) >= 2 and "".join(streamed).strip() == expected[1].text.strip()
    assert remote.context_window == local.context_window  # read from /v1/models


def test_the_openai_backend_is_refused_without_the_key(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAGTUNE_TEST_SERVE_KEY", raising=False)
    remote = load_generator(remote_models(served, "RAGTUNE_TEST_SERVE_KEY"), GenerationConfig())
    with pytest.raises(RagtuneError, match="HTTP 401"):
        remote.generate([closed_book_messages("hi")], GenerationParams(max_new_tokens=4))
