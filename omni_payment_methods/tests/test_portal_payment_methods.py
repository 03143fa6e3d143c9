# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CARD_YEAR, LocalStripeMixin, OmniCommon

SETUP = "/omni/payment_method/setup"


class PortalFlowMixin:
    """Drive the add flow over HTTP as the page's script does; Stripe.js's confirmation is
    made with the SDK against localstripe."""

    def _csrf(self, path="/my/payment_method"):
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200, path)
        return re.search(r'csrf_token: "([^"]+)"', response.text).group(1)

    def _post(self, path, data, csrf):
        return self.url_open(path, data={**data, "csrf_token": csrf})

    def _start(self, csrf, **values):
        data = {"mode": "portal", "holder_name": "Ada Lovelace", "country_id": self.fr.id}
        data.update(values)
        return self._post(f"{SETUP}/start", data, csrf).json()

    def _confirm(self, client_secret, number="4242424242424242", month=8, year=CARD_YEAR + 1):
        """What Stripe.js's confirmCardSetup does (localstripe accepts raw test numbers)."""
        seti = client_secret.split("_secret_")[0]
        return self.client.v1.setup_intents.confirm(
            seti,
            {
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": number, "exp_month": month, "exp_year": year, "cvc": "123"},
                    "billing_details": {"name": "Ada Lovelace"},
                }
            },
        )

    def _add_card(self, csrf, number="4242424242424242", **start_values):
        start = self._start(csrf, **start_values)
        self.assertNotIn("error", start)
        self._confirm(start["client_secret"], number=number)
        return self._post(
            f"{SETUP}/{start['setup_id']}/finish", {"handle": start["handle"]}, csrf
        ).json()


