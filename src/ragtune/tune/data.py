"""Training data: what a LoRA adapter learns from, as JSONL a user can read and edit.

One line is one example, in one of four forms (the same forms `ragtune tune --data` reads):

- `{"question": ..., "answer": ...}` (or `"answers": [...]`, the first is taught): a fact, asked closed-book;
- `{"messages": [{"role": ..., "content": ...}, ...]}`: a chat whose last message, the assistant's, carries the loss;
- `{"text": ...}`: raw document text for continued pre-training (every token carries the loss);
- the builders below turn the first and the documents into the second and third, and add paraphrases and RAFT
  examples (Zhang et al. 2024) for the hybrid strategy.

Prompts come from `ragtune.prompts` only, so a tuned model is trained on exactly the words it is asked in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ragtune.corpus.document import Chunk
from ragtune.errors import InputFileError
from ragtune.jsonl import decode_user_text, load_json_line
from ragtune.models.generator import Message
from ragtune.prompts import REFUSAL, SourceText, closed_book_messages, rag_messages
from ragtune.text import normalize_answer

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    fact_id: str = ""  # groups a fact's paraphrases (held-out splits never separate a fact from itself)


@dataclass(frozen=True)
class Example:
    """One training example: a conversation (loss on the last, assistant, message) or raw text (loss everywhere)."""

    messages: tuple[Message, ...] = ()
    text: str = ""
    origin: str = "chat"  # qa | paraphrase | chat | document | raft | raft-no-oracle
    fact_id: str = ""

    def __post_init__(self) -> None:
        if bool(self.messages) == bool(self.text):
            raise ValueError("an Example has either messages or text, not both or neither")
        if self.messages and self.messages[-1].role != "assistant":
            raise ValueError("a training conversation must end with an assistant message")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = (
            {"messages": [{"role": m.role, "content": m.content} for m in self.messages]}
            if self.messages
            else {"text": self.text}
        )
        out["origin"] = self.origin
        if self.fact_id:
            out["fact_id"] = self.fact_id
        return out


@dataclass(frozen=True)
class TrainingFile:
    """What a training JSONL holds, by form. QA pairs stay pairs until the builders decide their prompt."""

    path: Path
    pairs: tuple[QAPair, ...] = ()
    examples: tuple[Example, ...] = ()  # chat and text lines, ready to train
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.pairs) + len(self.examples)


def _bad(path: Path, line: int, what: str) -> InputFileError:
    return InputFileError(
        f"{path}:{line}: {what}. Each line must be a JSON object with 'question' and 'answer', or 'messages' "
        "(a list of {role, content} ending with the assistant), or 'text'."
    )


def _string_field(record: dict[str, Any], name: str, path: Path, line: int) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, line, f"field '{name}' must be a non-empty string, got {value!r}")
    return value.strip()


def _parse_messages(value: Any, path: Path, line: int) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise _bad(path, line, f"field 'messages' must be a non-empty list, got {value!r}")
    out = []
    for i, item in enumerate(value):
        where = f"field 'messages[{i}]'"
        if not isinstance(item, dict):
            raise _bad(path, line, f"{where} must be an object with 'role' and 'content'")
        role, content = item.get("role"), item.get("content")
        if role not in ROLES:
            raise _bad(path, line, f"{where}.role must be one of {', '.join(ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise _bad(path, line, f"{where}.content must be a string, got {content!r}")
        out.append(Message(role, content))
    if out[-1].role != "assistant":
        raise _bad(path, line, "field 'messages' must end with an 'assistant' message (the answer that is taught)")
    if not out[-1].content.strip():
        raise _bad(path, line, "field 'messages': the last (assistant) message is empty")
    return tuple(out)


def parse_record(record: Any, path: Path, line: int) -> QAPair | Example:
    """One JSONL line as a QAPair or an Example; InputFileError names the file, line and field otherwise."""
    if not isinstance(record, dict):
        raise _bad(path, line, f"expected a JSON object, got {type(record).__name__}")
    fact_id = str(record.get("fact_id", record.get("id", "")) or "")
    if "messages" in record:
        origin = str(record.get("origin", "chat") or "chat")
        return Example(messages=_parse_messages(record["messages"], path, line), origin=origin, fact_id=fact_id)
    if "text" in record and "question" not in record:
        return Example(text=_string_field(record, "text", path, line), origin="document", fact_id=fact_id)
    if "question" in record:
        question = _string_field(record, "question", path, line)
        if "answer" in record:
            answer = _string_field(record, "answer", path, line)
        elif "answers" in record:
            answers = record["answers"]
            if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a for a in answers):
                raise _bad(path, line, f"field 'answers' must be a non-empty list of strings, got {answers!r}")
            answer = answers[0].strip()
        else:
            raise _bad(path, line, "field 'answer' is missing")
        return QAPair(question, answer, fact_id or f"line{line}")
    raise _bad(path, line, f"no 'question', 'messages' or 'text' field (fields: {', '.join(sorted(record)) or 'none'})")


def read_training_file(path: Path | str, *, split: str | None = None) -> TrainingFile:
    """Read a training JSONL. `split` keeps only lines whose 'split' field equals it (lines without one are kept)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: training file not found")
    raw = path.read_bytes()
    pairs: list[QAPair] = []
    examples: list[Example] = []
    for number, text in enumerate(decode_user_text(raw, path).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = load_json_line(text)
        except ValueError as exc:
            raise _bad(path, number, str(exc)) from exc
        if split is not None and isinstance(record, dict) and record.get("split", split) != split:
            continue
        item = parse_record(record, path, number)
        (pairs if isinstance(item, QAPair) else examples).append(item)  # type: ignore[arg-type]
    if not pairs and not examples:
        raise InputFileError(f"{path}: no training examples (the file is empty or every line was filtered out)")
    return TrainingFile(path, tuple(pairs), tuple(examples), hashlib.sha256(raw).hexdigest())


def write_jsonl(examples: Iterable[Example], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex.to_json(), ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def read_examples(path: Path | str) -> list[Example]:
    """A JSONL written by `write_jsonl` (or by hand in the chat/text forms) back as Examples."""
    tf = read_training_file(path)
    if tf.pairs:
        raise InputFileError(f"{path}: expected built examples ('messages' or 'text'), found question/answer lines")
    return list(tf.examples)


# ---------------------------------------------------------------------------------------------------------------
# Builders


def qa_examples(pairs: Iterable[QAPair], *, origin: str = "qa") -> list[Example]:
    """Closed-book examples: the question as `ragtune.prompts.closed_book_messages` asks it, the answer taught."""
    return [
        Example(
            messages=(*closed_book_messages(p.question), Message("assistant", p.answer)),
            origin=origin,
            fact_id=p.fact_id,
        )
        for p in pairs
    ]


def document_examples(
    texts: Iterable[tuple[str, str]], *, max_chars: int = 2000, overlap_chars: int = 0
) -> list[Example]:
    """Raw text for continued pre-training, from (title, text) pairs, cut into pieces of at most `max_chars`.

    The title is kept at the top of each piece so that a fact learnt from it stays attached to its subject.
    """
    out: list[Example] = []
    for title, text in texts:
        body = text.strip()
        if not body:
            continue
        start = 0
        while start < len(body):
            end = min(len(body), start + max_chars)
            if end < len(body):  # cut at a sentence or word boundary where there is one
                cut = max(body.rfind(". ", start, end), body.rfind("\n", start, end))
                if cut <= start + max_chars // 2:
                    cut = body.rfind(" ", start, end)
                end = cut + 1 if cut > start else end
            piece = body[start:end].strip()
            if piece:
                out.append(Example(text=f"{title}\n{piece}" if title else piece, origin="document", fact_id=title))
            if end >= len(body):
                break
            start = max(end - overlap_chars, start + 1)
    return out


def chunk_examples(chunks: Iterable[Chunk]) -> list[Example]:
    """Continued pre-training on the knowledge base's chunks (what `ragtune tune --from-docs` trains on)."""
    return document_examples(((c.title, c.text) for c in chunks), max_chars=10_000)


# --- paraphrase augmentation -------------------------------------------------------------------------------------
# Ovadia et al. (2023) found fine-tuned recall of new facts rises with the number of paraphrases seen in training.
# Offline and model-free, so these are rule-based rewordings: question stems turned into other stems and request
# frames, and synonym swaps in longer answer sentences. Short answers (a name, a year) are never reworded: they are
# the exact words the model must produce.

_STEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"^what is the name of (.+)\?$", ("Name {0}.", "What is {0} called?", "Tell me the name of {0}.")),
    (r"^what is (.+)\?$", ("Tell me {0}.", "Do you know {0}?", "Name {0}.", "Which is {0}?")),
    (r"^what are (.+)\?$", ("Tell me {0}.", "Name {0}.", "Do you know {0}?")),
    (r"^who (\w+) (.+)\?$", ("Who is the person who {0} {1}?", "Name the person who {0} {1}.", "Tell me who {0} {1}.")),
    (r"^who is (.+)\?$", ("Name {0}.", "Tell me who {0} is.", "Do you know who {0} is?")),
    (r"^in what year (was|were|did) (.+)\?$", ("When {0} {1}?", "In which year {0} {1}?", "What year {0} {1}?")),
    (r"^when (was|were|did) (.+)\?$", ("In what year {0} {1}?", "At what time {0} {1}?", "Tell me when {0} {1}.")),
    (r"^(?:in )?which (\w+) (.+)\?$", ("What {0} {1}?", "Name the {0} that {1}.", "Tell me which {0} {1}.")),
    (r"^what (\w+) (is|was|are|were|does|did|do) (.+)\?$", ("Which {0} {1} {2}?", "Name the {0} {1} {2}.")),
    (r"^where (is|was|are|were|did|does) (.+)\?$", ("In what place {0} {1}?", "Tell me where {0} {1}.")),
    (r"^how many (.+)\?$", ("What number of {0}?", "Tell me how many {0}.")),
)
_FRAMES = (
    "Do you know this: {q}",
    "Quick question: {q}",
    "I would like to know: {q}",
    "Please answer: {q}",
    "Can you tell me? {q}",
    "Question: {q}",
)
_SYNONYMS = {
    "big": "large",
    "large": "big",
    "located": "situated",
    "founded": "established",
    "established": "founded",
    "built": "constructed",
    "famous": "well known",
    "also": "as well",
    "began": "started",
    "started": "began",
    "ended": "finished",
    "main": "principal",
    "chief": "main",
    "about": "around",
    "because": "since",
    "buy": "purchase",
    "shows": "displays",
    "uses": "employs",
    "made": "produced",
    "help": "assist",
}


