"""`ragtune serve`: the OpenAI-compatible API, document updates and the web page, on uvicorn."""

from __future__ import annotations

import typer

from ragtune.cli._state import console, state
from ragtune.errors import BackendUnavailableError


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(
        None, "--host", help="Address to bind (default 127.0.0.1). Anything but loopback needs an API key."
    ),
    port: int | None = typer.Option(None, "--port", "-p", min=1, max=65535, help="Port (default 8321)."),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        envvar="RAGTUNE_API_KEY",
        show_envvar=True,
        help="Key clients send as 'Authorization: Bearer KEY'. Required beyond loopback.",
    ),
) -> None:
    """Serve the project's strategies: OpenAI-compatible chat with sources, document updates, a web page."""
    try:
        import uvicorn

        from ragtune.serve.app import create_app
        from ragtune.serve.port import check_port
        from ragtune.serve.security import check_bind
    except ImportError as exc:  # fastapi, uvicorn and python-multipart come with the [serve] extra
        raise BackendUnavailableError(
            f"ragtune serve needs the [serve] extra ({exc.name} is not installed): pip install 'ragtune[serve]'"
        ) from exc

    config = state(ctx).config(**{"serve.host": host, "serve.port": port, "serve.api_key": api_key})
    check_bind(config.serve.host, config.serve.api_key)  # before loading any model
    check_port(config.serve.host, config.serve.port)
    application = create_app(config)
    shown = f"[{config.serve.host}]" if ":" in config.serve.host else config.serve.host
    url = f"http://{shown}:{config.serve.port}"
    key = "required" if config.serve.api_key else "not required (loopback only)"
    console.print(  # no markup: an IPv6 address in brackets is not a style
        f"loading models; then serving the page at {url}/ and the API at {url}/v1 (API key {key})", markup=False
    )
    uvicorn.run(application, host=config.serve.host, port=config.serve.port, log_level="info", access_log=False)
