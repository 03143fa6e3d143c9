# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
from unittest.mock import patch

import stripe
from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.omni_payment_methods.tests import compat
from odoo.addons.omni_payment_methods.tests.common import TODAY

from .charge_common import ChargeCommon

# Day 1 of the dunning is the day the suite runs (so a walk may cross a month's end).
DAY_1 = datetime.datetime.combine(TODAY, datetime.time(9, 0))


def day(number):
    return DAY_1 + datetime.timedelta(days=number - 1)


def dunning_day_of(case, attempt):
    """The case's day an attempt was sent on."""
    return (attempt.first_sent_at.date() - case.started_on).days + 1


@tagged("post_install", "-at_install")
class TestDunningStages(ChargeCommon):
    """The default policy, walked with frozen time (day 1 = the day of the failed charge)."""

    def _start(self, decline="insufficient_funds", behaviour=None):
        """A customer whose default card declines on day 1 (or does ``behaviour``, a script
        of the fake Stripe)."""
        self.token = self._authorized_token()
        with freeze_time(DAY_1):
            self.invoice = self._invoice(due=DAY_1.date())
        self.fake_cm = self._fake_stripe()
        self.fake = self.fake_cm.__enter__()
        self.addCleanup(self.fake_cm.__exit__, None, None, None)
        if behaviour or decline:
            self.fake.script[self.token.stripe_payment_method] = behaviour or ("decline", decline)
        with freeze_time(DAY_1):
            self._run_charges()
        self.case = self.customer.omni_dunning_case_ids
        self.assertEqual(len(self.case), 1)

    def _run(self, when):
        with freeze_time(when):
            self.Case._cron_run_dunning()

    def _subjects(self):
        return self._customer_emails().mapped("subject")

    def _pay_by_hand(self, when):
        with freeze_time(when):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=self.invoice.ids
            ).create({})._create_payments()

    def test_every_stage_and_back_to_active(self):
        calls = []
        Partner = self.registry["res.partner"]
        original = Partner._omni_dunning_state_changed

        def record(partner, previous, state, case):
            calls.append((previous, state))
            return original(partner, previous, state, case)

        with patch.object(Partner, "_omni_dunning_state_changed", record):
            self._start()
            case = self.case
            # Day 1: grace, the failure notice with the link to update the method.
            with freeze_time(DAY_1):
                self.assertEqual((case.stage, case.state, case.day), ("grace", "open", 1))
            self.assertEqual(self.customer.omni_dunning_state, "grace")
            emails = self._customer_emails()
            self.assertEqual(len(emails), 1)
            self.assertIn("did not go through", emails.subject)
            self.assertIn("/omni/payment_methods/", emails.body)
            self.assertIn("insufficient_funds", case.decline_reason)
            # Days 2-3: service continues, a silent retry on day 2, no email.
            self._run(day(2))
            self._run(day(3))
            self.assertEqual(len(self._customer_emails()), 1)
            self.assertEqual(len(self._attempts(self.invoice)), 2)
            self.assertEqual(case.stage, "grace")
            # Day 4: the retry fails: warning email and an activity for staff.
            self._run(day(4))
            attempts = self._attempts(self.invoice)
            self.assertEqual(attempts.mapped("origin"), ["auto", "retry", "retry"])
            self.assertEqual(attempts.mapped("state"), ["failed", "failed", "failed"])
            self.assertEqual(case.stage, "warning")
            self.assertIn("failed again", self._subjects()[-1])
            activities = self.customer.activity_ids
            self.assertEqual(len(activities), 1)
            self.assertIn("call the customer", activities.summary)
            # Day 7 (the job missed day 6: its retry is made now), day 8: retried, suspended.
            self._run(day(7))
            self.assertEqual(case.stage, "warning")
            self.assertEqual(len(self._attempts(self.invoice)), 4)
            self._run(day(8))
            with freeze_time(day(8)):
                case.invalidate_recordset(["day"])
                self.assertEqual(case.day, 8)
            self.assertEqual(case.stage, "suspended")
            self.assertEqual(self.customer.omni_dunning_state, "suspended")
            self.assertIn("suspended", self._subjects()[-1])
            self.assertEqual(len(self._attempts(self.invoice)), 5)
            self.assertEqual(len(self.customer.activity_ids), 2)
            # Day 15: the missed retry days (10, 12, 14) make one retry; terminated.
            self._run(day(15))
            self.assertEqual(case.stage, "terminated")
            self.assertIn("final notice", self._subjects()[-1])
            self.assertEqual(len(self._customer_emails()), 4)
            # Running again the same day or later sends nothing more.
            self._run(day(15))
            self._run(day(20))
            self.assertEqual(len(self._customer_emails()), 4)
            # The customer pays by bank transfer: active again, said on the chatter.
            self._pay_by_hand(day(21))
            self.assertEqual(case.state, "resolved")
            self.assertEqual(self.customer.omni_dunning_state, "active")
            self.assertIn("Outstanding balance paid", self.customer.message_ids[0].body)
        self.assertEqual(
            calls,
            [
                ("active", "grace"),
                ("grace", "warning"),
                ("warning", "suspended"),
                ("suspended", "terminated"),
                ("terminated", "active"),
            ],
        )
        self.assertEqual(len(self.fake.charges), 0)
        self.assertEqual(len(self.fake.requests), 6)

    def test_default_policy_tries_eight_times_in_two_weeks(self):
        """Close to Stripe's Smart Retries: the first charge and seven retries (days 2, 4,
        ..., 14), at the job's hour, then none."""
        self._start()
        for number in range(2, 31):
            self._run(day(number))
        attempts = self._attempts(self.invoice)
        self.assertEqual(len(attempts), 8)
        self.assertEqual(
            [dunning_day_of(self.case, attempt) for attempt in attempts],
            [1, 2, 4, 6, 8, 10, 12, 14],
        )
        self.assertEqual(len(self.fake.requests), 8)
        # The levels go on as before: grace, warning, suspension, final notice.
        self.assertEqual(self.case.stage, "terminated")
        self.assertEqual(len(self._customer_emails()), 4)

    def test_a_retry_stops_at_the_first_decline(self):
        """The case's invoices are charged oldest first; once one declines, the others are
        not charged that day (each would be one more decline on the same card)."""
        self._start()
        with freeze_time(DAY_1):
            second = self._invoice(amount=80.0, due=DAY_1.date())
            self._run_charges()
        self.assertEqual(self.case.invoice_ids, self.invoice | second)
        self.assertEqual(len(self.fake.requests), 2)
        self._run(day(4))
        self.assertEqual(len(self.fake.requests), 3)
        self.assertEqual(len(self._attempts(second)), 1, "not charged after the decline")
        self.assertEqual(self._attempts(self.invoice)[-1].origin, "retry")

    def test_retry_schedule_is_refused_beyond_the_network_limits(self):
        policy = self.policy
        policy.retry_days = "3, 5"
        self.assertEqual(policy.retry_days, "3, 5")
        # Each refused value is written again by the next check (a refused write stays in the
        # test's cache; a user's request is rolled back).
        # Bank debits: NACHA allows two re-presentments.
        with self.assertRaisesRegex(ValidationError, "at most 2"):
            policy.bank_max_retries = 3
        # Visa: at most 15 reattempts in 30 days.
        with self.assertRaisesRegex(ValidationError, "at most 15 retries within 30 days"):
            policy.write(
                {
                    "bank_max_retries": 2,
                    "retry_days": ", ".join(str(number) for number in range(2, 18)),
                }
            )
        with self.assertRaisesRegex(ValidationError, "whole numbers of days"):
            policy.retry_days = "every other day"
        with self.assertRaisesRegex(ValidationError, "day 2 or later"):
            policy.retry_days = "1, 3"
        # The levels that retry count too: 15 retry days and the warning level's day 4 is
        # one of them; one more level retrying on day 20 makes 16 within 30 days.
        policy.retry_days = ", ".join(str(number) for number in range(2, 17))
        with self.assertRaisesRegex(ValidationError, "at most 15 retries within 30 days"):
            self.env["omni.dunning.level"].create(
                {
                    "policy_id": policy.id,
                    "name": "Late retry",
                    "day": 20,
                    "stage": "terminated",
                    "retry_charge": True,
                }
            )

    def test_second_attempt_succeeds(self):
        self._start()
        self.fake.script[self.token.stripe_payment_method] = "succeed"
        self._run(day(4))
        self.assertEqual(self.case.state, "resolved")
        self.assertEqual(self.customer.omni_dunning_state, "active")
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(self._customer_emails()), 1, "no warning email")
        self.assertFalse(self.customer.activity_ids)

    def test_hard_decline_waits_for_a_new_method(self):
        self._start(decline="lost_card")
        self.assertTrue(self.case.hard_decline)
        self._run(day(4))
        # No retry of a lost card; the warning still goes out.
        self.assertEqual(len(self._attempts(self.invoice)), 1)
        self.assertEqual(self.case.stage, "warning")
        # The customer adds a new card and makes it the default: retried at once.
        with freeze_time(day(5)):
            new_card = self._authorized_token(last4="5555", brand="mastercard")
            new_card.action_omni_set_default()
            self.assertTrue(self.case.retry_requested_at)
            self.assertFalse(self.case.hard_decline)
            self.Case._cron_run_dunning()
        attempts = self._attempts(self.invoice)
        self.assertEqual(attempts[-1].origin, "method")
        self.assertEqual(attempts[-1].token_id, new_card)
        self.assertEqual(attempts[-1].state, "done")
        self.assertEqual(self.case.state, "resolved")
        self.assertEqual(self.customer.omni_dunning_state, "active")

    def test_off_session_authentication_waits_for_the_customer_then_resolves(self):
        """Real Stripe answers an off-session charge that needs 3-D Secure with a 402
        ``authentication_required`` (the PaymentIntent stays ``requires_payment_method``):
        the case waits for the customer, who gets a signed link; no automatic retry, no
        suspension; once the customer authenticated and paid, the case resolves."""
        self._start(behaviour="authentication_required")
        attempt = self._attempts(self.invoice)
        self.assertEqual(
            (attempt.state, attempt.failure_kind), ("requires_action", "authentication")
        )
        intent_id = attempt.stripe_payment_intent
        self.assertEqual(self.fake.intents[intent_id]["status"], "requires_payment_method")
        self.assertEqual(self.case.state, "waiting")
        email = self._customer_emails()[-1]
        self.assertIn("confirm your payment", email.subject)
        self.assertIn("/omni/pay/", email.body)
        for number in (4, 8, 15, 29):
            self._run(day(number))
            with freeze_time(day(number)):
                self._run_charges()
        self.assertEqual(len(self.fake.requests), 1, "no automatic retry while waiting")
        self.assertEqual((self.case.state, self.case.level_id.id), ("waiting", False))
        self.assertEqual(self.customer.omni_dunning_state, "active", "never suspended")
        # The customer opens the link and confirms with Stripe.js on the same PaymentIntent.
        with freeze_time(day(30)):
            start = attempt._authentication_start()
            self.assertEqual(
                (start["payment_method"], start["client_secret"]),
                (
                    self.token.stripe_payment_method,
                    self.fake.intents[intent_id]["client_secret"],
                ),
            )
            self.fake.authenticate(intent_id)
            attempt._authentication_finish()
        self.assertEqual(attempt.state, "done")
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.case.state, "resolved")
        # payment_stripe's webhook arrives too, and a second "finish": recorded once.
        tx = attempt.transaction_id
        compat.process_payment_data(
            tx, {"reference": tx.reference, "payment_intent": self.fake.intents[intent_id]}
        )
        attempt._authentication_finish()
        self.assertEqual(len(self.invoice._get_reconciled_payments()), 1)
        self.assertEqual(len(self.fake.requests), 1)

    def _new_default_card(self, authorized=True):
        """Day 3: the customer sets a new default card instead of authenticating the charge
        of day 1, and the dunning runs."""
        with freeze_time(day(3)):
            token = self._authorized_token if authorized else self._omni_token
            new_card = token(self.customer, last4="5555", brand="mastercard")
            new_card.action_omni_set_default()
            self.Case._cron_run_dunning()
        return new_card

    def test_new_method_cancels_the_charge_waiting_for_authentication(self):
        """Stripe cancels the waiting PaymentIntent before the new card is charged: the
        emailed link can no longer pay the invoice a second time."""
        self._start(behaviour="authentication_required")
        waiting = self._attempts(self.invoice)
        self.assertEqual((waiting.state, self.case.state), ("requires_action", "waiting"))
        self.case.with_context(omni_send_links=True)._omni_authentication_url()
        new_card = self._new_default_card()
        intent_id = waiting.stripe_payment_intent
        self.assertEqual(self.fake.lookups, [("cancel", intent_id)])
        self.assertEqual(self.fake.intents[intent_id]["status"], "canceled")
        self.assertEqual(waiting.state, "cancelled")
        self.assertIn("5555", waiting.reason)
        self.assertTrue(waiting._authentication_links())
        self.assertTrue(all(waiting._authentication_links().mapped("used_on")))
        paid = self._attempts(self.invoice)[-1]
        self.assertEqual((paid.token_id, paid.state, paid.origin), (new_card, "done", "method"))
        self.assertEqual(self.case.state, "resolved")
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(
            any("cancelled in Stripe" in body for body in self.customer.message_ids.mapped("body"))
        )
        # The page of the old link refuses, and so would Stripe.js.
        with self.assertRaises(UserError):
            waiting._authentication_start()
        with self.assertRaises(stripe.InvalidRequestError):
            self.fake.authenticate(intent_id)
        # payment_stripe's webhook about the cancelled PaymentIntent changes nothing.
        tx = waiting.transaction_id
        compat.process_payment_data(
            tx, {"reference": tx.reference, "payment_intent": self.fake.intents[intent_id]}
        )
        self.assertEqual(waiting.state, "cancelled")
        self.assertEqual(self.case.state, "resolved")
        self.assertEqual(len(self.fake.charges), 1)
        self.assertEqual(len(self.invoice._get_reconciled_payments()), 1)

    def test_charge_authenticated_meanwhile_is_recorded_not_cancelled(self):
        """The customer authenticated in the browser, but Odoo never heard of it (tab
        closed, webhook lost): Stripe refuses to cancel a paid PaymentIntent, the payment is
        recorded and the new card is not charged."""
        self._start(behaviour="authentication_required")
        waiting = self._attempts(self.invoice)
        self.fake.authenticate(waiting.stripe_payment_intent)
        self._new_default_card()
        self.assertEqual(waiting.state, "done")
        self.assertEqual(self._attempts(self.invoice), waiting, "the new card is not charged")
        self.assertEqual(len(self.fake.requests), 1)
        self.assertEqual(len(self.fake.charges), 1)
        self.assertEqual(self.case.state, "resolved")
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))

    def test_stripe_down_while_cancelling_keeps_the_retry(self):
        """Stripe cannot be reached to cancel the waiting charge: nothing is charged, the
        charge still waits, and the next day's run cancels it and charges the new card."""
        self._start(behaviour="authentication_required")
        waiting = self._attempts(self.invoice)
        self.fake.unreachable = True
        new_card = self._new_default_card()
        self.assertEqual(waiting.state, "requires_action")
        self.assertEqual(self._attempts(self.invoice), waiting)
        self.assertEqual(len(self.fake.requests), 1, "the new card is not charged")
        self.assertEqual(self.case.state, "waiting")
        self.assertTrue(self.case.retry_requested_at)
        self.fake.unreachable = False
        self._run(day(4))
        self.assertEqual(waiting.state, "cancelled")
        self.assertEqual(self._attempts(self.invoice)[-1].token_id, new_card)
        self.assertEqual(self.case.state, "resolved")
        self.assertEqual(len(self.fake.charges), 1)

    def test_new_method_that_cannot_be_charged_cancels_nothing(self):
        """A new default without the customer's authorization to charge it: the waiting
        charge is not cancelled, the emailed link stays the way to pay."""
        self._start(behaviour="authentication_required")
        waiting = self._attempts(self.invoice)
        self._new_default_card(authorized=False)
        self.assertFalse(self.fake.lookups)
        self.assertEqual(waiting.state, "requires_action")
        self.assertEqual(self._attempts(self.invoice), waiting)
        self.assertEqual(len(self.fake.requests), 1)
        self.assertEqual(self.case.state, "waiting")

    def test_retry_with_the_same_card_keeps_waiting(self):
        """Staff press "Retry now" while the customer has not set another method: only the
        customer's authentication can pay the charge, so nothing is cancelled or sent."""
        self._start(behaviour="authentication_required")
        waiting = self._attempts(self.invoice)
        with freeze_time(day(3)):
            self.case.action_retry_now()
        self.assertEqual(waiting.state, "requires_action")
        self.assertEqual(self._attempts(self.invoice), waiting)
        self.assertFalse([lookup for lookup in self.fake.lookups if lookup[0] == "cancel"])
        self.assertEqual(self.case.state, "waiting")

    def test_pause_and_resume(self):
        self._start()
        self.case.action_pause()
        self._run(day(4))
        self._run(day(9))
        self.assertEqual((self.case.state, self.case.stage), ("paused", "grace"))
        self.assertEqual(len(self._attempts(self.invoice)), 1)
        with freeze_time(day(9)):
            self.case.action_resume()
        self._run(day(9))
        # Day 9: straight to suspension, retrying once for the skipped warning level; one
        # email (the suspension), not one per skipped level.
        self.assertEqual(self.case.stage, "suspended")
        self.assertEqual(len(self._attempts(self.invoice)), 2, "one retry for the missed days")
        self.assertEqual(len(self._customer_emails()), 2)
        self.assertIn("suspended", self._subjects()[-1])

    def test_retry_now_by_staff(self):
        self._start(decline="lost_card")
        self.fake.script[self.token.stripe_payment_method] = "succeed"
        with freeze_time(day(2)):
            action = self.case.action_retry_now()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self._attempts(self.invoice)[-1].origin, "staff")
        self.assertEqual(self.case.state, "resolved")

    def test_manual_mode_pauses_open_dunning(self):
        self._start()
        self.customer.omni_payment_mode = "manual"
        self.assertEqual(self.case.state, "paused")
        self._run(day(4))
        self.assertEqual(len(self._attempts(self.invoice)), 1)

    def test_new_invoice_joins_the_open_case(self):
        self._start()
        with freeze_time(day(2)):
            second = self._invoice(due=day(2).date())
            self._run_charges()
        self.assertEqual(self.customer.omni_dunning_case_ids, self.case)
        self.assertEqual(self.case.invoice_ids, self.invoice | second)
        self.assertEqual(self.case.amount_due, 240.0)

    def test_stripe_down_during_a_retry_keeps_the_level(self):
        self._start()
        self.fake.script[self.token.stripe_payment_method] = "down"
        self._run(day(4))
        self.assertEqual(self.case.stage, "grace", "the warning waits for a real answer")
        self.assertEqual(len(self._customer_emails()), 1)
        self.fake.script[self.token.stripe_payment_method] = ("decline", "insufficient_funds")
        self._run(day(5))
        self.assertEqual(self.case.stage, "warning")
        attempts = self._attempts(self.invoice)
        self.assertEqual(attempts.mapped("state"), ["failed", "failed"])
        self.assertEqual(attempts[-1].send_count, 2, "the same attempt was re-sent")

    def test_dunning_list_shows_stage_amount_and_reason(self):
        self._start()
        self.env.invalidate_all()
        action = self.env.ref("omni_payment_charging.omni_dunning_case_action")
        self.assertEqual(action.res_model, "omni.dunning.case")
        rows = self.Case.search_read(
            [("state", "!=", "resolved")],
            ["partner_id", "stage", "amount_due", "last_attempt_on", "decline_reason"],
        )
        row = next(r for r in rows if r["partner_id"][0] == self.customer.id)
        self.assertEqual(row["stage"], "grace")
        self.assertEqual(row["amount_due"], 120.0)
        self.assertTrue(row["last_attempt_on"])
        self.assertIn("declined", row["decline_reason"])
        for view in ("list", "form", "search"):
            self.Case.get_view(view_type=view)
