"""The web page (`GET /`) and the latest comparison report (`GET /report/`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from ragtune.serve.errors import APIError
from ragtune.serve.state import Server, ServerState

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


def latest_report(server: ServerState) -> Path:
    folder = server.engine().workspace.latest_report_dir()
    if folder is None:
        raise APIError(
            404,
            f"no comparison report yet in workspace {server.config.workspace_path}: run `ragtune compare` first",
            code="no_report",
        )
    return folder


@router.get("/report", include_in_schema=False)
async def report_redirect() -> RedirectResponse:
    return RedirectResponse("/report/", status_code=307)  # so that the report's relative links resolve


@router.get("/report/{name:path}", include_in_schema=False)
async def report(name: str, server: Server) -> FileResponse:
    folder = latest_report(server).resolve()
    target = (folder / (name or "report.html")).resolve()
    if not target.is_relative_to(folder) or not target.is_file():
        raise APIError(404, f"no file {name!r} in the latest report", code="not_found")
    return FileResponse(target)
