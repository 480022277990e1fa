"""Settings shared by every service, read from the environment (pydantic-settings).

Each service nests these in its own settings class; tests build settings objects directly
instead of patching the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
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

    # Security: the same for every producer, consumer and admin client Seinpost makes.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients talk to the brokers."
    )
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = Field(
        default="SCRAM-SHA-256", description="Used with SASL_PLAINTEXT and SASL_SSL."
    )
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: Path | None = Field(
        default=None, description="CA bundle that signed the brokers' certificates (PEM)."
    )
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (PEM, mTLS).")
    ssl_keyfile: Path | None = Field(default=None, description="Client private key (PEM).")
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True

    @model_validator(mode="after")
    def _security_complete(self) -> Self:
        # Refuse half a configuration at start-up instead of failing at the first connection.
        if self.uses_sasl and not (self.sasl_username and self.sasl_password.get_secret_value()):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_username and sasl_password"
            )
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

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


PostgresSslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


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
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = (
        Field(
            default=None,
            description="libpq's sslmode; unset leaves it to the DSN (asyncpg's default: prefer).",
        )
    )
    ssl_rootcert: Path | None = Field(
        default=None, description="CA that signed the server's certificate (verify-ca/-full)."
    )
    ssl_cert: Path | None = Field(default=None, description="Client certificate (PEM).")
    ssl_key: Path | None = Field(default=None, description="Client private key (PEM).")
    ssl_key_password: SecretStr | None = None

    @model_validator(mode="after")
    def _ssl_complete(self) -> Self:
        if self.sslmode in ("verify-ca", "verify-full") and self.ssl_rootcert is None:
            raise ValueError(f"sslmode {self.sslmode} needs ssl_rootcert")
        if self.ssl_key is not None and self.ssl_cert is None:
            raise ValueError("ssl_key needs ssl_cert")
        return self


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
    fetch_min_bytes: int = Field(
        default=64 * 1024,
        ge=1,
        description="The broker holds a fetch until this much has arrived (or fetch_max_wait_ms "
        "has passed). 1 answers every record at once: at moderate rates every batch is a record "
        "or two, and each batch costs a fetch, an offset commit and its output's round trip.",
    )
    fetch_max_wait_ms: int = Field(
        default=15,
        ge=0,
        description="Longest the broker holds a fetch for fetch_min_bytes: what a record may "
        "wait at most for companions to share its batch with (half of it on average). "
        "bench.bench_e2e on a quiet machine, one run each: 10 / 15 / 20 ms gave e2e p99 "
        "71 / 106 / 140-182 ms at 500/s, and a highest sustained rate of 1,500 / 2,000 / 2,500/s.",
    )
    quiet_poll_ms: int = Field(
        default=200,
        ge=1,
        description="Poll interval of the subscriptions that see a few records a day "
        "(corrections, decisions), which fetch one record at a time: polled every "
        "batch_timeout_ms, the five idle loops of the two consumers cost ~5 % of a core.",
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
