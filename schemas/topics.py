"""Kafka topic names: the one place they are spelled.

A topic name ends in its major version. A breaking change to an event gets a new model
(``...V2``) *and* a new topic (``...v2``); both run side by side until every consumer moved.
"""

from __future__ import annotations

from typing import Final

SIGNALS_SUBMITTED: Final = "seinpost.signals.submitted.v1"
SIGNALS_CLASSIFIED: Final = "seinpost.signals.classified.v1"
CORRECTIONS: Final = "seinpost.corrections.v1"
BUNDLES: Final = "seinpost.bundles.v1"
DEAD_LETTER: Final = "seinpost.deadletter.v1"

ALL_TOPICS: Final[tuple[str, ...]] = (
    SIGNALS_SUBMITTED,
    SIGNALS_CLASSIFIED,
    CORRECTIONS,
    BUNDLES,
    DEAD_LETTER,
)


def municipality_key(municipality: str) -> bytes:
    """The record key for a signal.

    Every signal of one municipality hashes to the same partition, so they stay in order
    for each consumer; case and surrounding blanks must not split a municipality in two.
    """
    return municipality.strip().casefold().encode("utf-8")
