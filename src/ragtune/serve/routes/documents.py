"""The knowledge base while serving: `POST/GET /v1/documents`, `DELETE /v1/documents/{id}`, `GET /v1/search`."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ragtune.corpus.document import Document
from ragtune.corpus.uploads import InvalidDocumentError, check_doc_id, clean_title
from ragtune.serve.engine import API_SOURCE, Upload
from ragtune.serve.errors import APIError, validation_message
from ragtune.serve.security import BodyTooLarge
from ragtune.serve.state import Server

router = APIRouter()


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=256)
    title: str = Field("", max_length=1000)
    text: str = Field(min_length=1)
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        try:
            return check_doc_id(value)
        except InvalidDocumentError as exc:
            raise ValueError(str(exc)) from exc

    def document(self) -> Document:
        meta: dict[str, Any] = {**self.metadata, "title": clean_title(self.title) or self.id, "source": API_SOURCE}
        return Document(id=self.id, text=self.text, metadata=meta)


class DocumentBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentIn] = Field(min_length=1, max_length=1000)


def hit_json(rank: int, hit: Any) -> dict[str, Any]:
    meta = hit.chunk.metadata
    return {
        "rank": rank,
        "doc_id": hit.chunk.doc_id,
        "title": hit.chunk.title or hit.chunk.doc_id,
        "chunk_id": hit.chunk.id,
        "score": float(hit.score),
        "text": hit.chunk.text,
        "page": meta.get("page"),
        "heading": meta.get("heading"),
    }


@router.post("/v1/documents", status_code=201)
async def upload_documents(request: Request, server: Server) -> JSONResponse:
    """Add or replace documents: multipart files (`files`, optional `id`/`title`) or JSON."""
    engine, worker = server.engine(), server.worker
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        uploads = await _read_uploads(request, int(server.config.serve.max_upload_mb * (1 << 20)))
        documents = await worker.run(lambda: engine.documents_from_uploads(uploads), urgent=True)
    elif content_type.startswith("application/json"):
        documents = _json_documents(await _json_body(request))
    else:
        raise APIError(
            415,
            'send documents as multipart/form-data (field \'files\') or as JSON {"id", "title", "text"}',
            code="unsupported_media_type",
        )
    ids = [d.id for d in documents]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise APIError(
            400,
            f"document id {twice[0]!r} appears twice in one upload; ids must be unique",
            param="id",
            code="duplicate_id",
        )
    changes = await worker.run(lambda: engine.upsert(documents), urgent=True)
    return JSONResponse({"documents": [c.__dict__ for c in changes]}, status_code=201)


@router.get("/v1/documents")
async def list_documents(server: Server) -> dict[str, Any]:
    engine, worker = server.engine(), server.worker
    ids, chunks = await worker.run(lambda: (engine.document_ids(), engine.chunk_count()), urgent=True)
    return {"documents": [{"id": i} for i in ids], "chunks": chunks}


@router.delete("/v1/documents/{doc_id:path}")
async def delete_document(doc_id: str, server: Server) -> dict[str, Any]:
    engine, worker = server.engine(), server.worker
    if len(doc_id) > 1024 or any(ord(c) < 32 for c in doc_id):
        raise APIError(400, "invalid document id: control characters or over 1024 characters", param="id")
    removed = await worker.run(lambda: engine.delete(doc_id), urgent=True)
    if not removed:
        raise APIError(404, f"no document with id {doc_id!r}", param="id", code="document_not_found")
    return {"id": doc_id, "deleted": True}


@router.get("/v1/search")
async def search(
    server: Server,
    q: str = Query(min_length=1, max_length=2000, description="The query."),
    k: int = Query(5, ge=1, le=100, description="Chunks to return."),
    mode: Literal["dense", "bm25", "hybrid"] | None = Query(None, description="Default: retrieval.mode."),
) -> dict[str, Any]:
    engine, worker = server.engine(), server.worker
    if not q.strip():
        raise APIError(400, "q: the query is empty", param="q")
    hits = await worker.run(lambda: engine.search(q, k, mode), urgent=True)
    return {
        "query": q,
        "mode": mode or server.config.retrieval.mode,
        "hits": [hit_json(rank, hit) for rank, hit in enumerate(hits, 1)],
    }


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise APIError(400, f"the body is not valid JSON: {exc}", code="invalid_json") from exc


def _json_documents(payload: Any) -> list[Document]:
    try:
        if isinstance(payload, list):
            items = [DocumentIn.model_validate(item) for item in payload]
            if not items:
                raise APIError(400, "the list of documents is empty")
        elif isinstance(payload, dict) and "documents" in payload:
            items = DocumentBatchIn.model_validate(payload).documents
        else:
            items = [DocumentIn.model_validate(payload)]
    except ValidationError as exc:
        message, param = validation_message(exc)
        raise APIError(400, message + ' (expected {"id", "title", "text"})', param=param) from exc
    return [item.document() for item in items]


async def _read_uploads(request: Request, limit: int) -> list[Upload]:
    try:
        form = await request.form(max_files=100, max_fields=100)
    except Exception as exc:  # the multipart parser's own errors: malformed body, too many parts
        if isinstance(exc, BodyTooLarge):
            raise
        raise APIError(400, f"unreadable multipart body: {exc}", code="invalid_multipart") from exc
    files = [v for k, v in form.multi_items() if k in ("files", "file") and not isinstance(v, str)]
    if not files:
        raise APIError(400, "no file in the upload: send the document(s) in a form field named 'files'", param="files")
    doc_id = form.get("id")
    title = form.get("title")
    if doc_id is not None and not isinstance(doc_id, str):
        raise APIError(400, "id: must be a text field", param="id")
    if title is not None and not isinstance(title, str):
        raise APIError(400, "title: must be a text field", param="title")
    if doc_id and len(files) > 1:
        raise APIError(400, "id: give an id only when uploading one file (others take their file name)", param="id")
    if doc_id:
        try:
            check_doc_id(doc_id)
        except InvalidDocumentError as exc:
            raise APIError(400, str(exc), param="id") from exc
    uploads = []
    total = 0
    for file in files:
        data = await file.read()
        total += len(data)
        if total > limit:
            raise APIError(413, f"upload larger than {limit / (1 << 20):g} MiB (serve.max_upload_mb)", code="too_large")
        uploads.append(Upload(file.filename or "upload", data, doc_id or None, title or None))
    await form.close()
    return uploads
