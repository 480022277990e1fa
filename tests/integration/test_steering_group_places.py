"""``seinpost steering-group add`` against the real PostgreSQL: an area is stored under the
official names intake uses, so a steering group's bundle meets the signals of its area."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from services.aggregator.storage import PostgresSignalStore
from services.cli import app
from services.common.postgres import create_pool
from services.common.settings import PostgresSettings


async def test_aliases_are_stored_as_official_names_and_unknown_places_not_at_all(
    postgres_settings: PostgresSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEINPOST_POSTGRES_DSN", postgres_settings.dsn.get_secret_value())
    runner = CliRunner()

    def add(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["steering-group", "add", *args])
        return result.exit_code, result.output

    code, output = await asyncio.to_thread(
        add, "waasland", "--name", "Stuurgroep Waasland", "-m", "Kruibeke", "-m", "gent ",
        "--neighbourhood", "rabot",
    )  # fmt: skip
    assert code == 0, output
    code, output = await asyncio.to_thread(
        add, "nergens", "--name", "Stuurgroep Nergens", "-m", "Atlantis"
    )
    assert code == 2
    assert "Atlantis" in output

    pool = await create_pool(postgres_settings)
    try:
        store = PostgresSignalStore(pool)
        group = await store.steering_group("waasland")
        assert group is not None
        assert group.municipalities == ("Beveren-Kruibeke-Zwijndrecht", "Gent")
        assert group.neighbourhoods == ("Rabot",)
        assert await store.steering_group("nergens") is None
    finally:
        await pool.close()
