"""A WebSocket test client for ASGI consumers, on asgiref's ApplicationCommunicator.

channels' own `channels.testing` imports daphne (for its live-server test case) on import;
bankdesk serves with uvicorn and does not install daphne, so this is the small part we need.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import unquote, urlparse

from asgiref.testing import ApplicationCommunicator


class WebsocketCommunicator(ApplicationCommunicator):  # type: ignore[misc]
    def __init__(
        self,
        application: Any,
        path: str,
        headers: list[tuple[bytes, bytes]],
        client: tuple[str, int] = ("127.0.0.1", 50000),
    ) -> None:
        parsed = urlparse(path)
        scope = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": headers,
            "subprotocols": [],
            "client": list(client),
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 3) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept"
        return True, None

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data: Any) -> None:
        await self.send_to(json.dumps(data))

    async def receive_json_from(self, timeout: float = 3) -> Any:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def receive_close(self, timeout: float = 3) -> tuple[int, str]:
        """The code and reason of the close the application sends next."""
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.close", response
        return response.get("code", 1000), response.get("reason") or ""

    async def receive_nothing(self, timeout: float = 0.3) -> bool:
        if not self.output_queue.empty():
            return False
        try:
            await asyncio.wait_for(asyncio.shield(self._peek()), timeout)
        except TimeoutError:
            return True
        return False

    async def _peek(self) -> None:
        while self.output_queue.empty():
            await asyncio.sleep(0.02)

    async def disconnect(self, code: int = 1000, timeout: float = 3) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
