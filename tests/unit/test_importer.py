"""``seinpost import``: reading spreadsheets and JSON lines, checking every row with its line
number, stable ids for re-runs, and sending with retries (intake faked by httpx)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.importer import (
    ImportFileError,
    ImportRow,
    ImportStoppedError,
    check_choices,
    parse_file,
    send_rows,
)

TODAY = date(2026, 11, 23)
ROOT = Path(__file__).resolve().parents[2]
HEADER = "datum;tekst;gemeente;wijk;vindplaats;rol;kennis;leeftijd;gezinssituatie;aantal_gezinnen"
GOOD = "14/10/2026;Vier gezinnen kunnen de zeeklassen niet betalen.;Gent;Rabot;schoolpoort;"
GOOD += "brugfiguur;professionele_kennis;6-11|3-5;eenoudergezin;4"


def write(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_an_excel_csv_with_bom_semicolons_and_day_first_dates_is_read(tmp_path: Path) -> None:
    parsed = parse_file(write(tmp_path, "ronde.csv", f"{HEADER}\r\n{GOOD}\r\n", bom=True))
    assert parsed.valid, parsed.problems
    [row] = parsed.rows
    assert row.line == 2
    assert row.body["observed_on"] == "2026-10-14"
    assert row.body["municipality"] == "Gent"
    assert row.body["target_group"] == {
        "age_bands": ["6-11", "3-5"],
        "family_situations": ["eenoudergezin"],
    }
    assert row.body["families_count"] == 4
    assert "organisation" not in row.body, "intake takes the organisation from the token"


def test_comma_separated_with_contract_names_is_read(tmp_path: Path) -> None:
    text = (
        "observed_on,text,municipality,vindplaats,reporter_role,knowledge_type,organisation\n"
        '2026-11-02,"Geen bus meer naar school, ouders stappen een uur.",Gent,straat,'
        "jeugdwerker,ervaringskennis,jeugdhuis-kompas\n"
    )
    parsed = parse_file(write(tmp_path, "export.csv", text), today=TODAY)
    assert parsed.valid, parsed.problems
    assert parsed.rows[0].body["text"] == "Geen bus meer naar school, ouders stappen een uur."
    assert parsed.rows[0].body["organisation"] == "jeugdhuis-kompas"


def test_every_bad_row_is_reported_with_its_line_and_a_dutch_reason(tmp_path: Path) -> None:
    lines = [
        HEADER,
        GOOD,  # 2
        # 3-4: a quoted cell over two lines, still valid; the next record starts on line 5
        '14/10/2026;"Eerste regel van de tekst\ntweede regel van de tekst";Gent;;klas;'
        "leerkracht;professionele_kennis;;;",
        "14/10/2026;te kort;Gent;;klas;leerkracht;professionele_kennis;;;",  # 5
        "",  # 6: empty lines are skipped
        "14/10/2026;Een lange genoeg tekst hier.;Gent;;klas;leerkracht;weet_niet;;;",  # 7
        "14/12/2026;Een lange genoeg tekst hier.;Gent;;klas;leerkracht;ervaringskennis;;;",  # 8
        "14/10/2026;Een lange genoeg tekst hier.;Gent",  # 9
        "14/10/2026;Een lange genoeg tekst hier.;Gent;;klas;leerkracht;ervaringskennis;;;nul",
    ]
    parsed = parse_file(write(tmp_path, "ronde.csv", "\n".join(lines) + "\n"), today=TODAY)
    assert [row.line for row in parsed.rows if row.line not in parsed.bad_lines] == [2, 3]
    assert parsed.bad_lines == [5, 7, 8, 9, 10]
    by_line = {p.line: p for p in parsed.problems}
    assert by_line[5].column == "tekst"
    assert "minstens 10 tekens" in by_line[5].message
    assert by_line[7].column == "kennis"
    assert "ongeldige waarde" in by_line[7].message
    assert by_line[8].message == "de datum ligt in de toekomst"
    assert "3 cellen" in by_line[9].message
    assert by_line[10].column == "aantal_gezinnen"
    assert str(by_line[5]).startswith("regel 5: tekst: ")


def test_a_file_with_an_unknown_or_missing_column_is_refused_whole(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"onbekende kolom.*gemeentee"):
        parse_file(write(tmp_path, "a.csv", HEADER.replace("gemeente", "gemeentee") + "\n"))
    with pytest.raises(ImportFileError, match=r"verplichte kolom.*vindplaats"):
        parse_file(write(tmp_path, "b.csv", "datum;tekst;gemeente;rol;kennis\n"))


def test_extra_column_names_can_be_mapped(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", HEADER.replace("tekst", "Omschrijving") + "\n" + GOOD + "\n")
    parsed = parse_file(path, extra_columns={"Omschrijving": "text"}, today=TODAY)
    assert parsed.valid
    assert parsed.rows[0].body["text"].startswith("Vier gezinnen")


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(f"{HEADER}\n".encode() + GOOD.replace("Vier", "Vi\xe9r").encode("latin-1"))
    with pytest.raises(ImportFileError, match="regel 2: het bestand is geen UTF-8"):
        parse_file(path)


def test_json_lines_with_bad_lines_and_unknown_fields(tmp_path: Path) -> None:
    signal = {
        "observed_on": "2026-11-02",
        "text": "Wachtlijst kinderopvang is negen maanden.",
        "municipality": "Gent",
        "vindplaats": "huisbezoek",
        "reporter_role": "opgroeicoach",
        "knowledge_type": "professionele_kennis",
    }
    lines = [
        json.dumps(signal),
        "{not json",
        json.dumps({"signal": signal, "expected": {"domains": ["gezin"]}}),
        json.dumps({**signal, "gemeente": "Gent"}),
        "[1, 2]",
    ]
    parsed = parse_file(write(tmp_path, "s.jsonl", "\n".join(lines)), today=TODAY)
    assert parsed.bad_lines == [2, 4, 5]
    assert [row.line for row in parsed.rows] == [1, 3]
    by_line = {p.line: p for p in parsed.problems}
    assert by_line[2].message == "geen geldige JSON"
    assert by_line[4].column == "gemeente"
    assert "bestaat niet" in by_line[4].message


def test_ids_are_stable_across_runs_and_edits_and_distinct_for_twin_rows(tmp_path: Path) -> None:
    other = GOOD.replace("Vier gezinnen", "Vijf gezinnen")
    first = parse_file(write(tmp_path, "r.csv", f"{HEADER}\n{GOOD}\n{GOOD}\n{other}\n"))
    again = parse_file(write(tmp_path, "r.csv", f"{HEADER}\n{GOOD}\n{GOOD}\n{other}\n"))
    ids = [row.body["signal_id"] for row in first.rows]
    assert ids == [row.body["signal_id"] for row in again.rows]
    assert len(set(ids)) == 3, "two identical rows are still two signals"
    # Fixing or adding another row must not change the ids of rows already imported.
    edited = parse_file(
        write(tmp_path, "r.csv", f"{HEADER}\n{other.replace('Vijf', 'Zes')}\n{GOOD}\n{GOOD}\n")
    )
    assert [row.body["signal_id"] for row in edited.rows][1:] == ids[:2]


def test_a_given_signal_id_is_kept_and_must_be_unique(tmp_path: Path) -> None:
    given = "2f0c6a1e-8d4b-4c1f-9b7e-3a5d6c7e8f90"
    text = f"id;{HEADER}\n{given};{GOOD}\n{given};{GOOD.replace('Vier', 'Zes')}\n"
    parsed = parse_file(write(tmp_path, "ids.csv", text), today=TODAY)
    assert all(row.body["signal_id"] == given for row in parsed.rows)
    assert parsed.bad_lines == [2, 3]
    assert parsed.problems[0].message == "dit signal_id staat meermaals in het bestand"


CONFIG: dict[str, Any] = {
    "municipalities": [{"name": "Gent", "neighbourhoods": ["Rabot", "Brugse Poort"]}],
    "vindplaatsen": [{"id": "schoolpoort", "label": "Schoolpoort"}],
    "reporter_roles": [{"id": "brugfiguur", "label": "Brugfiguur"}],
    "knowledge_types": [{"id": "professionele_kennis", "label": "Professionele kennis"}],
    "family_situations": [{"id": "eenoudergezin", "label": "Eenoudergezin"}],
}


def test_rows_are_checked_against_intakes_choices(tmp_path: Path) -> None:
    rows = [
        GOOD,
        GOOD.replace("Gent", "Antwerpen"),
        GOOD.replace("Rabot", "Nergens"),
        GOOD.replace("schoolpoort", "klas"),
        GOOD.replace("eenoudergezin", "groot_gezin"),
    ]
    parsed = parse_file(write(tmp_path, "k.csv", "\n".join([HEADER, *rows])), today=TODAY)
    assert parsed.valid
    problems = check_choices(parsed, CONFIG)
    assert [(p.line, p.column) for p in problems] == [
        (3, "municipality"),
        (4, "neighbourhood"),
        (5, "vindplaats"),
        (6, "family_situations"),
    ]


def _rows(n: int) -> list[ImportRow]:
    return [ImportRow(line=i + 2, body={"signal_id": f"id-{i}"}) for i in range(n)]


async def test_sending_retries_busy_answers_and_counts_each_outcome() -> None:
    calls: list[dict[str, Any]] = []
    outcomes = ["accepted", "duplicate", "conflict", "invalid", "accepted"]

    def intake(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer spt_test"
        body = json.loads(request.content)
        calls.append(body)
        if len(calls) == 1:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"message": "later"})
        results = []
        for index, signal in enumerate(body["signals"]):
            outcome = outcomes[int(signal["signal_id"].split("-")[1])]
            error = (
                None
                if outcome in {"accepted", "duplicate"}
                else {
                    "message": "Niet geldig.",
                    "problems": [{"field": "text", "message": "te kort"}],
                }
            )
            results.append({"index": index, "outcome": outcome, "error": error})
        return httpx.Response(200, json={"results": results})

    progress: list[int] = []
    summary = await send_rows(
        _rows(5),
        base_url="http://intake",
        token="spt_test",
        batch_size=3,
        on_progress=progress.append,
        transport=httpx.MockTransport(intake),
    )
    assert summary.retries == 1
    assert calls[0] == calls[1], "a retry sends the very same batch"
    assert progress == [3, 2]
    assert (summary.accepted, summary.duplicate, summary.conflict, summary.rejected) == (2, 1, 1, 1)
    assert summary.failures == [
        (4, "Niet geldig. text: te kort"),
        (5, "Niet geldig. text: te kort"),
    ]


async def test_a_refused_token_stops_the_import() -> None:
    def intake(_: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "Onbekende sleutel."})

    with pytest.raises(ImportStoppedError, match="401: Onbekende sleutel"):
        await send_rows(
            _rows(2), base_url="http://i", token="spt_x", transport=httpx.MockTransport(intake)
        )


def test_the_command_imports_nothing_while_a_row_is_bad(tmp_path: Path) -> None:
    bad = GOOD.replace("schoolpoort", "School Poort")
    path = write(tmp_path, "ronde.csv", f"{HEADER}\n{GOOD}\n{bad}\n")
    # No intake runs at this URL: any attempt to send would fail differently.
    result = CliRunner().invoke(
        app, ["import", str(path), "--url", "http://127.0.0.1:9", "--token", "spt_x"]
    )
    assert result.exit_code == 1, result.output
    assert "regel 3: vindplaats: ongeldige code" in result.output
    assert "Er is niets ingevoerd" in result.output


def test_the_example_file_in_the_readme_is_valid() -> None:
    parsed = parse_file(ROOT / "data" / "samples" / "import-example.csv", today=TODAY)
    assert parsed.valid, parsed.problems
    assert len(parsed.rows) >= 5
