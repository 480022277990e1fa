"""Poison records become dead letters with a specific reason — and no personal data."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from schemas.v1 import SignalSubmittedEventV1, signal_submitted_event
from services.common.events import (
    PoisonRecordError,
    RecordRef,
    build_dead_letter,
    decode_event,
    encode_event,
)
from services.common.kafka import decode_batch
from tests.factories import submitted_signal

LIMIT = 64 * 1024


def _valid_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(encode_event(signal_submitted_event(submitted_signal())))
    return document


def _poison_code(payload: bytes | None) -> str:
    with pytest.raises(PoisonRecordError) as caught:
        decode_event(SignalSubmittedEventV1, payload, max_bytes=LIMIT)
    return caught.value.code


def test_valid_record_decodes() -> None:
    document = _valid_document()
    event = decode_event(SignalSubmittedEventV1, json.dumps(document).encode(), max_bytes=LIMIT)
    assert str(event.data.signal_id) == document["id"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (None, "invalid_event"),
        (b"", "invalid_json"),
        (b"not json at all", "invalid_json"),
        (b"\xff\xfe\x00broken utf-8", "invalid_json"),
        (b"[1, 2, 3]", "invalid_event"),
        (b'{"specversion": "1.0"}', "invalid_event"),
        (b"{" + b'"x": "' + b"a" * LIMIT + b'"}', "payload_too_large"),
    ],
)
def test_poison_records_are_named(payload: bytes | None, code: str) -> None:
    assert _poison_code(payload) == code


def test_a_newer_major_schema_version_is_refused_with_its_own_code() -> None:
    document = _valid_document()
    document["data"]["schema_version"] = "2.0"
    assert _poison_code(json.dumps(document).encode()) == "unsupported_schema_version"


def test_wrong_types_name_the_field_but_never_echo_the_value() -> None:
    document = _valid_document()
    secret = "Bel mama op 0478 12 34 56"
    document["data"]["families_count"] = secret
    document["data"].pop("municipality")
    with pytest.raises(PoisonRecordError) as caught:
        decode_event(SignalSubmittedEventV1, json.dumps(document).encode(), max_bytes=LIMIT)
    assert "data.families_count" in caught.value.reason
    assert "data.municipality" in caught.value.reason
    assert "0478" not in caught.value.reason


def test_dead_letter_keeps_the_original_bytes_and_a_stable_id() -> None:
    record = RecordRef(topic="t", partition=3, offset=42, key=b"gent", value=b"\x00garbage")
    error = PoisonRecordError("invalid_json", "record value is not JSON")
    first = build_dead_letter(record, error, service="classifier", consumer_group="g")
    again = build_dead_letter(record, error, service="classifier", consumer_group="g")
    assert base64.b64decode(first.payload_base64) == b"\x00garbage"
    assert base64.b64decode(first.key_base64 or "") == b"gent"
    assert (first.partition, first.offset, first.payload_size) == (3, 42, 8)
    assert first.dead_letter_id == again.dead_letter_id  # a redelivery does not double it


def test_a_batch_separates_good_records_from_poison_in_order() -> None:
    good = encode_event(signal_submitted_event(submitted_signal()))
    records = [
        RecordRef("t", 0, 0, b"gent", good),
        RecordRef("t", 0, 1, b"gent", b"{oops"),
        RecordRef("t", 0, 2, b"gent", good),
    ]
    batch = decode_batch(
        records, SignalSubmittedEventV1, service="classifier", consumer_group="g", max_bytes=LIMIT
    )
    assert [record.offset for record, _ in batch.events] == [0, 2]
    assert [(d.offset, d.error_code) for d in batch.dead_letters] == [(1, "invalid_json")]
