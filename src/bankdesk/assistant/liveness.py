"""Whether the worker that started a training run is still alive.

A training run records who trains it: "host:pid" for people, and an identity another process
on the same machine can check. When a worker starts again after a crash, it proves the old
run's process gone at once (same machine, same process namespace, and no process with that
pid and start time), instead of waiting for the run's heartbeat to go stale. Anything it
cannot prove — another machine, another container, a system without /proc — is left to the
heartbeat.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

PROC = Path("/proc")


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot; None if no such live process.

    A zombie (killed but not yet reaped by its parent) counts as gone: it runs nothing.
    """
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name in brackets may hold spaces or brackets: fields resume after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] in {"Z", "X"}:
        return None
    return fields[19]  # field 22 of proc(5), counting from the state as field 3


def _machine_and_namespace() -> str | None:
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(PROC / "self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"


def process_label() -> str:
    """This process as people read it in the versions list: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def process_identity() -> str:
    """This process, so that a process on the same machine can tell later whether it still
    runs: boot id / pid namespace / pid / start time. Empty where the system does not tell."""
    place = _machine_and_namespace()
    pid = os.getpid()
    started = _start_ticks(pid)
    if place is None or started is None:
        return ""
    return f"{place}/{pid}/{started}"


def process_is_gone(identity: str) -> bool:
    """True only when the process is provably not running any more; False when it runs or
    when this process cannot tell (another machine, another container, no identity)."""
    place, _, rest = identity.rpartition("/")
    place, _, pid = place.rpartition("/")
    if not identity or not pid.isdigit() or place != _machine_and_namespace():
        return False
    return _start_ticks(int(pid)) != rest
