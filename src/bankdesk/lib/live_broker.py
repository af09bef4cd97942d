"""Live notices across the web processes of one `bankdesk up`, with no outside service.

Without Redis, each web process keeps its own connections' channels in memory (channels'
in-memory layer), so a staff reply written in one process would never reach a customer's
socket held by another. `bankdesk up` therefore runs a small broker on a Unix socket under
`BANKDESK_HOME`, readable by its owner only, and tells its processes where it is
(`BANKDESK_LIVE_BROKER`). A group notice is delivered in the process that sent it and handed
to the broker, which passes it on to every other process that holds connections; each of those
delivers it to its own members of the group. Only ids and typing flags travel, as everywhere in
the live layer (see `lib/live.py`).

A process that cannot reach the broker loses notices, never a write: live screens and chats
catch up from the database, and the process connects again in the background. A process with
no broker (tests, `runserver`) uses the plain in-memory layer.

On the wire every frame is a 4-byte big-endian length and a JSON object. A process's first
frame says whether it listens (`{"listen": true}`); the broker answers a listener once it is
counted in, so a group joined is a group reached. Every later frame is a notice,
`{"group": str, "message": {...}}`, passed on byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from channels.layers import InMemoryChannelLayer  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

LIVE_BROKER_ENV = "BANKDESK_LIVE_BROKER"
# A notice is a few ids; anything near this is not one.
FRAME_MAX_BYTES = 64 * 1024
# What the broker keeps queued for one process that does not read; past it, notices to that
# process are dropped rather than held in the broker's memory.
BACKLOG_MAX_BYTES = 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 5.0
# Unix socket paths are limited by the kernel (108 bytes on Linux, with the final NUL).
SOCKET_PATH_MAX_BYTES = 107

_HEADER = struct.Struct("!I")
_WELCOME = {"welcome": True}


class FrameError(ValueError):
    """A frame that is too large or not a JSON object: the connection is not one of ours."""


def frame_encode(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    if len(body) > FRAME_MAX_BYTES:
        raise FrameError(f"a live notice of {len(body)} bytes is over {FRAME_MAX_BYTES}")
    return _HEADER.pack(len(body)) + body


async def frame_body_read(reader: asyncio.StreamReader) -> bytes:
    """The next frame's JSON text; IncompleteReadError once the other side has gone."""
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > FRAME_MAX_BYTES:
        raise FrameError(f"a frame of {size} bytes is over {FRAME_MAX_BYTES}")
    return await reader.readexactly(size)


async def frame_read(reader: asyncio.StreamReader) -> dict[str, Any]:
    try:
        payload = json.loads(await frame_body_read(reader))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError("a frame that is not JSON") from exc
    if not isinstance(payload, dict):
        raise FrameError("a frame that is not a JSON object")
    return payload


def broker_socket_path(home: Path) -> Path:
    """Where this `bankdesk up` listens: its own file under `BANKDESK_HOME/run`, or, when that
    path is too long for a Unix socket, in a private temporary directory."""
    path = home / "run" / f"live-{os.getpid()}.sock"
    if len(os.fsencode(path)) <= SOCKET_PATH_MAX_BYTES:
        return path
    return Path(tempfile.mkdtemp(prefix="bankdesk-live-")) / "live.sock"


def _stale_socket_remove(path: Path) -> None:
    """A socket file nobody answers on was left by a `bankdesk up` that was killed."""
    if not path.exists():
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            path.unlink(missing_ok=True)
            return
    raise OSError(f"another process is listening on {path}")


