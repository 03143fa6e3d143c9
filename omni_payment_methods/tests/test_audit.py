# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from . import compat
from .common import CARD_YEAR, OmniCommon, current_api_payment_method
from .test_security import MANAGER, VIEWER


@tagged("post_install", "-at_install")
class TestAudit(OmniCommon):
    """Every change of a method: a chatter note (who, when, channel) and an audit row."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Audit = cls.env["omni.payment.audit"]
        cls.manager = new_test_user(cls.env, "omni_audit_manager", groups=MANAGER)
        cls.viewer = new_test_user(cls.env, "omni_audit_viewer", groups=VIEWER)
        cls.internal = new_test_user(cls.env, "omni_audit_internal", groups="base.group_user")

    def _rows(self, partner=None):
        return self.Audit.search([("commercial_partner_id", "=", (partner or self.customer).id)])

    def test_each_change_is_audited_with_event_channel_and_author(self):
        provider = {"provider_id": self.dummy_provider.id}
        first = self._omni_token(
            self.customer, last4="1111", omni_added_channel="staff", **provider
        )
        second = self._omni_token(self.customer, last4="2222", **provider)
        second.with_user(self.manager).omni_nickname = "Ops"
        second.with_user(self.manager).action_omni_set_default()
        first.with_user(self.manager)._omni_delete()
        rows = self._rows().sorted("id")
        manager, root = self.manager.id, self.env.uid
        self.assertRecordValues(
            rows,
            [
                {"event": "added", "channel": "staff", "token_id": first.id, "user_id": root},
                {"event": "added", "channel": "checkout", "token_id": second.id, "user_id": root},
                {"event": "renamed", "channel": "staff", "token_id": second.id, "user_id": manager},
                {"event": "default", "channel": "staff", "token_id": second.id, "user_id": manager},
                {"event": "deleted", "channel": "staff", "token_id": first.id, "user_id": manager},
            ],
        )
        self.assertEqual(rows[3].summary, "Visa ending in 2222 set as the default payment method.")
        # Same text on the chatter, with the channel; written by the acting user.
        note = rows[3].message_id
        self.assertIn(note, self.customer.message_ids)
        self.assertIn("(channel: Staff (phone))", note.body)
        self.assertEqual(note.author_id, self.manager.partner_id)
        self.assertEqual(rows.company_id, self.env.company)

    def test_stripe_changes_are_audited_as_stripe(self):
        token = self._omni_token(self.customer)
        pm = current_api_payment_method()
        pm.update(id=token.stripe_payment_method, customer=token.provider_ref)
        pm["card"].update(exp_month=9, exp_year=CARD_YEAR + 3)
        with patch.object(type(token), "_omni_fetch_stripe_payment_method", return_value=pm):
            self.Token._cron_omni_sync_stripe()
            # A second run finds the same state: no second "updated" row.
            token.with_context(omni_stripe_sync=True).omni_stripe_synced_on = False
            self.Token._cron_omni_sync_stripe()
        token._omni_archive_from_stripe()
        rows = self._rows().sorted("id")
        self.assertEqual(rows.mapped("event"), ["added", "updated", "deleted"])
        self.assertEqual(rows[1:].mapped("channel"), ["stripe", "stripe"])
        self.assertIn(f"expires 09/{CARD_YEAR + 3}", rows[1].summary)
        self.assertIn("(channel: Stripe", rows[2].message_id.body)

    def test_charge_events_and_explicit_channel_for_the_charging_code(self):
        token = self._omni_token(self.customer)
        token.with_context(omni_channel="system")._omni_log("Charged 10.00 EUR.", event="charged")
        token._omni_log("Declined: insufficient funds.", event="failed", channel="system")
        token.with_user(self.manager)._omni_log("Old call without event.")
        self.assertEqual(
            self._rows().sorted("id").mapped(lambda r: (r.event, r.channel)),
            [
                ("added", "checkout"),
                ("charged", "system"),
                ("failed", "system"),
                ("other", "staff"),
            ],
        )

    def test_log_is_read_only_for_everyone_and_per_company(self):
        token = self._omni_token(self.customer)
        row = self._rows()
        company_2 = self.env["res.company"].create({"name": "Omni Audit Co 2"})
        token_2 = self._omni_token(
            self.other_customer,
            provider_id=compat.dummy_provider(self, company_2).id,
        )
        row_2 = self._rows(self.other_customer)
        self.assertEqual(row_2.company_id, company_2)
        for user in (self.viewer, self.manager):
            with self.subTest(user=user.login):
                audit = self.Audit.with_user(user)
                self.assertEqual(audit.search([("id", "in", (row | row_2).ids)]), row)
                with self.assertRaises(AccessError):
                    audit.create({"event": "added", "token_id": token.id})
                with self.assertRaises(AccessError):
                    row.with_user(user).write({"summary": "forged"})
                with self.assertRaises(AccessError):
                    row.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    row_2.with_user(user).read(["summary"])
        with self.assertRaises(AccessError):
            row.with_user(self.internal).read(["summary"])
        # Not even an administrator edits the log.
        admin = self.env.ref("base.user_admin")
        with self.assertRaises(AccessError):
            row.with_user(admin).write({"summary": "forged"})
        with self.assertRaises(AccessError):
            row.with_user(admin).unlink()
        self.assertEqual(row.summary, "Visa ending in 4242 added (channel: Online payment).")
        self.assertTrue(token_2.exists())
