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
    publish_timeout_s: float = Field(default=30.0, gt=0)
    min_group_size: int = Field(
        default=5,
        ge=2,
        description="Smallest group a bundle may show; smaller counts are suppressed.",
    )
    bundle_dir: Path = Field(
        default=Path("out/bundles"), description="Where `seinpost bundle` writes its files."
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
