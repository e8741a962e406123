"""What the server holds: the loaded models, the store and one Answerer per strategy.

Every method here touches a model or the store, so the app calls them only from the model worker thread
(`ragtune.serve.worker`); nothing in this class is guarded against being called from two threads at once.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.config import Config
from ragtune.corpus.document import Document
from ragtune.corpus.uploads import (
    InvalidDocumentError,
    base_name,
    check_doc_id,
    clean_title,
    id_from_filename,
    upload_type,
)
from ragtune.errors import RagtuneError
from ragtune.models.embedder import Embedder
from ragtune.models.generator import GenerationParams, GenerationResult, Generator, Message
from ragtune.store.base import DocumentStore, Hit, StoredDocument
from ragtune.strategies import NAMES, UnknownStrategyError, open_answerer, spec
from ragtune.workspace import Workspace

# The order the API lists models in: the strategies that read sources first.
STRATEGIES: tuple[str, ...] = tuple(sorted(NAMES, key=lambda n: (not spec(n).reads_sources, not spec(n).tuned)))

API_SOURCE = "api"  # the source of a document sent as JSON, which came from no file


class StrategyUnavailableError(RagtuneError):
    """A known strategy cannot answer yet (finetune/hybrid without a trained adapter)."""


@dataclass(frozen=True)
class StrategyStatus:
    name: str
    available: bool
    retrieves: bool
    detail: str  # the model (and adapter) it uses, or why it is unavailable


@dataclass(frozen=True)
class DocumentChange:
    id: str
    title: str
    status: str  # "added", "updated", "unchanged" or "deleted"


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its name (for the type and the default id) and its bytes."""

    filename: str
    data: bytes
    doc_id: str | None = None
    title: str | None = None


