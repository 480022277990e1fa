"""Aggregator settings: ``SEINPOST_AGGREGATOR_*`` plus shared Kafka, PostgreSQL and logging."""

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


class AggregatorSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="SEINPOST_AGGREGATOR_", extra="ignore")

    group_id: str = Field(default="seinpost-aggregator", description="Kafka consumer group.")
    batch_max_records: int = Field(
        default=20_000,
        ge=1,
        description="Most records stored (and committed) at once, in transactions of "
        "1,000 written two at a time. Between batches the aggregator waits for the last "
        "writes and the offset commit and hands over the next fetch: at 5,000 that took "
        "a fifth of the time.",
    )
    max_partition_fetch_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        description="Most bytes fetched per partition at once: room for a full batch.",
    )
    publish_timeout_s: float = Field(default=30.0, gt=0)
    min_group_size: int = Field(
        default=5,
        ge=2,
        description="Smallest group a bundle may show; smaller counts are suppressed.",
    )
    bundle_dir: Path = Field(
        default=Path("out/bundles"), description="Where `seinpost bundle` writes its files."
    )
    scheduler_enabled: bool = Field(
        default=True,
        description="Compile each steering group's bundle when its period closes (in `run`).",
    )
    retention_months: int = Field(
        default=24,
        ge=1,
        le=240,
        description="Free text (signal texts, correction reasons, decision notes, bundle "
        "examples) about days older than this many months is removed; counts stay.",
    )
    retention_purge_daily: bool = Field(
        default=True,
        description="Let the scheduler run the retention purge once a day (UTC).",
    )
    scheduler_interval_s: float = Field(
        default=300.0, gt=0, description="How often the scheduler looks for closed periods."
    )
    republish_after_s: float = Field(
        default=60.0,
        ge=0,
        description="A bundle committed this long ago and still unpublished is published again.",
    )
    baseline_periods: int = Field(
        default=4, ge=0, le=24, description="Earlier periods a bundle compares its themes with."
    )
    write_files: bool = Field(
        default=True, description="Whether scheduled bundles are also written to `bundle_dir`."
    )
    api_host: str = Field(default="127.0.0.1", description="Bind address of the aggregator API.")
    api_port: int = Field(default=8081, ge=1, le=65535, description="Port of the aggregator API.")
    api_max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Larger request bodies get 413 before they are read (a decision's note "
        "and a correction's reason are short).",
    )
    metrics_port: int = Field(
        default=9102,
        ge=0,
        le=65535,
        description="Port of /healthz, /readyz and /metrics; 0 lets the system choose.",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
