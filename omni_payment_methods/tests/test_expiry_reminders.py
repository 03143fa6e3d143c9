# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import threading
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import ValidationError
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import OmniCommon

# A card valid through 2027-01-31: 60 days before is 2026-12-02.
EXPIRY = datetime.date(2027, 1, 31)


class ReminderCommon(OmniCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Reminder = cls.env["omni.payment.reminder"]
        cls.customer.email = "billing@omni-customer.example.com"
        cls.other_customer.email = "other@example.com"
        cls.env["ir.config_parameter"].sudo().set_param(
            "omni_payment_methods.reminder_offsets", "60,30,7,0"
        )

    def _card(self, partner=None, month=1, year=2027, **values):
        return self._omni_token(partner or self.customer, month=month, year=year, **values)

    def _run(self, day):
        # The cron runs without the test classes' mail-disabling context.
        with freeze_time(day):
            return self.Reminder.with_context(
                mail_create_nosubscribe=False
            )._cron_send_expiry_reminders()

    def _logs(self, token):
        return self.Reminder.search([("token_id", "=", token.id)], order="id")

    def _reminder_messages(self, partner):
        """Emails to the customer (audit notes of the methods are internal notes)."""
        comment = self.env.ref("mail.mt_comment")
        return partner.message_ids.filtered(lambda m: m.subtype_id == comment)


@tagged("post_install", "-at_install")
class TestExpiryReminders(ReminderCommon):
    def test_every_stage_once_in_order(self):
        card = self._card()
        self.assertEqual(card.omni_expiry_date, EXPIRY)
        plan = [
            ("2026-11-30", []),  # 62 days: nothing due yet
            ("2026-12-02", [60]),  # 60 days
            ("2026-12-02", [60]),  # re-run the same day: nothing more
            ("2026-12-20", [60]),  # 42 days: the 60-day stage was sent already
            ("2027-01-01", [60, 30]),
            ("2027-01-24", [60, 30, 7]),
            ("2027-01-31", [60, 30, 7, 0]),  # the last valid day: "at expiry"
            ("2027-02-15", [60, 30, 7, 0]),  # expired: nothing more
        ]
        for day, stages in plan:
            with self.subTest(day=day):
                self._run(day)
                logs = self._logs(card)
                self.assertEqual(logs.mapped("stage"), stages)
                self.assertEqual(set(logs.mapped("state")), {"sent"} if stages else set())
        messages = self._reminder_messages(self.customer)
        self.assertEqual(len(messages), 4, "one email per stage, never twice")
        first = messages.sorted("id")[0]
        self.assertIn("Visa •••• 4242", first.subject)
        self.assertIn("01/2027", first.subject)
        self.assertIn("Omni Customer", first.body)
        self.assertIn("/omni/payment_methods/", first.body)
        self.assertEqual(first.partner_ids, self.customer)
        self.assertEqual(first.author_id, card.company_id.partner_id)
        mails = self.env["mail.mail"].search([("mail_message_id", "in", messages.ids)])
        self.assertEqual(len(mails), 4)
        self.assertEqual(set(mails.mapped("state")), {"outgoing"}, "queued, not sent inline")
        self.assertEqual(card.omni_last_reminder_stage, "At expiry")
        followers = self.customer.message_partner_ids
        for partner in (self.env.user.partner_id, card.company_id.partner_id):
            self.assertNotIn(partner, followers, "reminding a customer makes nobody follow it")

    def test_missed_stages_are_not_sent_late(self):
        card = self._card()
        self._run("2027-01-26")  # the job ran first 5 days before expiry
        self.assertEqual(self._logs(card).mapped("stage"), [7])

    def test_recently_expired_card_gets_the_expiry_reminder_then_nothing(self):
        card = self._card(month=10, year=2026)  # expired 2026-10-31
        self._run("2026-11-20")
        self.assertEqual(self._logs(card).mapped("stage"), [0])
        old = self._card(self.other_customer, month=6, year=2026)  # long expired
        self._run("2026-11-20")
        self.assertFalse(self._logs(old))

    def test_replaced_card_is_skipped(self):
        old = self._card(provider_id=self.dummy_provider.id)
        new = self._card(
            last4="4444",
            brand="mastercard",
            month=5,
            year=2031,
            provider_id=self.dummy_provider.id,
        )
        new.action_omni_set_default()
        self._run("2026-12-02")
        log = self._logs(old)
        self.assertEqual(log.state, "skipped")
        self.assertIn("Replaced", log.reason)
        self.assertIn("Mastercard ending in 4444", log.reason)
        self.assertFalse(self._reminder_messages(self.customer))
        self.assertFalse(self._logs(new))
        self._run("2026-12-03")
        self.assertEqual(len(self._logs(old)), 1, "a skipped stage is not retried")

    def test_the_reminder_model_sends_the_reminders_of_the_cards_it_is_given(self):
        """The reminder feature's own API (the job, Notify and the token's delegate call it):
        the cards in, the log rows and the emails out, the reason of each card skipped."""
        due = self._card()
        no_email = self._card(self.env["res.partner"].create({"name": "No Email"}))
        archived = self._card(self.other_customer, provider_id=self.dummy_provider.id)
        archived._omni_delete()
        cards = due | no_email | archived
        defaults = self.Reminder._replacement_defaults(cards)
        self.assertEqual(defaults[(self.customer.id, self.env.company.id)], due)
        self.assertFalse(self.Reminder._skip_reason(due, defaults))
        self.assertIn("no email address", self.Reminder._skip_reason(no_email, defaults))
        self.assertIn("deleted", self.Reminder._skip_reason(archived, defaults))
        with freeze_time("2026-12-02"):
            sent = self.Reminder._send_expiry_reminders(
                cards, stages={card.id: 60 for card in cards}, origin="manual"
            )
        self.assertEqual(sent, due)
        self.assertEqual(
            [(log.state, log.origin, log.stage) for log in self._logs(due)],
            [("sent", "manual", 60)],
        )
        self.assertTrue(self._logs(due).mail_message_id)
        self.assertEqual(len(self._reminder_messages(self.customer)), 1)
        self.assertEqual(self._logs(no_email).state, "skipped")
        # the token's own entry point (kept for its callers) gives the same result
        with freeze_time("2026-12-03"):
            self.assertEqual(due._omni_send_expiry_reminders({due.id: 30}), due)
        self.assertEqual(self._logs(due).mapped("stage"), [60, 30])

    def test_deleted_card_is_not_reminded(self):
        card = self._card(provider_id=self.dummy_provider.id)
        card._omni_delete()
        self._run("2026-12-02")
        self.assertFalse(self._logs(card))

    def test_expiry_updated_by_stripe_starts_a_new_series(self):
        card = self._card()
        self._run("2026-12-02")
        self.assertEqual(self._logs(card).mapped("stage"), [60])
        pm = {
            "id": card.stripe_payment_method,
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 2, "exp_year": 2029},
        }
        card._omni_apply_payment_method(pm)
        self.assertEqual(card.omni_expiry_date, datetime.date(2029, 2, 28))
        self._run("2027-01-01")
        self.assertEqual(self._logs(card).mapped("stage"), [60], "no reminder for the new expiry")
        self._run("2028-12-30")
        logs = self._logs(card)
        self.assertEqual(logs.mapped("stage"), [60, 60])
        self.assertEqual(logs.mapped("expiry_date"), [EXPIRY, datetime.date(2029, 2, 28)])

    def test_customer_without_email_is_skipped_with_reason(self):
        self.other_customer.email = False
        card = self._card(self.other_customer)
        self._run("2026-12-02")
        self.assertEqual(self._logs(card).state, "skipped")
        self.assertIn("no email", self._logs(card).reason)

    def test_one_failing_card_does_not_stop_the_batch(self):
        bad = self._card()
        good = self._card(self.other_customer, last4="1117", brand="discover")
        original = type(self.Reminder)._reminder_email

        def post(reminders, template, token, rendered=None):
            if token == bad:
                raise ValueError("rendering exploded")
            return original(reminders, template, token, rendered)

        with (
            patch.object(type(self.Reminder), "_reminder_email", post),
            mute_logger("odoo.addons.omni_payment_methods.models.omni_payment_reminder"),
        ):
            self._run("2026-12-02")
        self.assertEqual(self._logs(bad).state, "failed")
        self.assertIn("rendering exploded", self._logs(bad).reason)
        self.assertEqual(self._logs(good).state, "sent")
        self.assertFalse(self._reminder_messages(self.customer), "the failed card sent nothing")

    def test_crash_mid_batch_loses_and_repeats_nothing(self):
        cards = [
            self._card(self.env["res.partner"].create({"name": f"C{i}", "email": f"c{i}@x.org"}))
            for i in range(6)
        ]
        calls = []
        original = type(self.Reminder)._reminder_email

        def post(reminders, template, token, rendered=None):
            calls.append(token)
            if len(calls) == 4:
                raise KeyboardInterrupt("worker killed")  # escapes every except Exception
            return original(reminders, template, token, rendered)

        self.env.flush_all()
        with (
            self.assertRaises(KeyboardInterrupt),
            self.env.cr.savepoint(),
            patch.object(type(self.Reminder), "_reminder_email", post),
        ):
            self._run("2026-12-02")
        self.env.invalidate_all()
        self.assertFalse(self.Reminder.search([("token_id", "in", [c.id for c in cards])]))
        self._run("2026-12-02")
        for card in cards:
            self.assertEqual(self._logs(card).mapped("stage"), [60])
            self.assertEqual(len(self._reminder_messages(card.partner_id)), 1)

    def test_batches_report_progress(self):
        for i in range(5):
            self._card(self.env["res.partner"].create({"name": f"B{i}", "email": f"b{i}@x.org"}))
        with (
            freeze_time("2026-12-02"),
            patch.object(type(self.env["ir.cron"]), "_omni_report_progress") as notify,
        ):
            self.Reminder._cron_send_expiry_reminders(batch_size=2)
            notify.assert_called_once_with(done=2, remaining=3)
            self.Reminder._cron_send_expiry_reminders(batch_size=2)
            self.Reminder._cron_send_expiry_reminders(batch_size=2)
            self.assertEqual(notify.call_args.kwargs, {"done": 1, "remaining": 0})

    def test_a_batch_of_skipped_cards_still_reports_progress(self):
        """Odoo's cron stops for the day when a batch reports done=0 with work remaining."""
        for i in range(3):
            self._card(self.env["res.partner"].create({"name": f"N{i}"}))  # no email
        self._card(self.env["res.partner"].create({"name": "Mail", "email": "m@x.org"}))
        with (
            freeze_time("2026-12-02"),
            patch.object(type(self.env["ir.cron"]), "_omni_report_progress") as notify,
        ):
            self.Reminder._cron_send_expiry_reminders(batch_size=2)
            self.assertEqual(notify.call_args.kwargs, {"done": 2, "remaining": 2})
            self.Reminder._cron_send_expiry_reminders(batch_size=2)
            self.assertEqual(notify.call_args.kwargs, {"done": 2, "remaining": 0})
        logs = self.Reminder.search([("stage", "=", 60)])
        self.assertEqual(sorted(logs.mapped("state")), ["sent", "skipped", "skipped", "skipped"])

    def test_notify_now_sends_and_counts_as_the_due_stage(self):
        card = self._card()
        with freeze_time("2026-12-05"):
            action = card.action_omni_notify()
        self.assertIn("1 reminder(s) sent", action["params"]["message"])
        log = self._logs(card)
        self.assertEqual((log.origin, log.stage, log.state), ("manual", 60, "sent"))
        self.assertEqual(log.user_id, self.env.user)
        self._run("2026-12-05")
        self.assertEqual(len(self._logs(card)), 1, "the scheduled 60-day reminder was sent")
        with freeze_time("2026-12-06"):
            card.action_omni_notify()  # by hand again: allowed
        self.assertEqual(len(self._logs(card)), 2)

    def test_offsets_are_settings(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "omni_payment_methods.reminder_offsets", "14"
        )
        card = self._card()
        self._run("2026-12-02")
        self.assertFalse(self._logs(card))
        self._run("2027-01-17")
        self.assertEqual(self._logs(card).mapped("stage"), [14])
        settings = self.env["res.config.settings"].create({"omni_reminder_offsets": " 7;60,30 "})
        settings.execute()
        self.assertEqual(self.Reminder._offsets(), (60, 30, 7))
        with self.assertRaisesRegex(ValidationError, "whole numbers of days"):
            self.env["res.config.settings"].create({"omni_reminder_offsets": "sixty"})

    def _customers_with_cards(self, count, month, year=2027):
        partners = self.env["res.partner"].create(
            [{"name": f"Q{month}-{i}", "email": f"q{month}-{i}@x.org"} for i in range(count)]
        )
        return [self._card(partner, month=month, year=year) for partner in partners]

    def _job_queries(self, day):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        self._run(day)
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_a_batch_costs_the_same_queries_for_2_or_8_reminders(self):
        """The job writes its reminders in batch: its queries do not grow with the cards."""
        self._customers_with_cards(1, month=12, year=2026)  # due 2026-11-01: a first run
        few = self._customers_with_cards(2, month=1)  # due 2026-12-02 (60 days)
        many = self._customers_with_cards(8, month=2)  # due 2026-12-30
        self._job_queries("2026-11-01")
        queries_few = self._job_queries("2026-12-02")
        queries_many = self._job_queries("2026-12-30")
        for card in few + many:
            self.assertEqual(self._logs(card).state, "sent")
            self.assertEqual(len(self._reminder_messages(card.partner_id)), 1)
        self.assertEqual(queries_many, queries_few, "queries of 8 reminders vs 2")

    def test_mail_in_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        template = self.env.ref("omni_payment_methods.mail_template_card_expiry")
        template.with_context(lang="fr_FR").subject = "Votre carte {{ object.omni_issuer_display }}"
        self.customer.lang = "fr_FR"
        self._card()
        self._run("2026-12-02")
        message = self._reminder_messages(self.customer)
        self.assertEqual(message.subject, "Votre carte Visa •••• 4242")


