# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from markupsafe import Markup

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from odoo.addons.omni_pan_base.lib import pan as pan_lib
from odoo.addons.omni_payment_methods.tests import compat
from odoo.addons.omni_payment_methods.tests.adversarial import PANS
from odoo.addons.omni_payment_methods.tests.common import OmniCommon
from odoo.addons.omni_payment_methods.tests.test_adversarial import QUIET, AdversarialCase
from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from ..models.res_partner import PAN_GUARDED_FIELDS

_logger = logging.getLogger(__name__)

# === CARD NUMBERS PUSHED INTO TEXT === #

# Text fields of res.partner the guard leaves alone, with the reason; every other stored,
# writable text field must be in PAN_GUARDED_FIELDS (the test fails on a new, unclassified
# field, e.g. one added by another module).
PARTNER_EXEMPT_FIELDS = {
    "vat": "tax id with its own format (a country prefix, checked by base_vat)",
    "zip": "postal code: at most 10 characters",
    "barcode": "EAN-13 and similar codes: a Luhn-valid barcode is not a card number",
    "signup_type": "technical (set by Odoo's signup)",
    "invoice_edi_format_store": "technical (e-invoicing format code)",
    # Odoo 19.0 only
    "global_location_number": "GS1 GLN: 13 digits with a check digit, not a card number",
}
GUARD_LOGGER = "odoo.addons.omni_pan_base.models.omni_pan_guard"


