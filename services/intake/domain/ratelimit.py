"""Rate limits per token: a token bucket per key, in process memory — pure (clock passed in)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``rate`` tokens per second refill a bucket of ``burst``; each signal takes one.

    In process memory: with several intake processes each enforces its own share, which is
    what a limit against a runaway client needs (it is not a billing meter).
    """

    def __init__(self, *, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._buckets: dict[object, _Bucket] = {}

    def take(self, key: object, cost: int, now: float) -> float:
        """Take ``cost`` tokens; returns 0 when allowed, else the seconds to wait first."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()  # forgetting buckets only ever lets clients through
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if cost <= bucket.tokens:
            bucket.tokens -= cost
            return 0.0
        if cost > self.burst:
            return math.inf
        return (cost - bucket.tokens) / self.rate
