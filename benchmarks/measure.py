"""What the benchmarks share: percentiles of timings, a free loopback port to serve on, one
piece of work timed in wall and CPU seconds, and a figure printed as a JSON line."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bankdesk.lib.stats import percentile

__all__ = ["free_port", "percentile", "say", "server_cpu_seconds", "timed"]

T = TypeVar("T")


def say(**figures: object) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """The work's result, its wall seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def server_cpu_seconds(root: int) -> float:
    """User + system CPU of a server: its process, its live children, and children it reaped."""
    ticks = 0
    for pid in _process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended between the listing and the read
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
