"""The one retry policy: exponential, capped, jittered downwards only."""

from __future__ import annotations

import pytest

from core.retry import RetryPolicy


def test_delay_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(initial=0.1, cap=100.0)
    for attempt in range(1, 8):
        high = 0.1 * 2 ** (attempt - 1)
        assert policy.ceiling(attempt) == pytest.approx(high)
        assert all(high * 0.5 <= policy.delay(attempt) <= high for _ in range(50))
    capped = RetryPolicy(initial=0.1, cap=5.0)
    assert all(2.5 <= capped.delay(1000) <= 5.0 for _ in range(50))
    assert capped.ceiling(10**9) == 5.0


def test_the_pipelines_policy_waits_as_it_always_did() -> None:
    """The writer loop's former formula: min(30, 0.2 · 2^min(attempt, 8)), jittered."""
    policy = RetryPolicy(initial=0.4, cap=30.0)
    for attempt in range(1, 20):
        assert policy.ceiling(attempt) == pytest.approx(min(30.0, 0.2 * 2 ** min(attempt, 8)))


@pytest.mark.parametrize(("initial", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_policy_that_never_waits_or_waits_past_its_cap_is_refused(initial: float, cap: float) -> None:
    with pytest.raises(ValueError, match="retry policy"):
        RetryPolicy(initial=initial, cap=cap)
