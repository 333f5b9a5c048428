"""One retry policy for every loop that waits on a server: exponential backoff with jitter.

The pipeline's writer and the Elasticsearch sink (bulk items, template install) wait by the same
rule, so an outage backs off alike everywhere. Jitter halves a wait at random so that several
writers that failed together do not come back together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``delay(attempt)`` ≈ ``initial · 2^(attempt-1)``, at most ``cap``, times a random factor in [0.5, 1]."""

    initial: float
    cap: float

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.cap:
            raise ValueError(f"retry policy needs 0 < initial <= cap, got {self.initial} and {self.cap}")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry number ``attempt`` (1 for the first retry)."""
        return min(self.cap, self.initial * 2 ** min(max(attempt, 1) - 1, 62))

    def delay(self, attempt: int) -> float:
        """The wait before retry number ``attempt``: between half the ceiling and the ceiling."""
        return self.ceiling(attempt) * random.uniform(0.5, 1.0)
