# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Adversarial card numbers against the saved methods and the portal.

A method's text fields refuse a card number on every channel: the addon's own rule, which
holds without the guard module. The portal's account form and mail's edit route are masked
by ``omni_pan_guard`` (its own tests need nothing of this addon): those tests are skipped
when the guard is not installed.
"""

import logging

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from odoo.addons.omni_pan_base.lib import pan as pan_lib
from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from . import compat
from .adversarial import PANS
from .common import OmniCommon
from .test_adversarial import QUIET, AdversarialCase

_logger = logging.getLogger(__name__)

GUARD_LOGGER = "odoo.addons.omni_pan_base.models.omni_pan_guard"


@tagged("post_install", "-at_install")
class TestAdversarialCardNumbers(AdversarialCase, OmniCommon, PaymentHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()

    def _require_guard(self):
        installed = self.env["ir.module.module"].search_count(
            [("name", "=", "omni_pan_guard"), ("state", "=", "installed")]
        )
        if not installed:
            self.skipTest("omni_pan_guard is not installed: nothing masks customers' text")

    def _assert_no_card_number(self, value, label):
        text = str(value or "")
        self.assertFalse(
            pan_lib.find_pans(text) or pan_lib.mask_pans_html(text)[1], f"{label}: {text!r}"
        )

    def _token_text_fields(self):
        return sorted(
            name
            for name, field in self.env["payment.token"]._fields.items()
            if field.type in ("char", "text", "html")
            and field.store
            and not field.related
            and not field.compute
        )

    def _call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def test_settings_show_whether_the_guard_is_installed(self):
        """The guard's checkbox in the payment methods' Settings, with or without it."""
        installed = bool(
            self.env["ir.module.module"].search_count(
                [("name", "=", "omni_pan_guard"), ("state", "=", "installed")]
            )
        )
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.module_omni_pan_guard, installed)

    # --- payment.token: refused (the addon's rule, with or without the guard) --- #

    @mute_logger(*QUIET)
    def test_token_fields_refuse_card_numbers(self):
        token = self.adv_tokens["other"][1]
        fields = self._token_text_fields()
        self.assertIn("omni_nickname", fields)
        attacks = 0
        self.authenticate("omni_adv_manager", "omni_adv_manager")
        for index, name in enumerate(fields):
            pan = PANS[index % len(PANS)]
            vals = self._adv_token_vals(self.adv_other, self.provider_1, "1357")
            vals[name] = f"note {pan}"
            channels = {
                "ORM create": lambda vals=vals: self.env["payment.token"].create(vals),
                "ORM write": lambda name=name, pan=pan: token.write({name: pan}),
                "ORM write (the Stripe sync's private path)": lambda name=name, pan=pan: (
                    token._omni_system_write({name: pan})
                ),
                "RPC write (manager)": lambda name=name, pan=pan: self._call_kw(
                    "payment.token", "write", [[token.id], {name: pan}]
                ),
            }
            for channel, attack in channels.items():
                with self.subTest(field=name, channel=channel):
                    attacks += 1
                    self._run_attack(
                        f"{channel} {name}",
                        "write",
                        attack,
                        False,
                        lambda _result, exc: (
                            isinstance(exc, (ValidationError, UserError))
                            or (isinstance(exc, JsonRpcException) and "Error" in str(exc))
                        ),
                    )
        _logger.info(
            "adversarial card numbers (payment.token): %s attacks on %s fields, all refused",
            attacks,
            len(fields),
        )

    # --- the portal and mail's edit route: masked by omni_pan_guard --- #

    @mute_logger(GUARD_LOGGER)
    def test_portal_account_form_masks_card_numbers(self):
        self._require_guard()
        # A contact cannot change its company's country: Odoo's form posts the current one.
        self.adv_contact.country_id = self.env.ref("base.be")
        self.authenticate("omni_adv_portal", "omni_adv_portal")
        page = self.url_open("/my/account")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        self.env.flush_all()
        errors = compat.submit_portal_account(
            self,
            self.adv_users["portal"].partner_id,
            {
                # The name cannot change once invoices are issued.
                "name": self.adv_contact.name,
                "email": "ada@adv.test",
                "street2": f"Ada {PANS[0]}",
                "phone": PANS[2],
                "street": f"Card {PANS[1]}",
                "city": PANS[3],
                "zip": "1000",  # required by 19.0's form
                "country_id": str(self.env.ref("base.be").id),
            },
            csrf,
        )
        self.assertFalse(errors, "the form was refused")
        self.env.invalidate_all()
        partner = self.adv_users["portal"].partner_id
        for name in ("street2", "phone", "street", "city"):
            with self.subTest(field=name):
                self._assert_no_card_number(partner[name], f"/my/account {name}")
        self.assertEqual(partner.street, "Card 5555-55**-****-4444")
        _logger.info("adversarial card numbers (portal /my/account): 4 fields, all masked")

    @mute_logger(GUARD_LOGGER, "odoo.http")
    def test_message_edit_route_masks_card_numbers(self):
        self._require_guard()
        # an employee who may write on customers (19.0 checks it to post on one)
        editor = new_test_user(
            self.env, "omni_adv_editor", groups="base.group_user,base.group_partner_manager"
        )
        message = self.adv_customer.with_user(editor).message_post(
            body="typo", message_type="comment"
        )
        self.authenticate("omni_adv_editor", "omni_adv_editor")
        self.make_jsonrpc_request(
            "/mail/message/update_content",
            compat.message_update_content_params(message, f"use {PANS[3]}"),
        )
        self.env.invalidate_all()
        self._assert_no_card_number(message.body, "/mail/message/update_content body")
        self.assertIn("1117", str(message.body))
