# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from . import compat
from .common import (
    CARD_YEAR,
    LocalStripeMixin,
    OmniCommon,
    closed_port_url,
    current_api_payment_method,
)


@tagged("post_install", "-at_install")
class TestTokenCaptureLocalStripe(LocalStripeMixin, OmniCommon):
    def _tokenize(self, customer_id, pm):
        tx = self._omni_validation_tx()
        compat.stripe_tokenize(
            tx, {"setup_intent": {"customer": customer_id}, "payment_method": pm}
        )
        return tx

    def test_capture_every_field_from_localstripe(self):
        customer_id, pm = self._stripe_card(
            number="5555555555554444", month=3, year=CARD_YEAR + 2, name="Grace Hopper"
        )
        tx = self._tokenize(customer_id, pm)
        token = tx.token_id
        self.assertTrue(token)
        self.assertRecordValues(
            token,
            [
                {
                    "stripe_payment_method": pm["id"],
                    "provider_ref": customer_id,
                    "payment_details": "4444",
                    "omni_method_kind": "card",
                    "omni_stripe_pm_type": "card",
                    # localstripe derives no brand from the number (it says "visa" for
                    # every card): the stored brand is whatever Stripe answered.
                    "omni_card_brand": pm["card"]["brand"],
                    "omni_card_exp_month": 3,
                    "omni_card_exp_year": CARD_YEAR + 2,
                    "omni_expiry_date": datetime.date(CARD_YEAR + 2, 3, 31),
                    "omni_expiry_display": f"03/{CARD_YEAR + 2}",
                    "omni_holder_name": "Grace Hopper",
                    "omni_fingerprint": pm["card"]["fingerprint"],
                    "omni_stripe_sync_state": "synced",
                    "omni_added_channel": "checkout",
                    "omni_added_by_id": tx.create_uid.id,
                    "omni_is_default": True,
                    "commercial_partner_id": self.customer.id,
                }
            ],
        )
        self.assertTrue(token.omni_issuer_display.endswith("•••• 4444"))
        self.assertTrue(token.omni_added_on)
        # localstripe's old PaymentMethod shape gives country and funding when it knows them.
        if pm["card"].get("country"):
            self.assertEqual(token.omni_card_country_id.code, pm["card"]["country"])
        self.assertIn("ending in 4444 added", token.commercial_partner_id.message_ids[0].body)
        self.assertNotIn("5555555555554444", token.commercial_partner_id.message_ids[0].body)

    def test_backfill_existing_token(self):
        customer_id, pm = self._stripe_card(number="4242424242424242", month=11, year=CARD_YEAR)
        token = self.Token.create(
            {
                "provider_id": self.stripe.id,
                "payment_method_id": self.card_method.id,
                "partner_id": self.customer.id,
                "payment_details": "4242",
                "provider_ref": customer_id,
                "stripe_payment_method": pm["id"],
            }
        )
        token._omni_init_existing()
        self.assertEqual(token.omni_stripe_sync_state, "pending")
        self.assertEqual(token.omni_added_channel, "import")
        self.assertEqual(token.omni_added_on, token.create_date)
        self.assertFalse(token.omni_added_by_id, "nobody is recorded as having added it")
        self.assertFalse(token.omni_authorized, "nobody said the customer agreed to charges")
        self.assertFalse(token.omni_card_brand)
        token.action_omni_sync_from_stripe()
        self.assertRecordValues(
            token,
            [
                {
                    "omni_card_brand": "visa",
                    "omni_card_exp_month": 11,
                    "omni_card_exp_year": CARD_YEAR,
                    "omni_stripe_sync_state": "synced",
                }
            ],
        )

    def test_unknown_payment_method_is_a_clear_error(self):
        token = self._omni_token(self.customer, stripe_payment_method="pm_does_not_exist")
        with self.assertRaisesRegex(UserError, "Stripe does not know"):
            token._omni_fetch_stripe_payment_method()


