"""The content hash that tells a retry ("same signal again") from a conflict — pure."""

from __future__ import annotations

import hashlib

import orjson

from schemas.v1 import SignalSubmissionV1


def content_hash(submission: SignalSubmissionV1) -> bytes:
    """SHA-256 over the canonical JSON of the validated submission.

    Canonical: after validation (defaults filled, place names trimmed and spelled as configured,
    organisation set from the token), keys sorted, so key order or an omitted default does not
    make a retry look different. The signal_id is part of the input, which salts the hash: the
    stored digest cannot be matched against a list of guessed texts across signals.
    """
    document = submission.model_dump(mode="json")
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).digest()
