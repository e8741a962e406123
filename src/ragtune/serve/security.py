"""Who may use the server: loopback-only without a key, the API key, request body limits, security headers."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from contextlib import suppress

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragtune.errors import RagtuneError
from ragtune.serve.errors import APIError, error_response

JSON_BODY_LIMIT = 1 << 20  # chat and search requests: a long RAG prompt is a few KB, 1 MiB is plenty
KEY_COOKIE = "ragtune_key"


class BindError(RagtuneError):
    """The server would be reachable from other machines without an API key."""


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, 'localhost')."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or an interface: reachable from elsewhere as far as we can tell


def check_bind(host: str, api_key: str) -> None:
    """Refuse to serve beyond loopback without an API key."""
    if not is_loopback(host) and not api_key:
        raise BindError(
            f"refusing to listen on {host} without an API key: anyone who can reach this machine could use it. "
            "Pass --api-key KEY (or set RAGTUNE_API_KEY), or bind to 127.0.0.1."
        )


class BodyLimit:
    """Refuses request bodies over a limit with 413, counting bytes as they arrive (chunked bodies included)."""

    def __init__(self, app: ASGIApp, upload_limit: int, default_limit: int = JSON_BODY_LIMIT) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.default_limit = default_limit

    def _limit(self, path: str) -> int:
        return self.upload_limit if path.rstrip("/") == "/v1/documents" else self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        too_large = APIError(
            413,
            f"request body larger than {limit / (1 << 20):g} MiB"
            + (" (serve.max_upload_mb)" if limit == self.upload_limit else ""),
            code="too_large",
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await error_response(too_large)(scope, receive, send)
                return
        seen = 0
        started = exceeded = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # the app's own answer to a body it could not read (FastAPI: 400); the 413 replaces it
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with suppress(BodyTooLarge):
            await self.app(scope, limited_receive, tracking_send)
        if exceeded and not started:
            await error_response(too_large)(scope, receive, send)


class BodyTooLarge(Exception):
    pass


def authorized(request: Request, key: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), key.encode()):
        return True
    if request.headers.get("x-api-key") and secrets.compare_digest(request.headers["x-api-key"].encode(), key.encode()):
        return True
    # The page opens the report in a frame, which cannot send a header; the page sets this SameSite cookie instead.
    # It reads the report and nothing else: the API (even its reads) wants the key in a header.
    cookie = request.cookies.get(KEY_COOKIE, "")
    report = request.url.path == "/report" or request.url.path.startswith("/report/")
    return (
        report
        and request.method in ("GET", "HEAD")
        and bool(cookie)
        and secrets.compare_digest(cookie.encode(), key.encode())
    )


def install_auth(app: FastAPI, api_key: str) -> None:
    """The API and the report want the key (when one is set); every response gets the security headers."""

    @app.middleware("http")
    async def _auth_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        protected = path.startswith("/v1/") or path == "/report" or path.startswith("/report/")
        if api_key and protected and not authorized(request, api_key):
            return error_response(
                APIError(
                    401,
                    "missing or wrong API key: send 'Authorization: Bearer KEY'",
                    type="authentication_error",
                    code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            )
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if path == "/" or path.startswith("/static/"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; frame-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'self'",
            )
        return response