class Engine:
    """The models and the store of one served workspace."""

    def __init__(self, config: Config, embedder: Embedder, generator: Generator, store: DocumentStore) -> None:
        from ragtune.retrieve import Retriever

        self.config = config
        self.embedder = embedder
        self.generator = generator
        self.store = store
        self.retriever = Retriever(store, embedder, config.retrieval)
        self.workspace = Workspace(config.workspace_path)
        self._tuned: dict[Path, Generator] = {}
        self._answerers: OrderedDict[tuple[str, str, int, float], Any] = OrderedDict()

    @classmethod
    def load(cls, config: Config, *, embedder: Embedder | None = None, generator: Generator | None = None) -> Engine:
        """Load the configured models (unless given) and open the workspace's store."""
        from ragtune.models.loader import load_embedder, load_generator
        from ragtune.store import open_store

        embedder = embedder or load_embedder(config.models, config.store.embed_batch_size)
        generator = generator or load_generator(config.models, config.generation)
        Workspace(config.workspace_path).ensure()
        store = open_store(config, embedder.identity)
        return cls(config, embedder, generator, store)

    def close(self) -> None:
        self.store.close()

    def warm(self) -> None:
        """Load the tuned strategies' models now, so that their first request does not wait for a model load."""
        for status in self.strategies():
            if status.available and spec(status.name).tuned:
                self.generator_for(status.name)

    # -- strategies ------------------------------------------------------------------------------------------------
    def adapter_for(self, strategy: str) -> Path | None:
        """The adapter a tuned strategy uses: serve.adapter when its manifest is of this kind, else the latest."""
        if not spec(strategy).tuned:
            return None
        if self.config.serve.adapter:
            from ragtune.models.adapters import read_manifest

            folder = Path(self.config.serve.adapter).expanduser()
            if read_manifest(folder).kind == strategy:
                return folder
        return self.workspace.latest_adapter(strategy)

    def strategies(self) -> list[StrategyStatus]:
        out = []
        for name in STRATEGIES:
            retrieves = spec(name).reads_sources
            if spec(name).tuned:
                adapter = self.adapter_for(name)
                if adapter is None:
                    how = spec(name).tune_command
                    out.append(StrategyStatus(name, False, retrieves, f"no {name} adapter yet: train one with `{how}`"))
                    continue
                out.append(StrategyStatus(name, True, retrieves, f"{self.generator.name} + adapter {adapter.name}"))
            else:
                out.append(StrategyStatus(name, True, retrieves, self.generator.name))
        return out

    def check_strategy(self, strategy: str) -> StrategyStatus:
        for status in self.strategies():
            if status.name == strategy:
                if not status.available:
                    raise StrategyUnavailableError(f"strategy '{strategy}' is not available: {status.detail}")
                return status
        raise UnknownStrategyError(f"unknown model '{strategy}': choose one of {', '.join(STRATEGIES)}")

    def generator_for(self, strategy: str) -> Generator:
        adapter = self.adapter_for(strategy)
        if adapter is None:
            if spec(strategy).tuned:
                raise StrategyUnavailableError(f"strategy '{strategy}' has no adapter; train one with `ragtune tune`")
            return self.generator
        if adapter not in self._tuned:
            from ragtune.models.loader import load_generator

            # A newer adapter (a `ragtune tune` run while serving) replaces the strategy's old one: free that model.
            for old in [a for a in self._tuned if a.parent == adapter.parent]:
                del self._tuned[old]
            from ragtune.tune.routing import route

            tuned = load_generator(self.config.models, self.config.generation, adapter=adapter)
            # Outside the adapter's domain the base model answers (with the same sources, for hybrid).
            self._tuned[adapter] = route(
                tuned, self.generator, adapter, self.embedder, self.config.tune.route_min_similarity
            )
        return self._tuned[adapter]

    def answerer(self, strategy: str, max_new_tokens: int | None = None, temperature: float | None = None) -> Any:
        """The Answerer of `strategy` with these generation settings (a few are kept; building one is cheap)."""
        self.check_strategy(strategy)
        tokens = max_new_tokens or self.config.generation.max_new_tokens
        temp = self.config.generation.temperature if temperature is None else temperature
        key = (strategy, str(self.adapter_for(strategy) or ""), tokens, temp)
        if key in self._answerers:
            self._answerers.move_to_end(key)
            return self._answerers[key]
        config = copy.deepcopy(self.config)
        config.generation.max_new_tokens = tokens
        config.generation.temperature = temp
        if max_new_tokens:
            # A client's max_tokens is an upper bound for either reader: the capable one otherwise answers in up
            # to rag.capable_answer_tokens, whatever the request said.
            config.rag.capable_answer_tokens = min(config.rag.capable_answer_tokens, max_new_tokens)
        # The Answerer loads the workspace's calibration (ragtune calibrate) itself.
        answerer = open_answerer(
            spec(strategy), self.generator_for(strategy), config, retriever=self.retriever, embedder=self.embedder
        )
        self._answerers[key] = answerer
        while len(self._answerers) > 8:
            self._answerers.popitem(last=False)
        return answerer

    # -- answering -------------------------------------------------------------------------------------------------
    def answer_many(
        self,
        strategy: str,
        questions: Sequence[str],
        max_new_tokens: int | None = None,
        temperature: float | None = None,
    ) -> list[Any]:
        answerer = self.answerer(strategy, max_new_tokens, temperature)
        return list(answerer.answer_many(list(questions), progress=False))

    def stream_answer(
        self, strategy: str, question: str, max_new_tokens: int | None = None, temperature: float | None = None
    ) -> Any:
        """An AnswerStream: iterate its pieces, then `.answer` is the full Answer (None when stopped early)."""
        return self.answerer(strategy, max_new_tokens, temperature).stream(question)

    def generate(self, strategy: str, messages: Sequence[Message], params: GenerationParams) -> GenerationResult:
        """The conversation exactly as the client wrote it (closed-book strategies only)."""
        return self.generator_for(strategy).generate([list(messages)], params)[0]

    def stream_generate(self, strategy: str, messages: Sequence[Message], params: GenerationParams) -> Iterator[str]:
        return iter(self.generator_for(strategy).stream(list(messages), params))

    def params(self, max_new_tokens: int | None, temperature: float | None, stop: Sequence[str]) -> GenerationParams:
        gen = self.config.generation
        return GenerationParams(
            max_new_tokens=max_new_tokens or gen.max_new_tokens,
            temperature=gen.temperature if temperature is None else temperature,
            stop=tuple(gen.stop) + tuple(stop),
            seed=gen.seed,
        )

    # -- the knowledge base ----------------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        return list(self.retriever.search(query, k=k, mode=mode))

    def document_ids(self) -> list[str]:
        return sorted(self.store.document_hashes())

    def chunk_count(self) -> int:
        return self.store.count()

    def upsert(self, documents: Sequence[Document]) -> list[DocumentChange]:
        """Add or replace `documents` (by id); they are searchable when this returns."""
        from ragtune.store.sync import sync_documents

        for doc in documents:
            check_doc_id(doc.id)
            if not doc.text.strip():
                raise InvalidDocumentError(f"document {doc.id!r} has no text")
        stored = self.store.documents()
        before = {doc_id: info.content_hash for doc_id, info in stored.items()}
        # The API adds or replaces by id: a replaced document keeps the provenance it was stored with (a file path
        # from `ragtune ingest`), so that sync sees a replacement, not another file claiming the id.
        documents = [
            dataclasses.replace(d, metadata={**d.metadata, "source": stored[d.id].source}, content_hash="")
            if d.id in stored and stored[d.id].source
            else d
            for d in documents
        ]
        report = sync_documents(list(documents), self.store, self.embedder, self.config, prune=False, progress=False)
        if report.failed:
            reasons = "; ".join(f"{f.path}: {f.reason}" for f in report.failed)
            raise InvalidDocumentError(f"could not store the documents: {reasons}")
        self._refresh_retriever()
        changes = []
        for doc in documents:
            if doc.id not in before:
                status = "added"
            elif before[doc.id] != doc.content_hash:
                status = "updated"
            else:
                status = "unchanged"
            changes.append(DocumentChange(doc.id, doc.title, status))
        return changes

    def delete(self, doc_id: str) -> bool:
        """Remove a document. Any id the store holds can be removed (`ragtune ingest` names documents by their
        path, which may be absolute); an id it does not hold must at least be a valid one, else this says why."""
        if doc_id not in self.store.document_hashes():
            check_doc_id(doc_id)
            return False
        removed = self.store.delete_document(doc_id)
        if removed:
            self._refresh_retriever()
        return removed

    def _refresh_retriever(self) -> None:
        self.retriever.refresh()  # it reads the stored titles once (retrieval.linked_documents)

    @staticmethod
    def _upload_target(
        filename: str, original: str, name: str, doc_id: str, stored: Mapping[str, StoredDocument]
    ) -> str:
        """The id an uploaded file (no id given) is stored under. Uploading a file replaces the document that came
        from a file of that name: one stored under the same id, or else the one `ragtune ingest` stored from a file
        so named in some folder. Two different names must not meet on one id ("a [1].txt" and "a (1).txt" both make
        "a _1_.txt"), and two stored candidates are a question only the uploader can answer."""
        same = stored.get(doc_id)
        if same is not None:
            from_a_file = same.source not in ("", API_SOURCE)
            if from_a_file and same.source not in (original, name) and Path(same.source).name != original:
                raise InvalidDocumentError(
                    f"{filename!r} would be stored as {doc_id!r}, which holds the document from {same.source!r}; "
                    f"send an 'id' form field with another id (or with {doc_id!r} to replace that document)"
                )
            return doc_id
        named = sorted(i for i, info in stored.items() if Path(info.source or i).name == original)
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise InvalidDocumentError(
                f"{filename!r}: {len(named)} stored documents come from files of that name ({', '.join(named[:5])}); "
                "send an 'id' form field naming the one to replace (or a new id to add it)"
            )
        return doc_id

    def documents_from_uploads(self, uploads: Sequence[Upload]) -> list[Document]:
        """Read uploaded files with the corpus loaders; a file becomes one document (or several, for .jsonl)."""
        from ragtune.corpus.loaders import load_paths

        allowed = {e.lower() for e in self.config.corpus.extensions}
        stored = self.store.documents()
        documents: list[Document] = []
        with tempfile.TemporaryDirectory(prefix="ragtune-upload-") as tmp:
            for upload in uploads:
                suffix = upload_type(upload.filename, allowed)
                name = id_from_filename(upload.filename)
                folder = Path(tmp) / str(len(documents))
                folder.mkdir()
                path = folder / name
                path.write_bytes(upload.data)
                result = load_paths([path], self.config.corpus)
                if result.failures:
                    raise InvalidDocumentError(f"{upload.filename!r}: {result.failures[0].reason}")
                loaded = list(result.documents)
                if not loaded:
                    raise InvalidDocumentError(f"{upload.filename!r}: no text found in the file")
                original = clean_title(base_name(upload.filename)) or name
                for i, doc in enumerate(loaded):
                    meta = dict(doc.metadata)
                    meta["source"] = original
                    if upload.title and clean_title(upload.title) and len(loaded) == 1:
                        meta["title"] = clean_title(upload.title)
                    if not meta.get("title") or meta["title"] == Path(name).stem:
                        meta["title"] = Path(original).stem  # the file's name as the user wrote it, brackets and all
                    if suffix == ".jsonl":
                        # records carry their own ids; one without gets "file:line", here with the uploaded name
                        line = doc.metadata.get("line", i + 1)
                        unnamed = doc.id == f"{doc.metadata.get('source')}:{line}"
                        doc_id = f"{name}:{line}" if unnamed else doc.id
                    elif upload.doc_id:
                        doc_id = upload.doc_id if len(loaded) == 1 else f"{upload.doc_id}/{i}"
                    else:
                        doc_id = name if len(loaded) == 1 else f"{name}/{i}"
                        if len(loaded) == 1:
                            doc_id = self._upload_target(upload.filename, original, name, doc_id, stored)
                    documents.append(Document(id=check_doc_id(doc_id), text=doc.text, metadata=meta))
        return documents
