"""The web processes of `bankdesk up`: as many as it is told (one per core by default), all
serving the one port.

`bankdesk up` binds the port itself and hands the listening socket to each `bankdesk web`
child, so the kernel spreads new connections over them and a taken port fails at once, before
anything starts. A web process that ends on its own is started again; each watches for its
parent to go (`--stop-with`), like the worker, so none outlives a `bankdesk up` that is killed.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time

from bankdesk.config.processes import STOP_GRACE_SECONDS

logger = logging.getLogger("bankdesk.processes")

# The exit status uvicorn gives when the application cannot be loaded: starting it again
# would fail the same way, so `bankdesk up` stops instead.
STARTUP_FAILURE = 3
# Connections still open this long into a stop are closed, inside the parent's grace period.
GRACEFUL_SHUTDOWN_SECONDS = int(STOP_GRACE_SECONDS / 2)


class WebProcessFailed(RuntimeError):
    """A web process could not load the application."""


def web_socket_bind(host: str, port: int) -> socket.socket:
    """The listening socket every web process serves; OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


def web_serve(listener: socket.socket) -> None:
    """Serve bankdesk's ASGI application on `listener` until a signal stops this process."""
    import uvicorn

    from bankdesk.config.asgi import WEBSOCKET_MESSAGE_MAX_BYTES

    config = uvicorn.Config(
        "bankdesk.config.asgi:application",
        lifespan="off",
        log_config=None,
        proxy_headers=False,
        ws_max_size=WEBSOCKET_MESSAGE_MAX_BYTES,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    uvicorn.Server(config).run(sockets=[listener])


class WebProcesses:
    """`count` `bankdesk web` children on one listening socket, kept at that number."""

    def __init__(self, listener: socket.socket, count: int) -> None:
        self.listener = listener
        self.count = count
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        while len(self.children) < self.count:
            self.children.append(self._start_one())

    def supervise(self, *, poll_seconds: float = 0.5) -> None:
        """Start again each web process that ends, until a stop signal unwinds this call."""
        while True:
            time.sleep(poll_seconds)
            for index, child in enumerate(self.children):
                status = child.poll()
                if status is None:
                    continue
                if status == STARTUP_FAILURE:
                    raise WebProcessFailed(f"web process {child.pid} could not load bankdesk")
                logger.warning("web process %s ended (%s); starting another", child.pid, status)
                self.children[index] = self._start_one()

    def _start_one(self) -> subprocess.Popen[bytes]:
        fd = self.listener.fileno()
        command = [sys.executable, "-m", "bankdesk.config.cli", "web", "--fd", str(fd)]
        # Our own interpreter and command; the variables are our socket and our process id.
        return subprocess.Popen(  # noqa: S603
            [*command, "--stop-with", str(os.getpid())], env=os.environ.copy(), pass_fds=(fd,)
        )
