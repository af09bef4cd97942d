"""Where a chat's database work runs: on threads of the chats' own, which keep an SQLite
connection from one frame to the next and never wait for the thread the rest shares."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection, connections
from django.db.backends.signals import connection_created

from bankdesk.intake.channels.webchat import consumers
from bankdesk.intake.tests.test_webchat_protocol import (  # the widget's side, shared
    chat,
    endpoint,  # noqa: F401  (the web chat endpoint)
    fresh_layer,  # noqa: F401  (autouse: an empty channel layer per test)
    opened,
    run,
    say,
)
from bankdesk.tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_chat_goes_on_while_the_shared_sync_thread_is_busy(endpoint):  # noqa: F811
    # Thread-sensitive work (staff screens, sessions, anything not told otherwise) queues on
    # one thread; here a call holds it until the customer's message has been acknowledged.
    release = threading.Event()

    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        busy = asyncio.ensure_future(sync_to_async(release.wait)(60))
        try:
            ack = await say(communicator, "c1", "在吗")
            assert ack["type"] == "ack"
            assert not busy.done()
        finally:
            release.set()
            await busy
        await communicator.disconnect()

    run(scenario)
    assert Message.objects.get().text == "在吗"


def test_messages_open_no_database_connection_each(endpoint):  # noqa: F811
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL connections come from the pool and go back after each call")
    opened_connections: list[Any] = []

    def counted(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened_connections.append(connection)

    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        connection_created.connect(counted)
        try:
            for number in range(12):
                assert (await say(communicator, f"c{number}", f"第{number}条"))["type"] == "ack"
        finally:
            connection_created.disconnect(counted)
        await communicator.disconnect()

    run(scenario)
    assert Message.objects.count() == 12
    assert len(opened_connections) <= consumers.DATABASE_THREADS


def run_on_chat_thread(function: Any) -> Any:
    result: dict[str, Any] = {}

    async def call() -> None:
        result["value"] = await consumers.in_database(function)()

    run(call)
    return result["value"]


def _this_threads_connection() -> Any:
    connection.ensure_connection()
    return connections["default"]


def test_a_clean_connection_is_kept_on_sqlite_and_given_back_to_the_pool_elsewhere():
    wrapper = run_on_chat_thread(_this_threads_connection)
    assert (wrapper.connection is not None) == (wrapper.vendor == "sqlite")


def test_a_connection_that_met_an_error_is_not_kept():
    seen: dict[str, Any] = {}

    def fails() -> None:
        seen["wrapper"] = _this_threads_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    with pytest.raises(DatabaseError):
        run_on_chat_thread(fails)
    assert seen["wrapper"].connection is None
    assert run_on_chat_thread(lambda: Message.objects.count()) == 0  # the next call goes on
