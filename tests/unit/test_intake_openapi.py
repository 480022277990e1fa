"""The committed OpenAPI document of intake: in step with the code, and its examples valid."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from schemas.v1 import SignalSubmissionV1
from services.intake.app import BatchRequest, PrivacyCheckRequest, load_options
from services.intake.connectors import load_connectors
from services.intake.domain.connectors import map_submission
from services.intake.domain.options import check_choices
from services.intake.openapi import DOCUMENT, render
from services.intake.settings import IntakeSettings

MODELS: dict[str, type[BaseModel]] = {
    "/v1/signals": SignalSubmissionV1,
    "/v1/signals/batch": BatchRequest,
    "/v1/privacy-check": PrivacyCheckRequest,
}


def _document() -> dict[str, Any]:
    return dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def _examples() -> list[tuple[str, str, Any]]:
    found = []
    for path, operations in _document()["paths"].items():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                for name, example in media.get("examples", {}).items():
                    found.append((path, name, example["value"]))
    return found


def test_committed_document_is_current() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "run `python -m services.intake.openapi`"
    )


def test_every_write_route_has_an_example() -> None:
    paths = {path for path, _, _ in _examples()}
    assert {"/v1/signals", "/v1/signals/batch"} <= paths
    assert any(p.startswith("/v1/connectors/kobo") for p in paths)
    assert any(p.startswith("/v1/connectors/odk") for p in paths)


@pytest.mark.parametrize(("path", "name", "value"), _examples())
def test_every_example_is_accepted_by_the_models(path: str, name: str, value: Any) -> None:
    settings = IntakeSettings()
    options = load_options(settings)
    if path.startswith("/v1/connectors/"):
        kind, form_id = path.split("/")[3], "{form_id}"
        forms = [f for (k, _), f in load_connectors(settings).items() if k == kind]
        body, problems = map_submission(
            next(f for f in forms if f.form_id == value.get("_xform_id_string", f.form_id)),
            value,
        )
        assert problems == [], (name, form_id)
        submissions = [SignalSubmissionV1.model_validate(body)]
    else:
        model = MODELS[path]
        validated = model.model_validate(value)
        submissions = (
            list(validated.signals)
            if isinstance(validated, BatchRequest)
            else [validated]
            if isinstance(validated, SignalSubmissionV1)
            else []
        )
    for submission in submissions:
        assert check_choices(submission, options)[1] == [], name
