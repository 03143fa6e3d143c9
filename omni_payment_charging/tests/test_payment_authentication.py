# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo.tests import HttpCase, tagged

from odoo.addons.omni_payment_methods.tests import compat

from .charge_common import ChargeCommon

AUTH_ROUTE = "/omni/pay"


@tagged("post_install", "-at_install")
class TestPaymentAuthenticationPage(ChargeCommon, HttpCase):
    """The page of the emailed link where a customer whose bank asked for 3-D Secure on an
    off-session charge authenticates and pays that invoice (Stripe.js ``confirmCardPayment``
    on the PaymentIntent of the declined charge)."""

    def setUp(self):
        super().setUp()
        self.fake_cm = self._fake_stripe()
        self.fake = self.fake_cm.__enter__()
        self.addCleanup(self.fake_cm.__exit__, None, None, None)

    def _waiting(self):
        """An invoice whose off-session charge needs authentication; returns the attempt and
        the path of a new link to authenticate it."""
        self.token = self._authorized_token()
        self.invoice = self._invoice(amount=120.0)
        self.fake.script[self.token.stripe_payment_method] = "authentication_required"
        self._run_charges()
        attempt = self._attempts(self.invoice)
        self.assertEqual(attempt.case_id.state, "waiting")
        url = attempt.case_id.with_context(omni_send_links=True)._omni_authentication_url()
        return attempt, url[url.index(f"{AUTH_ROUTE}/") :]

    def _csrf(self, page):
        return re.search(r'csrf_token: "([^"]+)"', page.text).group(1)

    def test_customer_authenticates_and_pays_through_the_link(self):
        attempt, path = self._waiting()
        intent_id = attempt.stripe_payment_intent
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        for text in (self.invoice.name, "120.00", "4242", "o_omni_authenticate_payment"):
            self.assertIn(text, page.text)
        self.assertIn(self.stripe.stripe_publishable_key, page.text)
        self.assertNotIn(self.fake.intents[intent_id]["client_secret"], page.text)
        csrf = self._csrf(page)
        start = self.url_open(f"{path}/start", data={"csrf_token": csrf}).json()
        self.assertEqual(start["payment_method"], self.token.stripe_payment_method)
        self.assertEqual(start["client_secret"], self.fake.intents[intent_id]["client_secret"])
        # Stripe.js confirmCardPayment in the customer's browser: 3-D Secure passed.
        self.fake.authenticate(intent_id)
        done = self.url_open(f"{path}/finish", data={"csrf_token": csrf}).json()
        self.assertIn("paid", done["message"])
        self.assertEqual(attempt.state, "done")
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(attempt.case_id.state, "resolved")
        # A second "finish" and payment_stripe's webhook change nothing more.
        self.url_open(f"{path}/finish", data={"csrf_token": csrf})
        tx = attempt.transaction_id
        compat.process_payment_data(
            tx, {"reference": tx.reference, "payment_intent": self.fake.intents[intent_id]}
        )
        self.assertEqual(len(self.invoice._get_reconciled_payments()), 1)
        self.assertEqual(len(self.fake.charges), 1)
        # The link was for that payment only: used now.
        self.assertEqual(self.url_open(path).status_code, 403)

    def test_failed_authentication_leaves_the_case_waiting(self):
        attempt, path = self._waiting()
        csrf = self._csrf(self.url_open(path))
        self.url_open(f"{path}/start", data={"csrf_token": csrf})
        self.fake.authenticate(attempt.stripe_payment_intent, succeed=False)
        answer = self.url_open(f"{path}/finish", data={"csrf_token": csrf}).json()
        self.assertTrue(answer.get("error"))
        self.assertEqual(attempt.state, "requires_action")
        self.assertEqual(attempt.case_id.state, "waiting")
        self.assertEqual(self.url_open(path).status_code, 200, "the customer may try again")

    def test_links_are_not_interchangeable(self):
        attempt, path = self._waiting()
        secret = path.rsplit("/", 1)[1]
        methods_url = self.customer.with_context(omni_send_links=True)._omni_payment_methods_url()
        methods_secret = methods_url.rsplit("/", 1)[1]
        for bad in (
            f"{AUTH_ROUTE}/{methods_secret}",  # a link to the payment methods
            f"/omni/payment_methods/{secret}",  # this link on the payment methods' page
            path[:-3] + "abc",
        ):
            with self.subTest(bad=bad):
                response = self.url_open(bad)
                self.assertEqual(response.status_code, 403)
                self.assertNotIn(self.invoice.name, response.text)
        csrf = self._csrf(self.url_open(path))
        for route in ("start", "finish"):
            response = self.url_open(
                f"{AUTH_ROUTE}/{methods_secret}/{route}", data={"csrf_token": csrf}
            )
            self.assertEqual(response.status_code, 403, route)
        self.assertEqual(attempt.state, "requires_action")
