"""``seinpost import`` against real intake, Kafka and PostgreSQL: an import cut off mid-way
(intake accepted a batch whose answer never came back) and then run again ends with every
row on the submitted topic exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.importer import parse_file, send_rows
from tests.integration.enrolled import ORGANISATION, EnrolledIntake, read_submitted

HEADER = "datum;tekst;gemeente;wijk;vindplaats;rol;kennis;leeftijd;gezinssituatie;aantal_gezinnen"
THEMES = [
    "kunnen de schoolrekening voor de uitstap niet betalen",
    "vinden geen plaats in de kinderopvang in de buurt",
    "hebben schimmel in de slaapkamer van de kinderen",
    "hebben thuis geen laptop voor de taken op Smartschool",
    "kennen de weg naar de schooltoelage niet",
]


class ImportInterruptedError(Exception):
    """Stands in for Ctrl-C or a dropped laptop lid."""


class CutOffAfter(httpx.AsyncBaseTransport):
    """Passes requests to intake, but the answer to request number ``n`` is lost: intake has
    done the work, the importer never hears it and stops."""

    def __init__(self, n: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.n = n
        self.seen = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.seen += 1
        if self.seen == self.n:
            await response.aread()
            raise ImportInterruptedError
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def write_round(path: Path, rows: int) -> None:
    lines = [HEADER]
    for i in range(rows):
        theme = THEMES[i % len(THEMES)]
        families = i % 4 + 1
        lines.append(
            f"{(i % 27) + 1:02d}/10/2026;{families} gezinnen {theme} (ronde {i // 5 + 1}).;"
            "Gent;Brugse Poort;huisbezoek;brugfiguur;professionele_kennis;6-11;;"
            f"{families}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


async def test_an_interrupted_import_run_again_brings_each_row_exactly_once(
    enrolled_intake: EnrolledIntake, tmp_path: Path
) -> None:
    intake = enrolled_intake
    path = tmp_path / "ronde-oktober.csv"
    write_round(path, 25)
    parsed = parse_file(path)
    assert parsed.valid, parsed.problems
    ids = [row.body["signal_id"] for row in parsed.rows]
    assert len(set(ids)) == 25

    cut = CutOffAfter(2)
    with pytest.raises(ImportInterruptedError):
        await send_rows(
            parsed.rows, base_url=intake.url, token=intake.token, batch_size=10, transport=cut
        )
    assert cut.seen == 2

    # The same command again, as the coordinator would type it (in a thread: it runs its own
    # event loop).
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["import", str(path), "--url", intake.url, "--batch-size", "10"],
        env={"SEINPOST_TOKEN": intake.token},
    )
    assert result.exit_code == 0, result.output
    assert "aanvaard 5 · al aanwezig 20 · conflict 0 · geweigerd 0" in result.output

    events = await read_submitted(intake.kafka)
    counted = Counter(event["data"]["signal_id"] for event in events)
    assert sorted(counted) == sorted(ids)
    assert set(counted.values()) == {1}
    assert {event["data"]["organisation"] for event in events} == {ORGANISATION}


async def test_a_file_with_one_bad_row_imports_nothing_until_skip_invalid(
    enrolled_intake: EnrolledIntake, tmp_path: Path
) -> None:
    intake = enrolled_intake
    path = tmp_path / "ronde.csv"
    write_round(path, 4)
    text = path.read_text(encoding="utf-8-sig").splitlines()
    text[3] = text[3].replace("Gent", "Antwerpen")  # outside the token's area
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    runner = CliRunner()
    arguments = ["import", str(path), "--url", intake.url, "--token", intake.token]

    refused = await asyncio.to_thread(runner.invoke, app, arguments)
    assert refused.exit_code == 1, refused.output
    assert "regel 4: municipality:" in refused.output
    assert "Er is niets ingevoerd" in refused.output

    skipped = await asyncio.to_thread(runner.invoke, app, [*arguments, "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert "aanvaard 3 · al aanwezig 0" in skipped.output
    assert "ongeldig overgeslagen 1" in skipped.output
    events = await read_submitted(intake.kafka)
    assert len(events) == 3
    assert {event["data"]["municipality"] for event in events} == {"Gent"}