@tagged("post_install", "-at_install")
class TestExpiringCardsList(ReminderCommon):
    def _filter_domain(self, name):
        view = self.env.ref("omni_payment_methods.payment_token_view_search_expiring")
        node = etree.fromstring(view.arch).xpath(f"//filter[@name='{name}']")[0]
        context = {
            "context_today": fields.Date.today,
            "relativedelta": relativedelta,
        }
        return safe_eval(node.get("domain"), context)

    def _listed(self, filter_name):
        action = self.env.ref("omni_payment_methods.payment_token_action_expiring")
        domain = safe_eval(action.domain) + self._filter_domain(filter_name)
        return self.Token.search([*domain, ("id", "in", self.cards.ids)])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env["res.partner"].create({"name": "Corp", "is_company": True})
        cls.cards = cls.env["payment.token"]
        with freeze_time("2026-11-22"):
            cls.in_8 = cls._card(cls, cls.customer, month=11, year=2026)  # 2026-11-30
            cls.in_39 = cls._card(cls, cls.other_customer, month=12, year=2026)
            cls.in_70 = cls._card(cls, company, month=1, year=2027)  # 2027-01-31
            cls.in_98 = cls._card(cls, cls.customer, month=2, year=2027, last4="1")
            cls.expired_22 = cls._card(cls, cls.other_customer, month=10, year=2026, last4="2")
            cls.expired_2y = cls._card(cls, company, month=10, year=2024, last4="3")
        cls.cards = cls.in_8 + cls.in_39 + cls.in_70 + cls.in_98 + cls.expired_22 + cls.expired_2y

    @freeze_time("2026-11-22")
    def test_filters(self):
        self.assertEqual(
            self._listed("expiring_or_recent"), self.in_8 + self.in_39 + self.expired_22
        )
        self.assertEqual(self._listed("next_30"), self.in_8)
        self.assertEqual(self._listed("next_60"), self.in_8 + self.in_39)
        self.assertEqual(self._listed("next_90"), self.in_8 + self.in_39 + self.in_70)
        self.assertEqual(self._listed("expired"), self.expired_22 + self.expired_2y)
        self.assertEqual(
            self._listed("companies"), self.in_8 + self.in_98 + self.in_70 + self.expired_2y
        )
        self.assertEqual(self._listed("individuals"), self.in_39 + self.expired_22)

    @freeze_time("2026-11-22")
    def test_days_until_expiry_and_state(self):
        self.assertEqual(self.in_8.omni_expiry_days_label, "8")
        self.assertEqual(self.in_8.omni_expiry_state, "expiring")
        self.assertEqual(self.in_98.omni_expiry_state, "valid")
        self.assertEqual(self.expired_22.omni_expiry_days_label, "EXPIRED")
        self.assertEqual(self.expired_22.omni_expiry_state, "expired")

    def test_group_by_expiry_month_and_update_action(self):
        groups = self.Token._read_group(
            [("id", "in", self.cards.ids)], ["omni_expiry_date:month"], ["__count"]
        )
        self.assertEqual(len(groups), 6)
        action = self.in_8.action_omni_update()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", self.customer.id))

    def test_list_views_load(self):
        for xmlid in (
            "payment_token_view_list_expiring",
            "payment_token_view_graph_expiring",
            "payment_token_view_pivot_expiring",
        ):
            view = self.env.ref(f"omni_payment_methods.{xmlid}")
            self.Token.get_view(view.id, view.type)


