"""Pacing of Stripe requests: the token bucket shared by all workers
(omni_payment_methods/lib/pacing.py)."""

import pytest
from omni_pm_lib import pacing


def test_default_rate_below_stripe_limits():
    # Stripe allows 100 requests/s in live mode and 25/s in test mode; the addon keeps a
    # margin for the other calls made with the same key (dashboard, webhooks lookups).
    assert pacing.default_rate(live=True) == 80
    assert pacing.default_rate(live=False) == 20
    assert pacing.rate_for(0, live=True) == 80
    assert pacing.rate_for(5, live=False) == 5
    # Never above Stripe's own limit, whatever the setting says.
    assert pacing.rate_for(500, live=False) == 25


def test_full_bucket_grants_a_second_of_requests_then_waits():
    bucket = pacing.Bucket(tokens=None, stamp=None)  # never used: full
    bucket, granted, wait = pacing.take(bucket, now=100.0, rate=20, want=30)
    assert granted == 20
    assert wait == pytest.approx(1 / 20)
    assert bucket.tokens == pytest.approx(0)
    # Half a second later, half a second of requests is available.
    bucket, granted, wait = pacing.take(bucket, now=100.5, rate=20, want=30)
    assert granted == 10
    assert wait == pytest.approx(1 / 20)


def test_no_wait_when_everything_granted():
    bucket, granted, wait = pacing.take(pacing.Bucket(5.0, 10.0), now=10.0, rate=20, want=3)
    assert (granted, wait) == (3, 0.0)
    assert bucket.tokens == pytest.approx(2.0)


def test_wait_for_the_next_whole_token():
    bucket, granted, wait = pacing.take(pacing.Bucket(0.25, 10.0), now=10.0, rate=10, want=2)
    assert granted == 0
    assert wait == pytest.approx(0.075)
    assert bucket.tokens == pytest.approx(0.25)


def test_never_more_than_the_burst_and_clock_going_back_adds_nothing():
    bucket, granted, _wait = pacing.take(pacing.Bucket(0.0, 10.0), now=1000.0, rate=10, want=99)
    assert granted == 10  # an idle hour does not make an hour of requests
    bucket, granted, _wait = pacing.take(pacing.Bucket(0.0, 10.0), now=5.0, rate=10, want=1)
    assert granted == 0
    assert bucket.stamp == 10.0


def test_an_empty_bucket_is_asked_again_for_a_chunk_not_one_token():
    # 20 requests/s: a quarter of a second is 5 requests.
    assert pacing.chunk_for(20) == 5
    assert pacing.chunk_for(2) == 1
    bucket = pacing.Bucket(tokens=None, stamp=None)
    bucket, granted, wait = pacing.take(bucket, now=100.0, rate=20, want=30, chunk=5)
    assert granted == 20
    assert wait == pytest.approx(5 / 20)
    bucket, granted, wait = pacing.take(bucket, now=100.0 + wait, rate=20, want=10, chunk=5)
    assert granted == 5
    assert wait == pytest.approx(5 / 20)
    # Fewer left than a chunk: only what is left is waited for.
    bucket, granted, wait = pacing.take(bucket, now=100.5, rate=20, want=7, chunk=5)
    assert granted == 5
    assert wait == pytest.approx(2 / 20)


def test_chunks_never_exceed_the_rate():
    bucket = pacing.Bucket(None, None)
    now, sent = 0.0, 0
    while now < 3.0:
        bucket, granted, wait = pacing.take(bucket, now=now, rate=20, want=50, chunk=5)
        sent += granted
        now += max(wait, 0.001)
    assert sent <= 20 + 20 * 3


def test_two_workers_sharing_the_bucket_never_exceed_the_rate():
    # Two workers taking from the same stored bucket in turns, over 3 simulated seconds.
    bucket = pacing.Bucket(None, None)
    now, sent = 0.0, 0
    while now < 3.0:
        for _worker in range(2):
            bucket, granted, wait = pacing.take(bucket, now=now, rate=25, want=8)
            sent += granted
        now += 0.01
    # A full bucket at the start (25) plus 25 per second.
    assert sent <= 25 + 25 * 3


@pytest.mark.parametrize(
    ("headers", "tries", "expected"),
    [
        ({"Retry-After": "2"}, 0, 2.0),
        ({"retry-after": "0"}, 3, 0.0),
        ({"Retry-After": "999"}, 0, pacing.MAX_RETRY_WAIT),
        ({}, 0, 0.5),
        ({}, 2, 2.0),
        ({}, 10, pacing.MAX_RETRY_WAIT),
        (None, 1, 1.0),
        ({"Retry-After": "soon"}, 0, 0.5),
    ],
)
def test_rate_limited_wait(headers, tries, expected):
    assert pacing.retry_wait(headers, tries) == pytest.approx(expected)
