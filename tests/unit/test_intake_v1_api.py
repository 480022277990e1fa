"""Intake's tokens, idempotency, batch, options, privacy check, connectors and metrics — with
in-memory twins of Kafka and PostgreSQL (the real ones are in tests/integration)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.topics import municipality_key
from schemas.v1 import SignalSubmittedEventV1
from services.common.events import encode_event
from services.intake.connectors import KOBO_EXAMPLE, ODK_EXAMPLE
from services.intake.domain.connectors import SIGNAL_ID_NAMESPACE
from services.intake.settings import IntakeSettings
from tests.factories import submission_body
from tests.unit.intake_support import (
    KOBO_TOKEN,
    ODK_TOKEN,
    OTHER_TOKEN,
    SETTINGS,
    Harness,
)


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    with h.client:
        yield h


def _published(h: Harness) -> list[SignalSubmittedEventV1]:
    return [SignalSubmittedEventV1.model_validate_json(encode_event(o.event)) for o in h.published]


def test_no_token_is_401_token_missing(harness: Harness) -> None:
    response = harness.client.post(
        "/v1/signals", json=submission_body(), headers={"Authorization": ""}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "token_missing"
    assert harness.published == []


def test_unknown_token_is_401_token_invalid(harness: Harness) -> None:
    response = harness.client.post(
        "/v1/signals",
        json=submission_body(),
        headers={"Authorization": "Bearer spt_" + "x" * 43},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "token_invalid"


def test_municipality_outside_the_area_is_403(harness: Harness) -> None:
    body = submission_body(municipality="Antwerpen", neighbourhood="Kiel")
    response = harness.client.post("/v1/signals", json=body)
    assert response.status_code == 403
    assert response.json()["error"] == "municipality_not_allowed"
    assert harness.published == []


def test_organisation_comes_from_the_token(harness: Harness) -> None:
    body = submission_body()
    del body["organisation"]
    assert harness.client.post("/v1/signals", json=body).status_code == 202
    [event] = _published(harness)
    assert event.data.organisation == "basisschool-de-regenboog"


def test_another_organisation_in_the_body_is_422(harness: Harness) -> None:
    response = harness.client.post("/v1/signals", json=submission_body(organisation="ocmw-gent"))
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "organisation_mismatch"


def test_same_id_other_content_is_409_and_nothing_more_is_published(harness: Harness) -> None:
    body = submission_body()
    assert harness.client.post("/v1/signals", json=body).status_code == 202
    changed = {**body, "text": body["text"] + " Ook de bus is te duur."}
    response = harness.client.post("/v1/signals", json=changed)
    assert response.status_code == 409
    assert response.json()["error"] == "signal_id_conflict"
    assert len(harness.published) == 1


def test_an_unpublished_claim_is_published_again_on_retry() -> None:
    """The crash between Kafka's ack and the mark: the retry republishes the same event."""
    h = Harness()
    with h.client:
        body = submission_body()
        assert h.client.post("/v1/signals", json=body).status_code == 202
        # Forget what the process knew, and the mark, as a restarted process would.
        signal_id = uuid.UUID(body["signal_id"])
        from dataclasses import replace

        h.store.rows[signal_id] = replace(h.store.rows[signal_id], published=False)
    h2 = Harness()
    with h2.client:
        h2.store.rows.update(h.store.rows)
        response = h2.client.post("/v1/signals", json=body)
        assert response.status_code == 200
        first, again = _published(h)[0], _published(h2)[0]
        assert again.data == first.data  # identical event, original received_at
        assert h2.store.rows[signal_id].published


def test_key_order_and_defaults_do_not_make_a_retry_a_conflict(harness: Harness) -> None:
    body = submission_body(families_count=None)
    assert harness.client.post("/v1/signals", json=body).status_code == 202
    reordered = dict(reversed(list(body.items())))
    del reordered["families_count"]  # None is the default
    assert harness.client.post("/v1/signals", json=reordered).status_code == 200


def test_unknown_municipality_and_neighbourhood_are_422(harness: Harness) -> None:
    response = harness.client.post("/v1/signals", json=submission_body(municipality="Gentt"))
    assert response.status_code == 422
    assert response.json()["problems"][0] == {
        "field": "municipality",
        "code": "municipality_unknown",
        "message": response.json()["problems"][0]["message"],
    }
    response = harness.client.post("/v1/signals", json=submission_body(neighbourhood="Manhattan"))
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "neighbourhood_unknown"


def test_unknown_vindplaats_is_422(harness: Harness) -> None:
    response = harness.client.post("/v1/signals", json=submission_body(vindplaats="maan"))
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "vindplaats_unknown"


