"""`ragtune synth` as a library call: load the models, index the documents for the unanswerable check, synthesize,
write the question file (never over an existing one without `force`)."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ragtune.config import Config
from ragtune.corpus.document import Document
from ragtune.errors import InputFileError, RagtuneError
from ragtune.jsonl import file_in_the_way
from ragtune.models.generator import Generator
from ragtune.retrieve import Retriever
from ragtune.synth.synthesize import SynthResult, synthesize


def parse_synth_model(spec: str) -> tuple[str, str]:
    """`URL#MODEL` (e.g. http://127.0.0.1:8000/v1#qwen2.5-7b) -> (url, model)."""
    url, sep, model = spec.rpartition("#")
    if not sep or not url.startswith(("http://", "https://")) or not model:
        raise RagtuneError(f"--synth-model {spec!r}: expected URL#MODEL, e.g. http://127.0.0.1:8000/v1#qwen2.5-7b")
    return url, model


def check_out_path(out: Path, force: bool) -> None:
    """Fails before any model loads when `out` cannot be written: it is a folder, a file stands where one of its
    folders goes, or it exists and `force` is not given."""
    if out.is_dir():
        raise InputFileError(f"{out}: is a folder; --out names the question file to write (e.g. qa.jsonl)")
    if out.exists() and not force:
        raise InputFileError(f"{out}: already exists; pass --force to overwrite it or --out to write elsewhere")
    file = file_in_the_way(out.parent)
    if file is not None:
        raise InputFileError(f"{out}: {file} is a file, not a folder; choose another --out")


def write_questions(result: SynthResult, out: Path, force: bool = False) -> Path:
    """The questions as JSONL, written to a temporary file first so that a failure leaves no half file behind."""
    check_out_path(out, force)
    tmp = out.with_name(out.name + ".part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("".join(json.dumps(q.record(), ensure_ascii=False) + "\n" for q in result.questions), "utf-8")
        tmp.replace(out)
    except OSError as exc:  # a full disk, a read-only folder, or the path changed while the questions were written
        raise InputFileError(
            f"{out}: cannot write the questions ({exc.strerror or exc}); choose another --out"
        ) from exc
    return out


def run_synth(
    docs: Sequence[Document],
    config: Config,
    *,
    updated_docs: Sequence[Document] = (),
    synth_model: str = "",
    echo: Callable[[str], None] = print,
    retriever: Retriever | None = None,
) -> SynthResult:
    """Synthesizes with the configured models: the generator answers the round trip and, with
    `synth.writer = 'generator'`, words the questions; `synth_model` (URL#MODEL) words them on a server instead.

    The unanswerable check searches `retriever` when given (an index of exactly `docs`, such as the comparison's);
    otherwise a throwaway index of `docs` is built for it."""
    from ragtune.models.loader import load_embedder, load_generator
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents

    cfg = config.synth
    generator = load_generator(config.models, config.generation)
    writer: Generator | None = generator if cfg.writer == "generator" else None
    if synth_model:
        from ragtune.models.openai_compat import OpenAICompatGenerator

        url, model = parse_synth_model(synth_model)
        writer = OpenAICompatGenerator(url, model)
    if cfg.unanswerable_share <= 0 or retriever is not None:
        return synthesize(docs, cfg, generator, retriever, updated_docs, writer, echo)
    embedder = load_embedder(config.models, config.store.embed_batch_size)
    with tempfile.TemporaryDirectory(prefix="ragtune-synth-") as tmp:
        # Its own throwaway index: the unanswerable check searches the whole corpus, and the project's store may
        # hold other documents (or none yet).
        local = dataclasses.replace(config, workspace=tmp)
        local.store = dataclasses.replace(config.store, backend="lancedb", table="synth")
        store = open_store(local, embedder.identity)
        try:
            sync_documents(list(docs), store, embedder, local, progress=False)
            retriever = Retriever(store, embedder, config.retrieval)
            return synthesize(docs, cfg, generator, retriever, updated_docs, writer, echo)
        finally:
            store.close()
