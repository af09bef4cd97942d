"""What the benchmarks share: percentiles of timings, and a free loopback port to serve on."""

from __future__ import annotations

import socket

from bankdesk.lib.stats import percentile

__all__ = ["free_port", "percentile"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
