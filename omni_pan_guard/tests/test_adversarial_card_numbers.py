# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Adversarial card numbers against the guard alone: customers and chatter, through the
ORM, RPC, mail's routes and the mail gateway. Needs only the guard's dependencies (Discuss);
an invoice's chatter is attacked too when Invoicing is installed. The saved methods' own
refusal and the portal's forms are attacked by omni_payment_methods' tests."""

import logging

from markupsafe import Markup

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.omni_pan_base.lib import pan as pan_lib

from ..models.res_partner import PAN_GUARDED_FIELDS

_logger = logging.getLogger(__name__)

# Card numbers pushed into text (Visa, Mastercard, Amex 15, Discover; spaced, dashed).
PANS = ("4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005", "6011111111111117")

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
CLERK = "omni_adv_clerk"  # 14 characters: new_test_user's password is the login


def assert_no_card_number(case, value, label):
    text = str(value or "")
    case.assertFalse(
        pan_lib.find_pans(text) or pan_lib.mask_pans_html(text)[1], f"{label}: {text!r}"
    )


@tagged("post_install", "-at_install")
class TestAdversarialCardNumbers(HttpCase):
    """Card numbers typed into every guarded text field of customers, and into chatter:
    masked, whatever the channel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.has_invoices = "account.move" in cls.env
        groups = ["base.group_user", "base.group_partner_manager"]
        if cls.has_invoices:
            groups.append("account.group_account_invoice")
        cls.clerk = new_test_user(cls.env, CLERK, groups=",".join(groups), email="clerk@adv.test")
        cls.customer = cls.env["res.partner"].create({"name": "Adv Customer", "is_company": True})
        cls.invoice = None
        if cls.has_invoices:
            cls.invoice = cls.env["account.move"].create(
                {"move_type": "out_invoice", "partner_id": cls.customer.id}
            )
            cls.invoice._portal_ensure_token()
        cls.first_message_id = cls.env["mail.message"].search([], order="id desc", limit=1).id

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

    def _call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    # --- res.partner: masked --- #

    def test_every_partner_text_field_is_classified(self):
        fields = set(self._partner_text_fields())
        self.assertIn("comment", fields)
        unclassified = fields - set(PAN_GUARDED_FIELDS) - set(PARTNER_EXEMPT_FIELDS)
        self.assertFalse(
            unclassified,
            "new text fields on res.partner: add them to PAN_GUARDED_FIELDS or to "
            "PARTNER_EXEMPT_FIELDS (with the reason)",
        )

    @mute_logger(GUARD_LOGGER)
    def test_partner_fields_mask_card_numbers(self):
        attacks = 0
        self.authenticate(CLERK, CLERK)
        fields = [name for name in PAN_GUARDED_FIELDS if name in self.env["res.partner"]._fields]
        self.assertIn("comment", fields)
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
                    assert_no_card_number(self, stored, f"{channel} {name}")
                    self.assertIn(digits[:4], str(stored), f"{channel} {name}: text kept")
                    self.assertIn(digits[-4:], str(stored), f"{channel} {name}: last 4 kept")
        _logger.info(
            "adversarial card numbers (res.partner): %s attacks on %s fields, all masked",
            attacks,
            len(fields),
        )

    # --- chatter --- #

    @mute_logger(GUARD_LOGGER, "odoo.http")
    def test_chatter_masks_card_numbers_on_every_channel(self):
        customer = self.customer
        html = Markup("<p>Card: <b>%s</b></p>") % PANS[0]

        def orm_post(record):
            return record.with_user(self.clerk).message_post(
                body=html, subject=f"Re {PANS[1]}", message_type="comment"
            )

        def orm_edit():
            message = customer.with_user(self.clerk).message_post(
                body="typo", message_type="comment"
            )
            customer.with_user(self.clerk)._message_update_content(
                message, body=Markup("<p>use %s</p>") % PANS[3]
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
            self.authenticate(CLERK, CLERK)
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
            "RPC message_post (call_kw)": rpc_post,
            "/mail/message/post by staff": route_post(CLERK, "res.partner", customer),
            "ORM edit of a message (_message_update_content)": orm_edit,
            "received email (mail gateway)": incoming,
        }
        if self.invoice:  # Invoicing installed: an invoice's chatter, and its public link
            channels["ORM message_post on an invoice"] = lambda: orm_post(self.invoice)
            channels["/mail/message/post by the public with the invoice link"] = route_post(
                None, "account.move", self.invoice, self.invoice.access_token
            )
        for channel, attack in channels.items():
            with self.subTest(channel=channel):
                message = attack()
                self.env.invalidate_all()
                self.assertTrue(message, channel)
                assert_no_card_number(self, message.body, f"{channel} body")
                assert_no_card_number(self, message.subject, f"{channel} subject")
        # Nothing anywhere: every message written during the test.
        messages = self.env["mail.message"].search([("id", ">", self.first_message_id)])
        self.assertTrue(messages)
        for message in messages:
            assert_no_card_number(self, message.body, f"message {message.id}")
            assert_no_card_number(self, message.subject, f"message {message.id} subject")
        _logger.info("adversarial card numbers (chatter): %s channels, all masked", len(channels))

    @mute_logger(GUARD_LOGGER)
    def test_activities_and_notes_mask_card_numbers(self):
        activity = self.customer.with_user(self.clerk).activity_schedule(
            "mail.mail_activity_data_todo",
            summary=f"Call about {PANS[1]}",
            note=Markup("<p>Card <i>%s</i></p>") % PANS[2],
            user_id=self.clerk.id,
        )
        self.customer.with_user(self.clerk).comment = Markup("<p>%s</p>") % PANS[3]
        self.env.invalidate_all()
        for label, value in (
            ("activity summary", activity.summary),
            ("activity note", activity.note),
            ("customer notes", self.customer.comment),
        ):
            assert_no_card_number(self, value, label)
        self.assertIn("0005", str(activity.note))
