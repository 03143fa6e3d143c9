# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CARD_YEAR, LocalStripeMixin, OmniCommon


@tagged("post_install", "-at_install")
class TestDefaultRules(OmniCommon):
    def test_first_method_is_default_later_ones_are_not(self):
        first = self._omni_token(self.customer)
        second = self._omni_token(self.customer_contact, last4="4444", brand="mastercard")
        third = self._omni_token(self.customer, last4="0005", brand="amex", omni_is_default=True)
        self.assertTrue(first.omni_is_default)
        self.assertFalse(second.omni_is_default, "a contact's method counts for its company")
        self.assertFalse(third.omni_is_default, "a new method never takes the mark at creation")
        other = self._omni_token(self.other_customer)
        self.assertTrue(other.omni_is_default, "defaults are per customer")

    def test_default_cannot_be_written_directly(self):
        self._omni_token(self.customer)
        second = self._omni_token(self.customer, last4="4444")
        with self.assertRaisesRegex(UserError, "Set as default"):
            second.omni_is_default = True

    def test_database_refuses_two_defaults(self):
        first = self._omni_token(self.customer)
        second = self._omni_token(self.customer, last4="4444")
        self.assertTrue(first.omni_is_default)
        self.env.flush_all()
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "UPDATE payment_token SET omni_is_default = TRUE WHERE id = %s", [second.id]
            )

    def test_set_default_moves_the_mark_without_stripe_for_other_providers(self):
        first = self._omni_token(self.customer, provider_id=self.dummy_provider.id)
        second = self._omni_token(self.customer, provider_id=self.dummy_provider.id, last4="1881")
        action = second.action_omni_set_default()
        self.assertFalse(first.omni_is_default)
        self.assertTrue(second.omni_is_default)
        self.assertIn(
            "ending in 1881 is now your default payment method", action["params"]["message"]
        )

    def test_stripe_down_changes_nothing(self):
        first = self._omni_token(self.customer)
        second = self._omni_token(self.customer, last4="4444")
        self.env.flush_all()
        with (
            self.assertRaisesRegex(UserError, "Stripe could not be reached"),
            self.env.cr.savepoint(),
        ):
            second.action_omni_set_default()
        self.env.invalidate_all()
        self.assertTrue(first.omni_is_default)
        self.assertFalse(second.omni_is_default)

    def test_archived_method_loses_default_and_cannot_become_default(self):
        first = self._omni_token(self.customer)
        # archived in Odoo only (this fake method has no Stripe to detach it from)
        first.with_context(omni_keep_in_stripe=True).active = False
        self.assertFalse(first.omni_is_default)
        with self.assertRaisesRegex(UserError, "archived"):
            first.action_omni_set_default()
        new = self._omni_token(self.customer, last4="4444")
        self.assertTrue(new.omni_is_default, "the first live method becomes the default again")


@tagged("post_install", "-at_install")
class TestDefaultRulesLocalStripe(LocalStripeMixin, OmniCommon):
    def test_set_default_updates_stripe_customer(self):
        first = self._stripe_token(self.customer)
        customer_id = first.provider_ref
        pm = self.client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {
                    "number": "4000056655665556",
                    "exp_month": 1,
                    "exp_year": CARD_YEAR + 3,
                    "cvc": "123",
                },
            }
        )
        self.client.v1.payment_methods.attach(pm["id"], {"customer": customer_id})
        second = self.Token.create(
            {
                "provider_id": self.stripe.id,
                "payment_method_id": self.card_method.id,
                "partner_id": self.customer.id,
                "payment_details": "5556",
                "provider_ref": customer_id,
                "stripe_payment_method": pm["id"],
            }
        )
        second._omni_capture_stripe_details()
        action = second.action_omni_set_default()
        self.assertEqual(
            action["params"]["message"], "Visa ending in 5556 is now your default payment method."
        )
        self.assertTrue(second.omni_is_default)
        self.assertFalse(first.omni_is_default)
        customer = self.client.v1.customers.retrieve(customer_id)
        self.assertEqual(customer["invoice_settings"]["default_payment_method"], pm["id"])
        self.assertIn("set as the default", self.customer.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestConcurrentSetDefault(OmniCommon):
    """Two users press "Set as default" on two methods at the same moment.

    Needs committed data and real cursors (the test cursor serializes everything), so the
    test opens its own connections and removes what it committed at the end.
    """

    def _real_cursor(self):
        return db_connect(self.env.cr.dbname).cursor()

    def test_two_concurrent_set_default_end_with_one_default(self):
        with self._real_cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            provider = env["payment.provider"].create({"name": "Omni concurrency", "code": "none"})
            partner = env["res.partner"].create({"name": "Concurrent Customer"})
            method = env.ref("payment.payment_method_unknown")
            tokens = env["payment.token"].create(
                [
                    {
                        "provider_id": provider.id,
                        "payment_method_id": method.id,
                        "partner_id": partner.id,
                        "payment_details": last4,
                        "provider_ref": f"ref{last4}",
                    }
                    for last4 in ("1111", "2222", "3333")
                ]
            )
            ids = tokens.ids
            partner_id, provider_id = partner.id, provider.id
            cr.commit()  # pylint: disable=invalid-commit
        barrier = threading.Barrier(2)
        errors = []
        retries = []

        def press(env, token_id):
            cr = env.cr
            try:
                barrier.wait(timeout=10)
                # What Odoo's RPC layer does on a serialization failure: roll back, retry.
                for _attempt in range(5):
                    try:
                        env["payment.token"].browse(token_id).action_omni_set_default()
                        cr.commit()  # pylint: disable=invalid-commit
                        break
                    except psycopg2.errors.SerializationFailure:
                        cr.rollback()
                        env.invalidate_all()
                        retries.append(token_id)
                else:
                    raise AssertionError("no attempt succeeded")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                cr.close()

        # Environments are built here: building one takes the registry lock, which the test
        # runner holds.
        envs = [api.Environment(self._real_cursor(), SUPERUSER_ID, {}) for _i in range(2)]
        try:
            threads = [
                threading.Thread(target=press, args=(env, token_id))
                for env, token_id in zip(envs, ids[1:], strict=True)
            ]
            with mute_logger("odoo.sql_db"):  # the expected serialization failure is logged
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(30)
            self.assertFalse(any(thread.is_alive() for thread in threads))
            self.assertFalse(errors)
            with self._real_cursor() as cr:
                cr.execute(
                    "SELECT id FROM payment_token WHERE commercial_partner_id = %s "
                    "AND omni_is_default AND active",
                    [partner_id],
                )
                defaults = [row[0] for row in cr.fetchall()]
            self.assertEqual(len(defaults), 1)
            self.assertIn(defaults[0], ids[1:])
        finally:
            with self._real_cursor() as cr:
                cr.execute("DELETE FROM payment_token WHERE id IN %s", [tuple(ids)])
                cr.execute("DELETE FROM payment_provider WHERE id = %s", [provider_id])
                cr.execute(
                    "DELETE FROM mail_message WHERE model = 'res.partner' AND res_id = %s",
                    [partner_id],
                )
                cr.execute("DELETE FROM res_partner WHERE id = %s", [partner_id])
