"""When to try a failed delivery again: exponential backoff with full jitter, bounded.

Jitter spreads the retries of many users that failed together (a vendor
outage) so that they do not hit the vendor again in the same second. A wait the
vendor named (``Retry-After``, a rate limit's reset) replaces the exponential
one: it is when the vendor takes calls again, however often it was asked to
wait before, and the jitter only ever lengthens it, up to the target's
``delivery.give_up_after_seconds`` (:func:`~scimbridge.vendors.base.honoured_wait`):
an entry is never rescheduled past the moment it would be given up.
"""

from __future__ import annotations

import random

from scimbridge.config import Delivery
from scimbridge.vendors.base import honoured_wait


def retry_delay(
    attempts: int,
    policy: Delivery,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt number ``attempts + 1``.

    :param attempts: the attempts made so far (1 after the first failure).
    :param retry_after: the wait the vendor named, if it named one.
    """
    uniform = rng.uniform if rng is not None else random.uniform
    if retry_after is not None:
        return honoured_wait(retry_after * uniform(1.0, 1.1), policy)
    ceiling = min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** max(attempts - 1, 0))
    return uniform(ceiling / 2, ceiling)
