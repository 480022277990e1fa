"""``seinpost import FILE``: signals from paper rounds and spreadsheets, in bulk, over HTTP.

Two promises. Nothing is imported until the whole file is valid (or the operator says
``--skip-invalid``): every row is checked first, and every bad row is reported with its line
number and the reason in Dutch. And a re-run never doubles a signal: a row without a
``signal_id`` gets one derived from its content, so the same row gets the same id on every run
and intake answers the second sending with the original acceptance.

The importer is a client of intake like any other (``POST /v1/signals/batch`` with a token);
it sits above the services and imports none of their internals except the Dutch reasons.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

import httpx
import typer
from pydantic import ValidationError

from schemas.v1 import SignalSubmissionV1
from services.intake.errors import field_problems

# field of SignalSubmissionV1 (or of its target group) -> accepted column headers
COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "signal_id": ("signal_id", "id"),
    "observed_on": ("observed_on", "datum"),
    "text": ("text", "tekst", "signaal"),
    "municipality": ("municipality", "gemeente"),
    "neighbourhood": ("neighbourhood", "wijk"),
    "vindplaats": ("vindplaats",),
    "reporter_role": ("reporter_role", "rol"),
    "knowledge_type": ("knowledge_type", "kennis", "soort_kennis"),
    "age_bands": ("age_bands", "leeftijd", "leeftijden"),
    "family_situations": ("family_situations", "gezinssituatie", "gezinssituaties"),
    "families_count": ("families_count", "aantal_gezinnen", "gezinnen"),
    "organisation": ("organisation", "organisatie"),
    "submitted_at": ("submitted_at", "ingediend_op"),
}
LIST_FIELDS: Final = frozenset({"age_bands", "family_situations"})
REQUIRED_COLUMNS: Final = (
    "observed_on",
    "text",
    "municipality",
    "vindplaats",
    "reporter_role",
    "knowledge_type",
)

# A fixed namespace: the same row content maps to the same signal_id on every machine and run.
_ROW_ID_NAMESPACE: Final = uuid.UUID("5e1a9057-1a90-4000-8000-000000001a90")
# Validation needs an organisation; when intake takes it from the token, none is sent.
_ORGANISATION_FROM_TOKEN: Final = "organisatie-van-de-sleutel"  # noqa: S105 - an id, no secret
_PLACEHOLDER_ID: Final = "00000000-0000-4000-8000-000000000000"
_LOCAL_TIME: Final = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"regel {self.line}: {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    body: dict[str, Any]


@dataclass
class ParsedFile:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({problem.line for problem in self.problems})

    @property
    def valid(self) -> bool:
        return not self.problems


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header): nothing row by row to report."""


# --- reading ---------------------------------------------------------------------------------


def _normalise_header(header: str) -> str:
    return header.strip().casefold().replace(" ", "_").replace("-", "_")


def column_map(headers: Sequence[str], extra: Mapping[str, str]) -> dict[str, str]:
    """Header as written in the file -> field name. Unknown headers are an error: a typo in a
    column name would otherwise drop that column's data silently."""
    known = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
    known.update({_normalise_header(k): v for k, v in extra.items()})
    mapping, unknown = {}, []
    for header in headers:
        name = known.get(_normalise_header(header))
        if name is None:
            unknown.append(header)
        else:
            mapping[header] = name
    if unknown:
        raise ImportFileError(
            f"onbekende kolom(men): {', '.join(unknown)}. Toegelaten: "
            f"{', '.join(COLUMNS)} (of hun Nederlandse namen, zie README)."
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in mapping.values()]
    if missing:
        raise ImportFileError(f"verplichte kolom(men) ontbreken: {', '.join(missing)}.")
    return mapping


def _decode(raw: bytes) -> str:
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"regel {line}: het bestand is geen UTF-8. Sla het in Excel op als "
            "'CSV UTF-8 (door komma's gescheiden)'."
        ) from None


def _delimiter(header_line: str) -> str:
    # Excel writes ';' where the decimal separator is a comma (Belgium), ',' elsewhere.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _csv_records(
    text: str, extra: Mapping[str, str]
) -> tuple[dict[str, str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header's column map, and the records with the line each starts on."""
    header_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header_line))
    try:
        headers = next(reader)
    except (StopIteration, csv.Error):
        raise ImportFileError("het bestand is leeg of heeft geen kopregel.") from None
    mapping = column_map(headers, extra)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        while True:
            line = reader.line_num + 1  # where this record starts (a quoted cell may span lines)
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(f"regel {line}: geen geldige CSV ({exc}).") from None
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(headers):
                shape = f"{len(cells)} cellen, de kopregel heeft er {len(headers)}"
                yield line, {"__shape__": shape}
                continue
            record: dict[str, Any] = {}
            for header, cell in zip(headers, cells, strict=True):
                value = cell.strip()
                if value:
                    record[mapping[header]] = value
            yield line, _shape_csv_values(record)

    return mapping, records()


