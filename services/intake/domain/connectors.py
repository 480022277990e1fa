"""From a KoboToolbox or ODK Central submission to a signal body — pure.

Both tools send one JSON object per filled-in form. Their shapes differ:
- KoboToolbox "REST Services" posts a flat object whose keys are the question paths
  (``group_plaats/gemeente``), with ``meta/instanceID``, ``_uuid``, ``_submission_time`` (UTC,
  no zone), ``_xform_id_string`` and more bookkeeping fields starting with ``_``;
- ODK Central (its OData / JSON form, as a webhook relay forwards it) nests groups as objects
  (``{"plaats": {"gemeente": …}}``), with ``__id``, ``meta: {instanceID}`` and
  ``__system: {submissionDate, …}``.

A form's mapping (TOML, see ``services/intake/connectors.toml``) names, for each signal field,
the question path in the form; ``defaults`` fill fields the form does not ask; ``values``
translate the form's choice names into the contract's codes. The instance id of the submission
makes the signal_id (uuid5), so a resent submission is the same signal, never a second one.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

ConnectorKind = Literal["kobo", "odk"]
Problem = tuple[str, str, str]  # (field, code, Dutch message)

SIGNAL_ID_NAMESPACE: Final = uuid.UUID("5e1a9057-0000-4000-8000-c0117ec70001")

_TEXT_FIELDS: Final = (
    "text",
    "observed_on",
    "municipality",
    "neighbourhood",
    "vindplaats",
    "reporter_role",
    "knowledge_type",
    "families_count",
    "organisation",
)
_LIST_FIELDS: Final = ("age_bands", "family_situations")
MAPPABLE_FIELDS: Final = frozenset(_TEXT_FIELDS + _LIST_FIELDS)
_REQUIRED: Final = ("text", "municipality", "vindplaats", "reporter_role", "knowledge_type")


@dataclass(frozen=True, slots=True)
class ConnectorForm:
    form_id: str
    kind: ConnectorKind
    organisation: str
    fields: Mapping[str, str]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def parse_connectors(text: str) -> dict[tuple[str, str], ConnectorForm]:
    """Parse the connectors TOML into ``{(kind, form_id): form}``; ``ValueError`` if wrong."""
    document = tomllib.loads(text)
    forms: dict[tuple[str, str], ConnectorForm] = {}
    items = document.get("forms", [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError("connectors: `forms` must be a list of tables ([[forms]])")
    for item in items:
        try:
            kind = item["kind"]
            form = ConnectorForm(
                form_id=str(item["id"]),
                kind=kind,
                organisation=str(item["organisation"]),
                fields={str(k): str(v) for k, v in item.get("fields", {}).items()},
                defaults=dict(item.get("defaults", {})),
                values={
                    str(k): {str(a): str(b) for a, b in v.items()}
                    for k, v in item.get("values", {}).items()
                },
            )
        except KeyError as missing:
            raise ValueError(f"connectors: a form lacks {missing}") from None
        except (AttributeError, TypeError):
            raise ValueError(
                f"connectors: form {item.get('id')!r}: fields, defaults and values must be "
                "tables (values: a table of tables)"
            ) from None
        if kind not in ("kobo", "odk"):
            raise ValueError(f"connectors: form {form.form_id}: kind must be kobo or odk")
        unknown = (set(form.fields) | set(form.defaults) | set(form.values)) - MAPPABLE_FIELDS
        if unknown:
            raise ValueError(f"connectors: form {form.form_id}: unknown fields {sorted(unknown)}")
        if "organisation" in form.fields or "organisation" in form.defaults:
            raise ValueError(
                f"connectors: form {form.form_id}: the organisation is the form's, not a field"
            )
        missing_fields = [f for f in _REQUIRED if f not in form.fields and f not in form.defaults]
        if missing_fields:
            raise ValueError(
                f"connectors: form {form.form_id}: no question or default for {missing_fields}"
            )
        if (kind, form.form_id) in forms:
            raise ValueError(f"connectors: form {form.form_id} appears twice")
        forms[(kind, form.form_id)] = form
    return forms


def lookup(payload: Mapping[str, Any], path: str) -> Any:
    """The answer at ``group/question``: a flat Kobo key, or nested ODK groups."""
    if path in payload:
        return payload[path]
    node: Any = payload
    for part in path.split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def instance_id(kind: ConnectorKind, payload: Mapping[str, Any]) -> str | None:
    """The submission's own id, stable over resends: ``meta/instanceID`` first (both tools
    write it), then ``_uuid`` (Kobo) or ``__id`` (ODK)."""
    candidates = [lookup(payload, "meta/instanceID")]
    candidates.append(payload.get("_uuid") if kind == "kobo" else payload.get("__id"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return None


def signal_id_for(form: ConnectorForm, instance: str) -> uuid.UUID:
    # "uuid:" is how ODK writes instance ids; Kobo's _uuid lacks it: both name one submission.
    bare = instance.removeprefix("uuid:")
    return uuid.uuid5(SIGNAL_ID_NAMESPACE, f"{form.kind}:{form.form_id}:{bare}")


def submission_time(kind: ConnectorKind, payload: Mapping[str, Any]) -> datetime | None:
    raw = (
        payload.get("_submission_time")
        if kind == "kobo"
        else lookup(payload, "__system/submissionDate")
    )
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Kobo writes _submission_time in UTC without saying so.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def map_submission(
    form: ConnectorForm, payload: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """A signal body (as for ``POST /v1/signals``) and the problems found while mapping.

    Validation proper (lengths, codes, dates, municipality) is intake's usual path; here only
    what the mapping itself can tell: a missing instance id, a required question unanswered.
    """
    problems: list[Problem] = []
    instance = instance_id(form.kind, payload)
    if instance is None:
        problems.append(
            ("meta/instanceID", "missing", "de inzending heeft geen instanceID of _uuid")
        )
    body: dict[str, Any] = {"organisation": form.organisation}
    if instance is not None:
        body["signal_id"] = str(signal_id_for(form, instance))
    submitted = submission_time(form.kind, payload)
    if submitted is not None:
        body["submitted_at"] = submitted.isoformat()
    target: dict[str, Any] = {}
    for name in _TEXT_FIELDS + _LIST_FIELDS:
        path = form.fields.get(name)
        value = lookup(payload, path) if path is not None else None
        if value is None or value == "" or value == []:
            value = form.defaults.get(name)
        if value is None:
            continue
        if name in _LIST_FIELDS:
            if not isinstance(value, str | list):
                # Neither tool sends this (a number, a yes/no, a group): left as it is, so that
                # validation names the question and the expected kind of answer.
                target[name] = value
                continue
            # select_multiple answers are one space-separated string in both tools.
            items = value.split() if isinstance(value, str) else [str(v) for v in value]
            translate = form.values.get(name, {})
            target[name] = [translate.get(item, item) for item in items]
            continue
        if name in form.values and isinstance(value, str):
            value = form.values[name].get(value, value)
        if name == "families_count" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        body[name] = value
    if target:
        body["target_group"] = target
    if "observed_on" not in body:
        # A form without a date question: the day it was sent is the best we know.
        moment = submitted or datetime.now(UTC)
        body["observed_on"] = moment.date().isoformat()
    elif isinstance(body["observed_on"], str) and "T" in body["observed_on"]:
        body["observed_on"] = body["observed_on"].split("T", 1)[0]  # a dateTime question
    for name in _REQUIRED:
        if name not in body:
            problems.append(
                (form.fields.get(name, name), "missing", "deze vraag is niet beantwoord")
            )
    return body, problems
