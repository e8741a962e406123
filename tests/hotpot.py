"""HotpotQA dev52 from ../shared as a corpus: one document per paragraph, titled as in HotpotQA (the tests of
retrieval, reranking and embedder tuning read it so)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ragtune.corpus.document import Document


def hotpot_documents(shared_data: Path, questions: int | None = 6) -> tuple[list[Document], list[dict[str, Any]]]:
    """The paragraphs of the first `questions` questions (all 52 with None), deduplicated by title, and the rows."""
    path = shared_data / "hotpotqa-dev52" / "hotpot_dev_distractor_52.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:questions]]
    docs: dict[str, Document] = {}
    for row in rows:
        for title, sentences in zip(row["context"]["title"], row["context"]["sentences"], strict=True):
            docs.setdefault(title, Document(id=title, text="".join(sentences).strip(), metadata={"title": title}))
    return list(docs.values()), rows