def test_place_names_are_stored_as_configured(harness: Harness) -> None:
    body = submission_body(municipality="  gent ", neighbourhood="brugse poort")
    assert harness.client.post("/v1/signals", json=body).status_code == 202
    [event] = _published(harness)
    assert (event.data.municipality, event.data.neighbourhood) == ("Gent", "Brugse Poort")
    assert harness.published[0].key == municipality_key("Gent")


def test_batch_answers_per_item_in_order(harness: Harness) -> None:
    good = submission_body()
    bad = submission_body(text="")
    elsewhere = submission_body(municipality="Antwerpen", neighbourhood="Kiel")
    response = harness.client.post(
        "/v1/signals/batch", json={"signals": [good, bad, elsewhere, good]}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["status"], r["outcome"]) for r in results] == [
        (0, 202, "accepted"),
        (1, 422, "invalid"),
        (2, 403, "forbidden"),
        (3, 200, "duplicate"),
    ]
    assert results[0]["accepted"]["received_at"] == results[3]["accepted"]["received_at"]
    assert results[1]["error"]["problems"][0]["field"] == "text"
    assert len(harness.published) == 1


def test_batch_over_the_limit_is_422(harness: Harness) -> None:
    signals = [submission_body() for _ in range(SETTINGS.batch_max_items + 1)]
    response = harness.client.post("/v1/signals/batch", json={"signals": signals})
    assert response.status_code == 422
    assert response.json()["error"] == "batch_too_large"
    assert harness.published == []