@tagged("post_install", "-at_install")
class TestConcurrentReminderRuns(ReminderCommon):
    """Two workers run the reminder job at the same time: each email goes out once."""

    def test_two_workers(self):
        with db_connect(self.env.cr.dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            provider = env["payment.provider"].create({"name": "Omni reminders", "code": "none"})
            method = env.ref("payment.payment_method_unknown")
            partners = env["res.partner"].create(
                [{"name": f"Worker customer {i}", "email": f"w{i}@x.org"} for i in range(12)]
            )
            tokens = env["payment.token"].create(
                [
                    {
                        "provider_id": provider.id,
                        "payment_method_id": method.id,
                        "partner_id": partner.id,
                        "payment_details": "4242",
                        "provider_ref": f"ref{partner.id}",
                        "omni_method_kind": "card",
                        "omni_card_brand": "visa",
                        "omni_card_exp_month": 1,
                        "omni_card_exp_year": 2027,
                    }
                    for partner in partners
                ]
            )
            ids, partner_ids = tokens.ids, partners.ids
            cr.commit()  # pylint: disable=invalid-commit
        envs = [
            api.Environment(db_connect(self.env.cr.dbname).cursor(), SUPERUSER_ID, {})
            for _i in range(2)
        ]
        barrier = threading.Barrier(2)
        errors = []

        def work(env):
            try:
                barrier.wait(timeout=10)
                while env["omni.payment.reminder"]._cron_send_expiry_reminders(batch_size=3):
                    env.cr.commit()  # pylint: disable=invalid-commit
                env.cr.commit()  # pylint: disable=invalid-commit
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                env.cr.close()

        try:
            # Frozen once for both workers: freezegun patches the whole process, and two
            # threads starting and stopping it at once break each other.
            with freeze_time("2026-12-02"):
                threads = [threading.Thread(target=work, args=(env,)) for env in envs]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(60)
            self.assertFalse(any(thread.is_alive() for thread in threads))
            self.assertFalse(errors)
            with db_connect(self.env.cr.dbname).cursor() as cr:
                cr.execute(
                    "SELECT token_id, count(*) FROM omni_payment_reminder "
                    "WHERE token_id IN %s GROUP BY token_id",
                    [tuple(ids)],
                )
                counts = dict(cr.fetchall())
                cr.execute(
                    "SELECT count(*) FROM mail_message WHERE model = 'res.partner' "
                    "AND res_id IN %s AND subtype_id = %s",
                    [tuple(partner_ids), self.env.ref("mail.mt_comment").id],
                )
                messages = cr.fetchone()[0]
            self.assertEqual(counts, dict.fromkeys(ids, 1))
            self.assertEqual(messages, len(ids))
        finally:
            with db_connect(self.env.cr.dbname).cursor() as cr:
                cr.execute(
                    "DELETE FROM mail_message WHERE model = 'res.partner' AND res_id IN %s",
                    [tuple(partner_ids)],
                )
                cr.execute("DELETE FROM payment_token WHERE id IN %s", [tuple(ids)])
                cr.execute("DELETE FROM payment_provider WHERE id = %s", [provider.id])
                cr.execute("DELETE FROM res_partner WHERE id IN %s", [tuple(partner_ids)])
