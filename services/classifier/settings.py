"""Classifier settings: ``SEINPOST_CLASSIFIER_*`` plus the shared Kafka, PostgreSQL and
logging settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import (
    ConsumerSettings,
    KafkaSettings,
    LoggingSettings,
    PostgresSettings,
)


class ClassifierSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="SEINPOST_CLASSIFIER_", extra="ignore")

    group_id: str = Field(default="seinpost-classifier", description="Kafka consumer group.")
    corrections_group_id: str | None = Field(
        default=None,
        description="Consumer group of the corrections subscriber; default "
        "`<group_id>-corrections`. Its own group: two subscribers in one group rebalance "
        "each other, and a rebalance in the middle of a batch has the whole batch delivered "
        "(and published) again.",
    )

    batch_max_records: int = Field(
        default=5_000,
        ge=1,
        description="Most records classified (and committed) at once: every batch waits once "
        "for Kafka to acknowledge its output, so larger batches spread that wait over more "
        "signals.",
    )
    max_partition_fetch_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        description="Most bytes fetched per partition at once: room for a full batch (a "
        "submitted signal is about 1 KiB; Kafka's 1 MiB default caps batches near a thousand).",
    )

    @property
    def corrections_group(self) -> str:
        return self.corrections_group_id or f"{self.group_id}-corrections"

    publish_timeout_s: float = Field(
        default=30.0, gt=0, description="How long to wait for Kafka to acknowledge a batch."
    )
    taxonomy_file: Path | None = Field(
        default=None,
        description="A network's own taxonomy (TOML); default: the packaged taxonomy v1.",
    )
    model_dir: Path = Field(
        default=Path("var/classifier/models"),
        description="Where `seinpost classifier train` writes the learned model (one JSON file "
        "per taxonomy id) and where the service reads it.",
    )
    model_check_s: float = Field(
        default=30.0,
        gt=0,
        description="How often the running service looks for a newer model file.",
    )
    metrics_port: int = Field(
        default=9101,
        ge=0,
        le=65535,
        description="Port of /healthz, /readyz and /metrics; 0 lets the system choose.",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
