# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import datetime

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.omni_payment_methods.tests import compat
from odoo.addons.omni_payment_methods.tests.common import TODAY

from .charge_common import ChargeCommon

# Day 1 is the day the suite runs: the schedules may cross a month's end or 29 February.
DAY_1 = datetime.datetime.combine(TODAY, datetime.time(9, 0))


def day(number):
    """Day ``number`` at 09:00."""
    return DAY_1 + datetime.timedelta(days=number - 1)


def date(number):
    return day(number).date()


@tagged("post_install", "-at_install")
class TestInstallments(ChargeCommon):
    """Invoices split into installments ("Make a payment" → "Split into installments"),
    charged by the job on their dates, failures handled by the dunning."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="omni_inst_manager",
            groups="account.group_account_invoice,"
            "omni_payment_methods.group_omni_payment_method_manager",
        )
        cls.viewer = new_test_user(
            cls.env,
            login="omni_inst_viewer",
            groups="account.group_account_invoice,"
            "omni_payment_methods.group_omni_payment_method_viewer",
        )
        cls.Plan = cls.env["omni.installment.plan"]
        cls.Installment = cls.env["omni.installment"]
        cls.Wizard = cls.env["omni.make.payment.wizard"]

    def setUp(self):
        super().setUp()
        self.fake_cm = self._fake_stripe()
        self.fake = self.fake_cm.__enter__()
        self.addCleanup(self.fake_cm.__exit__, None, None, None)

    # --- helpers --- #

    @contextlib.contextmanager
    def _refused(self, exception, message):
        """The error and its message; what was written before it is rolled back."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertRegex(str(caught.exception), message)

    def _wizard(self, invoices, count=3, interval="weekly", first=None, **values):
        wizard = (
            self.Wizard.with_user(self.manager)
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(values)
        )
        if "amount" not in values:
            wizard._onchange_invoice_ids()
        wizard.write(
            {
                "split_installments": True,
                "installment_count": count,
                "installment_interval": interval,
                "installment_first_date": first or date(1),
            }
        )
        wizard._generate_installments()
        return wizard

    def _schedule(self, invoices, **kwargs):
        action = self._wizard(invoices, **kwargs).action_schedule_installments()
        return self.Plan.browse(action["res_id"])

    def _charge_installments(self, when):
        with freeze_time(when):
            return self.Installment._cron_charge_installments()

    def _run_dunning(self, when):
        with freeze_time(when):
            self.Case._cron_run_dunning()

    def _amounts(self):
        """Amount (minor units) of each PaymentIntent Stripe really made."""
        return [amount for _key, amount in self.fake.charges]

    def _state(self):
        return (
            self.Plan.search_count([]),
            self.Installment.search_count([]),
            self.Attempt.search_count([]),
            self.env["payment.transaction"].search_count([]),
            self.env["mail.message"].search_count([]),
        )

    # --- the whole run --- #

    def test_three_installments_with_one_failure_followed_by_dunning(self):
        token = self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=120.0, due=date(1))
            plan = self._schedule(invoice)
        first, second, third = plan.installment_ids.sorted("sequence")
        self.assertEqual(plan.name, f"Installments for {invoice.name}")
        self.assertEqual((plan.partner_id, plan.token_id, plan.amount), (self.customer, token, 120))
        self.assertEqual(
            [(i.date, i.amount, i.state) for i in (first, second, third)],
            [
                (date(1), 40.0, "scheduled"),
                (date(8), 40.0, "scheduled"),
                (date(15), 40.0, "scheduled"),
            ],
        )
        # The schedule is emailed to the customer and posted on the invoice.
        emails = self._customer_emails()
        self.assertEqual(len(emails), 1)
        self.assertIn("payment schedule", emails.subject)
        self.assertIn("Visa ending in 4242", emails.body)
        dates = [date(number).strftime("%m/%d/%Y") for number in (1, 8, 15)]
        for text in (*dates, "40.00", "120.00"):
            self.assertIn(text, emails.body)
        self.assertIn(invoice.name, emails.body)
        self.assertEqual(emails.partner_ids, self.customer)
        self.assertEqual(emails.author_id, self.company.partner_id)
        self.assertTrue(
            any("3 installments" in body for body in invoice.message_ids.mapped("body"))
        )
        # An installment dated today: the job is triggered at once.
        self.assertTrue(
            self.env["ir.cron.trigger"].search(
                [
                    (
                        "cron_id",
                        "=",
                        self.env.ref("omni_payment_charging.ir_cron_charge_installments").id,
                    )
                ]
            )
        )

        # Day 1: #1 is charged; the automatic charge leaves the invoice to its plan.
        self._charge_installments(day(1))
        with freeze_time(day(1)):
            self._run_charges()
        self.assertEqual(first.state, "paid")
        self.assertEqual(first.paid_on, date(1))
        self.assertEqual(self._amounts(), [4000])
        self.assertEqual(self._attempts(invoice).mapped("origin"), ["installment"])
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 80.0)
        # Nothing else is due before day 8.
        self._charge_installments(day(7))
        self.assertEqual(len(self.fake.requests), 1)

        # Day 8: #2 is declined (soft): the dunning opens for that installment.
        self.fake.script[token.stripe_payment_method] = ("decline", "insufficient_funds")
        self._charge_installments(day(8))
        self.assertEqual(second.state, "failed")
        self.assertIn("insufficient_funds", second.reason)
        self.assertTrue(plan.has_failed_installment)
        case = self.customer.omni_dunning_case_ids
        self.assertEqual((len(case), case.stage, case.state), (1, "grace", "open"))
        self.assertEqual(case.amount_due, 40.0, "only the failed installment is due")
        emails = self._customer_emails()
        self.assertEqual(len(emails), 2)
        self.assertIn("did not go through", emails[-1].subject)
        self.assertIn("40.00", emails[-1].body)

        # Day 2 of the dunning (day 9): the policy's first retry charges exactly the
        # installment.
        self.fake.script[token.stripe_payment_method] = "succeed"
        self._run_dunning(day(9))
        self.assertEqual(self._amounts(), [4000, 4000])
        self._run_dunning(day(10))
        self._run_dunning(day(11))
        self.assertEqual(len(self.fake.requests), 3)
        self.assertEqual(second.state, "paid")
        self.assertEqual(case.state, "resolved", "resolved though #3 is still to pay")
        self.assertEqual(self.customer.omni_dunning_state, "active")
        self.assertEqual(third.state, "scheduled")
        self.assertEqual(invoice.amount_residual, 40.0)
        self.assertEqual(plan.state, "running")
        self.assertEqual(len(self._customer_emails()), 2, "no warning email")

        # Day 15: #3 is charged on its date; the invoice is paid, the plan done.
        self._charge_installments(day(14))
        self.assertEqual(len(self.fake.requests), 3)
        self._charge_installments(day(15))
        self.assertEqual(third.state, "paid")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(plan.state, "done")
        self.assertFalse(plan.has_failed_installment)

        # Nobody is charged twice, whatever runs afterwards.
        self._charge_installments(day(20))
        self._run_dunning(day(20))
        with freeze_time(day(20)):
            self._run_charges()
        self.assertEqual(self._amounts(), [4000, 4000, 4000])
        self.assertEqual(len(self.fake.requests), 4)
        self.assertEqual(len({key for key, _amount in self.fake.charges}), 3)
        attempts = self._attempts(invoice)
        self.assertEqual(
            [(a.origin, a.state, a.amount) for a in attempts],
            [
                ("installment", "done", 40.0),
                ("installment", "failed", 40.0),
                ("retry", "done", 40.0),
                ("installment", "done", 40.0),
            ],
        )
        self.assertEqual(attempts.installment_id, plan.installment_ids)
        self.assertEqual(second.attempt_ids, attempts[1:3])

    # --- the wizard --- #

    def test_hard_decline_stops_the_next_installments_until_a_new_method(self):
        """A lost card is not charged again on the next installment's date (card networks
        penalize such retries): the installment waits, failed, until the customer gives a new
        method; the new default is then charged for it at once."""
        token = self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=90.0, due=date(1))
            plan = self._schedule(invoice)
        first, second, third = plan.installment_ids.sorted("sequence")
        self._charge_installments(day(1))
        self.assertEqual(first.state, "paid")
        self.fake.script[token.stripe_payment_method] = ("decline", "lost_card")
        self._charge_installments(day(8))
        self.assertEqual(second.state, "failed")
        case = self.customer.omni_dunning_case_ids
        self.assertTrue(case.hard_decline)
        requests = len(self.fake.requests)
        # Day 15: #3 is due, but the card was reported lost: nothing is sent.
        self._charge_installments(day(15))
        self.assertEqual(len(self.fake.requests), requests, "the lost card is not charged")
        self.assertEqual(third.state, "failed")
        self.assertIn("declined for good", third.reason)
        self.assertEqual(self._amounts(), [3000])
        # The customer adds a new card and makes it the default: both installments are
        # charged to it by the dunning, at once.
        new_token = self._authorized_token(last4="5556")
        with freeze_time(day(16)):
            new_token.action_omni_set_default()
            self.Case._cron_run_dunning()
        self.assertEqual((second.state, third.state), ("paid", "paid"))
        self.assertEqual(plan.token_id, new_token)
        self.assertEqual(self._amounts(), [3000, 3000, 3000])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(case.state, "resolved")

    def test_generated_lines_split_evenly_with_the_remainder_on_the_last(self):
        self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=100.0)
            wizard = self._wizard(invoice, count=3, interval="monthly")
        lines = wizard.installment_line_ids.sorted("sequence")
        self.assertEqual(lines.mapped("amount"), [33.33, 33.33, 33.34])
        self.assertEqual(
            lines.mapped("date"),
            [date(1), date(1) + relativedelta(months=1), date(1) + relativedelta(months=2)],
        )
        # Edited before confirming: the plan takes the lines as shown.
        with freeze_time(day(1)):
            lines[0].write({"amount": 50.0, "date": date(5)})
            lines[1].amount = 25.0
            lines[2].amount = 25.0
            plan = self.Plan.browse(wizard.action_schedule_installments()["res_id"])
        self.assertEqual(plan.installment_ids.mapped("amount"), [50.0, 25.0, 25.0])
        self.assertEqual(plan.installment_ids[0].date, date(5))
        self.assertEqual(plan.next_date, date(5))
        self.assertFalse(
            self.env["ir.cron.trigger"].search(
                [
                    (
                        "cron_id",
                        "=",
                        self.env.ref("omni_payment_charging.ir_cron_charge_installments").id,
                    )
                ]
            ),
            "nothing dated today: the job is not triggered",
        )

    def test_bad_schedules_are_refused_and_create_nothing(self):
        token = self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=120.0)
            before = self._state()

            def refused(message, exception=ValidationError, **changes):
                wizard = self._wizard(invoice)
                lines = wizard.installment_line_ids.sorted("sequence")
                for index, values in changes.pop("lines", {}).items():
                    lines[index].write(values)
                wizard.write(changes)
                with self._refused(exception, message):
                    wizard.action_schedule_installments()

            refused("at least 2 installments", lines={}, installment_line_ids=[(5, 0, 0)])
            wizard = self._wizard(invoice, count=1)
            with self._refused(ValidationError, "at least 2"):
                wizard.action_schedule_installments()
            refused("add up to .*120", lines={0: {"amount": 30.0}})
            refused("greater than zero", lines={0: {"amount": 0.0}, 1: {"amount": 80.0}})
            refused("before today", lines={0: {"date": date(0)}})
            refused("follow each other", lines={1: {"date": date(1)}})
            refused("follow each other", lines={2: {"date": date(2)}})
            refused("more than the open balance", amount=150.0)
            wizard = self._wizard(invoice)
            authorized_on = token.omni_authorized_on
            token._omni_system_write({"omni_authorized_on": False})
            with self._refused(ValidationError, "no recorded authorization"):
                wizard.action_schedule_installments()
            token._omni_system_write({"omni_authorized_on": authorized_on})
            refused("Choose a saved payment method", token_id=False)
            # Viewers may not schedule charges.
            wizard = self._wizard(invoice)
            with self.assertRaises(AccessError):
                wizard.with_user(self.viewer).action_schedule_installments()
            self.assertEqual(self._state(), before)
            self.assertFalse(self.fake.requests)
            # An invoice already on a running plan is not planned twice.
            self._schedule(invoice, first=date(2))
            after = self._state()
            refused("already paid in installments")
            self.assertEqual(self._state(), after)

    def test_split_below_the_stripe_minimum_is_refused(self):
        """Stripe refuses charges below its minimum (0.50 in USD and EUR): a split that would
        produce such an installment is refused, in the wizard and when editing a plan."""
        self._authorized_token()
        self.assertIn(self.company.currency_id.name, ("USD", "EUR"))
        with freeze_time(day(1)):
            invoice = self._invoice(amount=1.20)
            before = self._state()
            wizard = self._wizard(invoice, count=3)
            self.assertEqual(wizard.installment_line_ids.mapped("amount"), [0.40, 0.40, 0.40])
            with self._refused(ValidationError, "below Stripe's minimum"):
                wizard.action_schedule_installments()
            self.assertEqual(self._state(), before)
            plan = self._schedule(invoice, count=2, first=date(2))
            second = plan.installment_ids.sorted("sequence")[1]
            with self._refused(ValidationError, "below Stripe's minimum"):
                second.with_user(self.manager).write({"amount": 0.30})
        self.assertEqual(second.amount, 0.60)
        self.assertFalse(self.fake.requests)

    def test_unsupported_currency_is_refused(self):
        self._authorized_token()
        euro = self.env.ref("base.EUR")
        euro.active = True
        self.stripe.available_currency_ids = self.company.currency_id
        with freeze_time(day(1)):
            invoice = self._invoice(currency=euro)
            before = self._state()
            wizard = self._wizard(invoice)
            with self._refused(ValidationError, "does not accept"):
                wizard.action_schedule_installments()
        self.assertEqual(self._state(), before)

    # --- editing --- #

    def test_scheduled_installments_are_editable_and_logged(self):
        self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=120.0)
            plan = self._schedule(invoice)
        self._charge_installments(day(1))
        first, second, third = plan.installment_ids.sorted("sequence")
        self.assertEqual(first.state, "paid")
        with freeze_time(day(2)):
            # Move 10.00 from #3 to #2 and push #3 by a week, from the plan form (one save).
            plan.with_user(self.manager).write(
                {
                    "installment_ids": [
                        (1, second.id, {"amount": 50.0}),
                        (1, third.id, {"amount": 30.0, "date": date(22)}),
                    ]
                }
            )
            self.assertEqual((second.amount, third.amount), (50.0, 30.0))
            self.assertEqual(third.date, date(22))
            notes = plan.message_ids.mapped("body")
            self.assertTrue(any("Installment 3 changed" in body for body in notes))
            self.assertTrue(any("Installment 2 changed" in body for body in notes))
            before = (second.amount, second.date, third.amount, third.date)
            for values, message in (
                ({"amount": 60.0}, "more than the open balance"),
                ({"amount": 0.0}, "greater than zero"),
                ({"date": date(1)}, "in the past"),
                ({"date": date(23)}, "follow each other"),
            ):
                with self._refused(ValidationError, message):
                    second.with_user(self.manager).write(values)
            # A paid installment keeps its date and amount.
            with self._refused(UserError, "Only scheduled installments"):
                first.with_user(self.manager).write({"amount": 30.0})
            # Viewers may not edit.
            with self.assertRaises(AccessError):
                second.with_user(self.viewer).write({"amount": 45.0})
        self.assertEqual((second.amount, second.date, third.amount, third.date), before)
        self.assertEqual(first.amount, 40.0)
        # The new schedule is what gets charged.
        self._charge_installments(day(8))
        self._charge_installments(day(15))
        self.assertEqual(self._amounts(), [4000, 5000])
        self._charge_installments(day(22))
        self.assertEqual(self._amounts(), [4000, 5000, 3000])
        self.assertEqual(plan.state, "done")

    def test_cancel_plan_and_send_schedule(self):
        self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=120.0)
            plan = self._schedule(invoice, first=date(3))
            with self.assertRaises(AccessError):
                plan.with_user(self.viewer).action_cancel()
            action = plan.with_user(self.manager).action_send_schedule()
            self.assertEqual(action["params"]["type"], "success")
            self.assertEqual(len(self._customer_emails()), 2)
            plan.with_user(self.manager).action_cancel()
        self.assertEqual(plan.state, "cancelled")
        self.assertEqual(set(plan.installment_ids.mapped("state")), {"cancelled"})
        self._charge_installments(day(20))
        self.assertFalse(self.fake.requests)
        # Back to the automatic charge once the plan no longer runs.
        with freeze_time(day(20)):
            self._run_charges()
        self.assertEqual(self._attempts(invoice).origin, "auto")

    # --- the job --- #

    def test_automatic_charge_leaves_a_planned_invoice_alone(self):
        self._authorized_token()
        with freeze_time(day(1)):
            planned = self._invoice(amount=120.0, due=date(1) - datetime.timedelta(days=11))
            other = self._invoice(amount=70.0, due=date(1) - datetime.timedelta(days=11))
            self._schedule(planned, first=date(10))
            self._run_charges()
        self.assertFalse(self._attempts(planned))
        self.assertEqual(self._attempts(other).state, "done")
        self.assertEqual(self._amounts(), [7000])

    def test_stripe_down_on_the_date_then_charged_once_by_a_later_run(self):
        token = self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=90.0)
            plan = self._schedule(invoice, first=date(2))
        first = plan.installment_ids.sorted("sequence")[0]
        self.fake.script[token.stripe_payment_method] = "down"
        self._charge_installments(day(2))
        attempt = first.attempt_ids
        self.assertEqual((first.state, attempt.state), ("scheduled", "not_sent"))
        self.assertFalse(self.customer.omni_dunning_case_ids, "Stripe down is not a failure")
        # The same run (or one minutes later) does not hammer Stripe again.
        self._charge_installments(day(2) + datetime.timedelta(minutes=5))
        self.assertEqual(attempt.send_count, 1)
        self.fake.script[token.stripe_payment_method] = "succeed"
        self._charge_installments(day(2) + datetime.timedelta(hours=1))
        self.assertEqual(first.attempt_ids, attempt, "same attempt, same key")
        self.assertEqual((first.state, attempt.state, attempt.send_count), ("paid", "done", 2))
        self.assertEqual(self._amounts(), [3000])
        self.assertEqual({key for key, _params in self.fake.requests}, {attempt.idempotency_key})

    def test_invoice_paid_by_transfer_cancels_the_remaining_installments(self):
        self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=120.0)
            plan = self._schedule(invoice)
        self._charge_installments(day(1))
        with freeze_time(day(3)):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({})._create_payments()
        states = plan.installment_ids.sorted("sequence").mapped("state")
        self.assertEqual(states, ["paid", "cancelled", "cancelled"])
        self.assertEqual(plan.state, "done")
        self.assertTrue(any("were paid" in body for body in plan.message_ids.mapped("body")))
        self._charge_installments(day(20))
        self.assertEqual(self._amounts(), [4000])

    def test_upcoming_payments_on_the_customer_and_the_invoice(self):
        self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=120.0)
            plan = self._schedule(invoice, first=date(4))
            customer = self.customer.with_user(self.viewer)
            self.assertEqual(customer.omni_installment_count, 3)
            self.assertEqual(customer.omni_installment_next_date, date(4))
            action = customer.action_omni_open_installments()
            self.assertEqual(
                self.Installment.with_user(self.viewer).search(action["domain"]),
                plan.installment_ids,
            )
            self.assertEqual(invoice.with_user(self.viewer).omni_installment_count, 3)
            action = invoice.with_user(self.viewer).action_omni_open_installments()
            self.assertEqual(self.Installment.search(action["domain"]), plan.installment_ids)
        for model in ("omni.installment", "omni.installment.plan"):
            for view in ("list", "form", "search"):
                self.env[model].with_user(self.viewer).get_view(view_type=view)
        self.assertTrue(self.env.ref("omni_payment_charging.omni_installment_menu").action)

    def test_debit_processing_is_settled_by_the_webhook(self):
        token = self._authorized_token()
        with freeze_time(day(1)):
            invoice = self._invoice(amount=60.0)
            plan = self._schedule(invoice, count=2)
        first, second = plan.installment_ids.sorted("sequence")
        self.fake.script[token.stripe_payment_method] = "processing"
        self._charge_installments(day(1))
        attempt = first.attempt_ids
        self.assertEqual((first.state, attempt.state), ("processing", "processing"))
        # While the debit is in flight, the next installment waits (nothing sent).
        self._charge_installments(day(8))
        self.assertEqual((second.state, len(self.fake.requests)), ("scheduled", 1))
        # Stripe's webhook: the first debit failed; the dunning takes it over.
        with freeze_time(day(9)):
            compat.process_payment_data(
                attempt.transaction_id,
                {
                    "reference": attempt.reference,
                    # The PaymentIntent sent (its id, amount and currency), now failed.
                    "payment_intent": dict(
                        self.fake.by_key[attempt.idempotency_key]["intent"],
                        status="requires_payment_method",
                        last_payment_error={"code": "insufficient_funds", "message": "No."},
                    ),
                },
            )
        self.assertEqual((attempt.state, first.state), ("failed", "failed"))
        self.assertEqual(attempt.case_id.amount_due, 30.0)
        # The second one is now charged (it succeeds), the failed one is the dunning's.
        self.fake.script[token.stripe_payment_method] = "succeed"
        self._charge_installments(day(9))
        self.assertEqual(second.state, "paid")
        self.assertEqual(self._amounts(), [3000, 3000])
        self.assertEqual(attempt.case_id.state, "open")
        self._run_dunning(day(12))
        self.assertEqual(first.state, "paid")
        self.assertEqual(attempt.case_id.state, "resolved")
        self.assertEqual(plan.state, "done")
        self.assertEqual(self._amounts(), [3000, 3000, 3000])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
