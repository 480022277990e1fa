"""Classifier settings: ``SEINPOST_CLASSIFIER_*`` plus the shared Kafka and logging settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ConsumerSettings, KafkaSettings, LoggingSettings


class ClassifierSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="SEINPOST_CLASSIFIER_", extra="ignore")

    group_id: str = Field(default="seinpost-classifier", description="Kafka consumer group.")
    publish_timeout_s: float = Field(
        default=30.0, gt=0, description="How long to wait for Kafka to acknowledge a batch."
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
