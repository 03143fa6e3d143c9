# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import threading
from unittest.mock import patch

import psycopg2
import stripe
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.omni_payment_methods.tests import compat
from odoo.addons.omni_payment_methods.tests.common import TODAY, closed_port_url

from .charge_common import ChargeCommon, FakeClient, FakePaymentIntents, LocalStripeChargeCommon


@tagged("post_install", "-at_install")
class TestAutomaticChargeLocalStripe(LocalStripeChargeCommon):
    """Off-session charges through payment.transaction against localstripe."""

    def test_due_invoice_is_charged_and_reconciled(self):
        token = self._localstripe_token()
        invoice = self._invoice(amount=120.0)
        not_due = self._invoice(amount=50.0, due=TODAY + datetime.timedelta(days=365))
        self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "done")
        self.assertEqual(attempt.token_id, token)
        self.assertTrue(attempt.stripe_payment_intent.startswith("pi_"))
        tx = attempt.transaction_id
        self.assertEqual((tx.state, tx.operation, tx.invoice_ids), ("done", "offline", invoice))
        # Odoo's own post-processing created the payment and reconciled the invoice.
        self.assertTrue(tx.is_post_processed)
        self.assertTrue(tx.payment_id)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(self._attempts(not_due))
        self.assertFalse(self.customer.omni_dunning_case_ids)
        self.assertIn("charged", self.customer.message_ids[0].body)
        # The next run has nothing left to do: paid invoices are never charged again.
        self._run_charges()
        self.assertEqual(len(self._attempts(invoice)), 1)

    def test_failing_card_is_a_soft_decline(self):
        """localstripe's 4000000000000341 attaches but fails at charge time (card_declined,
        no decline code): a soft decline that opens the dunning."""
        self._localstripe_token(number="4000000000000341")
        invoice = self._invoice()
        self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual((attempt.state, attempt.failure_kind), ("failed", "soft"))
        self.assertEqual(attempt.decline_code, "card_declined")
        self.assertEqual(attempt.transaction_id.state, "error")
        self.assertEqual(invoice.payment_state, "not_paid")
        case = attempt.case_id
        self.assertEqual((case.state, case.stage), ("open", "grace"))
        self.assertFalse(case.hard_decline)
        self.assertEqual(self.customer.omni_dunning_state, "grace")

    def test_authentication_required_waits_for_the_customer(self):
        """A card that asks for 3-D Secure off-session (localstripe answers requires_action,
        where Stripe declines with authentication_required: see test_dunning): the customer
        gets a link to authenticate the payment and the stage machine waits."""
        self._localstripe_token(number="4000002760003184")
        invoice = self._invoice()
        self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(
            (attempt.state, attempt.failure_kind), ("requires_action", "authentication")
        )
        self.assertEqual(attempt.transaction_id.state, "draft")
        case = attempt.case_id
        self.assertEqual(case.state, "waiting")
        email = self._customer_emails()[-1]
        self.assertIn("confirm your payment", email.subject)
        self.assertIn("/omni/pay/", email.body, "the signed link to authenticate the payment")
        with freeze_time(case.started_on + datetime.timedelta(days=28)):  # day 29: still waiting
            self.Case._cron_run_dunning()
        self.assertFalse(case.level_id)
        self.assertEqual(case.state, "waiting")

    def test_new_default_card_cancels_the_charge_waiting_for_authentication(self):
        """The customer sets a new default card instead of authenticating: the dunning
        cancels the waiting PaymentIntent in localstripe and charges the new card."""
        self._localstripe_token(number="4000002760003184")
        invoice = self._invoice()
        self._run_charges()
        waiting = self._attempts(invoice)
        case = waiting.case_id
        self.assertEqual((waiting.state, case.state), ("requires_action", "waiting"))
        new_card = self._localstripe_token()
        new_card.action_omni_set_default()
        self.Case._cron_run_dunning()
        intent = self.client.v1.payment_intents.retrieve(waiting.stripe_payment_intent)
        self.assertEqual(intent["status"], "canceled")
        self.assertEqual(waiting.state, "cancelled")
        self.assertEqual(waiting.transaction_id.state, "cancel")
        paid = self._attempts(invoice)[-1]
        self.assertEqual((paid.token_id, paid.state, paid.origin), (new_card, "done", "method"))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(case.state, "resolved")

    def test_bank_debit_processing_then_failed(self):
        """A SEPA debit comes back "processing"; Stripe's later failure opens the dunning."""
        customer_id = self.client.v1.customers.create({"name": "SEPA", "email": "s@x.org"})["id"]
        pm = self.client.v1.payment_methods.create(
            {
                "type": "sepa_debit",
                "sepa_debit": {"iban": "DE62370400440532013001"},
                "billing_details": {"name": "SEPA Customer", "email": "s@x.org"},
            }
        )
        self.client.v1.payment_methods.attach(pm["id"], {"customer": customer_id})
        sepa = self.env.ref("payment.payment_method_sepa_direct_debit")
        token = self.Token.create(
            {
                "provider_id": self.stripe.id,
                "payment_method_id": sepa.id,
                "partner_id": self.customer.id,
                "payment_details": "3001",
                "provider_ref": customer_id,
                "stripe_payment_method": pm["id"],
                "omni_method_kind": "bank",
                "omni_stripe_pm_type": "sepa_debit",
            }
        )
        token._omni_record_authorization()
        euro = self.env.ref("base.EUR")
        euro.active = True
        sepa.supported_currency_ids = euro
        invoice = self._invoice(currency=euro)
        self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "processing")
        self.assertEqual(attempt.transaction_id.state, "pending")
        self.assertFalse(attempt.case_id)
        # Stripe's webhook later: the debit failed.
        intent = self.client.v1.payment_intents.retrieve(attempt.stripe_payment_intent).to_dict()
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {"code": "insufficient_funds", "message": "No funds."}
        compat.process_payment_data(
            attempt.transaction_id, {"reference": attempt.reference, "payment_intent": intent}
        )
        self.assertEqual(attempt.state, "failed")
        self.assertEqual(attempt.transaction_id.state, "error")
        self.assertEqual(attempt.case_id.stage, "grace")

    def test_stripe_down_then_next_run_charges_once(self):
        self._localstripe_token()
        invoice = self._invoice()
        api_base = self.stripe._omni_stripe_api_base()
        self._stripe_at(closed_port_url())
        with mute_logger("odoo.addons.omni_payment_methods.lib.stripe_api"):
            self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "not_sent")
        self.assertFalse(attempt.outcome_unknown, "connection refused: nothing was sent")
        self.assertFalse(attempt.transaction_id)
        self.assertFalse(
            self.env["payment.transaction"].search([("reference", "=", attempt.reference)])
        )
        self.assertIn("Stripe did not confirm", attempt.reason)
        self.assertFalse(attempt.case_id, "Stripe down is not the customer's failure")
        # The same run does not hammer Stripe again; the next one (an hour later) does.
        self._run_charges()
        self.assertEqual(attempt.send_count, 1)
        self._stripe_at(api_base)
        with freeze_time(self._later(60)):
            self._run_charges()
        self.assertEqual(self._attempts(invoice), attempt, "same attempt, same key")
        self.assertEqual((attempt.state, attempt.send_count), ("done", 2))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))