def _jsonl_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            item = json.loads(content)
        except json.JSONDecodeError:
            yield line, {"__shape__": "geen geldige JSON"}
            continue
        if isinstance(item, dict) and isinstance(item.get("signal"), dict):
            item = item["signal"]  # the sample set's {"signal": …, "expected": …}
        if not isinstance(item, dict):
            yield line, {"__shape__": "elke regel moet één JSON-object zijn"}
            continue
        yield line, item


def _is_json_lines(path: Path, text: str) -> bool:
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        return True
    if path.suffix.lower() in {".csv", ".tsv", ".txt"}:
        return False
    return text.lstrip().startswith("{")


# --- checking --------------------------------------------------------------------------------


def _parse_date(value: Any) -> Any:
    """ISO dates, and the day-first dates a Belgian spreadsheet shows (18/11/2026)."""
    if not isinstance(value, str) or "-" in value[:5]:
        return value
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    return value


def _shape_csv_values(record: dict[str, Any]) -> dict[str, Any]:
    """Spreadsheet cells are text: lists become lists, numbers numbers, dates ISO."""
    body = dict(record)
    for name in LIST_FIELDS:
        if isinstance(body.get(name), str):
            body[name] = [part.strip() for part in body[name].replace(";", "|").split("|")]
            body[name] = [part for part in body[name] if part]
    if isinstance(body.get("families_count"), str) and body["families_count"].isdigit():
        body["families_count"] = int(body["families_count"])
    if "observed_on" in body:
        body["observed_on"] = _parse_date(body["observed_on"])
    return body


def _nest_target_group(body: dict[str, Any]) -> dict[str, Any]:
    group = body.pop("target_group", None) or {}
    if not isinstance(group, dict):
        # Not an object: leave it to the contract, which names the field (not a crash here).
        body["target_group"] = group
        return body
    group = dict(group)
    for name in LIST_FIELDS:
        if name in body:
            group[name] = body.pop(name)
    if group:
        body["target_group"] = group
    return body


def row_signal_id(body: Mapping[str, Any], occurrence: int) -> str:
    """A row's id from its content: stable across runs, also after other rows were fixed.

    ``occurrence`` tells apart identical rows within one file (two reporters may write the
    very same sentence on a paper round).
    """
    content = {k: v for k, v in body.items() if k not in {"signal_id", "submitted_at"}}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(_ROW_ID_NAMESPACE, f"{canonical}#{occurrence}"))


def check_record(
    line: int,
    record: dict[str, Any],
    *,
    organisation: str | None,
    today: date,
    columns: Mapping[str, str],
) -> ImportRow | list[RowProblem]:
    """One row against the contract (``SignalSubmissionV1``): the body to send, or why not."""
    if "__shape__" in record:
        return [RowProblem(line, "(regel)", record["__shape__"])]
    body = _nest_target_group(dict(record))
    if organisation is not None:
        body.setdefault("organisation", organisation)
    has_id = "signal_id" in body
    candidate = {
        **body,
        "signal_id": body.get("signal_id", _PLACEHOLDER_ID),
        "organisation": body.get("organisation", _ORGANISATION_FROM_TOKEN),
    }
    try:
        model = SignalSubmissionV1.model_validate(candidate)
    except ValidationError as exc:
        return [
            RowProblem(line, _column_name(problem.field, columns), problem.message)
            for problem in field_problems(exc.errors())
        ]
    if model.observed_on > today + timedelta(days=1):
        return [RowProblem(line, columns.get("observed_on", "observed_on"), _FUTURE)]
    checked = model.model_dump(mode="json", exclude_none=True)
    if "organisation" not in body:
        del checked["organisation"]
    if not has_id:
        del checked["signal_id"]
    if "submitted_at" not in body:
        checked.pop("submitted_at", None)
    if not checked.get("target_group", {}).get("age_bands") and not checked.get(
        "target_group", {}
    ).get("family_situations"):
        checked.pop("target_group", None)
    return ImportRow(line=line, body=checked)


_FUTURE: Final = "de datum ligt in de toekomst"


def _column_name(field_path: str, columns: Mapping[str, str]) -> str:
    top = field_path.split(".")
    name = top[1] if top[0] == "target_group" and len(top) > 1 else top[0]
    return columns.get(name, field_path)


