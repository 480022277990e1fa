"""The README's demo, as a newcomer runs it (with --exit so it ends by itself)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import asyncpg

from services.demo import SAMPLE_FILES
from tests.integration.conftest import ROOT, free_port


def test_demo_sends_the_samples_and_writes_a_bundle(stack_env: dict[str, str]) -> None:
    env = {**os.environ, **stack_env, "SEINPOST_LOG_LEVEL": "INFO"}
    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "services.cli", "demo", "--exit", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    samples = [
        line
        for name in SAMPLE_FILES
        for line in (ROOT / "data" / "samples" / name).read_text().splitlines()
    ]
    assert f"{len(samples)}/{len(samples)} signals stored and classified" in output
    bundle_json = ROOT / "out" / "bundles"
    # The demo's steering group for Gent gets a new version of its bundle on every run.
    gent = sorted(bundle_json.glob("beleidsbundel-gent-*-v*.json"), key=lambda p: p.stat().st_mtime)
    assert gent, output
    assert "bundle gent v" in output
    bundle = json.loads(gent[-1].read_text(encoding="utf-8"))
    assert bundle["area"]["steering_group_id"] == "gent"
    assert bundle["area"]["municipalities"] == ["Gent"]
    assert gent[-1].with_suffix(".html").read_text(encoding="utf-8").lstrip().startswith("<!")
    assert gent[-1].with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert bundle["signal_count"]["count"] == sum(
        1 for line in samples if json.loads(line)["signal"]["municipality"] == "Gent"
    )
    # The recurring samples (school trips, mould in social housing) are big enough to show.
    assert len(bundle["themes"]) >= 2, bundle["themes"]
    # Logs are JSON lines with the signal id bound, and carry no signal text.
    intake_log = (ROOT / "out" / "demo" / "logs" / "intake.log").read_text(encoding="utf-8")
    # A demo run on a database of an earlier run finds its samples there already: duplicates.
    accepted = [
        json.loads(line)
        for line in intake_log.splitlines()
        if '"signal.accepted"' in line or '"signal.duplicate"' in line
    ]
    assert len(accepted) >= len(samples)
    assert all("signal_id" in line for line in accepted)
    texts = [json.loads(line)["signal"]["text"] for line in samples]
    for log_name in ("intake", "classifier", "aggregator"):
        log_text = (ROOT / "out" / "demo" / "logs" / f"{log_name}.log").read_text(encoding="utf-8")
        assert not any(text[:40] in log_text for text in texts), f"signal text in {log_name} log"
    # Personal data typed into the sample set reaches no log, no bundle and no stored text.
    personal = ["0478 12 34 56", "+32 486 55 12 09", "nadia.k1985@hotmail.com", "Populierstraat 27"]
    assert all(any(p in line for line in samples) for p in personal), "sample set changed?"
    logs = "".join(
        (ROOT / "out" / "demo" / "logs" / f"{name}.log").read_text(encoding="utf-8")
        for name in ("intake", "classifier", "aggregator")
    )
    stored = asyncio.run(_stored_texts(stack_env["SEINPOST_POSTGRES_DSN"]))
    for item in personal:
        assert item not in logs
        assert item not in json.dumps(bundle)
        assert item not in stored


async def _stored_texts(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT text FROM signals")
    finally:
        await connection.close()
    return "\n".join(row["text"] for row in rows)
