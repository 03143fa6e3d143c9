# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from markupsafe import Markup

from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..models.omni_pan_guard import PAN_GUARD_PARAM

GUARD_LOGGER = "odoo.addons.omni_pan_base.models.omni_pan_guard"
PAN = "4242 4242 4242 4242"
MASKED = "4242 42** **** 4242"


@tagged("post_install", "-at_install")
class TestPanGuard(TransactionCase):
    """Card numbers written in chatter, received emails and customer notes are masked.

    Only Discuss is needed: with Invoicing installed, an invoice's chatter is guarded too.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Guarded Customer"})
        has_invoices = "account.move" in cls.env
        groups = ["base.group_user", "base.group_partner_manager"]
        if has_invoices:
            groups.append("account.group_account_invoice")
        cls.clerk = new_test_user(cls.env, "omni_pan_clerk", groups=",".join(groups))
        cls.documents = [cls.customer]
        if has_invoices:
            cls.documents.append(
                cls.env["account.move"].create(
                    {"move_type": "out_invoice", "partner_id": cls.customer.id}
                )
            )

    def _bus_notifications(self):
        return [
            value
            for value in self.env.cr.precommit.data.get("bus.bus.values", [])
            if json.loads(value["message"])["type"] == "simple_notification"
        ]

    def _guard_notes(self, record):
        return record.message_ids.filtered(lambda m: "was masked before it was stored" in m.body)

    @mute_logger(GUARD_LOGGER)
    def test_chatter_message_and_subject_are_masked(self):
        for record in self.documents:
            with self.subTest(model=record._name):
                message = record.with_user(self.clerk).message_post(
                    body=Markup("<p>Please charge <b>%s</b> exp 12/30, order SO0042</p>") % PAN,
                    subject=f"Card {PAN.replace(' ', '-')}",
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
                self.assertEqual(
                    message.body,
                    Markup(f"<p>Please charge <b>{MASKED}</b> exp 12/30, order SO0042</p>"),
                )
                self.assertEqual(message.subject, "Card 4242-42**-****-4242")
                note = self._guard_notes(record)
                self.assertEqual(len(note), 1)
                self.assertIn("omni_pan_clerk", note.body)
                self.assertNotIn("4242 4242", note.body)
        # The author is told in their browser, once per message.
        notifications = self._bus_notifications()
        self.assertEqual(len(notifications), len(self.documents))
        payload = json.loads(notifications[0]["message"])["payload"]
        self.assertEqual(payload["title"], "Card number masked")
        self.assertIn("first 6 and last 4", payload["message"])

    @mute_logger(GUARD_LOGGER)
    def test_editing_a_message_is_guarded(self):
        message = self.customer.with_user(self.clerk).message_post(
            body="call me", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.customer.with_user(self.clerk)._message_update_content(
            message, body=Markup("<p>use %s</p>") % "5555555555554444"
        )
        # 19.0 appends an "edited" mark inside the paragraph, 18.0 keeps the body as given
        self.assertTrue(message.body.startswith(Markup("<p>use 555555******4444")))
        self.assertNotIn("5555555555554444", message.body)
        self.assertEqual(len(self._guard_notes(self.customer)), 1)

    @mute_logger(GUARD_LOGGER)
    def test_activities_are_masked(self):
        activity = self.customer.with_user(self.clerk).activity_schedule(
            "mail.mail_activity_data_todo",
            summary=f"Call about {PAN}",
            note=Markup("<p>Card %s</p>") % "378282246310005",
            user_id=self.clerk.id,
        )
        self.assertEqual(activity.summary, f"Call about {MASKED}")
        self.assertEqual(activity.note, Markup("<p>Card 378282*****0005</p>"))
        activity.with_user(self.clerk).note = f"now {PAN}"
        self.assertIn(MASKED, activity.note)
        self.assertEqual(len(self._guard_notes(self.customer)), 2)
        # Marking it done posts the note as a message: masked already.
        before = self.customer.message_ids
        activity.with_user(self.clerk).action_feedback(feedback=f"paid with {PAN}")
        done = self.customer.message_ids - before
        self.assertTrue(done)
        self.assertIn(MASKED, done[-1:].body)
        for msg in done:
            self.assertNotIn("4242 4242", msg.body)

    def test_other_numbers_are_left_alone(self):
        text = (
            "Order SO/2026/0001234, ref 4242424242424241, call +33 6 12 34 56 78, "
            "IBAN DE89 3704 0044 0532 0130 00, invoice INV/2026/00042"
        )
        message = self.customer.message_post(body=text, message_type="comment")
        self.assertIn(text, message.body)
        self.assertFalse(self._guard_notes(self.customer))
        self.assertFalse(self._bus_notifications())

    @mute_logger(GUARD_LOGGER)
    def test_received_email_is_masked_and_noted(self):
        first = self.customer.message_post(body="Hello", message_type="comment")
        raw = (
            "From: Buyer <buyer@example.com>\r\n"
            "To: catchall@example.com\r\n"
            f"Subject: Re: my card {PAN}\r\n"
            "Message-ID: <omni-pan-guard-1@example.com>\r\n"
            f"In-Reply-To: {first.message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            f"Here it is: {PAN.replace(' ', '-')} exp 01/29\r\n"
        )
        thread_id = self.env["mail.thread"].message_process(
            "res.partner", raw, thread_id=self.customer.id
        )
        self.assertEqual(thread_id, self.customer.id)
        received = self.customer.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(len(received), 1)
        self.assertIn("4242-42**-****-4242", received.body)
        self.assertNotIn("4242-4242-4242-4242", received.body)
        self.assertEqual(received.subject, f"Re: my card {MASKED}")
        note = self._guard_notes(self.customer)
        self.assertEqual(len(note), 1)
        self.assertIn("received email", note.body)
        self.assertFalse(self._bus_notifications())

    @mute_logger(GUARD_LOGGER)
    def test_partner_notes_and_address_are_masked(self):
        partner = (
            self.env["res.partner"]
            .with_user(self.clerk)
            .create(
                {
                    "name": "Card Holder",
                    "comment": Markup("<p>Visa %s</p>") % "4000056655665556",
                    "phone": "+86 139 1234 5678",
                }
            )
        )
        self.assertEqual(partner.comment, Markup("<p>Visa 400005******5556</p>"))
        self.assertEqual(partner.phone, "+86 139 1234 5678")
        partner.with_user(self.clerk).write({"street": f"card {PAN}", "ref": "378282246310005"})
        self.assertEqual(partner.street, f"card {MASKED}")
        self.assertEqual(partner.ref, "378282*****0005")
        self.assertEqual(len(self._guard_notes(partner)), 2)
        self.assertEqual(len(self._bus_notifications()), 2)

    def test_its_parameter_turns_it_off(self):
        # (the Settings checkbox is omni_payment_methods': tested there)
        self.assertTrue(self.env["omni.pan.guard"]._enabled(), "on by default")
        self.env["ir.config_parameter"].set_param(PAN_GUARD_PARAM, "0")
        message = self.customer.message_post(body=PAN, message_type="comment")
        self.assertIn(PAN, message.body)
        self.env["ir.config_parameter"].set_param(PAN_GUARD_PARAM, "1")
        message = self.customer.message_post(body=PAN, message_type="comment")
        self.assertIn(MASKED, message.body)
