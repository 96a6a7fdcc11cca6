"""The host's kept-alive connection pool against a real socket server that answers in each shape HTTP allows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from pixie_host.pool import ConnectionDropped, ConnectionPool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head, await reader.readexactly(length)


@asynccontextmanager
async def _server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on an ephemeral port; yields its base URL and the ids of the connections it accepted."""
    accepted: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(len(accepted))
        try:
            await handler(reader, writer, accepted[-1])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", accepted
    finally:
        server.close()


def _json_reply(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body), extra, body)  # fmt: skip


async def _echo_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
    while True:
        head, body = await _read_request(reader)
        assert b"\r\nHost: 127.0.0.1:" in head
        writer.write(_json_reply(body))
        await writer.drain()


def test_a_kept_connection_carries_every_request() -> None:
    async def main() -> None:
        async with _server(_echo_forever) as (url, accepted):
            pool = ConnectionPool(url)
            for i in range(5):
                reply = await pool.request(
                    "POST", "/run", b'{"i": %d}' % i, {"Content-Type": "application/json", "X-A": "b"}
                )
                assert (reply.status, reply.content_type, reply.body) == (200, "application/json", b'{"i": %d}' % i)
            assert accepted == [0]
            pool.close()

    asyncio.run(main())


def test_concurrent_requests_open_more_connections_up_to_the_limit() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            _head, body = await _read_request(reader)
            await asyncio.sleep(0.05)
            writer.write(_json_reply(body))

    async def main() -> None:
        async with _server(slow) as (url, accepted):
            pool = ConnectionPool(url, size=2)
            replies = await asyncio.gather(*(pool.request("POST", "/run", b"%d" % i, {}) for i in range(6)))
            assert [r.body for r in replies] == [b"%d" % i for i in range(6)]
            assert len(accepted) == 2  # four requests waited for a connection to come back
            pool.close()

    asyncio.run(main())


def test_chunked_and_read_until_close_bodies() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        if n == 0:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
            await writer.drain()
            await _read_request(reader)  # the connection stays usable
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # no body, no length: still a whole reply
            await writer.drain()
            await _read_request(reader)
        writer.write(b"HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\n\r\nInternal Server Error")
        await writer.drain()

    async def main() -> None:
        async with _server(chunked) as (url, accepted):
            pool = ConnectionPool(url)
            first = await pool.request("POST", "/run", b"{}", {})
            assert (first.status, first.content_type, first.body) == (200, "text/plain", b"abcdefg")
            empty = await pool.request("POST", "/cancel", b"", {})
            assert (empty.status, empty.body) == (204, b"")
            second = await pool.request("POST", "/run", b"{}", {})
            assert (second.status, second.body) == (500, b"Internal Server Error")
            assert accepted == [0]
            third = await pool.request("POST", "/run", b"{}", {})  # the body ended with the connection: a new one
            assert third.status == 500 and accepted == [0, 1]
            pool.close()

    asyncio.run(main())


def test_a_dropped_connection_says_whether_it_was_reused_and_whether_the_tool_answered() -> None:
    async def flaky(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        _head, body = await _read_request(reader)
        if n == 0:
            writer.write(_json_reply(body))
            await writer.drain()
            await _read_request(reader)
            return  # the second request on the kept connection: dropped unanswered
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")  # cut off mid-body
        await writer.drain()

    async def main() -> None:
        async with _server(flaky) as (url, _accepted):
            pool = ConnectionPool(url)
            assert (await pool.request("POST", "/run", b"{}", {})).status == 200
            with pytest.raises(ConnectionDropped) as unread:
                await pool.request("POST", "/run", b"{}", {})
            assert unread.value.reused and not unread.value.replied
            with pytest.raises(ConnectionDropped) as partial:
                await pool.request("POST", "/run", b"{}", {}, fresh=True)
            assert not partial.value.reused and partial.value.replied
            pool.close()

    asyncio.run(main())


def test_a_cancelled_request_never_hands_its_late_reply_to_the_next() -> None:
    async def late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            _head, body = await _read_request(reader)
            await asyncio.sleep(0.2 if body == b"slow" else 0)
            writer.write(_json_reply(body))
            await writer.drain()

    async def main() -> None:
        async with _server(late) as (url, accepted):
            pool = ConnectionPool(url)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await pool.request("POST", "/run", b"slow", {})
            assert (await pool.request("POST", "/run", b"next", {})).body == b"next"
            assert len(accepted) == 2
            pool.close()

    asyncio.run(main())


def test_idle_connections_age_out_and_bad_input_is_refused() -> None:
    async def main() -> None:
        async with _server(_echo_forever) as (url, accepted):
            pool = ConnectionPool(url, keepalive_seconds=0.05)
            await pool.request("POST", "/run", b"1", {})
            await asyncio.sleep(0.1)
            await pool.request("POST", "/run", b"2", {})
            assert len(accepted) == 2
            with pytest.raises(ValueError, match="line break"):
                await pool.request("POST", "/run", b"3", {"X-Evil": "a\r\nInjected: yes"})
            pool.close()
        with pytest.raises(OSError):
            await ConnectionPool(url).request("POST", "/run", b"{}")  # nobody listens any more
        with pytest.raises(ValueError, match="host:port"):
            ConnectionPool("https://example.org")

    asyncio.run(main())
