# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CARD_YEAR, LocalStripeMixin, OmniCommon


@tagged("post_install", "-at_install")
class TestDeleteRules(OmniCommon):
    def test_default_cannot_be_deleted_while_others_exist(self):
        default = self._omni_token(self.customer)
        self._omni_token(self.customer, last4="4444")
        with self.assertRaisesRegex(UserError, "Set another method as default"):
            default.action_omni_delete()
        with self.assertRaisesRegex(UserError, "Set another method as default"):
            default._omni_delete()
        self.assertTrue(default.active)

    def test_confirmation_shows_card_expiry_and_last_method_warning(self):
        token = self._omni_token(self.customer, last4="1234", month=7, year=CARD_YEAR - 1)
        action = token.action_omni_delete()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertTrue(wizard.is_last)
        self.assertIn(f"Visa ending in 1234 (expires 07/{CARD_YEAR - 1})", wizard.message)
        self.assertIn("automatic billing stops", wizard.message)

    def test_non_default_confirmation_has_no_last_warning(self):
        self._omni_token(self.customer)
        other = self._omni_token(self.customer, last4="4444", brand="mastercard")
        action = other.action_omni_delete()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertFalse(wizard.is_last)
        self.assertNotIn("automatic billing stops", wizard.message)

    def test_stripe_failure_changes_nothing(self):
        self._omni_token(self.customer)
        other = self._omni_token(self.customer, last4="4444")
        self.env.flush_all()
        with (
            self.assertRaisesRegex(UserError, "Stripe could not be reached"),
            self.env.cr.savepoint(),
        ):
            other._omni_delete()
        self.env.invalidate_all()
        self.assertTrue(other.active)

    def test_archiving_when_stripe_is_unreachable_changes_nothing(self):
        """Archiving by any path (RPC ``write``, the list's Archive action) detaches the method
        in Stripe first: Stripe unreachable, the method stays."""
        self._omni_token(self.customer)
        other = self._omni_token(self.customer, last4="4444")
        self.env.flush_all()
        for archive in (lambda: other.write({"active": False}), other.action_archive):
            with (
                self.assertRaisesRegex(UserError, "Stripe could not be reached"),
                self.env.cr.savepoint(),
            ):
                archive()
            self.env.invalidate_all()
            self.assertTrue(other.active)

    def test_delete_other_provider_method_archives_without_stripe(self):
        token = self._omni_token(self.customer, provider_id=self.dummy_provider.id)
        tx = self._create_transaction(
            "token", token_id=token.id, provider_id=self.dummy_provider.id
        )
        token._omni_delete()
        self.assertFalse(token.active)
        self.assertFalse(token.omni_is_default)
        self.assertEqual(tx.token_id, token, "history keeps its token")
        self.assertIn("deleted", self.customer.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestDeleteRulesLocalStripe(LocalStripeMixin, OmniCommon):
    def test_delete_detaches_in_stripe_and_archives(self):
        default = self._stripe_token(self.customer)
        other = self._stripe_token(self.customer, number="5555555555554444")
        action = other.action_omni_delete()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        result = wizard.action_confirm()
        self.assertIn("ending in 4444 has been deleted", result["params"]["message"])
        self.assertFalse(other.active)
        listed = self.client.v1.payment_methods.list(
            {"customer": other.provider_ref, "type": "card"}
        )
        self.assertNotIn(other.stripe_payment_method, [pm["id"] for pm in listed["data"]])
        # The last method can go, with the warning shown in the confirmation.
        action = default.action_omni_delete()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertTrue(wizard.is_last)
        wizard.action_confirm()
        self.assertFalse(default.active)

    def _attached(self, token):
        listed = self.client.v1.payment_methods.list(
            {"customer": token.provider_ref, "type": "card"}
        )
        return token.stripe_payment_method in [pm["id"] for pm in listed["data"]]

    def test_archiving_through_write_detaches_in_stripe(self):
        """A manager archiving a method over RPC (``write``) or from the list (Archive)
        detaches it in Stripe as the Delete button does: no method stays chargeable in
        Stripe once Odoo shows it deleted."""
        self._stripe_token(self.customer)
        by_write = self._stripe_token(self.customer, number="5555555555554444")
        by_action = self._stripe_token(self.customer, number="4000056655665556")
        self.assertTrue(self._attached(by_write))
        by_write.write({"active": False})
        by_action.action_archive()
        self.assertFalse(by_write.active or by_action.active)
        self.assertFalse(self._attached(by_write), "detached in Stripe")
        self.assertFalse(self._attached(by_action), "detached in Stripe")

    def test_provider_switch_keeps_the_methods_in_stripe(self):
        """Odoo archives a provider's tokens when its state changes (test/enabled/disabled):
        the customers' methods stay attached in Stripe, as before the addon."""
        token = self._stripe_token(self.customer)
        self.stripe.state = "disabled"
        self.assertFalse(token.active)
        self.assertTrue(self._attached(token))

    def test_payment_method_archived_keeps_the_methods_in_stripe(self):
        """Odoo archives the tokens of a payment method it deactivates: they stay in Stripe."""
        token = self._stripe_token(self.customer)
        self.card_method.active = False
        self.assertFalse(token.active)
        self.assertTrue(self._attached(token))

    def test_already_detached_in_stripe_still_deletes(self):
        self._stripe_token(self.customer)
        other = self._stripe_token(self.customer, number="5555555555554444")
        self.client.v1.payment_methods.detach(other.stripe_payment_method)
        other._omni_delete()
        self.assertFalse(other.active)
