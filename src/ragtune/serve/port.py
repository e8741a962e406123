"""Whether the server's address and port can be listened on, checked before any model loads.

Without this check a busy port was found only after the models had loaded, and uvicorn ended the program with its
own log line and exit code 3 instead of a message that says what to do.
"""

from __future__ import annotations

import errno
import socket

from ragtune.errors import RagtuneError


class PortUnavailableError(RagtuneError):
    """The address or port the server would listen on cannot be used."""


def check_port(host: str, port: int) -> None:
    """PortUnavailableError naming `host`:`port` and what to do when a listening socket cannot be bound there."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is not busy
            probe.bind((address, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use (another `ragtune serve`?): stop that server or choose another port"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need privileges): choose a port from 1024 up"
        elif exc.errno == errno.EADDRNOTAVAIL:
            reason = "the address is not one of this machine's: use 127.0.0.1, or an address of this machine"
        else:
            reason = f"{exc.strerror or exc}: check serve.host and serve.port"
        raise PortUnavailableError(
            f"cannot listen on {host}:{port}: {reason} (--host/--port, or serve.host/serve.port in ragtune.toml)"
        ) from exc
