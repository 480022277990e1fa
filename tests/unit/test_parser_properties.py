"""Every parser answers bad input with its documented error, never with anything else.

Property tests (hypothesis, derandomised so CI gives the same verdict every run): the
submission contract, the event decoding of every topic, the KoboToolbox/ODK mapping and its
configuration, the bulk-import reader, the classifier's text normalisation, bundle periods and
the steering-group command. The personal-data scrubber's properties are in
test_privacy_properties.py.
"""

from __future__ import annotations

import contextlib
import copy
import json
import string
import tempfile
import tomllib
import unicodedata
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from schemas.v1 import (
    EVENT_MODELS,
    SignalSubmissionV1,
    SignalSubmittedEventV1,
    signal_submitted_event,
)
from services.aggregator import cli as aggregator_cli
from services.aggregator.periods import (
    Period,
    last_closed_period,
    parse_period,
    period_containing,
    previous_periods,
)
from services.classifier.domain.text import fold, tokenize
from services.common.events import PoisonRecordError, decode_event, encode_event
from services.importer import ImportFileError, parse_file
from services.intake.domain.connectors import ConnectorForm, map_submission, parse_connectors
from tests.factories import submission_body, submitted_signal

PAYLOADS = Path(__file__).resolve().parents[2] / "schemas" / "examples"
T = TypeVar("T")

