"""Turning a submission into the event intake publishes — pure.

The text is scrubbed here, before anything leaves intake: no topic, log line or bundle
downstream ever sees what the reporter typed about a person.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from schemas.v1 import (
    SCHEMA_VERSION,
    TEXT_MAX_LENGTH,
    TEXT_MIN_LENGTH,
    SignalContentV1,
    SignalSubmissionV1,
    SignalSubmittedV1,
)
from services.intake.domain.privacy import scrub


class SubmissionRejectedError(Exception):
    """A submission that is well-formed JSON but not acceptable; carries field-level reasons."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {code}" for field, code, _ in problems))
        self.problems = problems  # (field, code, Dutch message)


def accept_submission(
    submission: SignalSubmissionV1,
    *,
    received_at: datetime,
    today: date,
    future_tolerance_days: int = 1,
) -> SignalSubmittedV1:
    if received_at.tzinfo is None:
        raise ValueError("received_at must carry a time zone")
    problems: list[tuple[str, str, str]] = []
    if submission.observed_on > today + timedelta(days=future_tolerance_days):
        problems.append(
            ("observed_on", "date_in_future", "de datum van vaststelling ligt in de toekomst")
        )
    if submission.neighbourhood is not None and scrub(submission.neighbourhood).changed:
        # Place names are shown in bundles as they are; they must not carry an address or a name.
        problems.append(
            (
                "neighbourhood",
                "personal_data",
                "vul enkel de naam van de wijk in, zonder adres of persoonsgegevens",
            )
        )
    if problems:
        raise SubmissionRejectedError(problems)

    scrubbed = scrub(submission.text)
    if len(scrubbed.text) > TEXT_MAX_LENGTH:
        # Placeholders such as "[telefoon]" can be longer than what they replace.
        raise SubmissionRejectedError(
            [
                (
                    "text",
                    "string_too_long",
                    f"te lang na het verwijderen van persoonsgegevens: hoogstens "
                    f"{TEXT_MAX_LENGTH} tekens",
                )
            ]
        )
    if len(scrubbed.text.strip()) < TEXT_MIN_LENGTH:
        # A text that was (nearly) all personal data: "[e-mail]" alone says nothing.
        raise SubmissionRejectedError(
            [
                (
                    "text",
                    "string_too_short",
                    f"te kort na het verwijderen van persoonsgegevens: minstens "
                    f"{TEXT_MIN_LENGTH} tekens",
                )
            ]
        )
    # Every value below is already valid (the submission was validated; the scrubbed text was
    # checked just now), so the event is put together without validating it all again.
    values = {name: getattr(submission, name) for name in _CONTENT_FIELDS}
    values["text"] = scrubbed.text
    return SignalSubmittedV1.model_construct(
        **values,
        schema_version=SCHEMA_VERSION,
        submitted_at=submission.submitted_at or received_at,
        received_at=received_at,
        redactions=scrubbed.counts(),
    )


_CONTENT_FIELDS = tuple(SignalContentV1.model_fields)
