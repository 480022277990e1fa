"""Intake settings: ``SEINPOST_INTAKE_*`` plus the shared Kafka, PostgreSQL and logging settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import KafkaSettings, LoggingSettings, PostgresSettings

DEFAULT_OPTIONS_FILE = Path(__file__).with_name("options.toml")
DEFAULT_CONNECTORS_FILE = Path(__file__).with_name("connectors.toml")


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEINPOST_INTAKE_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8080, ge=1, le=65535)
    publish_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait for Kafka's acknowledgement before answering 503.",
    )
    linger_ms: float = Field(
        default=8.0,
        ge=0,
        le=100,
        description="How long a record waits for others to share its produce request with, "
        "all partitions together; fewer, larger requests cost Kafka and intake less CPU per "
        "signal at moderate rates. 0: every record is handed to the producer at once.",
    )
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After sent with a 503.")
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Larger request bodies are refused with 413 (a batch may be larger, below).",
    )
    batch_max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Body limit of POST /v1/signals/batch."
    )
    batch_max_items: int = Field(
        default=100, ge=1, le=1000, description="Most signals in one POST /v1/signals/batch."
    )
    observed_on_tolerance_days: int = Field(
        default=1,
        ge=0,
        description="How far in the future observed_on may lie (time zones, phone clocks).",
    )
    options_file: Path = Field(
        default=DEFAULT_OPTIONS_FILE,
        description="TOML with municipalities, neighbourhoods and the form's pick lists.",
    )
    connectors_file: Path = Field(
        default=DEFAULT_CONNECTORS_FILE,
        description="TOML with the KoboToolbox / ODK Central forms and their field mappings.",
    )
    rate_limit_per_s: float = Field(
        default=20.0, gt=0, description="Signals per second a token may send, sustained."
    )
    rate_limit_burst: int = Field(
        default=200,
        ge=1,
        description="Signals a token may send at once (a batch counts each signal); keep it at "
        "least batch_max_items.",
    )
    token_cache_ttl_s: float = Field(
        default=30.0, gt=0, description="A revoked token is refused at the latest after this."
    )
    idempotency_cache_entries: int = Field(
        default=100_000, ge=0, description="Published acceptances remembered in memory."
    )
    claim_writers: int = Field(
        default=1,
        ge=1,
        le=4,
        description="Batches of idempotency claims in flight to PostgreSQL at once. While they "
        "wait, the claims of the requests arriving meanwhile form the next batch: fewer "
        "writers, larger batches and fewer round trips, at most a round trip more of waiting.",
    )
    claim_linger_ms: float = Field(
        default=4.0,
        ge=0,
        le=100,
        description="How long the first idempotency claim of a batch waits for others before "
        "the batch goes to PostgreSQL: one transaction (and one WAL flush) for a few requests "
        "instead of one each at moderate rates.",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
