"""Intake's HTTP plumbing: the coalescing transport (one socket write per answer, nothing
reordered or lost) and the fast path's answer to an unexpected failure."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.server import CoalescingTransport
from tests.factories import submission_body
from tests.unit.intake_support import Harness


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False
        self.paused = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def write_eof(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.paused = True


def _coalescing() -> tuple[CoalescingTransport, RecordingTransport]:
    real = RecordingTransport()
    return CoalescingTransport(real, asyncio.get_running_loop()), real  # type: ignore[arg-type]


async def test_writes_of_one_loop_turn_leave_as_one_write_in_order() -> None:
    transport, real = _coalescing()
    transport.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert real.writes == []  # nothing yet: the turn is not over
    assert transport.get_write_buffer_size() == 46
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}"]
    transport.write(b"next")
    await asyncio.sleep(0)
    assert real.writes[1:] == [b"next"]


async def test_close_sends_what_was_written_first_and_abort_drops_it() -> None:
    transport, real = _coalescing()
    transport.write(b"head")
    transport.write(bytearray(b"body"))
    transport.close()
    assert real.writes == [b"headbody"]
    assert real.closed
    await asyncio.sleep(0)
    assert real.writes == [b"headbody"]  # the scheduled flush finds nothing left

    transport, real = _coalescing()
    transport.write(b"never")
    transport.abort()
    await asyncio.sleep(0)
    assert real.writes == []
    assert real.aborted


async def test_everything_else_is_the_real_transport() -> None:
    transport, real = _coalescing()
    transport.pause_reading()
    assert real.paused
    transport.writelines([b"a", b"b"])
    transport.write_eof()
    assert real.writes == [b"ab"]


def test_fast_path_answers_an_unexpected_failure_with_a_plain_500_and_counts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = Harness()

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")

    with harness.client:
        service = harness.client.app.fast_path._service()  # type: ignore[attr-defined]
        monkeypatch.setattr(service, "submit", broken)
        client = TestClient(harness.client.app, raise_server_exceptions=False)
        response = client.post("/v1/signals", json=submission_body(), headers=_auth(harness))
        assert response.status_code == 500
        assert response.text == "Internal Server Error"
        metrics = client.get("/metrics").text
    assert 'route="/v1/signals",status="500"' in metrics
    assert harness.published == []


def _auth(harness: Harness) -> dict[str, str]:
    return {"Authorization": harness.client.headers["Authorization"]}


def test_keyed_partitioner_picks_what_aiokafkas_default_picks() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    from schemas.topics import municipality_key
    from services.intake.app import KeyedPartitioner

    keyed = KeyedPartitioner(max_keys=50)
    default = DefaultPartitioner()
    places = ["Gent", "Antwerpen", "Leuven", "Mechelen", "Beveren-Kruibeke-Zwijndrecht", "Ham"]
    keys = [municipality_key(p) for p in places] + [f"k{i}".encode() for i in range(120)]
    for partitions in ([0], [0, 1, 2], list(range(6)), [3, 4, 5, 7]):
        for key in keys * 2:  # the second time from memory
            assert keyed(key, partitions, partitions) == default(key, partitions, partitions)
    assert keyed(None, [0, 1, 2], [1]) == 1  # no key: an available partition, as aiokafka