@tagged("post_install", "-at_install")
class TestAdversarialCardNumbers(AdversarialCase, OmniCommon, PaymentHttpCommon):
    """Card numbers typed into every text field of methods and customers, and into chatter,
    through the ORM, RPC and the portal: refused (methods) or masked (everything else)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "Adv Clerk",
                "login": "omni_adv_clerk",
                "email": "clerk@adv.test",
                "password": "omni_adv_clerk",
                compat.USER_GROUPS: [
                    Command.link(cls.env.ref("base.group_partner_manager").id),
                    Command.link(cls.env.ref("account.group_account_invoice").id),
                    Command.link(cls.env.ref("base.group_user").id),
                ],
            }
        )
        cls.invoice = cls.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": cls.adv_customer.id}
        )
        cls.invoice._portal_ensure_token()
        cls.first_message_id = cls.env["mail.message"].search([], order="id desc", limit=1).id

    def _token_text_fields(self):
        return sorted(
            name
            for name, field in self.env["payment.token"]._fields.items()
            if field.type in ("char", "text", "html")
            and field.store
            and not field.related
            and not field.compute
        )

    def _partner_text_fields(self):
        return sorted(
            name
            for name, field in self.env["res.partner"]._fields.items()
            if field.type in ("char", "text", "html")
            and field.store
            and not field.related
            and not field.compute
            and not field.readonly
        )

    def _assert_no_card_number(self, value, label):
        text = str(value or "")
        self.assertFalse(
            pan_lib.find_pans(text) or pan_lib.mask_pans_html(text)[1], f"{label}: {text!r}"
        )

    def _call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    # --- payment.token: refused --- #

    @mute_logger(*QUIET)
    def test_token_fields_refuse_card_numbers(self):
        token = self.adv_tokens["other"][1]
        fields = self._token_text_fields()
        self.assertIn("nickname", fields)
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

    # --- res.partner: masked --- #

    def test_every_partner_text_field_is_classified(self):
        fields = set(self._partner_text_fields())
        unclassified = fields - set(PAN_GUARDED_FIELDS) - set(PARTNER_EXEMPT_FIELDS)
        self.assertFalse(
            unclassified,
            "new text fields on res.partner: add them to PAN_GUARDED_FIELDS or to "
            "PARTNER_EXEMPT_FIELDS (with the reason)",
        )

    @mute_logger(GUARD_LOGGER)
    def test_partner_fields_mask_card_numbers(self):
        attacks = 0
        self.authenticate("omni_adv_clerk", "omni_adv_clerk")
        fields = [name for name in PAN_GUARDED_FIELDS if name in self.env["res.partner"]._fields]
        for index, name in enumerate(fields):
            pan = PANS[index % len(PANS)]
            digits = pan.replace(" ", "").replace("-", "")
            partner = self.env["res.partner"].create({"name": f"Target {name}"})
            channels = {
                "ORM create": lambda name=name, pan=pan: (
                    self.env["res.partner"]
                    .with_user(self.clerk)
                    .create({"name": "x", name: f"see {pan} ok"})
                ),
                "ORM write": lambda name=name, pan=pan, partner=partner: (
                    partner.with_user(self.clerk).write({name: f"see {pan} ok"}) and partner
                ),
                "RPC write": lambda name=name, pan=pan, partner=partner: (
                    self._call_kw("res.partner", "write", [[partner.id], {name: f"see {pan} ok"}])
                    and partner
                ),
            }
            for channel, attack in channels.items():
                with self.subTest(field=name, channel=channel):
                    attacks += 1
                    target = attack()
                    target.invalidate_recordset()
                    stored = target[name]
                    self._assert_no_card_number(stored, f"{channel} {name}")
                    self.assertIn(digits[:6][:4], str(stored), f"{channel} {name}: text kept")
                    self.assertIn(digits[-4:], str(stored), f"{channel} {name}: last 4 kept")
        _logger.info(
            "adversarial card numbers (res.partner): %s attacks on %s fields, all masked",
            attacks,
            len(fields),
        )

    @mute_logger(GUARD_LOGGER)
    def test_portal_account_form_masks_card_numbers(self):
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
                # The name cannot change once invoices are issued (the customer has one).
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

    # --- chatter --- #

    @mute_logger(GUARD_LOGGER, "odoo.http")
    def test_chatter_masks_card_numbers_on_every_channel(self):
        customer, invoice = self.adv_customer, self.invoice
        html = Markup("<p>Card: <b>%s</b></p>") % PANS[0]

        def orm_post(record):
            return record.with_user(self.clerk).message_post(
                body=html, subject=f"Re {PANS[1]}", message_type="comment"
            )

        def edit():
            message = customer.with_user(self.clerk).message_post(
                body="typo", message_type="comment"
            )
            self.authenticate("omni_adv_clerk", "omni_adv_clerk")
            self.make_jsonrpc_request(
                "/mail/message/update_content",
                compat.message_update_content_params(message, f"use {PANS[3]}"),
            )
            return message

        def incoming():
            raw = (
                "From: Buyer <buyer@adv.test>\r\nTo: catchall@adv.test\r\n"
                f"Subject: card {PANS[2]}\r\nMessage-ID: <omni-adv-pan@adv.test>\r\n"
                "Content-Type: text/html; charset=utf-8\r\n\r\n"
                f"<div>My card: <span>{PANS[0][:9]}</span>{PANS[0][9:]}</div>\r\n"
            )
            self.env["mail.thread"].message_process("res.partner", raw, thread_id=customer.id)
            return customer.message_ids.filtered(lambda m: m.message_type == "email")[:1]

        def rpc_post():
            self.authenticate("omni_adv_clerk", "omni_adv_clerk")
            message_id = self._call_kw(
                "res.partner",
                "message_post",
                [[customer.id]],
                {"body": f"rpc {PANS[1]}", "message_type": "comment"},
            )
            return self.env["mail.message"].browse(message_id)

        def route_post(login, model, record, token=None):
            def post():
                self.authenticate(login, login)
                params = {
                    "thread_model": model,
                    "thread_id": record.id,
                    "post_data": {"body": f"route {PANS[2]}", "message_type": "comment"},
                }
                if token:
                    params["token"] = token
                self.make_jsonrpc_request("/mail/message/post", params)
                return record.message_ids[:1]

            return post

        channels = {
            "ORM message_post on a customer": lambda: orm_post(customer),
            "ORM message_post on an invoice": lambda: orm_post(invoice),
            "RPC message_post (call_kw)": rpc_post,
            "/mail/message/post by staff": route_post("omni_adv_clerk", "res.partner", customer),
            "/mail/message/post by the public with the invoice link": route_post(
                None, "account.move", invoice, invoice.access_token
            ),
            "/mail/message/update_content (edit)": edit,
            "received email (mail gateway)": incoming,
        }
        for channel, attack in channels.items():
            with self.subTest(channel=channel):
                message = attack()
                self.env.invalidate_all()
                self.assertTrue(message, channel)
                self._assert_no_card_number(message.body, f"{channel} body")
                self._assert_no_card_number(message.subject, f"{channel} subject")
        # Nothing anywhere: every message written during the test.
        messages = self.env["mail.message"].search([("id", ">", self.first_message_id)])
        for message in messages:
            self._assert_no_card_number(message.body, f"message {message.id}")
            self._assert_no_card_number(message.subject, f"message {message.id} subject")
        _logger.info("adversarial card numbers (chatter): %s channels, all masked", len(channels))
