# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The 1.0.1 migration: email templates kept from 1.0.0 (noupdate) that still read the
removed link fields are reloaded from the module; others keep what staff changed."""

import importlib.util

from odoo.tests import tagged
from odoo.tools import file_path

from odoo.addons.omni_payment_methods.tests.common import OmniCommon


def _migration():
    path = file_path("omni_payment_methods/migrations/1.0.1/post-migration.py")
    spec = importlib.util.spec_from_file_location("omni_pm_migration_1_0_1", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestMigration101(OmniCommon):
    def test_stale_templates_are_reloaded_and_render(self):
        expiry = self.env.ref("omni_payment_methods.mail_template_card_expiry")
        link = self.env.ref("omni_payment_methods.mail_template_add_payment_method_link")
        current = expiry.body_html
        # As 1.0.0 left them: the removed field and the context link.
        expiry.body_html = current.replace("object._omni_update_url()", "object.omni_update_url")
        link.body_html = link.body_html.replace(
            "object._omni_payment_methods_url()", "ctx.get('omni_link_url')"
        )
        dunning = self.env.ref("omni_payment_charging.mail_template_dunning_warning")
        dunning.body_html = dunning.body_html + "<p>Edited by staff</p>"
        migration = _migration()
        self.assertEqual(
            migration.stale_templates(self.env),
            {"mail_template_card_expiry", "mail_template_add_payment_method_link"},
        )

        migration.migrate(self.env.cr, "18.0.1.0.0")

        self.env.invalidate_all()
        self.assertEqual(expiry.body_html, current)
        self.assertIn("object._omni_payment_methods_url()", link.body_html)
        self.assertIn("Edited by staff", dunning.body_html, "a template in use is left alone")
        self.assertFalse(migration.stale_templates(self.env))
        token = self._omni_token(self.customer)
        self.customer.email = "omni@example.com"
        body = expiry._render_field("body_html", token.ids)[token.id]
        self.assertIn("/omni/payment_methods/", body)
