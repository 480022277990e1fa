"""Intake settings: ``SEINPOST_INTAKE_*`` plus the shared Kafka and logging settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import KafkaSettings, LoggingSettings


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEINPOST_INTAKE_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8080, ge=1, le=65535)
    publish_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait for Kafka's acknowledgement before answering 503.",
    )
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After sent with a 503.")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Larger request bodies are refused with 413."
    )
    observed_on_tolerance_days: int = Field(
        default=1,
        ge=0,
        description="How far in the future observed_on may lie (time zones, phone clocks).",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
