"""Settings shared by every service, read from the environment (pydantic-settings).

Each service nests these in its own settings class; tests build settings objects directly
instead of patching the environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas import topics


class KafkaSettings(BaseSettings):
    """``SEINPOST_KAFKA_*``"""

    model_config = SettingsConfigDict(env_prefix="SEINPOST_KAFKA_", extra="ignore")

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated host:port list."
    )
    topic_namespace: str = Field(
        default="",
        description="Prefix for every topic name: lets several environments (or tests) share "
        "one cluster without seeing each other's records.",
    )
    partitions: int = Field(
        default=6, ge=1, description="Partitions for topics Seinpost creates (max consumers)."
    )
    replication_factor: int = Field(default=1, ge=1)
    request_timeout_ms: int = Field(default=15_000, ge=1_000)
    client_id: str = "seinpost"

    def topic(self, name: str) -> str:
        return f"{self.topic_namespace}{name}"

    @property
    def submitted_topic(self) -> str:
        return self.topic(topics.SIGNALS_SUBMITTED)

    @property
    def classified_topic(self) -> str:
        return self.topic(topics.SIGNALS_CLASSIFIED)

    @property
    def corrections_topic(self) -> str:
        return self.topic(topics.CORRECTIONS)

    @property
    def bundles_topic(self) -> str:
        return self.topic(topics.BUNDLES)

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(topics.DEAD_LETTER)

    @property
    def decisions_topic(self) -> str:
        return self.topic(topics.DECISIONS)

    def all_topics(self) -> list[str]:
        return [self.topic(name) for name in topics.ALL_TOPICS]


class PostgresSettings(BaseSettings):
    """``SEINPOST_POSTGRES_*``"""

    model_config = SettingsConfigDict(env_prefix="SEINPOST_POSTGRES_", extra="ignore")

    dsn: SecretStr = Field(
        default=SecretStr("postgresql://seinpost:seinpost@127.0.0.1:5433/seinpost"),
        description="libpq connection URI. Secret: it may carry a password.",
    )
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=5, ge=1)
    command_timeout_s: float = Field(default=30.0, gt=0)


class LoggingSettings(BaseSettings):
    """``SEINPOST_LOG_*``"""

    model_config = SettingsConfigDict(env_prefix="SEINPOST_LOG_", extra="ignore")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = Field(
        default="json", description="`json` for machines (default), `console` for a terminal."
    )


class ConsumerSettings(BaseSettings):
    """Batching shared by the consuming services; each service sets its own env prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    batch_max_records: int = Field(
        default=500, ge=1, description="Most records handled (and committed) at once."
    )
    batch_timeout_ms: int = Field(
        default=10,
        ge=1,
        description="How long a poll waits for records. A poll returns at once with what has "
        "arrived, so this does not make batches larger; but when one comes back empty "
        "FastStream sleeps this long again before the next, and a record arriving then waits: "
        "at a trickle, 100 ms here cost ~30 ms per hop at the median (bench.bench_e2e).",
    )
    max_record_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Larger records go to the dead-letter topic."
    )
    max_partition_fetch_bytes: int = Field(
        default=1024 * 1024,
        ge=64 * 1024,
        description="Most bytes fetched per partition at once (Kafka's default is 1 MiB, about "
        "a thousand signals: raise it with batch_max_records, or batches stay that small).",
    )
    retry_backoff_max_s: float = Field(
        default=30.0, gt=0, description="Longest pause before retrying a batch that failed."
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Bind address of the probe port (/healthz, /readyz, /metrics); 0.0.0.0 "
        "in a container.",
    )
    metrics_port: int = Field(
        default=9100, ge=0, le=65535, description="Probe port; 0 lets the system choose."
    )
