"""When to try a failed delivery again: exponential backoff with full jitter, bounded.

Jitter spreads the retries of many users that failed together (a vendor
outage) so that they do not hit the vendor again in the same second; a
``Retry-After`` the vendor sent is a floor, never shortened by the jitter.
"""

from __future__ import annotations

import random

from scimbridge.config import Delivery


def retry_delay(
    attempts: int,
    policy: Delivery,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt number ``attempts + 1``.

    :param attempts: the attempts made so far (1 after the first failure).
    """
    ceiling = min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** max(attempts - 1, 0))
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
