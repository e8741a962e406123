"""The OpenAI-compatible client against a real HTTP server on loopback that answers with the real default model."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from ragtune.errors import BackendUnavailableError, RagtuneError
from ragtune.models.generator import GenerationParams, Message
from ragtune.models.openai_compat import OpenAICompatGenerator
from tests.models.openai_server import RunningServer, ServerState, build_app

MODEL = "smollm2-test"
QUESTION = [Message("system", "Answer in one short sentence."), Message("user", "What is the capital of France?")]
PARAMS = GenerationParams(max_new_tokens=12)


@pytest.fixture(scope="module")
def server(generator: Any) -> Any:
    state = ServerState()
    with RunningServer(build_app(generator, MODEL, state)) as running:
        running.state = state  # type: ignore[attr-defined]
        yield running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_answers_match_the_local_model_and_usage_is_reported(server: Any, generator: Any) -> None:
    (local,) = generator.generate([QUESTION], PARAMS)
    with OpenAICompatGenerator(server.url, MODEL, max_retries=0) as client:
        results = client.generate([QUESTION, QUESTION], PARAMS)
        assert client.context_window == 8192  # from the server's /v1/models entry
    for remote in results:
        assert remote.text == local.text
        assert (remote.tokens_in, remote.tokens_out) == (local.tokens_in, local.tokens_out)
        assert remote.extra["usage_reported"] == 1.0
    body = server.state.bodies[-1]
    assert body["messages"][1] == {"role": "user", "content": "What is the capital of France?"}
    assert body["max_tokens"] == 12 and body["temperature"] == 0.0


def test_streaming_sse(server: Any, generator: Any) -> None:
    (local,) = generator.generate([QUESTION], PARAMS)
    with OpenAICompatGenerator(server.url, MODEL, max_retries=0) as client:
        pieces = list(client.stream(QUESTION, PARAMS))
    assert len(pieces) > 1  # really streamed, not one block
    assert "".join(pieces).strip() == local.text


def test_retries_with_backoff_then_succeeds(server: Any) -> None:
    server.state.fail_first = server.state.requests + 2  # the next two requests get 503
    before = server.state.requests
    with OpenAICompatGenerator(server.url, MODEL, max_retries=3, backoff_s=0.01) as client:
        (result,) = client.generate([QUESTION], GenerationParams(max_new_tokens=4))
    assert result.text
    assert server.state.requests - before == 3


def test_gives_up_after_its_retries(server: Any) -> None:
    server.state.fail_first = server.state.requests + 10
    before = server.state.requests
    with (
        OpenAICompatGenerator(server.url, MODEL, max_retries=1, backoff_s=0.01) as client,
        pytest.raises(BackendUnavailableError, match="HTTP 503"),
    ):
        client.generate([QUESTION], PARAMS)
    assert server.state.requests - before == 2
    server.state.fail_first = 0


def test_client_error_is_not_retried_and_says_why(server: Any) -> None:
    server.state.fail_first = 0
    before = server.state.requests
    with (
        OpenAICompatGenerator(server.url, "no-such-model", max_retries=3, backoff_s=0.01) as client,
        pytest.raises(RagtuneError, match="HTTP 404.*no-such-model"),
    ):
        client.generate([QUESTION], PARAMS)
    assert server.state.requests - before == 1


def test_unreachable_server_names_the_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    t0 = time.perf_counter()
    with (
        OpenAICompatGenerator(url, MODEL, max_retries=2, backoff_s=0.01) as client,
        pytest.raises(BackendUnavailableError) as info,
    ):
        client.generate([QUESTION], PARAMS)
    message = str(info.value)
    assert f"{url}/chat/completions" in message and "3 attempts" in message and "openai_base_url" in message
    assert time.perf_counter() - t0 < 10
