"""The HTTP server's protocol for intake: uvicorn's httptools protocol, one socket write per answer.

uvicorn writes an answer's status line and headers when the app sends ``http.response.start``
and its body when the app sends ``http.response.body``: two ``send`` system calls, and two TCP
segments, for every small JSON answer. On this machine the system calls are a large share of
intake's CPU per signal. ``CoalescingTransport`` gathers what is written during one turn of the
event loop and hands it to the socket at the end of that turn, in one write and in the same
order; the answer leaves no later than before (the body follows the headers in the same turn).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport whose writes within one loop turn become one write to the real transport.

    Everything but writing and closing is the real transport's (``__getattr__``): reading
    pauses, extra info, write-buffer limits.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        pending = self._pending
        if pending:
            self._pending = []
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        # What was written before closing still goes out, as with a plain transport.
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a ``CoalescingTransport`` (``uvicorn.Config(http=…)``)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)  # type: ignore[arg-type]