def paraphrase_question(question: str) -> list[str]:
    """Every distinct rewording of `question` the rules produce (the question itself excluded), best first."""
    q = " ".join(question.strip().split())
    q_mark = q if q.endswith("?") else q.rstrip(".!") + "?"
    out: list[str] = []
    lowered = q_mark[:1].lower() + q_mark[1:]
    for pattern, templates in _STEMS:
        m = re.match(pattern, lowered, flags=re.IGNORECASE)
        if m:
            groups = m.groups()
            for t in templates:
                candidate = t.format(*groups)
                out.append(candidate[:1].upper() + candidate[1:])
            break
    out += [f.format(q=q_mark) for f in _FRAMES]
    seen = {q.lower()}
    unique = []
    for c in out:
        if c.lower() not in seen:
            seen.add(c.lower())
            unique.append(c)
    return unique


def paraphrase_answer(answer: str, variant: int) -> str:
    """A reworded answer sentence; answers of five words or fewer are returned unchanged."""
    words = answer.split()
    if len(words) <= 5 or variant == 0:
        return answer
    swapped = 0
    out = []
    for w in words:
        core = w.strip(string.punctuation)
        rep = _SYNONYMS.get(core.lower())
        # Alternate which synonyms apply so that variants differ from each other, not only from the original.
        if rep and (swapped + variant) % 2 == 1:
            w = w.replace(core, rep if core[:1].islower() else rep.capitalize())
        if rep:
            swapped += 1
        out.append(w)
    return " ".join(out)