# Derandomised: CI must give the same verdict on every run; explore with --hypothesis-seed.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# ---------------------------------------------------------------------------------- inputs

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud7ff",
        "\u202e",
        "e\u0301",
        "ß",
        "İ",
        "ﬁ",
        "'); DROP TABLE signals;--",
        "{{7*7}}",
        "${7*7}",
        "%s%n",
        "<script>alert(1)</script>",
        "9" * 400,
        "NaN",
        "1e999",
        "-0",
        "2026-02-30",
        "0000-00-00",
    ]
)
TEXT = st.one_of(st.text(max_size=60), NASTY_TEXT)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any, values: st.SearchStrategy[Any] | None = None) -> Any:
    """``document`` with a few of its values replaced by arbitrary JSON, or removed."""
    result = copy.deepcopy(document)
    paths = _paths(result)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths))
        parent = result
        try:
            for part in path[:-1]:
                parent = parent[part]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(values if values is not None else JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return result


def attempt(call: Callable[[], T], *errors: type[Exception]) -> tuple[T | None, Exception | None]:
    """The result, or the documented error; anything else propagates and fails the test."""
    try:
        return call(), None
    except errors as error:
        return None, error


def _payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


# ---------------------------------------------------------------- the submission contract


@PROPERTY
@given(mutated(submission_body(signal_id="2f0c6a1e-8d4b-4c1f-9b7e-3a5d6c7e8f90")))
def test_a_submission_is_valid_or_a_validation_error(document: Any) -> None:
    raw = json.dumps(document).encode()
    from_json, error = attempt(lambda: SignalSubmissionV1.model_validate_json(raw), ValidationError)
    if from_json is None:
        # Every problem names where it is.
        assert isinstance(error, ValidationError)
        assert all(detail["loc"] for detail in error.errors())
        with pytest.raises(ValidationError):
            SignalSubmissionV1.model_validate(document)
        return
    # Valid: it survives its own wire format unchanged.
    again = SignalSubmissionV1.model_validate_json(from_json.model_dump_json())
    assert again == from_json
    assert SignalSubmissionV1.model_validate(document) == from_json


@PROPERTY
@given(st.binary(max_size=300))
def test_any_bytes_are_a_submission_or_a_validation_error(raw: bytes) -> None:
    with contextlib.suppress(ValidationError):
        SignalSubmissionV1.model_validate_json(raw)


# ------------------------------------------------------------------------ event decoding

EVENT_NAMES = sorted(EVENT_MODELS)


@PROPERTY
@given(st.sampled_from(EVENT_NAMES), st.data())
def test_a_record_on_any_topic_is_an_event_or_poison(name: str, data: st.DataObject) -> None:
    model = EVENT_MODELS[name]
    document = data.draw(mutated(_payload(name)), label="event")
    payload = json.dumps(document).encode()
    event, error = attempt(
        lambda: decode_event(model, payload, max_bytes=256 * 1024), PoisonRecordError
    )
    if event is None:
        assert isinstance(error, PoisonRecordError)
        assert error.code in {"invalid_json", "invalid_event", "unsupported_schema_version"}
        assert error.reason
        return
    # What decodes, encodes and decodes to the same event.
    assert decode_event(model, encode_event(event), max_bytes=10**7) == event


@PROPERTY
@given(st.sampled_from(EVENT_NAMES), st.one_of(st.binary(max_size=200), JSON.map(json.dumps)))
def test_garbage_on_any_topic_is_poison(name: str, garbage: bytes | str) -> None:
    payload = garbage.encode() if isinstance(garbage, str) else garbage
    with pytest.raises(PoisonRecordError):
        decode_event(EVENT_MODELS[name], payload, max_bytes=256 * 1024)


@PROPERTY
@given(st.integers(min_value=0, max_value=4000))
def test_records_over_the_limit_are_poison_before_parsing(size: int) -> None:
    payload = b" " * size
    with pytest.raises(PoisonRecordError) as caught:
        decode_event(SignalSubmittedEventV1, payload, max_bytes=1000)
    assert caught.value.code == ("payload_too_large" if size > 1000 else "invalid_json")


@PROPERTY
@given(st.text(min_size=10, max_size=200).filter(lambda t: t.strip() and "\x00" not in t))
def test_submitted_events_round_trip_any_text(text: str) -> None:
    try:
        signal = submitted_signal(text=text)
    except ValidationError:
        assume(False)
        raise
    event = signal_submitted_event(signal)
    decoded = decode_event(SignalSubmittedEventV1, encode_event(event), max_bytes=10**6)
    assert decoded == event
    assert decoded.data.text == text


# ------------------------------------------------------------------- KoboToolbox and ODK

KOBO = ConnectorForm(
    form_id="aXk2",
    kind="kobo",
    organisation="buurtwerk-rabot",
    fields={
        "text": "signaal/tekst",
        "municipality": "plaats/gemeente",
        "neighbourhood": "plaats/wijk",
        "observed_on": "datum",
        "vindplaats": "plaats/vindplaats",
        "reporter_role": "rol",
        "knowledge_type": "kennis",
        "age_bands": "doelgroep/leeftijd",
        "families_count": "aantal",
    },
    values={"vindplaats": {"school": "schoolpoort"}, "age_bands": {"kind": "6-11"}},
)
ODK = ConnectorForm(
    form_id="signalen",
    kind="odk",
    organisation="buurtwerk-rabot",
    fields=dict(KOBO.fields),
    defaults={"knowledge_type": "professionele_kennis"},
)
KOBO_SUBMISSION = {
    "_uuid": "7d3c…",
    "meta/instanceID": "uuid:7d3c",
    "_submission_time": "2026-11-18T10:00:00",
    "signal/tekst": "Ouders kunnen de schooluitstap niet betalen.",
    "plaats/gemeente": "Gent",
    "plaats/wijk": "Rabot",
    "datum": "2026-11-18",
    "plaats/vindplaats": "school",
    "rol": "brugfiguur",
    "kennis": "ervaringskennis",
    "doelgroep/leeftijd": "kind 12-17",
    "aantal": "3",
}
ODK_SUBMISSION = {
    "__id": "uuid:9a1b",
    "__system": {"submissionDate": "2026-11-18T10:00:00.000Z"},
    "meta": {"instanceID": "uuid:9a1b"},
    "signaal": {"tekst": "Ouders kunnen de schooluitstap niet betalen."},
    "plaats": {"gemeente": "Gent", "wijk": "Rabot", "vindplaats": "schoolpoort"},
    "datum": "2026-11-18T00:00:00.000+01:00",
    "rol": "brugfiguur",
    "doelgroep": {"leeftijd": ["6-11"]},
    "aantal": 2,
}


@PROPERTY
@given(
    st.one_of(
        st.tuples(st.just(KOBO), mutated(KOBO_SUBMISSION)),
        st.tuples(st.just(ODK), mutated(ODK_SUBMISSION)),
        st.tuples(st.sampled_from([KOBO, ODK]), st.dictionaries(TEXT, JSON, max_size=6)),
    )
)
def test_a_connector_submission_maps_to_a_body_and_named_problems(
    case: tuple[ConnectorForm, dict[str, Any]],
) -> None:
    form, payload = case
    body, problems = map_submission(form, payload)
    assert body["organisation"] == form.organisation
    for path, code, message in problems:
        assert path
        assert code == "missing"
        assert message
    # Whatever the mapping made must be answerable by the contract: valid or named problems.
    json.dumps(body)
    _, error = attempt(lambda: SignalSubmissionV1.model_validate(body), ValidationError)
    if isinstance(error, ValidationError):
        assert all(detail["loc"] for detail in error.errors())
    # Resending the same submission is the same signal.
    again, _ = map_submission(form, copy.deepcopy(payload))
    assert again.get("signal_id") == body.get("signal_id")


CONNECTOR_TOML = """
[[forms]]
id = "aXk2"
kind = "kobo"
organisation = "buurtwerk-rabot"
[forms.fields]
text = "signaal/tekst"
municipality = "plaats/gemeente"
vindplaats = "plaats/vindplaats"
reporter_role = "rol"
knowledge_type = "kennis"
[forms.defaults]
neighbourhood = "Rabot"
[forms.values.vindplaats]
school = "schoolpoort"
"""
TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=20).filter(lambda t: "\x00" not in t),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(string.ascii_lowercase + "_", max_size=8), children, max_size=3),
    ),
    max_leaves=8,
)