@tagged("post_install", "-at_install")
class TestPortalPaymentMethods(PortalFlowMixin, LocalStripeMixin, OmniCommon, HttpCase):
    """/my/payment_method: list, set default, rename, delete, add through a SetupIntent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fr = cls.env.ref("base.fr")
        cls.portal_user = new_test_user(
            cls.env,
            "omni_portal",
            groups="base.group_portal",
            partner_id=cls.customer_contact.id,
        )
        cls.customer_contact.email = "contact@example.com"
        cls.other_card = cls._omni_token(cls.other_customer, last4="1117", brand="discover")
        cls.Setup = cls.env["omni.payment.setup"]

    def setUp(self):
        super().setUp()
        self.authenticate("omni_portal", "omni_portal")
        self.csrf = self._csrf()

    def test_add_card_first_becomes_default(self):
        result = self._add_card(self.csrf, nickname="Company Visa")
        self.assertEqual(
            result["message"], "Your Visa ending in 4242 has been added to your account."
        )
        token = self.Token.browse(result["token_id"])
        self.assertEqual(token.commercial_partner_id, self.customer)
        self.assertEqual(token.partner_id, self.customer_contact)
        self.assertTrue(token.omni_is_default)
        self.assertEqual(token.omni_added_channel, "portal")
        self.assertEqual(token.omni_added_by_id, self.portal_user)
        self.assertTrue(token.omni_authorized)
        self.assertEqual(token.omni_nickname, "Company Visa")
        self.assertEqual(token.payment_method_id, self.card_method)
        self.assertEqual((token.omni_card_brand, token.omni_card_exp_year), ("visa", CARD_YEAR + 1))
        self.assertTrue(token.provider_ref.startswith("cus_"))
        # The PaymentMethod is attached to the customer in Stripe.
        pm = self.client.v1.payment_methods.retrieve(token.stripe_payment_method)
        self.assertEqual(pm["customer"], token.provider_ref)
        # Confirming the same attempt again creates nothing more.
        setup = self.Setup.search([("token_id", "=", token.id)])
        self.assertEqual(setup.state, "done")
        with self.assertRaises(UserError):
            setup._finish()
        self.assertEqual(
            self.Token.search_count([("commercial_partner_id", "=", self.customer.id)]), 1
        )
        # The second card reuses the Stripe customer and is not the default.
        second = self.Token.browse(self._add_card(self.csrf, number="5555555555554444")["token_id"])
        self.assertEqual(second.provider_ref, token.provider_ref)
        self.assertFalse(second.omni_is_default)
        page = self.url_open("/my/payment_method").text
        self.assertIn("Visa ending in 4242", page)
        self.assertIn("Company Visa", page)
        self.assertNotIn("1117", page, "another customer's card never shows")

    def test_required_fields_and_nothing_created(self):
        for values, message in (
            ({"holder_name": ""}, "cardholder"),
            ({"country_id": ""}, "country"),
            ({"country_id": "abc"}, "country"),
        ):
            with self.subTest(values=values):
                result = self._start(self.csrf, **values)
                self.assertIn(message, result["error"])
        self.assertFalse(self.Setup.search([("partner_id", "=", self.customer.id)]))

    def test_declined_card_is_logged_and_leaves_nothing(self):
        start = self._start(self.csrf)
        with self.assertRaises(Exception):  # noqa: B017 - localstripe's 402 card_declined
            self._confirm(start["client_secret"], number="4000000000000002")
        result = self._post(
            f"{SETUP}/{start['setup_id']}/fail",
            {"handle": start["handle"], "code": "card_declined", "message": "declined"},
            self.csrf,
        ).json()
        self.assertEqual(
            result["error"], "The card was declined by its bank. Please use another card."
        )
        setup = self.Setup.browse(start["setup_id"])
        self.assertEqual((setup.state, setup.error_code), ("failed", "card_declined"))
        self.assertFalse(self.Token.search([("commercial_partner_id", "=", self.customer.id)]))
        # Finishing a failed attempt creates nothing.
        result = self._post(
            f"{SETUP}/{start['setup_id']}/finish", {"handle": start["handle"]}, self.csrf
        ).json()
        self.assertIn("error", result)
        self.assertFalse(self.Token.search([("commercial_partner_id", "=", self.customer.id)]))

    def test_expired_card_is_refused_and_detached(self):
        start = self._start(self.csrf)
        intent = self._confirm(start["client_secret"], year=2020)
        result = self._post(
            f"{SETUP}/{start['setup_id']}/finish", {"handle": start["handle"]}, self.csrf
        ).json()
        self.assertEqual(result["error"], "The card's expiry date is not valid or is in the past.")
        self.assertFalse(self.Token.search([("commercial_partner_id", "=", self.customer.id)]))
        pm = self.client.v1.payment_methods.retrieve(intent["payment_method"])
        self.assertFalse(pm["customer"])

    def test_wrong_handle_and_unconfirmed_intent(self):
        start = self._start(self.csrf)
        response = self._post(
            f"{SETUP}/{start['setup_id']}/finish", {"handle": "forged"}, self.csrf
        )
        self.assertEqual(response.status_code, 404)
        result = self._post(
            f"{SETUP}/{start['setup_id']}/finish", {"handle": start["handle"]}, self.csrf
        ).json()
        self.assertEqual(
            result["error"], "Stripe has not confirmed the card yet. Please try again."
        )

    def test_abandon_cancels_the_setup_intent(self):
        start = self._start(self.csrf)
        self._post(f"{SETUP}/{start['setup_id']}/abandon", {"handle": start["handle"]}, self.csrf)
        self.assertEqual(self.Setup.browse(start["setup_id"]).state, "canceled")
        seti = start["client_secret"].split("_secret_")[0]
        self.assertEqual(self.client.v1.setup_intents.retrieve(seti)["status"], "canceled")

    def test_abandoned_attempts_are_canceled_by_the_cleanup_job(self):
        start = self._start(self.csrf)
        setup = self.Setup.browse(start["setup_id"])
        self.env.cr.execute(
            "UPDATE omni_payment_setup SET create_date = now() - interval '2 hours' WHERE id = %s",
            [setup.id],
        )
        setup.invalidate_recordset()
        self.Setup._gc_abandoned_setups()
        self.assertEqual(setup.state, "canceled")
        seti = start["client_secret"].split("_secret_")[0]
        self.assertEqual(self.client.v1.setup_intents.retrieve(seti)["status"], "canceled")

    def test_limit_reached_after_confirmation_detaches_the_card(self):
        start = self._start(self.csrf)
        intent = self._confirm(start["client_secret"])
        # Another method was added meanwhile (e.g. in a second tab) up to the limit.
        self.env["ir.config_parameter"].set_param("omni_payment_methods.max_cards", 1)
        self._omni_token(self.customer)
        result = self._post(
            f"{SETUP}/{start['setup_id']}/finish", {"handle": start["handle"]}, self.csrf
        ).json()
        self.assertIn("maximum allowed", result["error"])
        self.assertEqual(
            self.Token.search_count([("stripe_payment_method", "=", intent["payment_method"])]), 0
        )
        pm = self.client.v1.payment_methods.retrieve(intent["payment_method"])
        self.assertFalse(pm["customer"], "the refused card does not stay attached in Stripe")

    def test_card_testing_protection(self):
        self.env["ir.config_parameter"].set_param("omni_payment_methods.setup_max_attempts", 2)
        for _i in range(2):
            start = self._start(self.csrf)
            self._post(
                f"{SETUP}/{start['setup_id']}/fail",
                {"handle": start["handle"], "code": "incorrect_number"},
                self.csrf,
            )
        result = self._start(self.csrf)
        self.assertIn("Too many attempts", result["error"])
        states = self.Setup.search([("partner_id", "=", self.customer.id)]).mapped("state")
        self.assertEqual(sorted(states), ["blocked", "failed", "failed"])

    def test_card_testing_protection_per_ip_address(self):
        self.env["ir.config_parameter"].set_param("omni_payment_methods.setup_max_attempts", 2)
        # Two failures for another customer from the same address (test server: 127.0.0.1).
        for _i in range(2):
            self.Setup.create(
                {
                    "partner_id": self.other_customer.id,
                    "provider_id": self.stripe.id,
                    "channel": "link",
                    "ip_address": "127.0.0.1",
                    "state": "failed",
                }
            )
        result = self._start(self.csrf)
        self.assertIn("Too many attempts", result["error"])
        blocked = self.Setup.search([("partner_id", "=", self.customer.id)])
        self.assertEqual((blocked.state, blocked.ip_address), ("blocked", "127.0.0.1"))

    def test_card_limit(self):
        self.env["ir.config_parameter"].set_param("omni_payment_methods.max_cards", 1)
        self._omni_token(self.customer)
        result = self._start(self.csrf)
        self.assertIn("maximum allowed", result["error"])

    def test_set_default_rename_delete(self):
        first = self._stripe_token(self.customer_contact)
        second = self._stripe_token(self.customer_contact, number="4000000000005678")
        base = f"/my/payment_method/{second.id}"
        # Delete refused on the default while others exist.
        response = self.url_open(f"/my/payment_method/{first.id}/delete")
        self.assertIn("is the default payment method", response.text)
        self.assertTrue(first.active)
        # Set as default: the back office's message.
        page = self._post(f"{base}/default", {}, self.csrf).text
        self.assertIn("Visa ending in 5678 is now your default payment method.", page)
        self.assertTrue(second.omni_is_default)
        self.assertFalse(first.omni_is_default)
        page = self._post(f"{base}/rename", {"nickname": "Travel card"}, self.csrf).text
        self.assertEqual(second.omni_nickname, "Travel card")
        self.assertIn("Travel card", page)
        page = self._post(f"{base}/rename", {"nickname": "4242424242424242"}, self.csrf).text
        self.assertIn("looks like a card number", page)
        self.assertEqual(second.omni_nickname, "Travel card")
        # Delete the non-default one: confirmation with card and expiry, then deleted.
        confirm = self.url_open(f"/my/payment_method/{first.id}/delete").text
        self.assertIn(f"Delete Visa ending in 4242 (expires 08/{CARD_YEAR + 1})?", confirm)
        page = self._post(f"/my/payment_method/{first.id}/delete", {}, self.csrf).text
        self.assertIn("Visa ending in 4242 has been deleted.", page)
        self.assertFalse(first.active)
        # The last one: warning, then allowed.
        confirm = self.url_open(f"{base}/delete").text
        self.assertIn("automatic billing stops", confirm)
        self._post(f"{base}/delete", {}, self.csrf)
        self.assertFalse(second.active)
        pm = self.client.v1.payment_methods.retrieve(second.stripe_payment_method)
        self.assertFalse(pm["customer"], "detached in Stripe")

    def test_other_customer_token_is_not_found(self):
        token = self.other_card
        for method, path, data in (
            ("post", f"/my/payment_method/{token.id}/default", {}),
            ("post", f"/my/payment_method/{token.id}/rename", {"nickname": "Mine"}),
            ("post", f"/my/payment_method/{token.id}/delete", {}),
            ("get", f"/my/payment_method/{token.id}/delete", None),
        ):
            with self.subTest(method=method, path=path):
                if method == "post":
                    response = self._post(path, data, self.csrf)
                else:
                    response = self.url_open(path)
                self.assertEqual(response.status_code, 404)
        self.assertTrue(token.active)
        self.assertTrue(token.omni_is_default)
        self.assertFalse(token.omni_nickname)

    def test_posts_require_the_csrf_token(self):
        token = self._omni_token(self.customer_contact)
        other = self._omni_token(self.customer_contact, last4="5678")
        response = self.url_open(f"/my/payment_method/{other.id}/default", data={"x": "1"})
        self.assertEqual(response.status_code, 400)
        response = self.url_open(f"/my/payment_method/{other.id}/rename", data={"nickname": "x"})
        self.assertEqual(response.status_code, 400)
        response = self.url_open(f"{SETUP}/start", data={"mode": "portal"})
        self.assertEqual(response.status_code, 400)
        self.assertTrue(token.omni_is_default)
        self.assertFalse(other.omni_nickname)

    def test_odoo_archive_route_follows_the_rules(self):
        default = self._omni_token(self.customer_contact)
        other = self._omni_token(self.customer_contact, last4="5678")
        with self.assertRaises(Exception):  # noqa: B017 - the JSON-RPC error of the refusal
            self.make_jsonrpc_request("/payment/archive_token", {"token_id": default.id})
        self.assertTrue(default.active, "the default cannot be deleted while others exist")
        self.make_jsonrpc_request("/payment/archive_token", {"token_id": self.other_card.id})
        self.assertTrue(self.other_card.active, "another customer's method is untouched")
        self.make_jsonrpc_request("/payment/archive_token", {"token_id": other.id})
        self.assertFalse(other.active)

    def test_staff_mode_needs_the_manager_group_and_consent(self):
        page = self.url_open(f"/omni/payment_method/staff/{self.customer.id}")
        self.assertEqual(page.status_code, 403)
        response = self._post(
            f"{SETUP}/start",
            {
                "mode": "staff",
                "partner_id": self.customer.id,
                "holder_name": "A",
                "country_id": self.fr.id,
                "consent": "1",
            },
            self.csrf,
        )
        self.assertEqual(response.status_code, 403)


@tagged("post_install", "-at_install")
class TestStaffAndLinkAdd(PortalFlowMixin, LocalStripeMixin, OmniCommon, HttpCase):
    """Staff adding a card on the phone; a customer adding one through an emailed link."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fr = cls.env.ref("base.fr")
        cls.customer.email = "billing@example.com"
        cls.manager = new_test_user(
            cls.env,
            "omni_manager",
            groups="base.group_user,omni_payment_methods.group_omni_payment_method_manager",
        )

    def test_staff_add_records_consent_and_emails_the_customer(self):
        self.authenticate("omni_manager", "omni_manager")
        action = self.customer.with_user(self.manager).action_omni_add_payment_method()
        self.assertEqual(action["tag"], "omni_add_payment_method")
        self.assertEqual(action["params"]["partner_id"], self.customer.id)
        self.assertEqual(action["params"]["url"], f"/omni/payment_method/staff/{self.customer.id}")
        page = self.url_open(action["params"]["url"])
        self.assertEqual(page.status_code, 200)
        self.assertIn("/js.stripe.com/v3/", page.text)
        self.assertIn('name="consent"', page.text)
        self.assertEqual(page.headers["X-Frame-Options"], "SAMEORIGIN")
        csrf = self._csrf("/odoo")
        values = {"mode": "staff", "partner_id": self.customer.id}
        result = self._start(csrf, **values)
        self.assertEqual(
            result["error"], "Confirm that the customer agreed to save this payment method."
        )
        result = self._add_card(csrf, consent="1", **values)
        self.assertEqual(
            result["message"], "Visa ending in 4242 has been added to the account of Omni Customer."
        )
        token = self.Token.browse(result["token_id"])
        self.assertEqual(
            (token.omni_added_channel, token.omni_added_by_id), ("staff", self.manager)
        )
        self.assertIn("agreed on the phone", token.omni_consent_text)
        email = self.customer.message_ids.filtered(
            lambda m: m.subject and "was added to your account" in m.subject
        )
        self.assertEqual(len(email), 1)
        self.assertIn(self.customer, email.partner_ids)

    def test_link_add_consumes_the_link(self):
        url = self.customer.with_context(omni_send_links=True)._omni_payment_methods_url()
        path = url[url.index("/omni/payment_methods/") :]
        payload = path.rsplit("/", 1)[1]
        csrf = self._csrf(path)
        result = self._add_card(csrf, mode="link", link=payload)
        self.assertEqual(
            result["message"], "Your Visa ending in 4242 has been added to your account."
        )
        token = self.Token.browse(result["token_id"])
        self.assertEqual(token.omni_added_channel, "link")
        self.assertFalse(token.omni_added_by_id)
        self.assertTrue(token.omni_authorized)
        response = self.url_open(path)
        self.assertEqual(response.status_code, 403)
        self.assertIn("already used", response.text)
        # The used link grants nothing more.
        response = self._post(
            f"{SETUP}/start",
            {"mode": "link", "link": payload, "holder_name": "A", "country_id": self.fr.id},
            csrf,
        )
        self.assertEqual(response.status_code, 403)

    def test_visitor_without_credential_gets_nothing(self):
        url = self.customer.with_context(omni_send_links=True)._omni_payment_methods_url()
        csrf = self._csrf(url[url.index("/omni/payment_methods/") :])
        for values in (
            {"mode": "portal"},
            {"mode": "link", "link": "forged-secret"},
            {"mode": "link", "link": ""},
            {"mode": "staff", "partner_id": self.customer.id, "consent": "1"},
        ):
            with self.subTest(values=values):
                response = self._post(
                    f"{SETUP}/start",
                    {"holder_name": "A", "country_id": self.fr.id, **values},
                    csrf,
                )
                self.assertEqual(response.status_code, 403)
        self.assertFalse(self.env["omni.payment.setup"].search([]))
        response = self.url_open(
            f"/omni/payment_method/staff/{self.customer.id}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])

    def test_send_link_emails_the_customer(self):
        self.customer.with_user(self.manager).action_omni_send_payment_link()
        message = self.customer.message_ids[0]
        self.assertEqual(message.subject, "Add a payment method to your account")
        self.assertIn("/omni/payment_methods/", message.body)
        self.assertIn(self.customer, message.partner_ids)
        self.assertEqual(self.env["omni.payment.link"].search_count([]), 1)