def paraphrase_variants(pair: QAPair, count: int, rng: random.Random) -> list[QAPair]:
    """Up to `count` reworded versions of one pair (never the pair itself): stem rewrites first (they change the
    most words), then a sample of the request frames drawn from `rng`."""
    if count <= 0:
        return []
    options = paraphrase_question(pair.question)
    stems, frames = options[: max(0, len(options) - len(_FRAMES))], options[-len(_FRAMES) :]
    rng.shuffle(frames)
    chosen = (stems + frames)[:count]
    return [QAPair(q, paraphrase_answer(pair.answer, i), pair.fact_id) for i, q in enumerate(chosen, start=1)]


def paraphrase_pairs(pairs: Iterable[QAPair], count: int, *, seed: int = 0) -> list[QAPair]:
    """`count` reworded versions of each pair (not including the pair itself), chosen reproducibly from `seed`."""
    rng = random.Random(seed)
    return [v for pair in pairs for v in paraphrase_variants(pair, count, rng)]


def qa_training_split(
    pairs: Sequence[QAPair], paraphrases: int, eval_share: float, *, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Closed-book (train, eval) examples for facts: every fact with `paraphrases` rewordings in training, and, for
    `eval_share` of the facts, one further rewording held out.

    Holding out whole facts would only measure that unseen facts stay unknown; a held-out *rewording* of a trained
    fact measures what matters here: whether the fact was learnt, or only the words it was asked in.
    """
    rng = random.Random(seed)
    train = qa_examples(pairs)
    spare: list[QAPair] = []
    for pair in pairs:
        variants = paraphrase_variants(pair, paraphrases + 1, rng)
        train += qa_examples(variants[:paraphrases], origin="paraphrase")
        if len(variants) > paraphrases:
            spare.append(variants[paraphrases])
    n_eval = min(len(spare), round(eval_share * len(pairs))) if eval_share > 0 else 0
    held = rng.sample(spare, n_eval)
    return train, qa_examples(held, origin="heldout-paraphrase")


# --- RAFT ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaftItem:
    """A question, its answer and the chunk that holds the answer (the oracle), plus candidate distractors."""

    pair: QAPair
    oracle: Chunk
    distractors: tuple[Chunk, ...] = field(default_factory=tuple)  # best first (e.g. retrieved); may be empty


def _source(number: int, chunk: Chunk) -> SourceText:
    return SourceText(number=number, title=chunk.title, text=chunk.text)


def raft_examples(
    items: Sequence[RaftItem],
    pool: Sequence[Chunk],
    *,
    distractors: int = 3,
    oracle_share: float = 0.8,
    seed: int = 0,
    no_oracle: Literal["refuse", "answer"] = "refuse",
    refusal_text: str = REFUSAL,
    few_shot: bool = True,
    render: Callable[[str, Sequence[Chunk]], list[Message]] | None = None,
) -> list[Example]:
    """RAFT training examples: the question with numbered sources as the RAG prompt shows them.

    In `oracle_share` of the examples (exactly round(share * n), chosen by `seed`) the oracle is among the sources at a
    random position and the answer is the short answer followed by the oracle's number in brackets, as
    `ragtune.prompts.RAG_SYSTEM` asks. `few_shot` must match `rag.few_shot`, so that the prompt is the one the
    hybrid strategy will be asked in. In the rest only distractors are shown; the answer is then the refusal
    (`no_oracle="refuse"`, what the shared prompt asks for) or the bare answer (`"answer"`, the RAFT paper's choice,
    which pushes the model to memorise). Distractors come first from the item's own (retrieved, hard) candidates,
    then at random from `pool`; never a chunk of the oracle's text.

    `render(question, sources)` builds the prompt from the ordered source chunks; by default `rag_messages` with whole
    chunks. The hybrid strategy passes the answerer's own (which shows the most relevant sentences only): when the
    oracle's answer is then not among what is shown, the example is treated as one without the oracle, because a
    model cannot be taught to cite what it was not shown.
    """
    if not 0.0 <= oracle_share <= 1.0:
        raise ValueError(f"oracle_share must be between 0 and 1, got {oracle_share}")
    rng = random.Random(seed)
    n = len(items)
    with_oracle = set(rng.sample(range(n), round(oracle_share * n)))
    out: list[Example] = []
    for index, item in enumerate(items):
        chosen: list[Chunk] = []
        banned = {item.oracle.id, item.oracle.text}
        for c in item.distractors:
            if len(chosen) >= distractors:
                break
            if c.id not in banned and c.text not in banned:
                chosen.append(c)
                banned.update((c.id, c.text))
        spare = [c for c in pool if c.id not in banned and c.text not in banned]
        rng.shuffle(spare)
        chosen += spare[: distractors - len(chosen)]
        has_oracle = index in with_oracle
        if not has_oracle and not chosen:
            raise ValueError("a RAFT example without its oracle needs at least one distractor chunk")
        sources = list(chosen)
        if has_oracle:
            sources.insert(rng.randrange(len(sources) + 1), item.oracle)
        if render is None:
            numbered = [_source(i, c) for i, c in enumerate(sources, start=1)]
            prompt = rag_messages(item.pair.question, numbered, few_shot=few_shot)
        else:
            prompt = render(item.pair.question, sources)
            if has_oracle and normalize_answer(item.pair.answer) not in normalize_answer(prompt[-1].content):
                has_oracle = False
        if has_oracle:
            answer = f"{item.pair.answer} [{sources.index(item.oracle) + 1}]"
        else:
            answer = refusal_text if no_oracle == "refuse" else item.pair.answer
        origin = "raft" if has_oracle else "raft-no-oracle"
        out.append(Example(messages=(*prompt, Message("assistant", answer)), origin=origin, fact_id=item.pair.fact_id))
    return out


def find_oracle(answer: str, candidates: Sequence[Chunk]) -> Chunk | None:
    """The first candidate (best ranked) whose text contains the answer, or None."""
    needle = normalize_answer(answer)
    if not needle:
        return None
    for c in candidates:
        if needle in normalize_answer(c.text):
            return c
    return None


def split_heldout(examples: Sequence[Example], share: float, *, seed: int = 0) -> tuple[list[Example], list[Example]]:
    """(train, eval): a random `share` of `examples` held out (at least one stays in training)."""
    if share <= 0 or len(examples) < 2:
        return list(examples), []
    rng = random.Random(seed)
    n_eval = min(len(examples) - 1, max(1, round(share * len(examples))))
    held = set(rng.sample(range(len(examples)), n_eval))
    return [e for i, e in enumerate(examples) if i not in held], [e for i, e in enumerate(examples) if i in held]


def raft_items(pairs: Sequence[QAPair], retriever: Any, *, candidates: int = 20) -> tuple[list[RaftItem], list[QAPair]]:
    """Find each question's oracle (the best-ranked retrieved chunk that contains its answer) and hard distractors
    (the other retrieved chunks that do not). Returns the items and the pairs whose answer no chunk contains."""
    hits = retriever.search_many([p.question for p in pairs], k=candidates)
    items: list[RaftItem] = []
    missing: list[QAPair] = []
    for pair, ranked in zip(pairs, hits, strict=True):
        chunks = [h.chunk for h in ranked]
        oracle = find_oracle(pair.answer, chunks)
        if oracle is None:
            missing.append(pair)
            continue
        needle = normalize_answer(pair.answer)
        hard = tuple(c for c in chunks if c.id != oracle.id and needle not in normalize_answer(c.text))
        items.append(RaftItem(pair, oracle, hard))
    return items, missing


def raft_from_retriever(
    pairs: Sequence[QAPair],
    retriever: Any,
    tune: Any,
    *,
    refusal_text: str = REFUSAL,
    few_shot: bool = True,
    render: Callable[[str, Sequence[Chunk]], list[Message]] | None = None,
) -> list[Example]:
    """RAFT examples for QA pairs, with oracles and distractors found in the knowledge base by `retriever`.

    `tune` is a `TuneConfig` (raft_* settings, seed). Pairs whose answer appears in no retrieved chunk are left out
    (they cannot be grounded); an InputFileError says so when that leaves nothing.
    """
    augmented = list(pairs) + paraphrase_pairs(pairs, tune.raft_paraphrases, seed=tune.seed)
    items, missing = raft_items(augmented, retriever, candidates=tune.raft_candidates)
    if missing:
        log.warning(
            "%d of %d questions left out of RAFT: no retrieved chunk holds their answer", len(missing), len(augmented)
        )
    if not items:
        raise InputFileError(
            f"none of the {len(augmented)} answers appears in the knowledge base's chunks, so no RAFT example can be "
            "grounded: ingest the documents that hold them (`ragtune ingest`) or check the answers"
        )
    pool = list({c.id: c for item in items for c in (item.oracle, *item.distractors)}.values())
    return raft_examples(
        items,
        pool,
        distractors=tune.raft_distractors,
        oracle_share=tune.raft_oracle_share,
        seed=tune.seed,
        no_oracle="answer" if tune.raft_no_oracle == "answer" else "refuse",
        refusal_text=refusal_text,
        few_shot=few_shot,
        render=render,
    )
