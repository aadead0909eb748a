"""Per-client rate limits, in memory per worker, bounded in memory (a token bucket per client).

Each limit is a bucket of ``limit`` tokens per client that refills at ``limit / window`` tokens a
second: a client may send ``limit`` requests at once, then one every ``window / limit`` seconds. At most
``max_clients`` clients are remembered (the least recently seen is forgotten first, which only ever gives
that client a full bucket again), so a flood from many addresses cannot grow the worker.

The answer carries the IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10):
``RateLimit-Policy: "feedback";q=60;w=60`` and ``RateLimit: "feedback";r=<remaining>;t=<seconds>``, and a
refusal ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    #: Seconds until the bucket is full again (the draft's ``t``).
    reset: int
    #: Seconds until the next request would be allowed (0 when allowed now).
    retry_after: int


class RateLimiter:
    def __init__(self, name: str, *, limit: int, window: int, max_clients: int) -> None:
        if limit < 1 or window < 1 or max_clients < 1:
            raise ValueError("limit, window and max_clients must be positive")
        self.name = name
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self.rate = limit / window
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.policy_header = f'"{name}";q={limit};w={window}'.encode()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str, now: float | None = None) -> Decision:
        """Spend one token of ``client``'s bucket if it has one."""
        now = time.monotonic() if now is None else now
        buckets = self._buckets
        found = buckets.get(client)
        if found is None:
            tokens = float(self.limit)
            if len(buckets) >= self.max_clients:
                buckets.popitem(last=False)
        else:
            tokens = min(float(self.limit), found[0] + (now - found[1]) * self.rate)
            buckets.move_to_end(client)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        buckets[client] = (tokens, now)
        reset = math.ceil((self.limit - tokens) / self.rate)
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        return Decision(allowed, int(tokens), reset, retry_after)

    def headers(self, decision: Decision) -> list[tuple[bytes, bytes]]:
        out = [
            (b"ratelimit-policy", self.policy_header),
            (b"ratelimit", f'"{self.name}";r={decision.remaining};t={decision.reset}'.encode()),
        ]
        if not decision.allowed:
            out.append((b"retry-after", str(decision.retry_after).encode()))
        return out
