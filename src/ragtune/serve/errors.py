"""Errors answered in the OpenAI format, and how the library's errors map to HTTP statuses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ragtune.corpus.uploads import InvalidDocumentError, UnsupportedTypeError
from ragtune.errors import RagtuneError
from ragtune.serve.engine import StrategyUnavailableError
from ragtune.serve.worker import QueueFullError, WorkerStoppedError
from ragtune.strategies import UnknownStrategyError


class APIError(Exception):
    """An error answered in the OpenAI format: {"error": {"message", "type", "param", "code"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}


def error_response(err: APIError) -> JSONResponse:
    body = {"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}}
    return JSONResponse(body, status_code=err.status, headers=err.headers)


def as_api_error(exc: BaseException) -> APIError:
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, QueueFullError):
        return APIError(
            503,
            f"The server is busy: {exc.waiting} requests are waiting for the model. Retry after {exc.retry_after} s.",
            type="server_busy",
            code="queue_full",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, WorkerStoppedError):
        return APIError(503, str(exc), type="server_error", code="shutting_down", headers={"Retry-After": "5"})
    if isinstance(exc, UnknownStrategyError):
        return APIError(404, str(exc), param="model", code="model_not_found")
    if isinstance(exc, StrategyUnavailableError):
        return APIError(400, str(exc), param="model", code="strategy_unavailable")
    if isinstance(exc, UnsupportedTypeError):
        return APIError(415, str(exc), param="file", code="unsupported_type")
    if isinstance(exc, InvalidDocumentError):
        return APIError(400, str(exc), code="invalid_document")
    if isinstance(exc, RagtuneError):
        return APIError(500, str(exc), type="server_error")
    return APIError(500, f"internal error: {type(exc).__name__}: {exc}", type="server_error")


def validation_message(exc: ValidationError | RequestValidationError) -> tuple[str, str | None]:
    problems = []
    first_param: str | None = None
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "body"
        first_param = first_param or where
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{where}: {msg}")
    return "invalid request: " + "; ".join(problems), first_param


def install_error_handlers(app: FastAPI) -> None:
    """Every error, the framework's own included, answered as {"error": {...}}."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json is not None:
            at = next((p for p in bad_json.get("loc", ()) if isinstance(p, int)), None)
            detail = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
            where = f" at character {at}" if at is not None else ""
            return error_response(APIError(400, f"the body is not valid JSON{where}: {detail}", code="invalid_json"))
        content_type = request.headers.get("content-type", "")
        whole_body = any(tuple(e.get("loc", ())) == ("body",) for e in errors)
        if whole_body and not content_type.lower().startswith("application/json"):
            return error_response(
                APIError(
                    415,
                    f"send the body as JSON with 'Content-Type: application/json' (got {content_type or 'none'!r})",
                    code="unsupported_media_type",
                )
            )
        message, param = validation_message(exc)
        return error_response(APIError(400, message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            message = "the body could not be read: send UTF-8 JSON with 'Content-Type: application/json'"
        elif exc.status_code == 405:
            message = f"method {request.method} not allowed on {request.url.path}"
        return error_response(APIError(exc.status_code, message, headers=dict(exc.headers or {})))

    @app.exception_handler(RagtuneError)
    async def _ragtune(request: Request, exc: RagtuneError) -> Response:
        return error_response(as_api_error(exc))

    @app.exception_handler(QueueFullError)
    async def _busy(request: Request, exc: QueueFullError) -> Response:
        return error_response(as_api_error(exc))

    @app.exception_handler(WorkerStoppedError)
    async def _stopped(request: Request, exc: WorkerStoppedError) -> Response:
        return error_response(as_api_error(exc))
