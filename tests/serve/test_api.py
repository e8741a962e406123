"""Every endpoint against the real default models, through real HTTP (the official openai client where it fits)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.serve.conftest import API_KEY, Served, hold_worker

pytestmark = pytest.mark.slow


def ask(client: httpx.Client, question: str, model: str = "rag", **extra: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": question}], **extra}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    return payload


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    return error


# -- health, auth, models -------------------------------------------------------------------------------------------
def test_health_needs_no_key_and_lists_the_strategies(served: Served) -> None:
    health = httpx.get(served.url + "/healthz").json()
    assert health["status"] == "ok" and health["auth_required"] is True
    assert {s["name"]: s["available"] for s in health["strategies"]} == {
        "rag": True,
        "hybrid": True,
        "finetune": True,
        "base": True,
    }
    assert health["queue"]["capacity"] == served.config.serve.queue_size


def test_the_api_and_the_report_need_the_key(served: Served) -> None:
    with served.client(key=None) as anonymous:
        error = error_of(anonymous.get("/v1/models"), 401)
        assert error["code"] == "invalid_api_key"
        assert anonymous.get("/v1/models").headers["WWW-Authenticate"] == "Bearer"
        error_of(anonymous.post("/v1/chat/completions", json={}), 401)
        error_of(anonymous.get("/report/"), 401)
        assert anonymous.get("/").status_code == 200  # the page itself asks for the key
        assert anonymous.get("/openapi.json").json()["info"]["title"] == "ragtune"
        assert anonymous.get("/docs").status_code == 404  # Swagger UI needs a CDN: not offered offline
    with served.client(key="wrong") as wrong:
        error_of(wrong.get("/v1/search", params={"q": "x"}), 401)
    # the page's cookie may read the report, never change anything
    cookies = {"ragtune_key": API_KEY}
    with httpx.Client(base_url=served.url, cookies=cookies) as browser:
        assert browser.get("/report/").status_code in (200, 404)  # authorized (whether or not a report exists yet)
        error_of(browser.post("/v1/documents", json={"id": "x", "text": "y"}), 401)
        error_of(browser.get("/v1/search", params={"q": "x"}), 401)  # the report only, not the API's reads


def test_openai_client_lists_models_and_gets_answers_with_sources(served: Served) -> None:
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=API_KEY, max_retries=0)
    assert {m.id for m in client.models.list()} == {"rag", "hybrid", "finetune", "base"}

    completion = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "Who built the Varneholm lighthouse?"}]
    )
    assert completion.object == "chat.completion" and completion.model == "rag"
    text = completion.choices[0].message.content or ""
    assert "Quist" in text, text
    assert (
        completion.usage is not None and completion.usage.prompt_tokens > 50 and completion.usage.completion_tokens > 0
    )
    sources = (completion.model_extra or {})["sources"]
    assert sources[0]["doc_id"] == "lighthouse" and sources[0]["title"] == "Varneholm lighthouse"
    assert {"doc_id", "title", "chunk_id", "score", "text"} <= set(sources[0])
    assert "Mara Quist" in sources[0]["text"] and sources[0]["supports_answer"] is True


def test_openai_client_streams_token_by_token_with_sources_at_the_end(served: Served) -> None:
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=API_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="rag",
        messages=[{"role": "user", "content": "Who built the Varneholm lighthouse?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    sources: list[dict[str, Any]] = []
    finish = None
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
        sources = (chunk.model_extra or {}).get("sources", sources)
    assert len(pieces) >= 2, pieces  # token by token, not one block
    assert "Quist" in "".join(pieces)
    assert finish == "stop" and usage is not None and usage.completion_tokens > 0
    assert sources and sources[0]["doc_id"] == "lighthouse"


def test_every_strategy_answers_and_only_retrieving_ones_cite(served: Served) -> None:
    with served.client() as client:
        closed = ask(client, "What is the capital of France?", model="base")
        assert closed["choices"][0]["message"]["content"].strip() and closed["sources"] == []
        tuned = ask(client, "What is the capital of France?", model="finetune")
        assert tuned["choices"][0]["message"]["content"].strip() and tuned["sources"] == []
        # The adapter was applied: the same question, greedy decoding, another answer than the base model's.
        assert tuned["choices"][0]["message"]["content"] != closed["choices"][0]["message"]["content"]
        hybrid = ask(client, "What bread is Pellow's Bakery known for?", model="hybrid")
        assert hybrid["sources"][0]["doc_id"] == "bakery"
        models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
        assert "adapter finetune-test" in models["finetune"]["description"]
        assert "adapter hybrid-test" in models["hybrid"]["description"]
        # no model given: the configured default strategy
        default = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Who built it?"}]})
        assert default.json()["model"] == served.config.serve.default_strategy


def test_a_conversation_reaches_a_closed_book_model_verbatim(served: Served) -> None:
    from ragtune.models.generator import GenerationParams, Message

    messages = [
        {"role": "system", "content": "You are a terse assistant. Reply with one word."},
        {"role": "user", "content": "What colour is the sky on a clear day?"},
    ]
    with served.client() as client:
        reply = ask(client, "", model="base", messages=messages, max_tokens=8)
    local = served.engine.generator.generate(
        [[Message("system", messages[0]["content"]), Message("user", messages[1]["content"])]],
        GenerationParams(max_new_tokens=8),
    )[0]
    assert reply["choices"][0]["message"]["content"] == local.text
    assert reply["usage"]["completion_tokens"] == local.tokens_out
    # Streamed, the same conversation reports the same usage and why it stopped.
    body = {"model": "base", "messages": messages, "max_tokens": 2, "stream": True}
    body["stream_options"] = {"include_usage": True}
    with served.client() as client, client.stream("POST", "/v1/chat/completions", json=body) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]
    assert [c["choices"][0]["finish_reason"] for c in events if c["choices"]][-1] == "length"
    usage = events[-1]["usage"]
    assert usage["completion_tokens"] == 2 and usage["prompt_tokens"] == local.tokens_in


def test_a_stream_whose_client_leaves_stops_generating(served: Served) -> None:
    messages = [
        {"role": "system", "content": "You write long lists."},
        {"role": "user", "content": "Count from 1 to 1000, separated by commas."},
    ]
    body = {"model": "base", "messages": messages, "stream": True, "max_tokens": 2000}
    with served.client() as client, client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        for n, _ in enumerate(response.iter_lines()):
            if n > 8:
                break  # leave after a few tokens; 2000 would take minutes on a CPU
    start = time.monotonic()
    while httpx.get(served.url + "/healthz").json()["queue"]["busy"]:
        assert time.monotonic() - start < 20, "the model kept generating for a client that left"
        time.sleep(0.2)


# -- bad requests ---------------------------------------------------------------------------------------------------
def test_bad_chat_requests_get_clear_4xx(served: Served) -> None:
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError, match="unknown model 'gpt-4'"):
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="n:"):
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "hi"}], n=2)
    with served.client() as http:
        error = error_of(http.post("/v1/chat/completions", json={"model": "rag", "messages": []}), 400)
        assert error["param"] == "messages"
        error_of(http.post("/v1/chat/completions", json={"model": "rag"}), 400)
        system_only = {"model": "rag", "messages": [{"role": "system", "content": "x"}]}
        assert "no user message" in error_of(http.post("/v1/chat/completions", json=system_only), 400)["message"]
        bad_role = {"model": "rag", "messages": [{"role": "wizard", "content": "x"}]}
        assert error_of(http.post("/v1/chat/completions", json=bad_role), 400)["param"] == "messages.0.role"
        too_many = {"model": "rag", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}
        assert error_of(http.post("/v1/chat/completions", json=too_many), 400)["param"] == "max_tokens"
        broken = http.post("/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
        error_of(broken, 400)
        huge = {"model": "rag", "messages": [{"role": "user", "content": "x" * (2 << 20)}]}
        assert error_of(http.post("/v1/chat/completions", json=huge), 413)["code"] == "too_large"
        error_of(http.get("/v1/nothing-here"), 404)


def test_a_full_queue_answers_503_with_retry_after(served: Served) -> None:
    release, thread = hold_worker(served.app, fill=served.config.serve.queue_size)
    try:
        with served.client() as client:
            body = {"model": "rag", "messages": [{"role": "user", "content": "Who built the lighthouse?"}]}
            busy = client.post("/v1/chat/completions", json=body)
            error = error_of(busy, 503)
            assert error["code"] == "queue_full" and int(busy.headers["Retry-After"]) >= 1
            streaming = client.post("/v1/chat/completions", json={**body, "stream": True})
            assert streaming.status_code == 503 and "Retry-After" in streaming.headers
            assert error_of(client.get("/v1/search", params={"q": "x"}), 503)["code"] == "queue_full"
            assert httpx.get(served.url + "/healthz").json()["queue"]["waiting"] == served.config.serve.queue_size
    finally:
        release.set()
        thread.join(30)
    with served.client() as client:
        assert ask(client, "Who built the Varneholm lighthouse?")["sources"]


# -- documents: freshness, uploads, deletes -------------------------------------------------------------------------
def test_a_replaced_document_is_answered_from_at_once(served: Served) -> None:
    question = "Who is the chief executive of Kettleby Ltd?"

    def version(name: str) -> dict[str, str]:
        return {"id": "kettleby", "title": "Kettleby Ltd", "text": f"The chief executive of Kettleby Ltd is {name}."}

    with served.client() as client:
        first = client.post("/v1/documents", json=version("Ada Brimble"))
        assert first.status_code == 201
        assert first.json()["documents"] == [{"id": "kettleby", "title": "Kettleby Ltd", "status": "added"}]
        before = ask(client, question)
        assert before["sources"][0]["doc_id"] == "kettleby" and "Ada Brimble" in before["sources"][0]["text"]
        assert "Ada Brimble" in before["choices"][0]["message"]["content"]

        second = client.post("/v1/documents", json=version("Osric Fenn"))
        assert second.json()["documents"][0]["status"] == "updated"
        after = ask(client, question)
        assert after["sources"][0]["doc_id"] == "kettleby" and "Osric Fenn" in after["sources"][0]["text"]
        assert "Brimble" not in json.dumps(after)  # the old version is gone from the answer and its sources
        assert "Osric Fenn" in after["choices"][0]["message"]["content"]
        again = client.post("/v1/documents", json={"documents": [version("Osric Fenn")]})
        assert again.json()["documents"][0]["status"] == "unchanged"

        assert client.delete("/v1/documents/kettleby").json() == {"id": "kettleby", "deleted": True}
        assert error_of(client.delete("/v1/documents/kettleby"), 404)["code"] == "document_not_found"
        hits = client.get("/v1/search", params={"q": "Kettleby chief executive"}).json()["hits"]
        assert all(h["doc_id"] != "kettleby" for h in hits)
        assert "kettleby" not in {d["id"] for d in client.get("/v1/documents").json()["documents"]}


def test_file_uploads_are_typed_sized_and_named_safely(served: Served, tmp_path: Any) -> None:
    with served.client() as client:
        files = [
            (
                "files",
                ("ferry.md", b"# Ferry timetable\n\nThe Quillsound ferry leaves Port Ebber at 07:15.", "text/markdown"),
            ),
            (
                "files",
                (
                    "../../../etc/evil notes.txt",
                    b"Fennel soup is served on Thursdays at the Ebber canteen.",
                    "text/plain",
                ),
            ),
        ]
        response = client.post("/v1/documents", files=files)
        assert response.status_code == 201, response.text
        ids = [d["id"] for d in response.json()["documents"]]
        assert ids == ["ferry.md", "evil notes.txt"]  # the path is dropped: an upload's name cannot leave the store
        hit = client.get("/v1/search", params={"q": "When does the Quillsound ferry leave?", "k": 1}).json()["hits"][0]
        assert hit["doc_id"] == "ferry.md" and hit["title"] == "Ferry timetable"
        answer = ask(client, "When does the Quillsound ferry leave Port Ebber?")
        assert answer["sources"][0]["doc_id"] == "ferry.md"

        named = client.post(
            "/v1/documents",
            files={"files": ("a.txt", b"Otters hold hands.", "text/plain")},
            data={"id": "zoo/otters", "title": "Otters"},
        )
        assert named.json()["documents"] == [{"id": "zoo/otters", "title": "Otters", "status": "added"}]
        assert client.delete("/v1/documents/zoo/otters").status_code == 200

        error = error_of(
            client.post("/v1/documents", files={"files": ("run.exe", b"MZ\x90\x00", "application/octet-stream")}), 415
        )
        assert ".exe" in error["message"] and ".md" in error["message"]
        limit = int(served.config.serve.max_upload_mb * (1 << 20))
        big = client.post("/v1/documents", files={"files": ("big.txt", b"a " * (limit // 2 + 10), "text/plain")})
        assert error_of(big, 413)["code"] == "too_large"
        for bad_id in ("../secrets", "/etc/passwd", "a/../../b", ".hidden", "x#1", "tab\there"):
            error = error_of(client.post("/v1/documents", json={"id": bad_id, "text": "x"}), 400)
            assert "id" in error["message"]
        assert error_of(client.delete("/v1/documents/..%2F..%2Fetc"), 400)["code"] == "invalid_document"
        assert "text" in error_of(client.post("/v1/documents", json={"id": "a"}), 400)["message"]
        error_of(client.post("/v1/documents", json={"id": "a", "text": "x", "colour": "red"}), 400)
        error_of(client.post("/v1/documents", content=b"plain", headers={"Content-Type": "text/plain"}), 415)
        error_of(client.post("/v1/documents", files={"other": ("a.txt", b"x", "text/plain")}), 400)
        twice = [{"id": "dup", "text": "one"}, {"id": "dup", "text": "two"}]
        error = error_of(client.post("/v1/documents", json=twice), 400)
        assert error["param"] == "id" and "'dup' appears twice" in error["message"]
        error_of(client.post("/v1/documents", files={"files": ("empty.txt", b"", "text/plain")}), 400)
        # nothing of the refused uploads reached the store
        stored = {d["id"] for d in client.get("/v1/documents").json()["documents"]}
        assert {"lighthouse", "bakery", "leave-policy", "ferry.md", "evil notes.txt"} <= stored
        assert not stored & {"run.exe", "big.txt", "a", "empty.txt", "zoo/otters"}


def test_upload_names_long_or_with_control_characters(served: Served) -> None:
    long_name = "Minutes of the harbour committee meeting " * 4 + "final.md"
    # Written by hand: httpx percent-encodes control characters in a file name, a careless client does not.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="files"; filename="tide\x00 table\x1b.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nHigh tide is at noon.\r\n--B--\r\n"
    )
    with served.client() as client:
        response = client.post(
            "/v1/documents", files={"files": (long_name, b"The harbour committee meets on Tuesdays.", "text/markdown")}
        )
        assert response.status_code == 201, response.text
        (long_doc,) = response.json()["documents"]
        assert long_doc["id"].endswith(".md") and len(long_doc["id"]) == 128  # shortened in its stem
        response = client.post(
            "/v1/documents", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"}
        )
        assert response.status_code == 201, response.text
        (tide,) = response.json()["documents"]
        assert tide["title"] == "tide table"
        hit = client.get("/v1/search", params={"q": "When is high tide?", "k": 1}).json()["hits"][0]
        assert hit["doc_id"] == tide["id"] and hit["title"] == "tide table"
        for doc in (long_doc, tide):
            assert client.delete(f"/v1/documents/{doc['id']}").status_code == 200


def test_an_upload_replaces_the_file_it_names_and_never_another(served: Served) -> None:
    from ragtune.corpus.document import Document

    # As `ragtune ingest manuals/` stored it: the id and source are the path.
    pump = "Pump P-4 runs for 40 minutes after each start."
    served.engine.upsert([Document("manuals/pump.md", pump, {"title": "Pump", "source": "manuals/pump.md"})])
    with served.client() as client:
        new_pump = b"# Pump\n\nPump P-4 runs for 25 minutes after each start."
        response = client.post("/v1/documents", files={"files": ("pump.md", new_pump, "text/markdown")})
        assert response.status_code == 201, response.text
        assert response.json()["documents"] == [{"id": "manuals/pump.md", "title": "Pump", "status": "updated"}]
        stored = {d["id"] for d in client.get("/v1/documents").json()["documents"]}
        assert "pump.md" not in stored  # replaced, not stored twice

        first = client.post("/v1/documents", files={"files": ("gate [v1].txt", b"Gate A opens at 6.", "text/plain")})
        assert first.json()["documents"] == [{"id": "gate _v1_.txt", "title": "gate [v1]", "status": "added"}]
        other = client.post("/v1/documents", files={"files": ("gate (v1).txt", b"Gate B is closed.", "text/plain")})
        error = error_of(other, 400)  # both names make the id "gate _v1_.txt"
        assert "gate [v1].txt" in error["message"] and "'id' form field" in error["message"]
        hit = client.get("/v1/search", params={"q": "When does gate A open?", "k": 1}).json()["hits"][0]
        assert hit["doc_id"] == "gate _v1_.txt" and "Gate A" in hit["text"]
        again = client.post("/v1/documents", files={"files": ("gate [v1].txt", b"Gate A opens at 7.", "text/plain")})
        assert again.json()["documents"][0]["status"] == "updated"
        for doc_id in ("manuals/pump.md", "gate _v1_.txt"):
            assert client.delete(f"/v1/documents/{doc_id}").status_code == 200


def test_bodies_that_are_not_json_are_named_as_such(served: Served) -> None:
    with served.client() as http:
        broken = http.post(
            "/v1/chat/completions", content=b'{"model":"rag", messages:', headers={"Content-Type": "application/json"}
        )
        error = error_of(broken, 400)
        assert error["code"] == "invalid_json" and "not valid JSON at character" in error["message"]
        body = b'{"messages": [{"role": "user", "content": "hi"}]}'
        plain = http.post("/v1/chat/completions", content=body, headers={"Content-Type": "text/plain"})
        assert "Content-Type: application/json" in error_of(plain, 415)["message"]
        latin_1 = '{"x": "caf\xe9"}'.encode("latin-1")
        latin = http.post("/v1/chat/completions", content=latin_1, headers={"Content-Type": "application/json"})
        assert "UTF-8 JSON" in error_of(latin, 400)["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: only counting the bytes as they come can stop it
            yield b'{"model": "rag", "messages": [{"role": "user", "content": "'
            for _ in range(40):
                yield b"x" * 65536
            yield b'"}]}'

        streamed = http.post("/v1/chat/completions", content=chunks(), headers={"Content-Type": "application/json"})
        assert error_of(streamed, 413)["code"] == "too_large"


def test_search(served: Served) -> None:
    with served.client() as client:
        result = client.get("/v1/search", params={"q": "lighthouse engineer", "k": 2}).json()
        assert result["mode"] == served.config.retrieval.mode and len(result["hits"]) == 2
        top = result["hits"][0]
        assert top["doc_id"] == "lighthouse" and top["rank"] == 1 and top["chunk_id"].startswith("lighthouse")
        for mode in ("dense", "bm25"):
            hits = client.get("/v1/search", params={"q": "caraway rye loaf", "mode": mode}).json()["hits"]
            assert hits[0]["doc_id"] == "bakery"
        assert error_of(client.get("/v1/search", params={"q": "x", "k": 0}), 400)["param"] == "k"
        assert error_of(client.get("/v1/search", params={"q": "x", "mode": "psychic"}), 400)["param"] == "mode"
        assert error_of(client.get("/v1/search"), 400)["param"] == "q"


# -- the report -----------------------------------------------------------------------------------------------------
def test_the_report_is_served_once_there_is_one(served: Served) -> None:
    with served.client() as client:
        missing = error_of(client.get("/report/"), 404)
        assert "ragtune compare" in missing["message"]
        assert client.get("/report").status_code == 307
        folder = served.engine.workspace.new_report_dir()
        folder.mkdir(parents=True)
        try:
            (folder / "report.html").write_text("<html><body><h1>Comparison</h1><img src='plot.png'></body></html>")
            (folder / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
            (folder.parent / "secret.txt").write_text("outside the report")
            page = client.get("/report", follow_redirects=True)
            assert page.status_code == 200 and "<h1>Comparison</h1>" in page.text
            assert page.headers["content-type"].startswith("text/html")
            assert client.get("/report/plot.png").content.startswith(b"\x89PNG")
            error_of(client.get("/report/..%2Fsecret.txt"), 404)
            error_of(client.get("/report/nothing.png"), 404)
        finally:
            shutil.rmtree(folder)  # later tests (the browser's) start without a report again
            (folder.parent / "secret.txt").unlink()


def test_a_strategy_without_its_adapter_is_not_a_model_yet(served: Served) -> None:
    adapters = served.engine.workspace.adapters_dir / "finetune"
    parked = adapters.with_name("finetune-parked")
    adapters.rename(parked)
    try:
        with served.client() as client:
            listed = {m["id"] for m in client.get("/v1/models").json()["data"]}
            assert "finetune" not in listed
            error = error_of(client.get("/v1/models/finetune"), 404)
            assert error["code"] == "model_not_found" and "ragtune tune" in error["message"]
            assert error_of(client.get("/v1/models/sideways"), 404)["code"] == "model_not_found"
            body = {"model": "finetune", "messages": [{"role": "user", "content": "hi"}]}
            assert "not available" in error_of(client.post("/v1/chat/completions", json=body), 400)["message"]
    finally:
        parked.rename(adapters)


def test_stream_must_be_a_boolean(served: Served) -> None:
    with served.client() as client:
        body = {"model": "base", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}
        assert error_of(client.post("/v1/chat/completions", json=body), 400)["param"] == "stream"


def test_a_clients_max_tokens_caps_the_capable_reader_too(served: Served, embedder: Any, generator: Any) -> None:
    """The capable reader answers in up to rag.capable_answer_tokens (256); a request's smaller max_tokens wins."""
    import copy

    from ragtune.serve.engine import Engine

    config = copy.deepcopy(served.config)
    config.rag.reader = "capable"
    engine = Engine(config, embedder, generator, served.engine.store)
    question = "Who built the Varneholm lighthouse, and in which year?"
    (capped,) = engine.answer_many("rag", [question], max_new_tokens=6)
    assert capped.tokens_out <= 6
    (free,) = engine.answer_many("rag", [question])
    assert free.tokens_out > 6  # not the reader's own limit: the request's
