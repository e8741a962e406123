"""The reader-loss benchmark's own parts: the scripted reader answers right exactly when its prompt holds the answer,
and a cell counts retrieval, prompt and answer the way the table says."""

from __future__ import annotations

import httpx

from benchmarks.bench_reader_loss import measure
from benchmarks.qa_data import QAItem, QASet
from benchmarks.scripted_reader import ScriptedReader, ScriptedServer, sources_in
from ragtune.prompts import REFUSAL, SourceText, rag_messages
from ragtune.rag import Answer, Source


def _user(question: str, texts: list[str]) -> str:
    shown = [SourceText(i, f"T{i}", t) for i, t in enumerate(texts, start=1)]
    return rag_messages(question, shown, capable=True)[-1].content


def test_sources_are_read_back_from_a_prompt_even_across_lines() -> None:
    prompt = _user("Who?", ["first line\nsecond line", "other"])
    assert sources_in(prompt) == {1: "T1: first line\nsecond line\n", 2: "T2: other"}


def test_the_scripted_reader_answers_exactly_when_its_prompt_holds_the_answer() -> None:
    reader = ScriptedReader({"Who opened the bridge?": ["Tomas Vell"], "Is it old?": ["yes"]})
    held = reader.answer(_user("Who opened the bridge?", ["A river.", "Tomas Vell opened it."]), "terse")
    assert held.text == "Tomas Vell [2]" and held.gold_in_prompt
    missing = reader.answer(_user("Who opened the bridge?", ["A river."]), "sentence")
    assert missing.text == REFUSAL and not missing.gold_in_prompt
    # The form's hint after the question does not hide it; a decision is read from any source.
    decided = reader.answer(_user("Is it old? Answer yes or no.", ["Built in 1904."]), "long")
    assert "the answer is yes" in decided.text and decided.gold_in_prompt
    assert reader.answer(_user("Unknown question?", ["Tomas Vell"]), "terse").text == REFUSAL


def test_the_server_speaks_the_chat_completions_api_and_stops_at_max_tokens() -> None:
    with ScriptedServer({"Who opened the bridge?": ["Tomas Vell"]}) as server:
        models = httpx.get(server.base_url + "/models").json()
        assert {m["id"] for m in models["data"]} == {"terse", "sentence", "long"}
        body = {
            "model": "long",
            "messages": [{"role": "user", "content": _user("Who opened the bridge?", ["Tomas Vell opened it."])}],
            "max_tokens": 5,
        }
        cut = httpx.post(server.base_url + "/chat/completions", json=body).json()["choices"][0]
        assert cut["finish_reason"] == "length" and len(cut["message"]["content"].split()) == 5
        whole = httpx.post(server.base_url + "/chat/completions", json=body | {"max_tokens": 256}).json()
        assert "Tomas Vell" in whole["choices"][0]["message"]["content"]


def test_a_cell_counts_chunks_prompt_and_answers() -> None:
    qaset = QASet(
        "toy",
        (),
        (
            QAItem("1", "Who?", ("Tomas Vell",), "open"),
            QAItem("2", "Is it?", ("yes",), "yes/no"),
            QAItem("3", "What?", (), "unanswerable", answerable=False),
        ),
        "",
    )

    def answer(text: str, chunk: str, excerpt: str, refused: bool = False) -> Answer:
        source = Source(1, "d", "", "d#0", 1.0, chunk, excerpt=excerpt)
        return Answer("q", text, refused, (source,), (), 0, 0, {})

    answers = [
        answer("Tomas Vell", "Tomas Vell opened it. A river.", "A river."),  # in the chunk, not shown, yet right
        answer("No: it is not.", "Built in 1904.", "Built in 1904."),  # a decision: shown, answered wrong
        answer(REFUSAL, "nothing", "nothing", refused=True),  # unanswerable: not counted
    ]
    cell = measure(qaset, "toy-reader", answers, 1.0)
    assert (cell.questions, cell.in_chunks, cell.in_prompt, cell.correct) == (2, 2, 1, 1)
    assert cell.kept == 0.5
