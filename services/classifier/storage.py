"""The classifier's state: corrections in PostgreSQL (all SQL is here) and the learned model
as a JSON file per taxonomy."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import structlog

from schemas.v1 import CorrectionV1
from services.classifier.domain.learned import LearnedModel, TrainingExample
from services.common.postgres import migrate

if TYPE_CHECKING:
    from services.common.postgres import Pool

log = structlog.get_logger(__name__)

COMPONENT: Final = "classifier"
MIGRATIONS: Final = "services.classifier.migrations"


class CorrectionStore(Protocol):
    async def save(self, corrections: Sequence[CorrectionV1]) -> int:
        """Store corrections, idempotent on ``correction_id``; returns how many were new."""
        ...

    async def training_examples(self, taxonomy_id: str) -> list[TrainingExample]: ...


class PostgresCorrectionStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def migrate(self) -> list[int]:
        async with self._pool.acquire() as connection:
            return await migrate(connection, COMPONENT, MIGRATIONS)

    async def save(self, corrections: Sequence[CorrectionV1]) -> int:
        if not corrections:
            return 0
        rows: list[tuple[Any, ...]] = [
            (
                c.correction_id,
                c.signal.signal_id,
                c.taxonomy_id,
                c.domains,
                c.signal.text,
                c.signal.municipality,
                c.corrected_by_role,
                c.corrected_at,
                c.reason,
            )
            for c in corrections
        ]
        # One statement per batch; a redelivered correction is a no-op.
        inserted = await self._pool.fetchval(
            """
            WITH incoming AS (
                SELECT * FROM unnest(
                    $1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::text[], $8::timestamptz[], $9::text[]
                ) AS t(correction_id, signal_id, taxonomy_id, domains_csv, text, municipality,
                       corrected_by_role, corrected_at, reason)
            ), inserted AS (
                INSERT INTO classifier_corrections (
                    correction_id, signal_id, taxonomy_id, domains, text, municipality,
                    corrected_by_role, corrected_at, reason)
                SELECT correction_id, signal_id, taxonomy_id, string_to_array(domains_csv, ','),
                       text, municipality, corrected_by_role, corrected_at, reason
                FROM incoming
                ON CONFLICT (correction_id) DO NOTHING
                RETURNING 1
            )
            SELECT count(*) FROM inserted
            """,
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            # Domain ids are slugs (no commas): a text per row avoids a 2-D array parameter.
            [",".join(r[3]) for r in rows],
            [r[4] for r in rows],
            [r[5] for r in rows],
            [r[6] for r in rows],
            [r[7] for r in rows],
            [r[8] for r in rows],
        )
        return int(inserted)

    async def training_examples(self, taxonomy_id: str) -> list[TrainingExample]:
        """The latest correction of every signal corrected under ``taxonomy_id``."""
        records = await self._pool.fetch(
            """
            SELECT DISTINCT ON (signal_id) text, domains
            FROM classifier_corrections
            WHERE taxonomy_id = $1
            ORDER BY signal_id, corrected_at DESC, correction_id DESC
            """,
            taxonomy_id,
        )
        # A text removed by the retention purge is empty: nothing left to learn from.
        return [TrainingExample(r["text"], tuple(r["domains"])) for r in records if r["text"]]


class ModelFiles:
    """One JSON file per taxonomy id under ``directory``, replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, taxonomy_id: str) -> Path:
        return self.directory / f"{taxonomy_id}.model.json"

    def save(self, model: LearnedModel) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(model.taxonomy_id)
        # Write-then-rename: a service reading at the same moment sees the old or the new
        # model, never half a file.
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(model.to_json())
        os.replace(temporary, target)
        return target

    def load(self, taxonomy_id: str) -> LearnedModel | None:
        target = self.path(taxonomy_id)
        try:
            model = LearnedModel.from_json(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        if model.taxonomy_id != taxonomy_id:
            # Never apply what was learned under another network's taxonomy.
            log.warning("model.wrong_taxonomy", path=str(target), found=model.taxonomy_id)
            return None
        return model


class CurrentModel:
    """The model the service classifies with; picks up a newer file at most every
    ``check_s`` seconds, so `seinpost classifier train` needs no restart."""

    def __init__(self, files: ModelFiles, taxonomy_id: str, *, check_s: float) -> None:
        self._files = files
        self._taxonomy_id = taxonomy_id
        self._check_s = check_s
        self._checked_at = float("-inf")
        self._mtime: float | None = None
        self._model: LearnedModel | None = None

    def get(self) -> LearnedModel | None:
        now = time.monotonic()
        if now - self._checked_at >= self._check_s:
            self._checked_at = now
            self._refresh()
        return self._model

    def _refresh(self) -> None:
        path = self._files.path(self._taxonomy_id)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            self._mtime, self._model = None, None
            return
        if mtime == self._mtime:
            return
        try:
            model = self._files.load(self._taxonomy_id)
        except (ValueError, KeyError) as error:
            # A broken file must not stop classification: keep the model we had.
            log.error("model.unreadable", path=str(path), error=str(error))
            return
        self._mtime, self._model = mtime, model
        if model is not None:
            log.info("model.loaded", version=model.version, corrections=model.corrections)
