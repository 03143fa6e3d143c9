"""tools/localstripe_server.py: loopback only, in memory only, clean stop."""

import importlib.util
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "localstripe_server.py"
STOCK_PICKLE = Path("/tmp/localstripe.pickle")


@pytest.fixture(scope="module")
def server_module():
    spec = importlib.util.spec_from_file_location("omni_localstripe_server", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(server_module, host):
    assert server_module.loopback_address(host).is_loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com"])
def test_other_hosts_are_refused(server_module, host, capsys):
    with pytest.raises(SystemExit) as info:
        server_module.main(["--host", host, "--port", "0"])
    assert info.value.code == 2
    assert "refusing to listen" in capsys.readouterr().err


def start(*args):
    """Start the server; return the process and its first stdout line (or "" if none in 15 s)."""
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    watchdog = threading.Timer(15, proc.kill)
    watchdog.start()
    try:
        return proc, proc.stdout.readline()
    finally:
        watchdog.cancel()


def stop(proc, signum):
    try:
        proc.send_signal(signum)
        return proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_serves_in_memory_and_stops_on_sigterm():
    before = STOCK_PICKLE.stat().st_mtime_ns if STOCK_PICKLE.exists() else None
    proc, line = start("--port", "0")
    try:
        assert line.startswith("localstripe listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        auth = {"Authorization": "Bearer sk_test_omni"}
        created = requests.post(url + "/v1/customers", data={"name": "A"}, headers=auth, timeout=5)
        assert created.status_code == 200
        js = requests.get(url + "/js.stripe.com/v3/", timeout=5)
        assert js.status_code == 200
        # In a function scope: its `class Element` must not hide the page's DOM Element.
        assert js.text.startswith("(function () {\n") and js.text.endswith("\n})();\n")
        assert "class Element" in js.text
        # and with the iban element the addon mounts for SEPA (the fake has none of its own)
        assert "omniIban" in js.text and "addIbanElement" in js.text
        assert requests.get(url + "/v1/customers", timeout=5).status_code == 401
    finally:
        assert stop(proc, signal.SIGTERM) == 0
    after = STOCK_PICKLE.stat().st_mtime_ns if STOCK_PICKLE.exists() else None
    assert after == before, "the store was written to disk"


def test_ipv6_loopback_and_sigint():
    proc, line = start("--host", "::1", "--port", "0")
    try:
        assert line.startswith("localstripe listening on http://[::1]:"), line
    finally:
        assert stop(proc, signal.SIGINT) == 0


@pytest.fixture
def indexed_store(server_module):
    store = server_module.IndexedStore()
    store.dump_to_disk = lambda: None  # never /tmp/localstripe.pickle
    return store


def scanned(store, object_name):
    """localstripe's own listing: a scan of the whole store."""
    return [value for key, value in store.items() if key.startswith(object_name + ":")]


def test_index_lists_what_a_scan_lists(indexed_store):
    store = indexed_store
    for key in ("charge:ch_1", "refund:re_1", "charge:ch_2", "customer:cus_1", "charge:ch_3"):
        store[key] = key.upper()
    store["charge:ch_1"] = "CH_1 again"  # rewritten in place: keeps its position
    del store["charge:ch_2"]
    for name in ("charge", "refund", "customer", "invoice"):
        assert store.objects(name) == scanned(store, name), name
    assert store.objects("charge") == ["CH_1 again", "CHARGE:CH_3"]
    store.update({"invoice:in_1": "IN_1"})
    assert store.objects("invoice") == ["IN_1"]
    assert store.pop("invoice:in_1") == "IN_1"
    assert store.objects("invoice") == []
    store.clear()
    assert store.objects("charge") == []
    store["charge:ch_4"] = "CH_4"
    assert store.objects("charge") == ["CH_4"] == scanned(store, "charge")


def test_listings_through_the_server():
    """Charges, refunds and a charge's refunded amount, read through the patched listing."""
    proc, line = start("--port", "0")
    url = line.split()[-1]
    auth = {"Authorization": "Bearer sk_test_omni"}

    def post(path, **data):
        response = requests.post(url + path, data=data, headers=auth, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def get(path):
        response = requests.get(url + path, headers=auth, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    try:
        assert line.startswith("localstripe listening on http://127.0.0.1:"), line
        customer = post("/v1/customers", name="A")
        charges = []
        for amount in (1000, 2000, 3000):
            method = post(
                "/v1/payment_methods",
                type="card",
                **{"card[number]": "4242424242424242", "card[exp_month]": "12"},
                **{"card[exp_year]": "2040", "card[cvc]": "123"},
            )
            intent = post(
                "/v1/payment_intents",
                amount=amount,
                currency="eur",
                customer=customer["id"],
                payment_method=method["id"],
                confirm="true",
            )
            assert intent["status"] == "succeeded", intent
            charges.append(intent["latest_charge"]["id"])  # localstripe writes the charge out
        post("/v1/refunds", charge=charges[1], amount=500)
        assert [c["id"] for c in get("/v1/charges?limit=100")["data"]] == charges
        refunds = get(f"/v1/refunds?charge={charges[1]}")["data"]
        assert [(r["charge"], r["amount"]) for r in refunds] == [(charges[1], 500)]
        assert get(f"/v1/refunds?charge={charges[0]}")["data"] == []
        assert get(f"/v1/charges/{charges[1]}")["amount_refunded"] == 500
        assert get(f"/v1/charges/{charges[2]}")["amount_refunded"] == 0
        assert [c["id"] for c in get("/v1/customers")["data"]] == [customer["id"]]
    finally:
        assert stop(proc, signal.SIGTERM) == 0