def test_batch_is_503_whole_when_kafka_fails() -> None:
    h = Harness(failing=True)
    with h.client:
        response = h.client.post("/v1/signals/batch", json={"signals": [submission_body()]})
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_rate_limit_is_429_with_retry_after() -> None:
    now = [0.0]
    settings = SETTINGS.model_copy(update={"rate_limit_per_s": 1.0, "rate_limit_burst": 2})
    h = Harness(settings, clock=lambda: now[0])
    with h.client:
        statuses = [
            h.client.post("/v1/signals", json=submission_body()).status_code for _ in range(3)
        ]
        assert statuses == [202, 202, 429]
        limited = h.client.post("/v1/signals", json=submission_body())
        assert limited.json()["error"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        now[0] += 1.0
        assert h.client.post("/v1/signals", json=submission_body()).status_code == 202
        # Another token has its own bucket.
        other = submission_body(municipality="Antwerpen", neighbourhood="Kiel")
        del other["organisation"]
        response = h.client.post(
            "/v1/signals", json=other, headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
        )
        assert response.status_code == 202


def test_form_config_is_limited_to_the_token_area(harness: Harness) -> None:
    config = harness.client.get("/v1/form-config").json()
    assert [m["name"] for m in config["municipalities"]] == ["Gent"]
    assert "Brugse Poort" in config["municipalities"][0]["neighbourhoods"]
    assert {"id": "schoolpoort", "label": "Schoolpoort"} in config["vindplaatsen"]
    assert config["text_max_length"] == 2000
    assert harness.client.get("/v1/form-config", headers={"Authorization": ""}).status_code == 401


def test_privacy_check_reports_and_publishes_nothing(harness: Harness) -> None:
    response = harness.client.post(
        "/v1/privacy-check", json={"text": "Bel mevrouw Peeters op 0478 12 34 56."}
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["contains_personal_data"] is True
    assert "0478" not in answer["scrubbed_text"]
    assert "telefoonnummer" in {r["kind"] for r in answer["redactions"]}
    assert harness.published == []
    clean = harness.client.post("/v1/privacy-check", json={"text": "De bus is te duur."}).json()
    assert clean == {
        "contains_personal_data": False,
        "redactions": [],
        "scrubbed_text": "De bus is te duur.",
    }


def test_kobo_submission_becomes_a_signal_once(harness: Harness) -> None:
    headers = {"Authorization": f"Bearer {KOBO_TOKEN}"}
    url = "/v1/connectors/kobo/seinpost-signaal-kobo"
    first = harness.client.post(url, json=KOBO_EXAMPLE, headers=headers)
    assert first.status_code == 202, first.text
    again = harness.client.post(url, json=KOBO_EXAMPLE, headers=headers)
    assert again.status_code == 200
    [event] = _published(harness)
    expected_id = uuid.uuid5(
        SIGNAL_ID_NAMESPACE, "kobo:seinpost-signaal-kobo:0b8f0c2e-7f1a-4d55-9a3c-2e4b6d8f1a10"
    )
    assert event.data.signal_id == expected_id
    assert event.data.organisation == "caw-oost-vlaanderen"
    assert event.data.neighbourhood == "Brugse Poort"
    assert event.data.knowledge_type.value == "professionele_kennis"
    assert [a.value for a in event.data.target_group.age_bands] == ["6-11"]
    assert event.data.target_group.family_situations == ["eenoudergezin", "groot_gezin"]
    assert event.data.families_count == 3
    assert event.data.reporter_role == "brugfiguur"  # the form's default


def test_odk_submission_becomes_a_signal(harness: Harness) -> None:
    headers = {"Authorization": f"Bearer {ODK_TOKEN}"}
    response = harness.client.post(
        "/v1/connectors/odk/seinpost_signaal", json=ODK_EXAMPLE, headers=headers
    )
    assert response.status_code == 202, response.text
    [event] = _published(harness)
    assert event.data.municipality == "Antwerpen"
    assert event.data.reporter_role == "opgroeicoach"
    assert event.data.vindplaats == "huis_van_het_kind"
    assert str(event.data.submitted_at).startswith("2026-11-18 10:02:11")


def test_connector_refuses_another_organisations_token(harness: Harness) -> None:
    response = harness.client.post("/v1/connectors/kobo/seinpost-signaal-kobo", json=KOBO_EXAMPLE)
    assert response.status_code == 403
    assert response.json()["error"] == "form_not_allowed"
    unknown = harness.client.post(
        "/v1/connectors/odk/nope",
        json=ODK_EXAMPLE,
        headers={"Authorization": f"Bearer {ODK_TOKEN}"},
    )
    assert unknown.status_code == 404


def test_connector_submission_without_answer_names_the_question(harness: Harness) -> None:
    payload: dict[str, Any] = copy.deepcopy(KOBO_EXAMPLE)
    del payload["group_signaal/beschrijving"]
    response = harness.client.post(
        "/v1/connectors/kobo/seinpost-signaal-kobo",
        json=payload,
        headers={"Authorization": f"Bearer {KOBO_TOKEN}"},
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "group_signaal/beschrijving"


def test_metrics_count_routes_outcomes_and_redactions(harness: Harness) -> None:
    body = submission_body(text="Bel de mama op 0478 12 34 56, de schooluitstap is te duur.")
    harness.client.post("/v1/signals", json=body)
    harness.client.post("/v1/signals", json=submission_body(municipality="Nergensland"))
    text = harness.client.get("/metrics").text
    assert (
        'seinpost_intake_http_requests_total{method="POST",route="/v1/signals",status="202"} 1.0'
        in text
    )
    assert 'seinpost_intake_rejections_total{reason="municipality_unknown"} 1.0' in text
    assert 'seinpost_intake_redactions_total{kind="telefoonnummer"} 1.0' in text
    assert "seinpost_intake_records_published_total" in text


def test_readyz_fails_when_postgres_is_not_reached() -> None:
    h = Harness()
    with h.client:
        h.backends[0].ready.clear()
        response = h.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["postgres"] is False


def test_store_down_is_503_not_500() -> None:
    h = Harness()
    with h.client:
        h.store.fail = True
        response = h.client.post("/v1/signals", json=submission_body())
    assert response.status_code == 503
    assert response.json()["error"] == "storage_unavailable"
    assert h.published == []


def test_default_options_keep_every_sample_valid() -> None:
    import json
    from pathlib import Path

    from schemas.v1 import SignalSubmissionV1
    from services.intake.app import load_options
    from services.intake.domain.options import check_choices

    options = load_options(IntakeSettings())
    samples = Path(__file__).resolve().parents[2] / "data" / "samples" / "signals.jsonl"
    for line in samples.read_text(encoding="utf-8").splitlines():
        submission = SignalSubmissionV1.model_validate(json.loads(line)["signal"])
        _, problems = check_choices(submission, options)
        assert problems == [], (submission.signal_id, problems)
    flemish = [m for m in options.municipalities if m.region == "vlaanderen"]
    assert len(flemish) == 285  # after the mergers of 1 January 2025
    assert len([m for m in options.municipalities if m.region == "brussel"]) == 19
    merged = options.municipality("Kruibeke")
    assert merged is not None
    assert merged.name == "Beveren-Kruibeke-Zwijndrecht"


def test_signals_path_with_another_method_still_goes_through_fastapi(harness: Harness) -> None:
    # POST /v1/signals skips FastAPI's routing (HotRoute); everything else on the path must not.
    response = harness.client.get("/v1/signals")
    assert response.status_code == 405
    assert harness.published == []


def test_hot_route_401_has_the_same_body_and_counts_under_its_template(harness: Harness) -> None:
    response = harness.client.post(
        "/v1/signals", json=submission_body(), headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "token_invalid",
        "message": response.json()["message"],
        "problems": [],
    }
    assert response.json()["message"]
    metrics = harness.client.get("/metrics").text
    assert (
        'seinpost_intake_http_requests_total{method="POST",route="/v1/signals",status="401"} 1.0'
        in metrics
    )
