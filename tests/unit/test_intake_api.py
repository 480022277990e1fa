"""Intake's HTTP contract, with a fake Kafka link: what is answered, and what is published."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.topics import municipality_key
from schemas.v1 import SignalSubmittedEventV1
from services.common.events import encode_event
from tests.factories import submission_body
from tests.unit.intake_support import SETTINGS, FakeLink, Harness


@pytest.fixture
def client() -> Iterator[tuple[TestClient, list[FakeLink]]]:
    harness = Harness()
    with harness.client:
        yield harness.client, harness.links


def _client(**link_options: Any) -> tuple[TestClient, list[FakeLink]]:
    harness = Harness(**link_options)
    return harness.client, harness.links


def test_accepted_signal_is_published_scrubbed_keyed_by_municipality(
    client: tuple[TestClient, list[FakeLink]],
) -> None:
    http, links = client
    body = submission_body(
        text="De mama van Ayoub belt vanop 0478 12 34 56: schooluitstap te duur."
    )
    response = http.post("/v1/signals", json=body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["signal_id"] == body["signal_id"]
    assert {r["kind"] for r in answer["redactions"]} >= {"telefoonnummer"}
    [published] = links[0].published
    assert published.topic == "unit.seinpost.signals.submitted.v1"
    assert published.key == municipality_key("Gent")
    event = SignalSubmittedEventV1.model_validate_json(encode_event(published.event))
    assert "0478" not in event.data.text
    assert "[telefoon]" in event.data.text
    assert str(event.data.signal_id) == body["signal_id"]


def test_a_retry_with_the_same_id_is_the_same_event(
    client: tuple[TestClient, list[FakeLink]],
) -> None:
    http, links = client
    body = submission_body()
    first = http.post("/v1/signals", json=body)
    again = http.post("/v1/signals", json=body)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == first.json()  # the original acceptance, its received_at included
    [published] = links[0].published
    assert published.event.id == body["signal_id"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"text": ""}, "text", "string_too_short"),
        ({"text": "x" * 2001}, "text", "string_too_long"),
        ({"signal_id": "not-a-uuid"}, "signal_id", "uuid_parsing"),
        ({"knowledge_type": "gevoel"}, "knowledge_type", "enum"),
        ({"families_count": 0}, "families_count", "greater_than_equal"),
        ({"vindplaats": "School Poort!"}, "vindplaats", "string_pattern_mismatch"),
        ({"observed_on": "18/11/2026"}, "observed_on", "date_from_datetime_parsing"),
        ({"tekst": "typo"}, "tekst", "extra_forbidden"),
        ({"municipality": None}, "municipality", "string_type"),
    ],
)
def test_bad_input_gets_422_naming_the_field_in_dutch(
    client: tuple[TestClient, list[FakeLink]], change: dict[str, Any], field: str, code: str
) -> None:
    http, links = client
    response = http.post("/v1/signals", json=submission_body(**change))
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {"field": field, "code": code} in [
        {"field": p["field"], "code": p["code"]} for p in problems
    ]
    assert all(p["message"] and p["message"] != "ongeldige waarde" for p in problems)
    assert links[0].published == []


def test_missing_field_is_named(client: tuple[TestClient, list[FakeLink]]) -> None:
    http, _ = client
    body = submission_body()
    del body["vindplaats"]
    response = http.post("/v1/signals", json=body)
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"field": "vindplaats", "code": "missing", "message": "dit veld is verplicht"}
    ]


def test_observed_date_in_the_future_is_refused(client: tuple[TestClient, list[FakeLink]]) -> None:
    http, _ = client
    future = (date.today() + timedelta(days=5)).isoformat()
    response = http.post("/v1/signals", json=submission_body(observed_on=future))
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "date_in_future"


def test_neighbourhood_with_an_address_is_refused(
    client: tuple[TestClient, list[FakeLink]],
) -> None:
    http, _ = client
    response = http.post("/v1/signals", json=submission_body(neighbourhood="Kerkstraat 12"))
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "neighbourhood"


def test_text_that_is_only_personal_data_is_422_not_500(
    client: tuple[TestClient, list[FakeLink]],
) -> None:
    http, links = client
    response = http.post("/v1/signals", json=submission_body(text="jan.peeters@gmail.com"))
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "text"
    assert response.json()["problems"][0]["code"] == "string_too_short"
    assert links[0].published == []


def test_invalid_json_is_422_not_500(client: tuple[TestClient, list[FakeLink]]) -> None:
    http, _ = client
    response = http.post(
        "/v1/signals", content=b'{"text": "half', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "json_invalid"


def test_oversized_body_is_413(client: tuple[TestClient, list[FakeLink]]) -> None:
    http, links = client
    body = json.dumps(submission_body(text="a" * 5000)).encode()
    response = http.post("/v1/signals", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert links[0].published == []


def test_oversized_chunked_body_is_413_without_content_length(
    client: tuple[TestClient, list[FakeLink]],
) -> None:
    http, _ = client

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    response = http.post(
        "/v1/signals", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_kafka_not_connected_is_503_with_retry_after() -> None:
    http, links = _client(up=False)
    with http:
        response = http.post("/v1/signals", json=submission_body())
        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(SETTINGS.retry_after_s)
        assert response.json()["error"] == "kafka_unavailable"
        assert http.get("/readyz").status_code == 503
        assert http.get("/healthz").status_code == 200
    assert links[0].published == []


def test_no_acknowledgement_from_kafka_is_503_never_202() -> None:
    http, _ = _client(failing=True)
    with http:
        response = http.post("/v1/signals", json=submission_body())
    assert response.status_code == 503
