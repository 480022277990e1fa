"""What intake writes to Kafka, declared on a FastStream broker for the AsyncAPI document.

Intake publishes with a plain aiokafka producer (see ``services.intake.app``); this broker is
never started. It exists so that the event contract is generated from code, like the
classifier's and aggregator's parts of it.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from schemas.v1 import SignalSubmittedEventV1
from services.common.kafka import create_broker
from services.common.settings import KafkaSettings


def asyncapi_broker(kafka: KafkaSettings) -> KafkaBroker:
    broker = create_broker(kafka, client_id="intake")
    broker.publisher(
        kafka.submitted_topic,
        schema=SignalSubmittedEventV1,
        title="intake.publishes_submitted",
        description="A signal from the field, validated and scrubbed of personal data, "
        "published before intake answers 202 (acks=all). The event id is the client's "
        "signal_id, so a retried submission is recognisably the same event. Key: the "
        "municipality, case-folded.",
    )
    return broker
