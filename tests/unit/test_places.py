"""The shared list of places: one model for intake's checks and steering groups' areas."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.common.places import (
    DEFAULT_OPTIONS_FILE,
    OPTIONS_FILE_ENV,
    UnknownPlaceError,
    load_places,
    options_file,
    resolve_area,
)
from services.intake.domain.options import parse_options

SMALL = """
[[municipalities]]
name = "Gent"
neighbourhoods = ["Rabot", "Brugse Poort"]

[[municipalities]]
name = "Beveren-Kruibeke-Zwijndrecht"
aliases = ["Beveren", "Kruibeke", "Zwijndrecht"]
"""


def test_intake_and_the_shared_list_agree_on_every_municipality() -> None:
    places = load_places(DEFAULT_OPTIONS_FILE)
    intake = parse_options(DEFAULT_OPTIONS_FILE.read_text(encoding="utf-8"))
    assert len(places.municipalities) == len(intake.municipalities) > 300
    for municipality in intake.municipalities:
        for name in (municipality.name, *municipality.aliases):
            assert places.municipality(name) == municipality


def test_aliases_and_spelling_resolve_to_the_official_names() -> None:
    area = resolve_area(load_places(DEFAULT_OPTIONS_FILE), [" kruibeke", "GENT"], ["brugse  poort"])
    assert area.municipalities == ("Beveren-Kruibeke-Zwijndrecht", "Gent")
    assert area.neighbourhoods == ("Brugse Poort",)
    whole = resolve_area(load_places(DEFAULT_OPTIONS_FILE), ["Beveren", "Zwijndrecht"], None)
    assert whole.municipalities == ("Beveren-Kruibeke-Zwijndrecht",)
    assert whole.neighbourhoods is None


def test_an_unknown_municipality_or_neighbourhood_is_named_in_dutch() -> None:
    places = load_places(DEFAULT_OPTIONS_FILE)
    with pytest.raises(UnknownPlaceError, match="onbekende gemeente: 'Gentbrugge-City'"):
        resolve_area(places, ["Gent", "Gentbrugge-City"], None)
    with pytest.raises(UnknownPlaceError, match="onbekende wijk: 'Rabotje' ligt niet in Gent"):
        resolve_area(places, ["Gent"], ["Rabot", "Rabotje"])


def test_a_municipality_without_a_closed_list_takes_any_neighbourhood(tmp_path: Path) -> None:
    path = tmp_path / "options.toml"
    path.write_text(SMALL, encoding="utf-8")
    places = load_places(path)
    area = resolve_area(places, ["Zwijndrecht"], ["Burcht  dorp"])
    assert area.neighbourhoods == ("Burcht dorp",)
    with pytest.raises(UnknownPlaceError):
        resolve_area(places, ["Gent"], ["Burcht"])


def test_the_options_file_follows_the_intake_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "options.toml"
    path.write_text(SMALL, encoding="utf-8")
    monkeypatch.setenv(OPTIONS_FILE_ENV, str(path))
    assert options_file() == path
    assert [m.name for m in load_places().municipalities] == [
        "Gent",
        "Beveren-Kruibeke-Zwijndrecht",
    ]


def test_steering_group_add_refuses_an_unknown_place_before_touching_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An unreachable database: a refusal must come from the check, not from a connection.
    monkeypatch.setenv("SEINPOST_POSTGRES_DSN", "postgresql://x:y@127.0.0.1:1/none")
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["steering-group", "add", "sg", "--name", "Stuurgroep", "-m", "Gent", "-m", "Atlantis"],
    )
    assert result.exit_code == 2
    assert "onbekende gemeente" in result.output
    assert "Atlantis" in result.output
    wijk = runner.invoke(
        app,
        ["steering-group", "add", "sg", "--name", "S", "-m", "Gent", "--neighbourhood", "Nergens"],
    )
    assert wijk.exit_code == 2
    assert "onbekende wijk" in wijk.output