def _toml(value: Any) -> str:
    """A minimal TOML writer for the documents below (the standard library only reads)."""
    lines: list[str] = []

    def scalar(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int):
            return str(item)
        if isinstance(item, str):
            return json.dumps(item)
        if isinstance(item, list):
            return "[" + ", ".join(scalar(v) for v in item) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {scalar(v)}" for k, v in item.items()) + "}"

    for key, item in value.items():
        lines.append(f"{json.dumps(key)} = {scalar(item)}")
    return "\n".join(lines)


@PROPERTY
@given(
    st.one_of(
        mutated(tomllib.loads(CONNECTOR_TOML), TOML_VALUES).map(_toml),
        st.dictionaries(st.sampled_from(["forms", "x"]), TOML_VALUES, max_size=2).map(_toml),
        st.text(max_size=200),
    )
)
def test_a_connectors_file_is_forms_or_a_value_error(text: str) -> None:
    forms, error = attempt(lambda: parse_connectors(text), ValueError)  # TOMLDecodeError too
    if forms is None:
        assert str(error)
        return
    for (kind, form_id), form in forms.items():
        assert kind in ("kobo", "odk")
        assert form.form_id == form_id


# -------------------------------------------------------------------------- bulk import

CSV_HEADER = "datum;tekst;gemeente;wijk;vindplaats;rol;kennis;leeftijd;aantal_gezinnen"
CSV_ROW = (
    "14/10/2026;Ouders kunnen de schooluitstap niet betalen.;Gent;Rabot;schoolpoort;"
    "brugfiguur;professionele_kennis;6-11|12-17;3"
)
CELLS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    NASTY_TEXT,
    st.sampled_from(['"', '""', '"a;b"', "\n", "\r\n", ";", ",", "|", "\ufeff"]),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = CSV_HEADER.split(";")
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        cells = CSV_ROW.split(";")
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            index = draw(st.integers(min_value=0, max_value=len(cells) - 1))
            cells[index] = draw(CELLS)
        if draw(st.booleans()):
            cells = cells[: draw(st.integers(min_value=0, max_value=len(cells)))]
        rows.append(";".join(cells))
    if draw(st.booleans()):
        header[draw(st.integers(min_value=0, max_value=len(header) - 1))] = draw(CELLS)
    bom = "\ufeff" if draw(st.booleans()) else ""
    text = bom + "\n".join([";".join(header), *rows])
    return text.encode("utf-8")


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        kind = draw(st.integers(min_value=0, max_value=2))
        if kind == 0:
            lines.append(json.dumps(draw(mutated(submission_body()))))
        elif kind == 1:
            lines.append(json.dumps({"signal": draw(mutated(submission_body()))}))
        else:
            lines.append(draw(st.one_of(TEXT, JSON.map(json.dumps))))
    return "\n".join(lines).encode("utf-8")


