"""Pacing of the requests sent to Stripe: a token bucket whose state every worker shares.

Stripe limits the requests of an account per second (https://docs.stripe.com/rate-limits:
100 per second in live mode, 25 in test mode) and answers 429 beyond. The charging job runs
in several workers and servers at once, each sending requests concurrently, so the ceiling is
one bucket per Stripe account stored in the database (``omni.stripe.pacing``): each worker
takes tokens from it in a short transaction before sending. This module is the arithmetic,
without any storage or clock of its own.

A 429 that still happens (other integrations using the same key, the dashboard) is waited
out (``Retry-After`` when Stripe gives it, else an exponential backoff) and the request is
sent again with the same idempotency key: it is never a decline.
"""

import math
from dataclasses import dataclass

STRIPE_LIVE_LIMIT = 100
STRIPE_TEST_LIMIT = 25
# The share of Stripe's limit the charging job takes by default: the rest is left to the
# other calls made with the same key (Odoo's own flows, lookups, the dashboard).
DEFAULT_SHARE = 0.8
# Waiting for a 429: at most this long at a time, and this many times per request.
MAX_RETRY_WAIT = 10.0
BACKOFF_BASE = 0.5
MAX_RATE_LIMITED_TRIES = 6
# Once the bucket is empty, a worker asks again for this much of a second of requests at once.
CHUNK_SECONDS = 0.25


@dataclass(frozen=True)
class Bucket:
    """The stored state: the tokens left at ``stamp`` (seconds). ``None``: never used."""

    tokens: float | None
    stamp: float | None


def stripe_limit(live):
    return STRIPE_LIVE_LIMIT if live else STRIPE_TEST_LIMIT


def default_rate(live):
    """Requests per second the addon sends to one Stripe account by default."""
    return int(stripe_limit(live) * DEFAULT_SHARE)


def rate_for(setting, live):
    """The ceiling for a setting (0 or less: the default), never above Stripe's limit."""
    if not setting or setting <= 0:
        return default_rate(live)
    return min(int(setting), stripe_limit(live))


def chunk_for(rate):
    """The requests a worker waits for before taking from the bucket again once it is empty:
    a quarter of a second of requests (at least one). Taking them one by one as the bucket
    refills would cost a transaction per request; the ceiling is the same either way."""
    return max(1, int(rate * CHUNK_SECONDS))


def take(bucket, now, rate, want, burst=None, chunk=1):
    """Take up to ``want`` tokens at ``now`` from ``bucket``, refilled at ``rate`` per second
    up to ``burst`` (default: one second of requests).

    :param int chunk: what is left to ask for is asked for again once this many tokens (or
        all that is left, if fewer) have come back, not the next single one
    :return: ``(bucket after, tokens granted, seconds to wait before asking for more)``;
        the wait is 0 when everything asked for was granted
    """
    burst = burst or rate
    if bucket.tokens is None or bucket.stamp is None:
        tokens, stamp = float(burst), now
    else:
        # A clock that goes back (another server's, NTP) adds nothing.
        stamp = max(bucket.stamp, now)
        tokens = min(float(burst), bucket.tokens + (stamp - bucket.stamp) * rate)
    granted = max(0, min(int(want), math.floor(tokens + 1e-9)))
    tokens -= granted
    next_take = min(int(want) - granted, max(1, int(chunk)))
    wait = 0.0 if granted >= want else max(0.0, (next_take - tokens) / rate)
    return Bucket(tokens, stamp), granted, wait


def retry_wait(headers, tries):
    """How long to wait after a 429 before sending the same request again: Stripe's
    ``Retry-After`` when it gives one, else 0.5 s doubled at each try; at most
    ``MAX_RETRY_WAIT``.

    :param headers: the response headers (a mapping, any case), or None
    :param int tries: the 429s received so far for this request, minus one
    """
    value = None
    for name, header in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                value = float(header)
            except (TypeError, ValueError):
                value = None
    if value is None:
        value = BACKOFF_BASE * (2**tries)
    return max(0.0, min(value, MAX_RETRY_WAIT))