@tagged("post_install", "-at_install")
class TestAutomaticChargeRules(ChargeCommon):
    """What is charged and what is not, with an SDK-level Stripe fake."""

    def test_manual_mode_is_never_charged(self):
        self._authorized_token()
        self.customer.omni_payment_mode = "manual"
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            self._run_charges()
        self.assertFalse(fake.requests)
        self.assertFalse(self._attempts(invoice))
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertIn("Payment mode: manual", self.customer.message_ids[0].body)

    def test_manual_mode_notice_on_the_customer_form(self):
        self.customer.omni_payment_mode = "manual"
        arch = self.env["res.partner"].get_view(self.env.ref("base.view_partner_form").id, "form")[
            "arch"
        ]
        self.assertIn("Manual payment.", arch)
        self.assertIn("omni_payment_mode != 'manual'", arch)

    def test_contacts_follow_the_company_mode(self):
        self.assertEqual(self.customer_contact.omni_payment_mode, "automatic")
        self.customer.omni_payment_mode = "manual"
        self.assertEqual(self.customer_contact.omni_payment_mode, "manual")

    def test_not_chargeable_reasons_do_not_stop_the_batch(self):
        """No default method, an archived method, an unauthorized method and an unsupported
        currency: each invoice gets its reason in the dunning list; the others are charged."""
        Partner = self.env["res.partner"]
        no_method = Partner.create({"name": "No method", "omni_payment_mode": "automatic"})
        archived = Partner.create({"name": "Archived", "omni_payment_mode": "automatic"})
        self._authorized_token(archived).with_context(omni_keep_in_stripe=True).action_archive()
        unauthorized = Partner.create({"name": "Unauthorized", "omni_payment_mode": "automatic"})
        self._omni_token(unauthorized)
        other_currency = Partner.create({"name": "Rupees", "omni_payment_mode": "automatic"})
        self._authorized_token(other_currency)
        payer = Partner.create({"name": "Payer", "omni_payment_mode": "automatic"})
        self._authorized_token(payer)
        inr = self.env.ref("base.INR")
        inr.active = True
        self.stripe.available_currency_ids = self.company.currency_id
        invoices = {
            "no_method": self._invoice(no_method),
            "archived": self._invoice(archived),
            "unauthorized": self._invoice(unauthorized),
            "currency": self._invoice(other_currency, currency=inr),
            "payer": self._invoice(payer),
        }
        with self._fake_stripe() as fake:
            self._run_charges()
        self.assertEqual(len(fake.charges), 1)
        reasons = {}
        for name, invoice in invoices.items():
            attempt = self._attempts(invoice)
            self.assertEqual(len(attempt), 1, name)
            reasons[name] = (attempt.state, attempt.reason or "")
        self.assertEqual(reasons["payer"][0], "done")
        for name in ("no_method", "archived", "unauthorized", "currency"):
            self.assertEqual(reasons[name][0], "skipped", name)
        self.assertIn("no default payment method", reasons["no_method"][1])
        self.assertIn("deleted (archived)", reasons["archived"][1])
        self.assertIn("no recorded authorization", reasons["unauthorized"][1])
        self.assertIn("INR", reasons["currency"][1])
        cases = self.Case.search([("partner_id", "in", (no_method | archived).ids)])
        self.assertEqual(len(cases), 2)
        self.assertTrue(all(cases.mapped("decline_reason")))
        self.assertEqual(set(cases.mapped("state")), {"open"})
        # The customer must act: emailed with the link to add a method.
        self.assertEqual(len(self._customer_emails(no_method)), 1)
        # The company must act (currency): no email to the customer, the case waits paused
        # with an activity for staff.
        rupees_case = other_currency.omni_dunning_case_ids
        self.assertEqual(rupees_case.state, "paused")
        self.assertFalse(self._customer_emails(other_currency))
        self.assertIn("INR", other_currency.activity_ids.note)
        self.assertTrue(self._attempts(invoices["currency"]).company_side)

    def test_hard_and_soft_declines(self):
        """Decline codes localstripe cannot produce, through the SDK-level fake."""
        cases = {}
        for code, kind in (
            ("lost_card", "hard"),
            ("stolen_card", "hard"),
            ("invalid_account", "hard"),
            ("do_not_try_again", "hard"),
            ("incorrect_zip", "hard"),
            ("do_not_honor", "soft"),  # Visa 05: retryable
            ("insufficient_funds", "soft"),
            ("try_again_later", "retry_later"),
        ):
            partner = self.env["res.partner"].create(
                {"name": f"Decline {code}", "omni_payment_mode": "automatic"}
            )
            token = self._authorized_token(partner)
            cases[code] = (kind, token, self._invoice(partner))
        with self._fake_stripe() as fake:
            for _code, (_kind, token, _invoice) in cases.items():
                fake.script[token.stripe_payment_method] = ("decline", _code)
            self._run_charges()
        self.assertFalse(fake.charges)
        for code, (kind, _token, invoice) in cases.items():
            attempt = self._attempts(invoice)
            self.assertEqual(
                (attempt.state, attempt.failure_kind, attempt.decline_code),
                ("failed", kind, code),
            )
            self.assertEqual(attempt.case_id.hard_decline, kind == "hard", code)
            self.assertIn(code, attempt.reason)

    def test_new_invoice_after_a_hard_decline_is_not_charged(self):
        token = self._authorized_token()
        first = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = ("decline", "stolen_card")
            self._run_charges()
            second = self._invoice(due=TODAY - datetime.timedelta(days=15))
            self._run_charges()
        self.assertEqual(len(fake.requests), 1, "the stolen card is not charged again")
        attempt = self._attempts(second)
        self.assertEqual(attempt.state, "skipped")
        self.assertIn("declined for good", attempt.reason)
        case = self._attempts(first).case_id
        self.assertEqual(attempt.case_id, case)
        self.assertTrue(case.hard_decline, "a skipped attempt does not lift the hard decline")

    def test_timeout_after_stripe_charged_is_not_charged_twice(self):
        """Stripe charged but the answer was lost: the attempt's outcome is unknown; the next
        run finds the PaymentIntent in Stripe (by the attempt's reference) and records it
        without sending anything again."""
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "timeout_after_charge"
            with mute_logger("odoo.addons.omni_payment_methods.lib.stripe_api"):
                self._run_charges()
            attempt = self._attempts(invoice)
            self.assertEqual(attempt.state, "unknown")
            self.assertTrue(attempt.outcome_unknown)
            with freeze_time(self._later(60)):
                self._run_charges()
        self.assertEqual(attempt.state, "done")
        self.assertEqual(len(fake.charges), 1)
        self.assertEqual({key for key, _params in fake.requests}, {attempt.idempotency_key})
        self.assertEqual(len(fake.requests), 1)

    def test_server_error_is_retried_with_the_same_key(self):
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "server_error"
            self._run_charges()
            with freeze_time(self._later(60)):
                self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual((attempt.state, attempt.attempt_no), ("done", 1))
        self.assertEqual(len(fake.charges), 1)

    def test_crash_after_stripe_answered_does_not_charge_twice(self):
        """The worker dies after Stripe answered (the whole batch rolls back): the next run
        sends the same key, Stripe returns the same PaymentIntent."""
        self._authorized_token()
        invoice = self._invoice()
        Attempt = self.registry["omni.charge.attempt"]
        original = Attempt._update_from_transaction

        def crash(attempt, tx):
            raise KeyboardInterrupt("worker killed")

        with self._fake_stripe() as fake:
            with (
                patch.object(Attempt, "_update_from_transaction", crash),
                self.assertRaises(KeyboardInterrupt),
                self.env.cr.savepoint(),
            ):
                self._run_charges()
            self.assertFalse(self._attempts(invoice), "the batch was rolled back")
            self.assertEqual(len(fake.charges), 1, "but Stripe had charged")
            with patch.object(Attempt, "_update_from_transaction", original):
                self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual((attempt.attempt_no, attempt.state), (1, "done"))
        self.assertEqual(len(fake.charges), 1)
        self.assertEqual(len({key for key, _p in fake.requests}), 1)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_unknown_outcome_found_after_the_key_expired_is_not_charged_again(self):
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "timeout_after_charge"
            with mute_logger("odoo.addons.omni_payment_methods.lib.stripe_api"):
                self._run_charges()
            with freeze_time(self._later(60 * 25)):
                self._run_charges()
        attempts = self._attempts(invoice)
        self.assertEqual(attempts.mapped("state"), ["done"])
        self.assertEqual(len(fake.requests), 1)
        self.assertEqual(len(fake.charges), 1)

    def test_debit_processing_then_confirmed_is_reconciled(self):
        """A bank debit comes back "processing"; Stripe's confirmation (webhook) marks the
        attempt paid and Odoo's post-processing reconciles the invoice."""
        token = self._authorized_token(omni_method_kind="bank", omni_stripe_pm_type="sepa_debit")
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "processing"
            self._run_charges()
        attempt = self._attempts(invoice)
        tx = attempt.transaction_id
        self.assertEqual((attempt.state, tx.state), ("processing", "pending"))
        self.assertEqual(invoice.payment_state, "not_paid")
        intent = fake.by_key[attempt.idempotency_key]["intent"]
        compat.process_payment_data(
            tx,
            {"reference": tx.reference, "payment_intent": dict(intent, status="succeeded")},
        )
        self.assertEqual((attempt.state, tx.state), ("done", "done"))
        tx._post_process()  # what Odoo's post-processing cron calls for it next
        self.assertTrue(tx.payment_id)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(fake.charges), 1)

    def test_invoice_paid_meanwhile_is_not_charged(self):
        self._authorized_token()
        invoice = self._invoice()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        with self._fake_stripe() as fake:
            self._run_charges()
        self.assertFalse(fake.requests)
        self.assertFalse(self._attempts(invoice))