class LiveBroker:
    """The broker `bankdesk up` runs in a thread of its own: it passes each notice a process
    sends to every other process that listens, and holds nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._listeners: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._dropped_logged_at = 0.0

    @property
    def listener_count(self) -> int:
        """How many processes are connected and listening (each web process that has opened
        a live connection)."""
        return len(self._listeners)

    def start(self) -> None:
        """Listen, or raise OSError: the socket is in place before any process is told of it."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path.parent.chmod(0o700)
        _stale_socket_remove(self.path)
        self._thread = threading.Thread(target=self._run, name="live-broker", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise OSError(f"the live broker cannot listen on {self.path}: {self._error}")

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended between the check and here
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.path.unlink(missing_ok=True)
        if self.path.parent.name.startswith("bankdesk-live-"):
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), which is waiting for it
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_unix_server(self._connection, path=str(self.path))
        self.path.chmod(0o600)
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for writer in list(self._listeners):
                writer.close()
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            hello = await frame_read(reader)
            if hello.get("listen") is True:
                self._listeners.add(writer)
                writer.write(frame_encode(_WELCOME))
            while True:
                body = await frame_body_read(reader)
                self._pass_on(_HEADER.pack(len(body)) + body, sender=writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except FrameError as exc:
            logger.warning("live broker: dropped a connection that sent %s", exc)
        finally:
            self._listeners.discard(writer)
            writer.close()

    def _pass_on(self, frame: bytes, *, sender: asyncio.StreamWriter) -> None:
        for listener in self._listeners:
            if listener is sender:
                continue
            if listener.transport.get_write_buffer_size() > BACKLOG_MAX_BYTES:
                self._dropped_log()
                continue
            listener.write(frame)

    def _dropped_log(self) -> None:
        now = time.monotonic()
        if now - self._dropped_logged_at > 60:
            self._dropped_logged_at = now
            logger.warning("live broker: a web process is not reading; its notices are dropped")


class BrokeredChannelLayer(InMemoryChannelLayer):
    """channels' in-memory layer for this process's own connections, with every group notice
    also passed through the broker to the other processes of the same `bankdesk up`.

    A process listens (one connection, on its serving event loop) from the first time one of
    its connections joins a group: a process that only sends (the worker, the SMTP receiver)
    never does, and sends each notice over a short connection of its own.
    """

    def __init__(self, broker: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.broker = broker or os.environ.get(LIVE_BROKER_ENV, "")
        self._listener: asyncio.Task[None] | None = None
        self._link: asyncio.StreamWriter | None = None
        self._linked: asyncio.Event | None = None
        self._link_lost_logged_at = 0.0

    async def group_add(self, group: str, channel: str) -> None:
        await super().group_add(group, channel)
        if self.broker:
            await self._listen()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await super().group_send(group, message)
        if self.broker:
            await self._forward(frame_encode({"group": group, "message": message}))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            self._listener = None

    # -- sending ----------------------------------------------------------------------------

    async def _forward(self, frame: bytes) -> None:
        """Hand a notice to the broker; a broker out of reach costs the notice, nothing more."""
        try:
            if self._link is not None and self._on_listening_loop() and not self._link.is_closing():
                self._link.write(frame)
                await asyncio.wait_for(self._link.drain(), CONNECT_TIMEOUT_SECONDS)
                return
            _reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.broker), CONNECT_TIMEOUT_SECONDS
            )
            try:
                writer.write(frame_encode({"listen": False}) + frame)
                await asyncio.wait_for(writer.drain(), CONNECT_TIMEOUT_SECONDS)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            self._link_lost_log(f"could not pass a notice to the live broker: {exc!r}")

    # -- listening --------------------------------------------------------------------------

    def _on_listening_loop(self) -> bool:
        listener = self._listener
        return listener is not None and listener.get_loop() is asyncio.get_running_loop()

    async def _listen(self) -> None:
        """Listen from this event loop, and wait (briefly) for the first connection: a group
        joined before the broker has counted this process in would miss what comes next."""
        if self._on_listening_loop() and self._listener is not None and not self._listener.done():
            return
        self._linked = asyncio.Event()
        self._listener = asyncio.get_running_loop().create_task(
            self._listen_forever(self._linked), name="live-broker-listener"
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._linked.wait(), CONNECT_TIMEOUT_SECONDS)

    async def _listen_forever(self, linked: asyncio.Event) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen_once(linked)
                delay = 0.1
            except (OSError, TimeoutError, asyncio.IncompleteReadError, FrameError) as exc:
                self._link_lost_log(f"lost the live broker, connecting again: {exc!r}")
            finally:
                self._link = None
                linked.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _listen_once(self, linked: asyncio.Event) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(self.broker), CONNECT_TIMEOUT_SECONDS
        )
        try:
            writer.write(frame_encode({"listen": True}))
            if await asyncio.wait_for(frame_read(reader), CONNECT_TIMEOUT_SECONDS) != _WELCOME:
                raise FrameError("an answer from the broker that is not its welcome")
            self._link = writer
            linked.set()
            while True:
                notice = await frame_read(reader)
                await self._deliver(notice)
        finally:
            writer.close()

    async def _deliver(self, notice: dict[str, Any]) -> None:
        """A notice from another process, to this process's members of the group only."""
        group, message = notice.get("group"), notice.get("message")
        if not isinstance(group, str) or not isinstance(message, dict):
            raise FrameError("a notice without a group and a message")
        try:
            await super().group_send(group, message)
        except (TypeError, AssertionError):  # a group name the layer refuses
            logger.warning("live broker: a notice for an unusable group was dropped")

    def _link_lost_log(self, text: str) -> None:
        now = time.monotonic()
        if now - self._link_lost_logged_at > 60:
            self._link_lost_logged_at = now
            logger.warning(text)
