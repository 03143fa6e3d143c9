# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Methods saved before the install: no consent to automatic charges is recorded for them
until staff confirm it, and the one who confirmed is recorded."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import OmniCommon
from .test_security import MANAGER, VIEWER


@tagged("post_install", "-at_install")
class TestImportAuthorization(OmniCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, "omni_imp_manager", groups=MANAGER)
        cls.viewer = new_test_user(cls.env, "omni_imp_viewer", groups=VIEWER)
        cls.admin = new_test_user(cls.env, "omni_imp_admin", groups=f"base.group_system,{MANAGER}")
        cls.old = cls._omni_token(cls.customer, last4="1111")
        cls.old_other = cls._omni_token(cls.other_customer, last4="2222")
        (cls.old | cls.old_other)._omni_init_existing()
        # Saved through Odoo after the install, its consent not recorded (e.g. revoked).
        cls.checkout = cls._omni_token(cls.customer, last4="3333")

    def test_install_records_no_consent(self):
        for token in self.old | self.old_other:
            self.assertEqual(token.omni_added_channel, "import")
            self.assertFalse(token.omni_authorized)
            self.assertFalse(token.omni_authorized_on)
            self.assertFalse(token.omni_consent_text)

    def test_manager_confirms_and_is_recorded(self):
        audits = self.env["omni.payment.audit"].search_count([])
        self.old.with_user(self.manager).action_omni_confirm_authorization()
        self.assertTrue(self.old.omni_authorized)
        self.assertEqual(self.old.omni_authorized_by_id, self.manager)
        self.assertIn(self.manager.name, self.old.omni_consent_text)
        self.assertIn("confirmed", self.old.omni_consent_text)
        self.assertFalse(self.old_other.omni_authorized, "only the method confirmed")
        self.assertEqual(self.env["omni.payment.audit"].search_count([]), audits + 1)

    def test_viewer_cannot_confirm(self):
        with self.assertRaises(AccessError):
            self.old.with_user(self.viewer).action_omni_confirm_authorization()
        self.assertFalse(self.old.omni_authorized)
        self.assertFalse(self.old.omni_authorized_by_id)

    def test_a_method_added_through_odoo_is_refused_and_nothing_changes(self):
        with self.assertRaisesRegex(UserError, "added through Odoo"):
            (self.old | self.checkout).with_user(self.manager).action_omni_confirm_authorization()
        self.assertFalse(self.old.omni_authorized, "the import in the same call is untouched")
        self.assertFalse(self.checkout.omni_authorized)

    def test_settings_confirm_every_method_saved_before_the_install(self):
        settings = self.env["res.config.settings"].with_user(self.admin)
        self.assertEqual(settings.create({}).omni_unconfirmed_import_count, 2)
        settings.create({}).action_omni_confirm_imported_authorizations()
        for token in self.old | self.old_other:
            self.assertTrue(token.omni_authorized)
            self.assertEqual(token.omni_authorized_by_id, self.admin)
        self.assertFalse(self.checkout.omni_authorized, "not a method saved before the install")
        self.assertEqual(settings.create({}).omni_unconfirmed_import_count, 0)