@tagged("post_install", "-at_install")
class TestConcurrentChargeRuns(ChargeCommon):
    """Two workers run the charging job at once, on real cursors: each invoice is charged
    exactly once."""

    def test_two_workers(self):
        dbname = self.env.cr.dbname
        with db_connect(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # Its own committed provider: the class's one is only set up in the test's
            # (uncommitted) transaction, which the workers do not see.
            provider = env["payment.provider"].create(
                {
                    "name": "Omni workers",
                    "code": "stripe",
                    "stripe_secret_key": "sk_test_workers",
                    "stripe_publishable_key": "pk_test_workers",
                }
            )
            # Enabled in SQL: enabling through the ORM toggles a cron that the test's own
            # transaction holds.
            cr.execute("UPDATE payment_provider SET state = 'test' WHERE id = %s", [provider.id])
            provider.invalidate_recordset(["state"])
            partners = env["res.partner"].create(
                [{"name": f"Worker {i}", "omni_payment_mode": "automatic"} for i in range(8)]
            )
            tokens = env["payment.token"].create(
                [
                    {
                        "provider_id": provider.id,
                        "payment_method_id": env.ref("payment.payment_method_card").id,
                        "partner_id": partner.id,
                        "payment_details": "4242",
                        "provider_ref": f"cus_worker_{partner.id}",
                        "stripe_payment_method": f"pm_worker_{partner.id}",
                    }
                    for partner in partners
                ]
            )
            tokens._omni_record_authorization()
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": TODAY - datetime.timedelta(days=30),
                        "invoice_date_due": TODAY - datetime.timedelta(days=30),
                        "invoice_line_ids": [
                            (0, 0, {"name": "Plan", "quantity": 1, "price_unit": 10.0})
                        ],
                    }
                    for partner in partners
                ]
            )
            invoices.action_post()
            invoice_ids, partner_ids, token_ids = invoices.ids, partners.ids, tokens.ids
            provider_id = provider.id
            cr.commit()  # pylint: disable=invalid-commit
        fake = FakePaymentIntents()
        # As the cron runs: emails are queued, not sent by a post-commit hook (which would
        # wait for the registry this test holds).
        context = {"mail_notify_force_send": False}
        envs = [
            api.Environment(db_connect(dbname).cursor(), SUPERUSER_ID, context) for _i in range(2)
        ]
        barrier = threading.Barrier(2)
        errors = []
        conflicts = []

        def work(env):
            try:
                barrier.wait(timeout=10)
                for _round in range(50):
                    try:
                        done = env["omni.charge.attempt"]._cron_charge_due_invoices(batch_size=2)
                        env.cr.commit()  # pylint: disable=invalid-commit
                    except psycopg2.OperationalError:
                        # What Odoo's cron runner does: roll back, run again.
                        conflicts.append(1)
                        env.cr.rollback()
                        continue
                    if not done:
                        break
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                env.cr.close()

        try:
            # Account payments are left out here: creating them locks the bank journal, which
            # this test's own (uncommitted) set-up has written to. Post-processing is covered
            # by the other tests; this one is about who charges what.
            with (
                patch.object(
                    self.registry["payment.provider"],
                    "_omni_stripe_client",
                    lambda provider: FakeClient(fake),
                ),
                patch.object(
                    self.registry["payment.transaction"], "_post_process", lambda txs: None
                ),
            ):
                threads = [threading.Thread(target=work, args=(env,)) for env in envs]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(120)
            self.assertFalse(any(thread.is_alive() for thread in threads))
            self.assertFalse(errors, errors)
            with db_connect(dbname).cursor() as cr:
                cr.execute(
                    "SELECT invoice_id, count(*), min(state) FROM omni_charge_attempt "
                    "WHERE invoice_id IN %s GROUP BY invoice_id",
                    [tuple(invoice_ids)],
                )
                rows = {row[0]: row[1:] for row in cr.fetchall()}
            self.assertEqual(rows, dict.fromkeys(invoice_ids, (1, "done")))
            # One charge per invoice. A batch that lost a race (serialization conflict) ran
            # again and re-sent its requests: with the same keys, so nothing twice.
            self.assertEqual(len(fake.charges), len(invoice_ids))
            keys = {key for key, _params in fake.requests}
            self.assertEqual(len(keys), len(invoice_ids))
            self.assertGreaterEqual(len(fake.requests), len(invoice_ids))
        finally:
            self._cleanup_committed(dbname, invoice_ids, partner_ids, token_ids, provider_id)

    @staticmethod
    def _cleanup_committed(dbname, invoice_ids, partner_ids, token_ids, provider_id):
        with db_connect(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            invoices = env["account.move"].browse(invoice_ids)
            txs = env["payment.transaction"].search([("invoice_ids", "in", invoice_ids)])
            payments = txs.payment_id
            (invoices.line_ids | payments.move_id.line_ids).remove_move_reconcile()
            payments.action_draft()
            payments.unlink()
            txs.unlink()
            env["omni.charge.attempt"].search([("invoice_id", "in", invoice_ids)]).unlink()
            env["omni.dunning.case"].search([("partner_id", "in", partner_ids)]).unlink()
            invoices.button_draft()
            invoices.with_context(force_delete=True).unlink()
            env["payment.token"].browse(token_ids).unlink()
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'res.partner' AND res_id IN %s",
                [tuple(partner_ids)],
            )
            env["res.partner"].browse(partner_ids).unlink()
            env["payment.provider"].browse(provider_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit


@tagged("post_install", "-at_install")
class TestChargeAgainstStripeSemantics(ChargeCommon):
    """What real Stripe does and localstripe does not (issue 15): idempotency keys compare
    their parameters, a 5xx is replayed for the key's 24 hours, PaymentIntents are found by
    their metadata. Driven by the stateful SDK-level fake."""

    QUIET = "odoo.addons.omni_payment_methods.lib.stripe_api"

    def _payments(self, invoice):
        return invoice._get_reconciled_payments()

    # --- 2. idempotency: the parameters are frozen with the key --- #

    def test_resend_sends_the_first_parameters_unchanged(self):
        """Stripe charged but the answer was lost and its search does not show the charge
        yet: the next run re-sends the key with the parameters of the first request, although
        the customer's default method changed meanwhile; Stripe answers with its first
        result instead of a 400 idempotency_error."""
        token = self._authorized_token()
        invoice = self._invoice(amount=120.0)
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "timeout_after_charge"
            fake.searchable = False
            with mute_logger(self.QUIET):
                self._run_charges()
            attempt = self._attempts(invoice)
            new_default = self._authorized_token(last4="5555")
            new_default.action_omni_set_default()
            with freeze_time(self._later(60)):
                self._run_charges()
        self.assertEqual(len(fake.requests), 2)
        self.assertEqual(fake.requests[1], fake.requests[0], "same key, same parameters")
        self.assertEqual((attempt.state, attempt.token_id), ("done", token))
        self.assertEqual(len(fake.charges), 1)
        self.assertEqual(len(self._payments(invoice)), 1)
        self.assertFalse(attempt.case_id)
        self.assertEqual(attempt.request_params, fake.requests[0][1])

    def test_same_key_with_other_parameters_is_refused_by_the_fake(self):
        """The fake behaves as Stripe documents it (https://docs.stripe.com/idempotency)."""
        fake = FakePaymentIntents()
        params = {
            "amount": 1000,
            "currency": "usd",
            "customer": "cus_1",
            "payment_method": "pm_1",
            "metadata": {"omni_reference": "INV-1"},
        }
        first = fake.create(params, options={"idempotency_key": "k1"})
        self.assertEqual(fake.create(dict(params), options={"idempotency_key": "k1"}), first)
        with self.assertRaises(stripe.IdempotencyError) as caught:
            fake.create(dict(params, amount=900), options={"idempotency_key": "k1"})
        self.assertEqual(caught.exception.http_status, 400)
        self.assertEqual(len(fake.charges), 1)

    # --- 3. 5xx and timeouts: unknown, looked up in Stripe before deciding --- #

    def test_server_error_after_charge_is_found_and_recorded_once(self):
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "server_error"
            with mute_logger(self.QUIET):
                self._run_charges()
            attempt = self._attempts(invoice)
            self.assertEqual(attempt.state, "unknown")
            tx = attempt.transaction_id
            self.assertEqual(tx.state, "draft", "the transaction is kept")
            self.assertFalse(attempt.case_id, "not the customer's failure")
            self._run_charges()
            self.assertEqual(len(fake.requests), 1, "the same run does not send again")
            with freeze_time(self._later(60)):
                self._run_charges()
            self.assertIn(
                ("search", f"metadata['omni_reference']:'{attempt.reference}'"), fake.lookups
            )
            self.assertEqual(len(fake.requests), 1, "found in Stripe: not sent again")
            self.assertEqual((attempt.state, attempt.attempt_no), ("done", 1))
            self.assertEqual(tx.state, "done")
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            # payment_stripe's webhook for the same PaymentIntent arrives as well.
            intent = fake.intents[attempt.stripe_payment_intent]
            compat.process_payment_data(
                tx, {"reference": tx.reference, "payment_intent": dict(intent)}
            )
            with freeze_time(self._later(120)):
                self._run_charges()
        self.assertEqual(len(fake.charges), 1)
        self.assertEqual(len(self._payments(invoice)), 1, "recorded once")
        self.assertEqual(len(self._attempts(invoice)), 1)

    def test_webhook_after_a_server_error_records_the_charge(self):
        """payment_stripe's payment_intent.succeeded arrives before the next run: it finds
        the transaction (kept) and the attempt (matched by its reference in the metadata)."""
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "server_error"
            with mute_logger(self.QUIET):
                self._run_charges()
            attempt = self._attempts(invoice)
            (intent,) = fake.intents.values()
            self.assertEqual(intent["metadata"]["omni_reference"], attempt.reference)
            compat.process_payment_data(
                self.env["payment.transaction"],
                {"reference": attempt.reference, "payment_intent": dict(intent)},
            )
            self.assertEqual(attempt.state, "done")
            self.assertEqual(attempt.stripe_payment_intent, intent["id"])
            attempt.transaction_id._post_process()
            with freeze_time(self._later(60)):
                self._run_charges()
        self.assertEqual(len(fake.requests), 1)
        self.assertEqual(len(self._payments(invoice)), 1)

    def test_server_error_without_charge_gets_a_new_key_after_24_hours(self):
        """A 500 that charged nothing: within the key's 24 hours Stripe replays the 500 (the
        attempt stays unknown, no dunning); after them, the lookup having found nothing, a new
        attempt with a new key charges once."""
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "server_error_uncharged"
            with mute_logger(self.QUIET):
                self._run_charges()
                first = self._attempts(invoice)
                self.assertEqual(first.state, "unknown")
                fake.script[token.stripe_payment_method] = "succeed"
                with freeze_time(self._later(60)):
                    self._run_charges()
            self.assertEqual(len(fake.requests), 2)
            self.assertEqual(fake.requests[1], fake.requests[0], "same key, same parameters")
            self.assertEqual(first.state, "unknown", "Stripe replays its 500 for the key")
            self.assertFalse(first.case_id)
            with freeze_time(self._later(60 * 25)):
                self._run_charges()
        attempts = self._attempts(invoice)
        self.assertEqual(len(attempts), 2)
        self.assertEqual(first.state, "error")
        self.assertIn("nothing was charged", first.reason)
        self.assertEqual(attempts[1].state, "done")
        self.assertNotEqual(attempts[1].idempotency_key, first.idempotency_key)
        self.assertEqual(len(fake.charges), 1)
        self.assertFalse(self.customer.omni_dunning_case_ids)
        self.assertEqual(len(self._payments(invoice)), 1)

    def test_metadata_carries_the_attempt_reference(self):
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(fake.requests[0][1]["metadata"]["omni_reference"], attempt.reference)
        self.assertEqual(fake.requests[0][1]["payment_method"], token.stripe_payment_method)

    # --- 7. minimum charge amounts --- #

    def test_charge_below_the_stripe_minimum_is_not_sent(self):
        self._authorized_token()
        # Stripe's minimum is 0.50 in USD and EUR (https://docs.stripe.com/currencies).
        self.assertIn(self.company.currency_id.name, ("USD", "EUR"))
        small = self._invoice(amount=0.49)
        enough = self._invoice(amount=0.50)
        with self._fake_stripe() as fake:
            self._run_charges()
        attempt = self._attempts(small)
        self.assertEqual(attempt.state, "not_chargeable")
        self.assertIn("minimum", attempt.reason)
        self.assertFalse(attempt.case_id)
        self.assertFalse(self.customer.omni_dunning_case_ids, "no dunning over cents")
        self.assertEqual([params["amount"] for _key, params in fake.requests], [50])
        self.assertEqual(self._attempts(enough).state, "done")
        # The next runs do not try again.
        with self._fake_stripe() as fake, freeze_time(self._later(60)):
            self._run_charges()
        self.assertFalse(fake.requests)
        self.assertEqual(len(self._attempts(small)), 1)

    def test_retry_of_a_residual_below_the_minimum_is_not_sent(self):
        """A charge declined, then the customer paid all but a few cents by hand: the dunning
        retry does not charge the residual."""
        token = self._authorized_token()
        invoice = self._invoice(amount=120.0)
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = ("decline", "insufficient_funds")
            self._run_charges()
            case = self._attempts(invoice).case_id
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": 119.80})._create_payments()
            fake.script[token.stripe_payment_method] = "succeed"
            case._retry("staff")
        self.assertEqual(len(fake.requests), 1, "only the first charge was sent")
        last = self._attempts(invoice)[-1]
        self.assertEqual((last.attempt_no, last.state), (2, "not_chargeable"))
        self.assertIn("minimum", last.reason)