def parse_file(
    path: Path,
    *,
    organisation: str | None = None,
    extra_columns: Mapping[str, str] | None = None,
    today: date | None = None,
) -> ParsedFile:
    """Read and check every row; give each valid row its signal_id."""
    text = _decode(path.read_bytes())
    today = today or datetime.now(UTC).astimezone(_LOCAL_TIME).date()
    extra = extra_columns or {}
    if _is_json_lines(path, text):
        records = _jsonl_records(text)
        reverse: dict[str, str] = {}
    else:
        mapping, records = _csv_records(text, extra)
        reverse = {field: header for header, field in mapping.items()}
    parsed = ParsedFile()
    seen: Counter[str] = Counter()
    for line, record in records:
        outcome = check_record(
            line, record, organisation=organisation, today=today, columns=reverse
        )
        if isinstance(outcome, list):
            parsed.problems.extend(outcome)
            continue
        if "signal_id" not in outcome.body:
            key = row_signal_id(outcome.body, 0)
            seen[key] += 1
            outcome.body["signal_id"] = row_signal_id(outcome.body, seen[key] - 1)
        parsed.rows.append(outcome)
    ids = Counter(row.body["signal_id"] for row in parsed.rows)
    for row in parsed.rows:
        if ids[row.body["signal_id"]] > 1:
            parsed.problems.append(
                RowProblem(row.line, "signal_id", "dit signal_id staat meermaals in het bestand")
            )
    return parsed


def check_choices(parsed: ParsedFile, config: Mapping[str, Any]) -> list[RowProblem]:
    """Rows against intake's form configuration (``GET /v1/form-config``), so a municipality
    outside the token's area or an unknown code stops the import before anything is sent."""
    municipalities = {
        str(m["name"]).casefold(): [str(n).casefold() for n in m.get("neighbourhoods", [])]
        for m in config.get("municipalities", [])
    }
    lists = {
        "vindplaats": "vindplaatsen",
        "reporter_role": "reporter_roles",
        "knowledge_type": "knowledge_types",
    }
    codes = {name: {str(c["id"]) for c in config.get(key, [])} for name, key in lists.items()}
    families = {str(c["id"]) for c in config.get("family_situations", [])}
    problems = []
    for row in parsed.rows:
        body = row.body
        place = str(body["municipality"]).casefold()
        if place not in municipalities:
            problems.append(
                RowProblem(
                    row.line,
                    "municipality",
                    "deze gemeente is onbekend of valt buiten het werkgebied van de sleutel "
                    "(gebruik de officiële naam van na de fusies van 2025)",
                )
            )
        elif (
            municipalities[place]
            and body.get("neighbourhood") is not None
            and str(body["neighbourhood"]).casefold() not in municipalities[place]
        ):
            problems.append(
                RowProblem(row.line, "neighbourhood", "deze wijk is onbekend in die gemeente")
            )
        for name, allowed in codes.items():
            if allowed and body[name] not in allowed:
                problems.append(RowProblem(row.line, name, f"onbekende code '{body[name]}'"))
        for situation in body.get("target_group", {}).get("family_situations", []):
            if families and situation not in families:
                problems.append(
                    RowProblem(row.line, "family_situations", f"onbekende code '{situation}'")
                )
    return problems


# --- sending ---------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    retries: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)  # (line, Dutch reason)

    @property
    def sent(self) -> int:
        return self.accepted + self.duplicate + self.conflict + self.rejected


class ImportStoppedError(Exception):
    """Sending stopped part-way (no connection, token refused). A re-run is safe."""


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    return str(body.get("message") or f"HTTP {response.status_code}")


