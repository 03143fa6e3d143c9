# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the tests do differently on Odoo 18.0 and 19.0 (see ``compat/__init__.py`` for the
addon's own side): the payment framework's entry points the tests drive or watch, where
Odoo's requests to Stripe can be patched, and the users' groups field."""

import contextlib
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo.tests import common as test_common

from ..compat import ODOO_MAJOR

if ODOO_MAJOR >= 19:  # 19.0
    #: ``patch()`` target of the HTTP call behind Odoo's requests to Stripe
    STRIPE_REQUEST = "odoo.addons.payment.models.payment_provider.requests.request"
    #: the transaction method payment_stripe's webhook looks the transaction up with
    TX_LOOKUP = "_search_by_reference"
    #: ``res.users`` field of a user's groups
    USER_GROUPS = "group_ids"
else:  # 18.0
    STRIPE_REQUEST = "odoo.addons.payment_stripe.models.payment_provider.requests.request"
    TX_LOOKUP = "_get_tx_from_notification_data"
    USER_GROUPS = "groups_id"


def process_payment_data(tx, payment_data, provider_code="stripe"):
    """Apply the provider's ``payment_data`` to ``tx``, as a webhook or a return does:
    19.0's ``_process``, 18.0's ``_handle_notification_data``."""
    if ODOO_MAJOR >= 19:  # 19.0
        return tx._process(provider_code, payment_data)
    return tx._handle_notification_data(provider_code, payment_data)  # 18.0


def stripe_tokenize(tx, payment_data):
    """Create the token of ``tx`` from Stripe's ``payment_data`` as payment_stripe does:
    19.0's ``_tokenize``, 18.0's ``_stripe_tokenize_from_notification_data``."""
    if ODOO_MAJOR >= 19:  # 19.0
        return tx._tokenize(payment_data)
    return tx._stripe_tokenize_from_notification_data(payment_data)  # 18.0


def stripe_event_data(stripe_common):
    """payment_stripe's example ``payment_intent.succeeded`` event of its test case:
    ``payment_data`` on 19.0, ``notification_data`` on 18.0."""
    if ODOO_MAJOR >= 19:  # 19.0
        return stripe_common.payment_data
    return stripe_common.notification_data  # 18.0


class KeepRequestTimeouts:
    """Test case mixin: HTTP requests to this machine keep their own timeouts.

    19.0's test case raises every request timeout below 10 s to 10 s, and fails on the
    ``(connect, read)`` tuples the addon gives the Stripe SDK; 18.0 leaves them alone. The
    tests' Stripe stand-ins (localstripe, the fake servers) listen on 127.0.0.1, and the
    fault tests rely on short timeouts. Other requests go through Odoo's handler (blocked).
    """

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if ODOO_MAJOR >= 19 and urlsplit(r.url).hostname in ("127.0.0.1", "localhost"):
            return test_common._super_send(s, r, **kw)  # 19.0
        return super()._request_handler(s, r, **kw)


@contextlib.contextmanager
def browser_requests(case):
    """Let a browser driven by ``case`` (an HttpCase, through Playwright) reach the test's
    server.

    - 19.0 serves HTTP requests only inside ``HttpCase.allow_requests()``, where the test
      gives up its registry lock and issues a new request key (the browser sends it as its
      ``test_request_key`` cookie: read ``case.http_request_key`` inside this block). The
      test keeps working on the database between browser steps, so the lock is taken back
      at once and given up only while the test waits on Playwright: requests and the
      test's own queries never run at the same time on the shared test cursor.
    - 18.0 serves them with the test's own key, always.
    """
    if ODOO_MAJOR >= 19:  # 19.0
        from playwright._impl._sync_base import SyncBase  # noqa: PLC0415 - tests only

        lock = test_common._registry_test_lock
        sync = SyncBase._sync

        def sync_without_the_lock(self, *args, **kwargs):
            if not lock._is_owned():
                return sync(self, *args, **kwargs)
            with test_common.release_test_lock():
                return sync(self, *args, **kwargs)

        with case.allow_requests():
            lock.acquire()
            try:
                with patch.object(SyncBase, "_sync", sync_without_the_lock):
                    yield
            finally:
                lock.release()
    else:  # 18.0
        yield


def database_lock(case):
    """The lock the test thread holds to use the database while a page of ``case`` is
    open (the browser's requests run on the test's cursor too).

    - 18.0: the registry's ``test_lock``, which each request holds while it runs;
    - 19.0: held by the test already outside Playwright calls (``browser_requests``).
    """
    if ODOO_MAJOR >= 19:  # 19.0
        return contextlib.nullcontext()
    return case.registry.test_lock  # 18.0


def dummy_provider(case, company=None):
    """A provider without a provider implementation (code ``none``) of ``company`` (the
    test's company by default), in test mode, as the rules' tests use one.

    - 18.0: ``_prepare_provider("none", company=...)`` (which copies a provider into
      another company);
    - 19.0 refuses ``none`` there: PaymentCommon's ``dummy_provider``, copied into another
      company when that one has none.
    """
    if ODOO_MAJOR >= 19:  # 19.0
        company = company or case.env.company
        provider = (
            case.env["payment.provider"]
            .sudo()
            .search([("code", "=", "none"), ("company_id", "=", company.id)], limit=1)
        )
        if not provider:
            provider = case.dummy_provider.sudo().copy({"company_id": company.id})
        provider.state = "test"
        return provider
    return case._prepare_provider("none", company=company, update_values={"state": "test"})


def message_update_content_params(message, body):
    """Parameters of mail's ``/mail/message/update_content`` route: 19.0 takes the new
    content in ``update_data``, 18.0 as parameters of their own."""
    if ODOO_MAJOR >= 19:  # 19.0
        return {"message_id": message.id, "update_data": {"body": body, "attachment_ids": []}}
    return {"message_id": message.id, "body": body, "attachment_ids": []}  # 18.0


def submit_portal_account(case, partner, values, csrf_token):
    """Post the portal's "My account" form for ``partner`` as the signed-in user of
    ``case``; return the error text, empty when the form was accepted.

    - 18.0: ``POST /my/account``, a redirection (303) when accepted, else the page again
      with an ``alert-danger``;
    - 19.0: the form posts to ``/my/address/submit``, which answers JSON (``messages`` when
      refused).

    ``values`` name the fields as 19.0 does; 18.0's form calls the postal code ``zipcode``.
    """
    data = {"csrf_token": csrf_token, **values}
    if ODOO_MAJOR < 19 and "zip" in data:  # 18.0
        data["zipcode"] = data.pop("zip")
    if ODOO_MAJOR >= 19:  # 19.0
        response = case.url_open("/my/address/submit", data={**data, "partner_id": partner.id})
        feedback = response.json() if response.status_code == 200 else {}
        if response.status_code != 200 or "messages" in feedback:
            details = feedback.get("messages"), feedback.get("invalid_fields")
            return f"{response.status_code}: {details if feedback else response.text[:300]}"
        return ""
    response = case.url_open("/my/account", data=data, allow_redirects=False)  # 18.0
    if response.status_code == 303:
        return ""
    if response.status_code == 200 and "alert-danger" in response.text:
        return response.text.split("alert-danger", 1)[1][:300]
    return f"{response.status_code}: {response.text[:300]}"
