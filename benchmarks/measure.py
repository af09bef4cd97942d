"""What the benchmarks share: percentiles of timings, and a free loopback port to serve on."""

from __future__ import annotations

import socket


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0–1) by nearest rank; the benchmarks report p50 and p99 with it."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