@tagged("post_install", "-at_install")
class TestTokenCaptureOffline(OmniCommon):
    def test_development_server_is_a_server_setting_for_test_mode_only(self):
        """The development Stripe is the server's OMNI_STRIPE_API_BASE, honoured in test
        mode only; nothing in the database can point the secret key elsewhere."""
        self.assertNotIn("omni_stripe_api_base", self.stripe._fields)
        self._stripe_at("http://127.0.0.1:8420")
        self.assertEqual(self.stripe.state, "test")
        self.assertEqual(self.stripe._omni_stripe_api_base(), "http://127.0.0.1:8420")
        self.assertEqual(
            self.stripe._omni_stripe_js_url(), "http://127.0.0.1:8420/js.stripe.com/v3/"
        )
        self.stripe.state = "enabled"
        self.assertIsNone(self.stripe._omni_stripe_api_base())
        self.assertEqual(self.stripe._omni_stripe_js_url(), "https://js.stripe.com/v3/")

    def test_current_api_shape_is_mapped(self):
        """Fields only real Stripe gives (display_brand, wallet, funding) are stored."""
        pm = current_api_payment_method()
        token = self._omni_token(
            self.customer,
            stripe_payment_method=pm["id"],
            omni_card_brand=False,
            omni_card_exp_month=0,
        )
        with patch.object(
            type(token), "_omni_fetch_stripe_payment_method", return_value=pm, autospec=True
        ):
            token._omni_capture_stripe_details()
        self.assertRecordValues(
            token,
            [
                {
                    "omni_card_brand": "visa",
                    "omni_card_funding": "credit",
                    "omni_card_wallet": "link",
                    "omni_card_country_id": self.env.ref("base.us").id,
                    "omni_fingerprint": "AOB934RVNwzk6xtn",
                    "omni_card_exp_month": 8,
                    "omni_card_exp_year": 2030,  # the example's (data, not a date)
                    "omni_stripe_sync_state": "synced",
                }
            ],
        )

    def test_stripe_down_while_capturing_keeps_token_to_synchronize(self):
        self._stripe_at(closed_port_url())
        pm = current_api_payment_method()
        tx = self._omni_validation_tx()
        with patch(
            "odoo.addons.omni_payment_methods.models.payment_provider.PaymentProvider."
            "_omni_stripe_max_network_retries",
            return_value=0,
        ):
            compat.stripe_tokenize(
                tx, {"setup_intent": {"customer": "cus_down"}, "payment_method": pm}
            )
        token = tx.token_id
        self.assertTrue(token, "the payment flow must not break when Stripe is down")
        self.assertEqual(token.omni_stripe_sync_state, "pending")
        # The details the notification carried are kept; nothing else is invented.
        self.assertEqual(token.omni_card_brand, "visa")
        self.assertEqual(token.payment_details, "4242")

    def test_token_of_another_provider_is_refused_by_stripe_actions(self):
        token = self._omni_token(self.customer, provider_id=self.dummy_provider.id)
        with self.assertRaisesRegex(UserError, "not managed by Stripe"):
            token._omni_fetch_stripe_payment_method()


@tagged("post_install", "-at_install")
class TestStripeSyncJob(LocalStripeMixin, OmniCommon):
    def test_sync_job_refreshes_stale_methods_in_batches(self):
        tokens = self.Token
        for number in ("4242424242424242", "5555555555554444", "4000056655665556"):
            customer_id, pm = self._stripe_card(number=number, month=4, year=CARD_YEAR + 3)
            tokens |= self._omni_token(
                self.customer,
                provider_ref=customer_id,
                stripe_payment_method=pm["id"],
                payment_details=pm["card"]["last4"],
                omni_card_exp_month=1,
                omni_card_exp_year=CARD_YEAR,
            )
        Token = self.Token
        with patch.object(type(self.env["ir.cron"]), "_omni_report_progress") as notify:
            Token._cron_omni_sync_stripe(batch_size=2)
            notify.assert_called_once_with(done=2, remaining=1)
            Token._cron_omni_sync_stripe(batch_size=2)
        self.assertEqual(set(tokens.mapped("omni_card_exp_year")), {CARD_YEAR + 3})
        self.assertEqual(set(tokens.mapped("omni_stripe_sync_state")), {"synced"})
        self.assertFalse(
            Token.search_count([*Token._omni_stale_domain(), ("id", "in", tokens.ids)])
        )

    def test_sync_job_stops_when_stripe_is_down_and_marks_nothing(self):
        customer_id, pm = self._stripe_card()
        token = self._omni_token(
            self.customer, provider_ref=customer_id, stripe_payment_method=pm["id"]
        )
        self._stripe_at(closed_port_url())
        with (
            patch.object(type(self.stripe), "_omni_stripe_max_network_retries", return_value=0),
            patch.object(type(self.env["ir.cron"]), "_omni_report_progress") as notify,
        ):
            self.Token._cron_omni_sync_stripe()
        notify.assert_called_once_with(done=0, remaining=0)
        self.assertFalse(token.omni_stripe_synced_on, "left for the next run")

    def test_sync_one_customer(self):
        customer_id, pm = self._stripe_card(month=9, year=CARD_YEAR + 4)
        token = self._omni_token(
            self.customer_contact, provider_ref=customer_id, stripe_payment_method=pm["id"]
        )
        action = self.customer.action_omni_sync_stripe()
        self.assertIn("1 payment method(s) synchronized", action["params"]["message"])
        self.assertEqual(token.omni_card_exp_year, CARD_YEAR + 4)
