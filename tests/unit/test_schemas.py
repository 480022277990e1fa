"""The contract: models, committed JSON Schemas and example payloads agree."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from schemas import export, topics
from schemas.v1 import (
    EVENT_MODELS,
    ClassificationSource,
    ClassificationV1,
    CorrectionRefV1,
    CorrectionV1,
    CountCellV1,
    DomainTagV1,
    PolicyBundleV1,
    SignalClassifiedEventV1,
    SignalSubmissionV1,
    SignalSubmittedEventV1,
    correction_event,
    signal_classified_event,
    signal_submitted_event,
)
from services.common.events import decode_event, encode_event
from tests.factories import NOW, classified_signal, submission_body, submitted_signal

PAYLOADS = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def test_committed_json_schemas_match_the_models() -> None:
    assert export.drifted() == [], "run `python -m schemas.export` and commit the result"


def test_drift_is_detected(tmp_path: Path) -> None:
    export.write(tmp_path)
    path = tmp_path / "signal_submitted.v1.json"
    path.write_text(path.read_text().replace('"text"', '"tekst"'))
    assert export.drifted(tmp_path) == ["signal_submitted.v1"]


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_example_payload_validates_against_model_and_json_schema(name: str) -> None:
    payload = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    schema = json.loads((export.SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    jsonschema.validate(payload, schema)
    event = EVENT_MODELS[name].model_validate(payload)
    assert event.specversion == "1.0"
    # What we produce must satisfy the published schema too, not only what we accept.
    jsonschema.validate(json.loads(encode_event(event)), schema)


def test_every_event_has_an_example_payload() -> None:
    assert sorted(p.stem for p in PAYLOADS.glob("*.json")) == sorted(EVENT_MODELS)


def test_submitted_event_round_trips_through_the_wire_format() -> None:
    event = signal_submitted_event(submitted_signal())
    decoded = decode_event(SignalSubmittedEventV1, encode_event(event), max_bytes=1 << 20)
    assert decoded == event
    assert decoded.id == str(event.data.signal_id)
    assert decoded.type == "be.seinpost.signal.submitted.v1"


def test_classified_event_id_is_stable_per_signal_and_classifier_version() -> None:
    classified = classified_signal()
    assert signal_classified_event(classified).id == signal_classified_event(classified).id
    other = classified_signal(submitted_signal())
    assert signal_classified_event(other).id != signal_classified_event(classified).id


def test_consumers_ignore_unknown_fields_within_v1() -> None:
    event = signal_classified_event(classified_signal())
    document = json.loads(encode_event(event))
    document["data"]["signal"]["new_optional_field"] = "from a newer producer"
    document["data"]["schema_version"] = "1.7"
    decoded = SignalClassifiedEventV1.model_validate(document)
    assert decoded.data.classification == event.data.classification


def test_submission_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        SignalSubmissionV1.model_validate(submission_body(tekst="typo in the field name"))
    assert caught.value.errors()[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("text", ["", "   kort   ", " " * 40, "x" * 2001])
def test_text_length_is_bounded(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SignalSubmissionV1.model_validate(submission_body(text=text))
    assert {e["loc"][0] for e in caught.value.errors()} == {"text"}


def test_classification_must_be_consistent() -> None:
    with pytest.raises(ValidationError, match="needs_review"):
        ClassificationV1(
            classifier_version="x",
            taxonomy_version="v1",
            domains=[],
            primary_domain=None,
            needs_review=False,
            classified_at=NOW,
        )
    with pytest.raises(ValidationError, match="primary_domain"):
        ClassificationV1(
            classifier_version="x",
            taxonomy_version="v1",
            domains=[],
            primary_domain="wonen",
            needs_review=True,
            classified_at=NOW,
        )


def test_a_correction_and_its_source_go_together() -> None:
    tag = DomainTagV1(domain="wonen", score=1.0)
    with pytest.raises(ValidationError, match="source is `correction`"):
        ClassificationV1(
            classifier_version="correctie:x",
            taxonomy_version="v1",
            domains=[tag],
            primary_domain="wonen",
            needs_review=False,
            classified_at=NOW,
            source=ClassificationSource.CORRECTION,
        )
    human = ClassificationV1(
        classifier_version="correctie:x",
        taxonomy_version="v1",
        domains=[tag],
        primary_domain="wonen",
        needs_review=False,
        classified_at=NOW,
        source=ClassificationSource.CORRECTION,
        correction=CorrectionRefV1(
            correction_id=uuid.uuid4(), corrected_by_role="coordinator", corrected_at=NOW
        ),
    )
    assert human.correction is not None


def test_a_correction_names_each_domain_once_and_at_least_one() -> None:
    payload = json.loads((PAYLOADS / "signal_corrected.v1.json").read_text("utf-8"))["data"]
    assert CorrectionV1.model_validate(payload).domains[0] == "inkomen"
    for domains, problem in (([], "at least 1"), (["wonen", "wonen"], "twice")):
        with pytest.raises(ValidationError, match=problem):
            CorrectionV1.model_validate({**payload, "domains": domains})


def test_the_correction_event_id_is_the_correction_id() -> None:
    payload = json.loads((PAYLOADS / "signal_corrected.v1.json").read_text("utf-8"))["data"]
    correction = CorrectionV1.model_validate(payload)
    event = correction_event(correction)
    assert event.id == str(correction.correction_id)
    assert event.subject == str(correction.signal.signal_id)
    assert correction.reference().corrected_by_role == "coordinator"


def test_a_suppressed_cell_has_no_count() -> None:
    with pytest.raises(ValidationError):
        CountCellV1(key="rabot", label="Rabot", count=3, suppressed=True)
    with pytest.raises(ValidationError):
        CountCellV1(key="rabot", label="Rabot", count=None, suppressed=False)


def test_bundle_period_must_be_ordered() -> None:
    payload = json.loads((PAYLOADS / "policy_bundle.v1.json").read_text(encoding="utf-8"))
    payload["data"]["period_end"] = "2026-01-01"
    with pytest.raises(ValidationError, match="period_end"):
        PolicyBundleV1.model_validate(payload["data"])


@pytest.mark.parametrize("spelling", ["Gent", " gent", "GENT "])
def test_one_municipality_is_one_key(spelling: str) -> None:
    assert topics.municipality_key(spelling) == b"gent"


def test_topic_names_carry_their_major_version() -> None:
    assert all(name.startswith("seinpost.") and name.endswith(".v1") for name in topics.ALL_TOPICS)
    assert len(set(topics.ALL_TOPICS)) == len(topics.ALL_TOPICS)


def test_event_ids_are_uuids_or_strings() -> None:
    event = signal_submitted_event(submitted_signal())
    assert uuid.UUID(event.id) == event.data.signal_id
