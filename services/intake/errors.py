"""Error answers in Dutch for people and with codes for machines.

A 422 names every field and why; it never echoes the submitted value back (it may be personal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pydantic import BaseModel, Field

# pydantic error type -> Dutch reason; {placeholders} come from the error's context.
_DUTCH_REASONS: Final[Mapping[str, str]] = {
    "missing": "dit veld is verplicht",
    "extra_forbidden": "dit veld bestaat niet (tikfout in de veldnaam?)",
    "string_too_short": "te kort: minstens {min_length} tekens",
    "string_too_long": "te lang: hoogstens {max_length} tekens",
    "string_type": "moet tekst zijn",
    "string_pattern_mismatch": "ongeldige code: enkel kleine letters, cijfers en _",
    "uuid_parsing": "geen geldige UUID",
    "uuid_type": "geen geldige UUID",
    "date_from_datetime_parsing": "geen geldige datum (JJJJ-MM-DD)",
    "date_parsing": "geen geldige datum (JJJJ-MM-DD)",
    "date_type": "geen geldige datum (JJJJ-MM-DD)",
    "datetime_parsing": "geen geldig tijdstip (ISO 8601 met tijdzone)",
    "datetime_from_date_parsing": "geen geldig tijdstip (ISO 8601 met tijdzone)",
    "timezone_aware": "het tijdstip moet een tijdzone hebben",
    "enum": "ongeldige waarde; toegelaten: {expected}",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "int_from_float": "moet een geheel getal zijn",
    "greater_than_equal": "moet minstens {ge} zijn",
    "less_than_equal": "mag hoogstens {le} zijn",
    "too_long": "te veel waarden: hoogstens {max_length}",
    "list_type": "moet een lijst zijn",
    "model_type": "moet een object zijn",
    "model_attributes_type": "moet een object zijn",
    "json_invalid": "de inhoud is geen geldige JSON",
    "value_error": "ongeldige waarde",
}


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. `target_group.age_bands.0`.")
    code: str = Field(description="Machine-readable reason (pydantic error type or our own).")
    message: str = Field(description="Reason in Dutch, for the person who filled in the form.")


class ErrorBody(BaseModel):
    error: str = Field(description="Machine-readable error class.")
    message: str = Field(description="Explanation in Dutch.")
    problems: list[FieldProblem] = Field(default_factory=list)


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[FieldProblem]:
    problems = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        kind = str(error.get("type", "value_error"))
        template = _DUTCH_REASONS.get(kind)
        context = error.get("ctx") or {}
        if template is None:
            message = "ongeldige waarde"
        else:
            try:
                message = template.format(**context)
            except (KeyError, IndexError):
                message = template
        problems.append(
            FieldProblem(field=".".join(location) or "(body)", code=kind, message=message)
        )
    return problems
