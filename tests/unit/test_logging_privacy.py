"""What a reporter typed never reaches a log line, whichever way an error travels.

pydantic's ValidationError carries the failing input (``input_value=...``), and uvicorn logs
an unhandled exception with its traceback: these tests send personal text down the paths a
log line can come from and read what the configured logging actually writes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from pydantic import ValidationError

from schemas.v1 import SignalSubmissionV1
from services.common.kafka import Outgoing
from services.common.logging import configure_logging
from services.common.settings import LoggingSettings
from tests.factories import submission_body
from tests.fakes import FakePublisher
from tests.unit.intake_support import Harness

SECRET = "Ayoub El Amrani, 0471 23 45 67, Kerkstraat 12"


@pytest.fixture(params=["json", "console"])
def log_output(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    configure_logging("test", LoggingSettings(format=request.param, level="INFO"))
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)
    structlog.reset_defaults()


def _validation_error_with(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        SignalSubmissionV1.model_validate({"text": text, "unknown_field": text})
    assert text in str(caught.value)  # pydantic does put it there: the reason for all of this
    return caught.value


def test_structlog_exception_hides_validation_input(log_output: io.StringIO) -> None:
    try:
        raise _validation_error_with(SECRET)
    except ValidationError:
        structlog.get_logger("t").exception("signal.failed")
    written = log_output.getvalue()
    assert "signal.failed" in written
    assert "ValidationError" in written
    assert "unknown_field: extra_forbidden" in written  # where and why are still there
    assert "Ayoub" not in written
    assert "0471" not in written


def test_stdlib_exception_from_a_library_hides_validation_input(log_output: io.StringIO) -> None:
    # The path of uvicorn's "Exception in ASGI application", raised from a chained error.
    try:
        try:
            raise _validation_error_with(SECRET)
        except ValidationError as exc:
            raise RuntimeError("building the event failed") from exc
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    written = log_output.getvalue()
    assert "Exception in ASGI application" in written
    assert "direct cause" in written
    assert "Ayoub" not in written
    assert "Kerkstraat" not in written


@pytest.mark.parametrize("key", ["text", "input", "body", "scrubbed_text"])
def test_personal_fields_are_withheld(log_output: io.StringIO, key: str) -> None:
    fields: dict[str, Any] = {key: SECRET}
    structlog.get_logger("t").info("careless", **fields)
    written = log_output.getvalue()
    assert "careless" in written
    assert "[weggelaten]" in written
    assert "Ayoub" not in written


class _ExplodingPublisher(FakePublisher):
    """Fails the way a bug in building or encoding the event would: with the text inside."""

    async def publish(self, outgoing: Outgoing) -> None:
        raise _validation_error_with(SECRET)


def test_intake_never_logs_submitted_text(log_output: io.StringIO) -> None:
    harness = Harness()
    body = submission_body(text=f"De mama van Ayoub belt vaak. {SECRET}", unknown=SECRET)
    with harness.client as client:
        rejected = client.post("/v1/signals", json=body)
        del body["unknown"]
        harness.links[0].publisher = _ExplodingPublisher()
        failed = client.post("/v1/signals", json=body)
    assert rejected.status_code == 422
    assert "Ayoub" not in rejected.text
    assert failed.status_code in (500, 503)
    written = log_output.getvalue()
    assert "signal" in written  # something was logged about both requests
    assert "Ayoub" not in written
    assert "0471" not in written
