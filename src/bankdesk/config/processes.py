"""The processes `bankdesk up` starts end with it, however it ends.

Stopped in order (SIGTERM from a service manager, SIGINT from a terminal), `bankdesk up` stops
each child itself. Killed outright, it cannot: each child watches for its parent to go and stops
then. Either way a child first gets the polite signal (the worker finishes the task in hand)
and, after a grace period, the one that cannot be refused.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from types import FrameType

logger = logging.getLogger("bankdesk.processes")

# What a child has to finish the task in hand before it is killed.
STOP_GRACE_SECONDS = 10.0


class StopRequested(SystemExit):
    """A signal asked `bankdesk up` to stop: it unwinds through every `finally` and exits 0."""

    def __init__(self) -> None:
        super().__init__(0)


def _request_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested


def stop_on_signals(signals: Iterable[signal.Signals]) -> None:
    """Turn these signals into an orderly stop of this process (the main thread unwinds).

    Without it SIGTERM ends the process where it stands, and what it started lives on.
    """
    for each in signals:
        signal.signal(each, _request_stop)


def ignore_signals(signals: Iterable[signal.Signals]) -> None:
    """While stopping, a second signal must not cut the stop short and orphan a child."""
    for each in signals:
        signal.signal(each, signal.SIG_IGN)


def children_stop(
    children: Iterable[subprocess.Popen[bytes]], *, grace_seconds: float = STOP_GRACE_SECONDS
) -> None:
    """Ask every child to stop at once, so they finish their work side by side within one
    grace period, then kill any that will not."""
    running = [child for child in children if child.poll() is None]
    for child in running:
        child.terminate()
    deadline = time.monotonic() + grace_seconds
    for child in running:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning(
                "process %s did not stop within %ss; killing it", child.pid, grace_seconds
            )
            child.kill()
            child.wait()


def parent_watch_start(
    parent_pid: int, *, poll_seconds: float = 1.0, grace_seconds: float = STOP_GRACE_SECONDS
) -> threading.Thread:
    """Stop this process once `parent_pid` is no longer its parent (it died, even by SIGKILL,
    and this process was handed to init): SIGTERM to itself, then SIGKILL after the grace."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_seconds)
        logger.warning("parent process %s has gone; stopping with it", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_seconds)
        os.kill(os.getpid(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
