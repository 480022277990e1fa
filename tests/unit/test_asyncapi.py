"""The committed AsyncAPI document: in step with the code, and complete — every topic has a
publisher declared with its event's schema."""

from __future__ import annotations

import json
from typing import Any

from schemas import topics
from services.asyncapi import DOCUMENT, render

EXPECTED_PAYLOAD = {
    topics.SIGNALS_SUBMITTED: "SignalSubmittedEventV1",
    topics.SIGNALS_CLASSIFIED: "SignalClassifiedEventV1",
    topics.CORRECTIONS: "SignalCorrectedEventV1",
    topics.DECISIONS: "DecisionRecordedEventV1",
    topics.BUNDLES: "PolicyBundleEventV1",
    topics.DEAD_LETTER: "DeadLetterEventV1",
}


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return document


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_committed_document_matches_the_code() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "run python -m services.asyncapi"


def test_every_topic_is_published_with_its_event_schema() -> None:
    document = _document()
    published: dict[str, set[str]] = {}
    for operation in document["operations"].values():
        if operation["action"] != "send":
            continue
        channel = _resolve(document, operation["channel"]["$ref"])
        for message_ref in operation["messages"]:
            message = _resolve(document, message_ref["$ref"])
            if "$ref" in message:
                message = _resolve(document, message["$ref"])
            payload = message["payload"]["$ref"].rsplit("/", 1)[-1]
            published.setdefault(channel["address"], set()).add(payload)
    assert set(published) == set(topics.ALL_TOPICS)
    for topic, payloads in published.items():
        assert payloads == {EXPECTED_PAYLOAD[topic]}, topic


def test_consumers_are_documented_with_the_event_they_read() -> None:
    document = _document()
    received = {
        _resolve(document, op["channel"]["$ref"])["address"]
        for op in document["operations"].values()
        if op["action"] == "receive"
    }
    assert received == {
        topics.SIGNALS_SUBMITTED,
        topics.SIGNALS_CLASSIFIED,
        topics.CORRECTIONS,
        topics.DECISIONS,
    }
    schemas = document["components"]["schemas"]
    batch = schemas["classifier.on_submitted:Message:Payload"]
    assert batch["items"]["$ref"].endswith("/SignalSubmittedEventV1")
