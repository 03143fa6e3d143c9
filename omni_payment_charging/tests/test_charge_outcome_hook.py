# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import datetime
from unittest.mock import patch

from odoo import Command, fields, sql_db
from odoo.tests import tagged

from odoo.addons.omni_payment_charging.models import omni_charge_attempt as engine

from .charge_common import ChargeCommon


@tagged("post_install", "-at_install")
class TestChargeOutcomeHook(ChargeCommon):
    """The charging engine reports each outcome through ``_on_charge_outcome``; the
    installments, the dunning and the bulk charges act on it from their own extensions of
    ``omni.charge.attempt``, not from the engine."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls._authorized_token()
        cls.keys = iter(range(1, 1000))

    def _attempt(self, invoice, state="failed", origin="auto", **values):
        """An attempt of ``invoice`` already answered by Stripe (``state``)."""
        number = next(self.keys)
        return self.Attempt.create(
            {
                "reference": f"{invoice.name}-hook{number}",
                "invoice_id": invoice.id,
                "partner_id": invoice.commercial_partner_id.id,
                "company_id": invoice.company_id.id,
                "currency_id": invoice.currency_id.id,
                "amount": invoice.amount_residual,
                "origin": origin,
                "token_id": self.token.id,
                "idempotency_key": f"omni-hook-test-{number}",
                "state": state,
                "failure_kind": "soft" if state == "failed" else False,
                "reason": "Your card was declined." if state == "failed" else False,
                **values,
            }
        )

    def _engine_only(self):
        """The attempts as the engine alone defines the hook (no feature's extension)."""
        engine_hook = getattr(engine.OmniChargeAttempt, "_on_charge_outcome", None)
        self.assertIsNotNone(engine_hook, "the engine defines no outcome hook")
        return patch.object(type(self.Attempt), "_on_charge_outcome", engine_hook)

    def _audit(self, event):
        return self.env["omni.payment.audit"].search(
            [("token_id", "=", self.token.id), ("event", "=", event)]
        )

    def _cases(self):
        return self.Case.search([("partner_id", "=", self.customer.id)])

    def _plan(self, invoice):
        today = fields.Date.context_today(self.Attempt)
        return self.env["omni.installment.plan"].create(
            {
                "name": "Plan hook",
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "currency_id": invoice.currency_id.id,
                "token_id": self.token.id,
                "invoice_ids": [Command.set(invoice.ids)],
                "amount": invoice.amount_residual,
                "installment_ids": [
                    Command.create(
                        {"sequence": number, "date": today + datetime.timedelta(days=7 * i)}
                        | {"amount": invoice.amount_residual / 2}
                    )
                    for i, number in enumerate((1, 2))
                ],
            }
        )

    def test_the_engine_alone_does_only_its_own_work(self):
        """With the engine's own hook only, a declined automatic charge of an installment is
        logged on the method (audit row) and nothing else: no dunning case, the installment
        does not move. The features' extensions, reached through the hook, do the rest in
        order (installment failed, then the dunning case)."""
        invoice = self._invoice(amount=120.0)
        first = self._plan(invoice).installment_ids.sorted("sequence")[0]
        attempt = self._attempt(invoice, installment_id=first.id)
        with self._engine_only():
            attempt._charge_outcome()
        self.assertEqual(len(self._audit("failed")), 1)
        self.assertFalse(self._cases())
        self.assertEqual(first.state, "scheduled")
        self.assertFalse(attempt.case_id)

        attempt._on_charge_outcome()
        self.assertEqual((first.state, first.reason), ("failed", "Your card was declined."))
        case = self._cases()
        self.assertEqual(case.attempt_ids, attempt)
        self.assertEqual(case.last_attempt_id, attempt)
        # The engine's work is not repeated by the hook.
        self.assertEqual(len(self._audit("failed")), 1)

    def test_the_engine_calls_the_hook_once_after_its_own_work(self):
        invoice = self._invoice(amount=80.0)
        attempt = self._attempt(invoice, state="done")
        seen = []

        def hook(attempts):
            seen.append((attempts, len(self._audit("charged"))))

        with patch.object(type(self.Attempt), "_on_charge_outcome", hook):
            attempt._charge_outcome()
        self.assertEqual(seen, [(attempt, 1)])

    def test_a_charge_no_feature_claims(self):
        """A payment staff took with the customer, declined: the audit row only (no
        dunning, no installment, no bulk line)."""
        invoice = self._invoice(amount=50.0)
        attempt = self._attempt(invoice, origin="payment")
        attempt._charge_outcome()
        self.assertEqual(len(self._audit("failed")), 1)
        self.assertFalse(self._cases())
        self.assertFalse(attempt.case_id)

    def test_the_bulk_extension_is_reached_through_the_hook(self):
        """A bulk charge's bank debit settled later: its line follows through the hook, and
        only through it."""
        invoice = self._invoice(amount=60.0)
        attempt = self._attempt(invoice, state="done", origin="bulk")
        run = self.env["omni.bulk.charge"].create({"company_id": self.company.id})
        line = self.env["omni.bulk.charge.line"].create(
            {
                "run_id": run.id,
                "partner_id": self.customer.id,
                "state": "pending",
                "attempt_ids": [Command.link(attempt.id)],
            }
        )
        with self._engine_only():
            attempt._charge_outcome()
        self.assertEqual(line.state, "pending")
        self.assertEqual(len(self._audit("charged")), 1)
        attempt._on_charge_outcome()
        self.assertEqual((line.state, line.amount), ("succeeded", 60.0))
        self.assertIn("the pending charge is settled", run.message_ids[0].body)
        self.assertFalse(self._cases())


@tagged("post_install", "-at_install")
class TestChargeBatchQueries(ChargeCommon):
    """What a batch of the charging job reads once for all its invoices, not once per
    invoice (issue 17): the last attempts, the default methods, the hard declines; and the
    authentication links only of a charge that waited for the customer."""

    def setUp(self):
        super().setUp()
        self.fake = self.enterContext(self._fake_stripe())

    @contextlib.contextmanager
    def _statements(self):
        statements = []
        execute = sql_db.Cursor.execute

        def recording(cursor, query, params=None, log_exceptions=True):
            statements.append(str(getattr(query, "code", query)))
            return execute(cursor, query, params, log_exceptions)

        with patch.object(sql_db.Cursor, "execute", recording):
            yield statements

    def test_a_batch_reads_once_what_each_invoice_needs(self):
        customers = self.customer | self.env["res.partner"].create(
            [{"name": f"Batch payer {i}", "omni_payment_mode": "automatic"} for i in range(3)]
        )
        invoices = self.env["account.move"]
        for customer in customers:
            self._authorized_token(customer)
            invoices |= self._invoice(customer)
        self.env.flush_all()
        with self._statements() as statements:
            self._run_charges()
        self.assertEqual(set(self.Attempt.search([]).mapped("state")), {"done"})
        self.assertEqual(len(self.Attempt.search([("invoice_id", "in", invoices.ids)])), 4)

        def count(*needles):
            return sum(all(n in statement for n in needles) for statement in statements)

        # The hard declines of the batch's customers: one query, not one per invoice.
        self.assertEqual(count('FROM "omni_dunning_case"', '"hard_decline"'), 1)
        # The last attempt of each invoice: one query for the batch.
        self.assertEqual(count('FROM "omni_charge_attempt"', '"invoice_id" = '), 0)
        self.assertEqual(count('FROM "omni_charge_attempt"', '"invoice_id" IN '), 1)
        # The default methods of the batch's customers: one search.
        self.assertEqual(count('FROM "payment_token"', '"omni_is_default"'), 1)
        # Paid when sent: no authentication link was ever issued for these charges.
        self.assertEqual(count('FROM "omni_payment_link"'), 0)

    def test_a_batch_is_prepared_in_one_savepoint(self):
        """The invoices of a batch are prepared in one savepoint, not one each (a failure of
        one is prepared again invoice by invoice: test_batch_job_charging)."""
        customers = self.customer | self.env["res.partner"].create(
            [{"name": f"Batch payer {i}", "omni_payment_mode": "automatic"} for i in range(3)]
        )
        for customer in customers:
            self._authorized_token(customer)
            self._invoice(customer)
        self.env.flush_all()
        with self._statements() as statements:
            self._run_charges()
        self.assertEqual(len(self.Attempt.search([("state", "=", "done")])), 4)
        # Until the attempts are marked as sent (one UPDATE for the batch).
        marked = next(
            i
            for i, statement in enumerate(statements)
            if statement.lstrip().startswith("UPDATE") and '"first_sent_at"' in statement
        )
        preparing = [s for s in statements[:marked] if s.lstrip().startswith("SAVEPOINT")]
        self.assertEqual(len(preparing), 1)

    def test_taking_from_the_pacing_bucket_costs_two_round_trips(self):
        """Each take from a Stripe account's bucket (several per batch when the workers share
        it) reads the bucket in one round trip and writes it in another."""
        Pacing = self.env["omni.stripe.pacing"]
        for want in (5, 1):  # the bucket's row is created by the first take
            with self._statements() as statements:
                granted, _wait = Pacing._take(self.stripe, want)
            self.assertEqual(granted, want)
            pacing = [s for s in statements if "omni_stripe_pacing" in s or "ISOLATION LEVEL" in s]
            self.assertEqual(len(pacing), 2, pacing)
