"""``make_client``: what the addon's StripeClient sends, and how network failures classify.

Each test talks to a small HTTP stub on 127.0.0.1 (see ``http_stub`` in conftest.py).
"""

import json
import socket
import time

import pytest
import stripe
from omni_pm_lib import stripe_api

CUSTOMER = {"id": "cus_stub", "object": "customer", "email": "a@example.com"}


def answer(status, payload, headers=None):
    return status, headers or {}, json.dumps(payload).encode()


def customer_stub(stub, request):
    return answer(200, CUSTOMER)


def test_make_client_requires_a_key():
    with pytest.raises(ValueError):
        stripe_api.make_client("")
    with pytest.raises(ValueError):
        stripe_api.make_client(None)


def test_client_sends_version_key_and_idempotency_key(http_stub):
    stub = http_stub(customer_stub)
    client = stripe_api.make_client("sk_test_omni", api_base=stub.url + "/", max_network_retries=0)
    key = stripe_api.idempotency_key("customer", 7)

    customer = client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": key}
    )
    client.v1.customers.retrieve("cus_stub")

    assert customer.id == "cus_stub"
    post, get = stub.requests
    assert (post["method"], post["path"]) == ("POST", "/v1/customers")  # no "//v1"
    assert post["body"] == b"email=a%40example.com"
    assert (get["method"], get["path"]) == ("GET", "/v1/customers/cus_stub")
    for request in (post, get):
        assert request["headers"]["Stripe-Version"] == stripe_api.API_VERSION
        assert request["headers"]["Authorization"] == "Bearer sk_test_omni"
    assert post["headers"]["Idempotency-Key"] == key
    assert get["headers"]["Idempotency-Key"] is None


def test_retries_reuse_the_idempotency_key(http_stub, monkeypatch):
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.0)  # no back-off wait

    def flaky(stub, request):
        if len(stub.requests) == 1:
            return answer(500, {"error": {"type": "api_error", "message": "try again"}})
        return answer(200, CUSTOMER)

    stub = http_stub(flaky)
    client = stripe_api.make_client("sk_test_omni", api_base=stub.url, max_network_retries=1)
    key = stripe_api.idempotency_key("customer", 8)
    client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": key})
    assert [r["headers"]["Idempotency-Key"] for r in stub.requests] == [key, key]


def test_default_retries_are_bounded(http_stub, monkeypatch):
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.0)
    stub = http_stub(lambda stub, request: answer(503, {"error": {"message": "down"}}))
    client = stripe_api.make_client("sk_test_omni", api_base=stub.url)
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.create(params={"name": "A"})
    assert len(stub.requests) == 1 + stripe_api.DEFAULT_MAX_NETWORK_RETRIES
    assert len({r["headers"]["Idempotency-Key"] for r in stub.requests}) == 1
    assert stripe_api.classify_error(info.value)[0] == stripe_api.ERROR_SERVER


def test_card_error_from_the_wire(http_stub):
    body = {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
            "payment_intent": {"id": "pi_1", "object": "payment_intent"},
        }
    }
    stub = http_stub(lambda stub, request: answer(402, body))
    client = stripe_api.make_client("sk_test_omni", api_base=stub.url, max_network_retries=0)
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "eur"})
    assert stripe_api.classify_error(info.value) == (
        stripe_api.ERROR_CARD,
        "Your card has insufficient funds.",
        "insufficient_funds",
    )


@pytest.mark.parametrize(
    ("status", "error", "category"),
    [
        (401, {"type": "invalid_request_error", "message": "Invalid API Key"}, "auth"),
        (403, {"type": "invalid_request_error", "message": "Forbidden"}, "auth"),
        (
            404,
            {"type": "invalid_request_error", "code": "resource_missing", "message": "No such"},
            "not_found",
        ),
        (
            400,
            {"type": "invalid_request_error", "message": "Received unknown parameter"},
            "invalid",
        ),
        (500, {"type": "api_error", "message": "Internal"}, "server"),
    ],
)
def test_http_errors_from_the_wire(http_stub, status, error, category):
    stub = http_stub(lambda stub, request: answer(status, {"error": error}))
    client = stripe_api.make_client("sk_test_omni", api_base=stub.url, max_network_retries=0)
    with pytest.raises(stripe.StripeError) as info:
        client.v1.payment_methods.retrieve("pm_x")
    assert stripe_api.classify_error(info.value)[0] == category


def free_closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server():
    url = f"http://127.0.0.1:{free_closed_port()}"
    client = stripe_api.make_client("sk_test_omni", api_base=url, max_network_retries=0)
    with pytest.raises(stripe.APIConnectionError) as info:
        client.v1.customers.retrieve("cus_x")
    assert stripe_api.classify_error(info.value)[0] == stripe_api.ERROR_UNREACHABLE


def test_timeout(http_stub):
    def hang(stub, request):
        stub.release.wait(10)  # released when the stub stops
        return answer(200, CUSTOMER)

    stub = http_stub(hang)
    client = stripe_api.make_client(
        "sk_test_omni", api_base=stub.url, timeout=0.2, max_network_retries=0
    )
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError) as info:
        client.v1.customers.retrieve("cus_x")
    assert time.monotonic() - started < 5
    assert stripe_api.classify_error(info.value)[0] == stripe_api.ERROR_TIMEOUT
