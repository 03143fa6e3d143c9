# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from . import compat
from .common import OmniCommon

VIEWER = "omni_payment_methods.group_omni_payment_method_viewer"
MANAGER = "omni_payment_methods.group_omni_payment_method_manager"


@tagged("post_install", "-at_install")
class TestSecurityMatrix(OmniCommon):
    """Each role x read/search/export/write/set default/delete/unlink on own and other tokens."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Tokens of another provider: the rules are what is tested, not Stripe.
        provider = cls.dummy_provider
        cls.tok_customer = cls._omni_token(cls.customer, provider_id=provider.id)
        cls.tok_customer_2 = cls._omni_token(
            cls.customer_contact, provider_id=provider.id, last4="4444"
        )
        cls.tok_other = cls._omni_token(cls.other_customer, provider_id=provider.id, last4="0005")
        cls.company_2 = cls.env["res.company"].create({"name": "Omni Company 2"})
        provider_2 = compat.dummy_provider(cls, cls.company_2)
        cls.tok_company_2 = cls._omni_token(cls.customer, provider_id=provider_2.id, last4="1117")
        company = cls.env.company
        common = {"company_id": company.id, "company_ids": [company.id]}
        cls.users = {
            "internal": new_test_user(cls.env, "omni_internal", groups="base.group_user", **common),
            "billing": new_test_user(
                cls.env, "omni_billing", groups="account.group_account_invoice", **common
            ),
            "viewer": new_test_user(cls.env, "omni_viewer", groups=VIEWER, **common),
            "manager": new_test_user(cls.env, "omni_manager", groups=MANAGER, **common),
            "portal": new_test_user(
                cls.env,
                "omni_portal",
                groups="base.group_portal",
                partner_id=cls.customer_contact.id,
                **common,
            ),
            "other_portal": new_test_user(
                cls.env, "omni_other_portal", groups="base.group_portal", **common
            ),
        }
        cls.all_tokens = cls.tok_customer | cls.tok_customer_2 | cls.tok_other | cls.tok_company_2

    def _visible(self, role):
        tokens = self.env["payment.token"].with_user(self.users[role])
        return tokens.search([("id", "in", self.all_tokens.ids)])

    def _assert_cannot_read(self, role, token):
        with self.assertRaises(AccessError, msg=f"{role} must not read {token.id}"):
            token.with_user(self.users[role]).read(["payment_details", "omni_card_brand"])

    def test_read_and_search(self):
        expected = {
            "internal": self.env["payment.token"],
            "billing": self.env["payment.token"],
            "viewer": self.tok_customer | self.tok_customer_2 | self.tok_other,
            "manager": self.tok_customer | self.tok_customer_2 | self.tok_other,
            "portal": self.tok_customer | self.tok_customer_2,
            "other_portal": self.env["payment.token"],
        }
        for role, tokens in expected.items():
            with self.subTest(role=role):
                self.assertEqual(self._visible(role), tokens)
                for token in self.all_tokens - tokens:
                    self._assert_cannot_read(role, token)
                for token in tokens:
                    token.with_user(self.users[role]).read(["payment_details", "omni_expiry_date"])

    def test_restriction_switched_off_and_on_in_settings(self):
        """The global rule is on by default; switching it off in Settings gives billing
        users back what account_payment gives them (every token of their companies)."""
        Settings = self.env["res.config.settings"]
        self.assertTrue(Settings.create({}).omni_restrict_token_access)
        Settings.create({"omni_restrict_token_access": False}).execute()
        self.assertFalse(Settings.create({}).omni_restrict_token_access)
        self.assertEqual(
            self._visible("billing"), self.tok_customer | self.tok_customer_2 | self.tok_other
        )
        self.assertFalse(self._visible("internal"), "plain employees still see none")
        self.assertEqual(self._visible("portal"), self.tok_customer | self.tok_customer_2)
        Settings.create({"omni_restrict_token_access": True}).execute()
        self.assertFalse(self._visible("billing"))
        self._assert_cannot_read("billing", self.tok_other)

    def test_multi_company_isolation(self):
        manager = self.users["manager"]
        self._assert_cannot_read("manager", self.tok_company_2)
        self.assertNotIn(
            self.tok_company_2,
            self.env["payment.token"].with_user(manager).search([]),
        )

    def test_export(self):
        """Export goes through the same rules (users need the export right to try)."""
        export_group = self.env.ref("base.group_allow_export")
        for role in ("internal", "billing", "viewer"):
            self.users[role][compat.USER_GROUPS] = [(4, export_group.id)]
        for role, expected in (
            ("internal", []),
            ("billing", []),
            ("viewer", ["0005", "4242", "4444"]),
        ):
            with self.subTest(role=role):
                tokens = self.env["payment.token"].with_user(self.users[role])
                rows = tokens.search([("id", "in", self.all_tokens.ids)]).export_data(
                    ["payment_details", "partner_id"]
                )["datas"]
                self.assertEqual(sorted(r[0] for r in rows), expected)

    def test_write_nickname(self):
        for role in ("internal", "billing", "viewer", "portal", "other_portal"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.tok_customer_2.with_user(self.users[role]).omni_nickname = "x"
        self.tok_customer_2.with_user(self.users["manager"]).omni_nickname = "Ops card"
        self.assertEqual(self.tok_customer_2.omni_nickname, "Ops card")

    def test_set_default(self):
        for role in ("internal", "billing", "viewer", "portal", "other_portal"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.tok_customer_2.with_user(self.users[role]).action_omni_set_default()
        self.assertTrue(self.tok_customer.omni_is_default)
        self.tok_customer_2.with_user(self.users["manager"]).action_omni_set_default()
        self.assertTrue(self.tok_customer_2.omni_is_default)
        self.assertFalse(self.tok_customer.omni_is_default)

    def test_delete(self):
        for role in ("internal", "billing", "viewer", "portal", "other_portal"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.tok_customer_2.with_user(self.users[role]).action_omni_delete()
                with self.assertRaises(AccessError):
                    self.tok_customer_2.with_user(self.users[role])._omni_delete()
        self.tok_customer_2.with_user(self.users["manager"])._omni_delete()
        self.assertFalse(self.tok_customer_2.active)

    def test_unlink_is_not_granted(self):
        for role in self.users:
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.tok_other.with_user(self.users[role]).unlink()
        self.assertTrue(self.tok_other.exists())

    def test_partner_page_and_filters_follow_the_rules(self):
        partner_as_internal = self.customer.with_user(self.users["internal"])
        self.assertFalse(partner_as_internal.omni_payment_token_ids)
        partner_as_viewer = self.customer.with_user(self.users["viewer"])
        self.assertEqual(
            partner_as_viewer.omni_payment_token_ids, self.tok_customer | self.tok_customer_2
        )
        self.assertTrue(partner_as_viewer.omni_has_card)
        found = self.env["res.partner"].search([("omni_has_card", "=", True)])
        self.assertIn(self.customer, found)
        self.assertIn(self.customer_contact, found)
        self.assertNotIn(self.env["res.partner"].create({"name": "No card"}), found)
        self.assertFalse(
            self.env["res.partner"].search(
                [("omni_has_bank_account", "=", True), ("id", "=", self.customer.id)]
            )
        )