@PROPERTY
@given(
    st.one_of(
        st.tuples(st.just(".csv"), csv_files()),
        st.tuples(st.just(".jsonl"), jsonl_files()),
        st.tuples(st.sampled_from([".csv", ".jsonl", ""]), st.binary(max_size=300)),
    )
)
def test_an_import_file_is_rows_and_row_problems_or_a_file_error(case: tuple[str, bytes]) -> None:
    suffix, content = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"signalen{suffix}"
        path.write_bytes(content)
        parsed, error = attempt(lambda: parse_file(path, today=date(2026, 11, 20)), ImportFileError)
    if parsed is None:
        assert str(error)
        return
    for row in parsed.rows:
        # Every row the importer would send is a valid submission with an id.
        # (organisation: the token's, when the file leaves it out)
        SignalSubmissionV1.model_validate({"organisation": "org-uit-token", **row.body})
        uuid.UUID(row.body["signal_id"])
    for problem in parsed.problems:
        assert problem.line >= 1
        assert problem.message


# --------------------------------------------------------------- classifier normalisation


@PROPERTY
@given(st.one_of(st.text(max_size=200), NASTY_TEXT))
def test_tokens_point_into_the_text_in_order(text: str) -> None:
    tokens = tokenize(text)
    previous_start = 0
    for token in tokens:
        # Non-decreasing, not disjoint: one character may fold into two words
        # ("¼" folds to 1, a fraction slash and 4).
        assert previous_start <= token.start < token.end <= len(text)
        previous_start = token.start
        assert token.norm
        assert token.norm == fold(token.norm)
    assert not tokens or not tokens[-1].joins_next