async def fetch_form_config(
    base_url: str, token: str | None, *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any] | None:
    """The form configuration, or None when intake cannot say (old intake, no token)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, transport=transport) as client:
        try:
            response = await client.get("/v1/form-config", headers=_auth(token))
        except httpx.TransportError:
            return None
    if response.status_code in (401, 403):
        raise ImportStoppedError(f"intake weigert de sleutel: {_reason(response)}")
    if response.status_code != 200:
        return None
    config = response.json()
    return config if isinstance(config, dict) else None


async def send_rows(
    rows: Sequence[ImportRow],
    *,
    base_url: str,
    token: str | None,
    batch_size: int = 100,
    max_attempts: int = 20,
    on_progress: Callable[[int], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ImportSummary:
    """Send the rows in batches; "try later" answers are retried with the same ids."""
    from services.workflows import post_with_retry  # heavy imports only when sending

    summary = ImportSummary()

    def count_retry(_: httpx.Response | None) -> None:
        summary.retries += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, transport=transport) as client:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            response = await post_with_retry(
                client,
                "/v1/signals/batch",
                {"signals": [row.body for row in batch]},
                headers=_auth(token),
                max_attempts=max_attempts,
                on_retry=count_retry,
            )
            if response is None:
                raise ImportStoppedError("geen verbinding met intake")
            if response.status_code != 200:
                raise ImportStoppedError(
                    f"intake antwoordt {response.status_code}: {_reason(response)}"
                )
            _count(summary, batch, response.json().get("results", []))
            if on_progress is not None:
                on_progress(len(batch))
    return summary


def _count(summary: ImportSummary, batch: Sequence[ImportRow], results: list[Any]) -> None:
    if len(results) != len(batch):
        raise ImportStoppedError("intake gaf niet voor elke rij een antwoord")
    for row, result in zip(batch, results, strict=True):
        outcome = result.get("outcome")
        if outcome == "accepted":
            summary.accepted += 1
        elif outcome == "duplicate":
            summary.duplicate += 1
        else:
            error = result.get("error") or {}
            details = "; ".join(
                f"{p.get('field')}: {p.get('message')}" for p in error.get("problems", [])
            )
            reason = " ".join(filter(None, [error.get("message"), details])) or str(outcome)
            summary.failures.append((row.line, reason))
            if outcome == "conflict":
                summary.conflict += 1
            else:
                summary.rejected += 1


# --- the command -----------------------------------------------------------------------------


def _extra_columns(pairs: Sequence[str]) -> dict[str, str]:
    extra = {}
    for pair in pairs:
        header, sep, name = pair.partition("=")
        if not sep or name.strip() not in COLUMNS:
            raise typer.BadParameter(
                f"--column '{pair}': schrijf KOPTEKST=veld, met veld één van {', '.join(COLUMNS)}"
            )
        extra[header.strip()] = name.strip()
    return extra


def import_command(
    file: Annotated[Path, typer.Argument(help="CSV (kopregel; ';' of ',') of JSON lines.")],
    url: Annotated[
        str, typer.Option(envvar="SEINPOST_INTAKE_URL", help="Intake base URL.")
    ] = "http://127.0.0.1:8080",
    token: Annotated[
        str | None,
        typer.Option(envvar="SEINPOST_TOKEN", help="API token of the organisation (spt_…)."),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows even if others fail.")
    ] = False,
    check_only: Annotated[
        bool, typer.Option("--check", help="Only check the file; send nothing.")
    ] = False,
    organisation: Annotated[
        str | None,
        typer.Option(help="Organisation id for rows without one (else intake takes the token's)."),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(help="Extra column name: 'Omschrijving=text' (repeat the option)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Rows per request.")] = 100,
) -> None:
    """Import signals from a file (paper rounds, spreadsheets); safe to run again."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    try:
        parsed = parse_file(
            file, organisation=organisation, extra_columns=_extra_columns(column or [])
        )
    except (ImportFileError, OSError) as exc:
        console.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(2) from None
    if not check_only and token:
        try:
            config = asyncio.run(fetch_form_config(url, token))
        except ImportStoppedError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        if config is not None:
            parsed.problems.extend(check_choices(parsed, config))
            parsed.problems.sort(key=lambda problem: problem.line)
    for problem in parsed.problems:
        console.print(f"{file}: {problem}", highlight=False, soft_wrap=True)
    bad = set(parsed.bad_lines)
    good = [row for row in parsed.rows if row.line not in bad]
    total = len(good) + len(bad)
    console.print(f"{total} rijen gelezen: {len(good)} geldig, {len(bad)} ongeldig.")
    if bad and not skip_invalid:
        console.print(
            "Er is niets ingevoerd. Verbeter de rijen hierboven, of gebruik --skip-invalid "
            "om enkel de geldige rijen in te voeren."
        )
        raise typer.Exit(1)
    if check_only:
        raise typer.Exit(1 if bad else 0)
    if not token:
        console.print("Geef een sleutel met --token of SEINPOST_TOKEN.")
        raise typer.Exit(2)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("versturen", total=len(good))
        try:
            summary = asyncio.run(
                send_rows(
                    good,
                    base_url=url,
                    token=token,
                    batch_size=batch_size,
                    on_progress=lambda n: progress.advance(task, n),
                )
            )
        except ImportStoppedError as exc:
            progress.stop()
            console.print(
                f"[red]Gestopt: {exc}.[/red] Start dezelfde opdracht opnieuw: wat al "
                "aankwam, wordt herkend en niet dubbel ingevoerd."
            )
            raise typer.Exit(3) from None
    for line, reason in summary.failures:
        console.print(f"{file}: regel {line}: {reason}", highlight=False, soft_wrap=True)
    typer.echo(
        f"aanvaard {summary.accepted} · al aanwezig {summary.duplicate} · "
        f"conflict {summary.conflict} · geweigerd {summary.rejected} · "
        f"ongeldig overgeslagen {len(bad)}"
    )
    if summary.conflict or summary.rejected:
        raise typer.Exit(1)