@PROPERTY
@given(st.text(max_size=100))
def test_folding_is_idempotent_and_accent_free(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(unicodedata.combining(char) for char in folded)


# ----------------------------------------------------------------------------- periods


@PROPERTY
@given(st.one_of(st.text(max_size=12), st.from_regex(r"\A\d{4}(-([QqHh]\d|\d{2}))?\Z")))
def test_a_period_text_is_a_period_or_a_dutch_value_error(text: str) -> None:
    period, error = attempt(lambda: parse_period(text), ValueError)
    if period is None:
        # Dutch, and it quotes what was given.
        assert f"'{text}'" in str(error)
        return
    assert period.start <= period.end
    assert period.start.day == 1
    assert period_containing(period.start, _months(period)) == period


def _months(period: Period) -> int:
    return (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1


@PROPERTY
@given(
    st.integers(min_value=1000, max_value=9000),
    st.sampled_from(
        ["", "-Q1", "-Q2", "-Q3", "-Q4", "-H1", "-H2"] + [f"-{m:02d}" for m in range(1, 13)]
    ),
)
def test_period_names_round_trip(year: int, suffix: str) -> None:
    period = parse_period(f"{year}{suffix}")
    months = _months(period)
    assert months == {"": 12, "-Q": 3, "-H": 6}.get(suffix[:2] if suffix else "", 1)
    assert period.start.year == year
    # Periods tile the calendar: the one before ends the day before this one starts.
    [before] = previous_periods(period, months, 1)
    assert (period.start - before.end).days == 1
    # The day after a period, that period is the last closed one.
    assert last_closed_period(date.fromordinal(period.end.toordinal() + 1), months) == period


# -------------------------------------------------------------- steering-group command

RUNNER = CliRunner()


@PROPERTY
@given(
    options=st.fixed_dictionaries(
        {
            "id": st.one_of(st.just("gent-noord"), TEXT),
            "name": TEXT,
            "municipality": st.lists(st.one_of(st.just("Gent"), TEXT), max_size=3),
            "neighbourhood": st.lists(st.one_of(st.just("Rabot"), TEXT), max_size=2),
            "domain": st.lists(st.one_of(st.just("onderwijs"), TEXT), max_size=2),
            "cadence": st.one_of(st.sampled_from(["monthly", "quarterly", "custom"]), TEXT),
            "period_months": st.one_of(st.none(), st.integers(-5, 50).map(str), TEXT),
            "min_group_size": st.one_of(st.integers(-3, 20).map(str), TEXT),
            "since": st.one_of(st.none(), st.just("2026-01-01"), TEXT),
        }
    )
)
def test_steering_group_options_are_a_group_or_a_usage_error(
    options: dict[str, Any], monkeypatch_store: list[Any]
) -> None:
    args = ["add", options["id"], "--name", options["name"]]
    for flag in ("municipality", "neighbourhood", "domain"):
        for value in options[flag]:
            args += [f"--{flag}", value]
    args += ["--cadence", options["cadence"], "--min-group-size", options["min_group_size"]]
    if options["period_months"] is not None:
        args += ["--period-months", options["period_months"]]
    if options["since"] is not None:
        args += ["--since", options["since"]]
    assume(all("\x00" not in arg for arg in args))
    monkeypatch_store.clear()
    result = RUNNER.invoke(aggregator_cli.steering_group_app, args)
    # 0: stored; 2: a usage error naming the option. Anything else is a crash.
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    if result.exit_code == 0:
        [group] = monkeypatch_store
        assert group.municipalities
        assert 1 <= group.period_months <= 36
        assert group.min_group_size >= 2
    else:
        assert not monkeypatch_store


@pytest.fixture(scope="module")
def monkeypatch_store() -> Any:
    """The command's store, replaced by a list of what it would have stored."""
    stored: list[Any] = []
    patch = pytest.MonkeyPatch()

    def keep(work: Any) -> Any:
        class _Store:
            async def upsert_steering_group(self, group: Any) -> None:
                stored.append(group)

        import asyncio

        return asyncio.run(work(_Store()))

    patch.setattr(aggregator_cli, "_with_store", keep)
    yield stored
    patch.undo()


# ------------------------------------------------ what the properties found, pinned down


def test_found_periods_outside_the_calendar_are_a_dutch_error() -> None:
    for text in ("0000", "9999-Q4", "\ua8d9\ua8d9\ua8d9\ua8d9"):  # the last: Saurashtra digits
        with pytest.raises(ValueError, match=r"jaar|periode"):
            parse_period(text)


@pytest.mark.parametrize(
    "text",
    [
        "forms = [1]",
        'forms = "x"',
        '[[forms]]\nid = "a"\nkind = "kobo"\norganisation = "o"\nfields = true',
        '[[forms]]\nid = "a"\nkind = "kobo"\norganisation = "o"\nvalues = {vindplaats = 1}',
    ],
)
def test_found_a_malformed_connectors_file_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="connectors"):
        parse_connectors(text)


def test_found_a_target_group_that_is_not_an_object_is_a_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "signalen.jsonl"
    path.write_text(json.dumps(submission_body(target_group=True)) + "\n", encoding="utf-8")
    parsed = parse_file(path, today=date(2026, 11, 20))
    assert not parsed.rows
    assert [problem.column for problem in parsed.problems] == ["target_group"]


def test_found_a_steering_group_start_day_that_is_no_date_is_a_usage_error(
    monkeypatch_store: list[Any],
) -> None:
    monkeypatch_store.clear()
    args = ["add", "gent-noord", "--name", "Gent Noord", "--municipality", "Gent"]
    result = RUNNER.invoke(aggregator_cli.steering_group_app, [*args, "--since", "morgen"])
    assert result.exit_code == 2, result.output
    assert "--since" in result.output
    assert not monkeypatch_store
    assert RUNNER.invoke(aggregator_cli.steering_group_app, args).exit_code == 0
    assert len(monkeypatch_store) == 1


@pytest.mark.parametrize("answer", [True, 3, 2.5, {"a": "b"}])
def test_found_a_multiple_choice_answer_that_is_no_list_is_named_by_validation(
    answer: object,
) -> None:
    """Hypothesis found `doelgroep/leeftijd: true` crashing the mapping (a bool is no list)."""
    payload = copy.deepcopy(ODK_SUBMISSION)
    payload["doelgroep"] = {"leeftijd": answer}
    body, problems = map_submission(ODK, payload)
    assert problems == []
    assert body["target_group"]["age_bands"] == answer
    with pytest.raises(ValidationError) as caught:
        SignalSubmissionV1.model_validate(body)
    assert {detail["loc"][:2] for detail in caught.value.errors()} == {
        ("target_group", "age_bands")
    }
