# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.omni_payment_methods.tests import compat
from odoo.addons.omni_payment_methods.tests.common import TODAY

from ..wizards import omni_bulk_charge_wizard
from .charge_common import ChargeCommon, LocalStripeChargeCommon


class BulkChargeCommon(ChargeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "account.group_account_invoice,"
        cls.manager = new_test_user(
            cls.env,
            login="omni_bulk_manager",
            groups=groups + "omni_payment_methods.group_omni_payment_method_manager",
        )
        cls.viewer = new_test_user(
            cls.env,
            login="omni_bulk_viewer",
            groups=groups + "omni_payment_methods.group_omni_payment_method_viewer",
        )
        cls.Wizard = cls.env["omni.bulk.charge.wizard"]
        cls.Run = cls.env["omni.bulk.charge"]
        cls.Line = cls.env["omni.bulk.charge.line"]

    @classmethod
    def _customer(cls, name, method="card", authorized=True, invoices=(100.0,)):
        partner = cls.env["res.partner"].create({"name": name, "is_company": True})
        token = None
        if method:
            values = (
                {"omni_method_kind": "bank", "omni_stripe_pm_type": "sepa_debit"}
                if method == "sepa"
                else {}
            )
            token = cls._omni_token(partner, **values)
            if authorized:
                token._omni_record_authorization()
        moves = cls.env["account.move"]
        for amount in invoices:
            moves |= cls._invoice(partner, amount=amount)
        return partner, token, moves

    def _wizard(self, records, user=None, **values):
        context = {"active_model": records._name, "active_ids": records.ids}
        return self.Wizard.with_user(user or self.manager).with_context(**context).create(values)

    def _start(self, records, **values):
        action = self._wizard(records, **values).action_start()
        self.assertEqual(action["res_model"], "omni.bulk.charge")
        return self.Run.browse(action["res_id"])

    def _lines(self, run):
        return {line.partner_id: line for line in run.line_ids}

    def _counts(self):
        """What a refused selection must not change."""
        return (
            self.Run.search_count([]),
            self.Line.search_count([]),
            self.Attempt.search_count([]),
            self.env["payment.transaction"].search_count([]),
        )


@tagged("post_install", "-at_install")
class TestBulkCharge(BulkChargeCommon):
    """Charge many customers' saved methods at once, in the background."""

    def test_mixed_outcomes_from_a_customer_selection(self):
        ok, ok_token, ok_invoices = self._customer("Paid Co", invoices=(100.0, 50.0))
        declined, declined_token, _i = self._customer("Declined Co")
        sepa, sepa_token, sepa_invoice = self._customer("SEPA Co", method="sepa")
        no_method, _t, _i = self._customer("No Method Co", method=None)
        unauthorized, _t, _i = self._customer("Unauthorized Co", authorized=False)
        nothing_open, _t, _i = self._customer("Nothing Open Co", invoices=())
        down, down_token, down_invoice = self._customer("Stripe Down Co", invoices=(70.0,))
        partners = ok | declined | sepa | no_method | unauthorized | nothing_open | down

        wizard = self._wizard(partners)
        self.assertEqual((wizard.charge_count, wizard.skip_count), (4, 3))
        self.assertEqual(wizard.amount_total, 150 + 100 + 100 + 70)
        skipped = {line.partner_id: line.reason for line in wizard.line_ids if line.skip}
        self.assertEqual(set(skipped), set(no_method | unauthorized | nothing_open))
        self.assertIn("no default payment method", skipped[no_method])
        self.assertIn("no recorded authorization", skipped[unauthorized])
        self.assertIn("Nothing open", skipped[nothing_open])

        with patch.object(type(self.env["ir.cron"]), "_trigger") as trigger:
            action = wizard.action_start()
        run = self.Run.browse(action["res_id"])
        trigger.assert_called_once()
        self.assertRegex(run.name, r"^Bulk charge \d{4}$")
        self.assertEqual((run.state, run.backend, run.user_id), ("running", "cron", self.manager))
        lines = self._lines(run)
        self.assertEqual(len(lines), 7)
        self.assertEqual(run.skipped_count, 3, "skipped at once, with their reason")
        self.assertIn("no recorded authorization", lines[unauthorized].reason)
        self.assertEqual(run.to_do_count, 4)
        self.assertFalse(lines[ok].invoice_ids, "a customer selection charges the open balance")

        with self._fake_stripe() as fake:
            fake.script[declined_token.stripe_payment_method] = ("decline", "insufficient_funds")
            fake.script[sepa_token.stripe_payment_method] = "processing"
            fake.script[down_token.stripe_payment_method] = "down"
            with mute_logger("odoo.addons.omni_payment_methods.lib.stripe_api"):
                self.Run._cron_omni_bulk_charge()
            self.assertEqual(lines[ok].state, "succeeded")
            self.assertEqual((lines[ok].amount, lines[ok].token_id), (150, ok_token))
            self.assertEqual(len(lines[ok].attempt_ids), 2, "one PaymentIntent per invoice")
            self.assertTrue(all(m.payment_state in ("paid", "in_payment") for m in ok_invoices))
            self.assertEqual(lines[declined].state, "failed")
            self.assertIn("insufficient_funds", lines[declined].reason)
            self.assertEqual((lines[declined].amount_open, lines[declined].amount), (100, 0))
            self.assertEqual(lines[ok].charged_invoice_ids, ok_invoices)
            self.assertFalse(
                lines[declined].attempt_ids.case_id, "a bulk failure starts no dunning"
            )
            self.assertEqual(lines[sepa].state, "pending")
            self.assertEqual(lines[down].state, "to_do")
            self.assertIn("Stripe did not confirm", lines[down].reason)
            self.assertTrue(lines[down].retry_after)
            self.assertEqual(run.state, "running")
            # The same processing does not hammer Stripe in a loop: the line waits.
            self.assertFalse(run._process_batch())
            self.assertEqual(len([r for r in fake.requests if r[1]["amount"] == 7000]), 1)

            # Stripe is back; a later run charges the customer, once, with the same key.
            fake.script[down_token.stripe_payment_method] = "succeed"
            with (
                freeze_time(self._later(15)),
                patch.object(type(self.env["res.users"]), "_bus_send") as bus_send,
            ):
                self.Run._cron_omni_bulk_charge()
        self.assertEqual(lines[down].state, "succeeded")
        self.assertEqual(len(lines[down].attempt_ids), 1, "same attempt, same key")
        self.assertIn(down_invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(run.state, "done")
        self.assertTrue(run.finished_at)
        self.assertEqual(
            (run.succeeded_count, run.failed_count, run.pending_count, run.skipped_count),
            (2, 1, 1, 3),
        )
        self.assertEqual(run.amount_charged, 150 + 100 + 70)
        summary = run.message_ids[:1].body
        self.assertIn(
            "Succeeded 2, failed 1 (Your card was declined (insufficient_funds).)", summary
        )
        self.assertIn("pending 1, skipped 3", summary)
        bus_send.assert_called_once()
        self.assertEqual(bus_send.call_args.args[0], "simple_notification")
        self.assertIn("Succeeded 2", bus_send.call_args.args[1]["message"])
        # Every customer charged once at most: one key per invoice.
        keys = [key for key, _amount in fake.charges]
        self.assertEqual(len(keys), len(set(keys)))
        self.assertEqual(len(keys), 4, "two invoices of Paid Co, SEPA, Stripe Down Co")

        # Stripe settles the bank debit later (webhook): the line follows.
        attempt = lines[sepa].attempt_ids
        tx = attempt.transaction_id
        intent = fake.by_key[attempt.idempotency_key]["intent"]
        compat.process_payment_data(
            tx,
            {"reference": tx.reference, "payment_intent": dict(intent, status="succeeded")},
        )
        self.assertEqual(attempt.state, "done")
        self.assertEqual(lines[sepa].state, "succeeded")
        self.assertEqual(run.succeeded_count, 3)
        self.assertIn("settled", run.message_ids[:1].body)
        tx._post_process()  # what Odoo's post-processing cron does next
        self.assertIn(sepa_invoice.payment_state, ("paid", "in_payment"))

    def test_preview_is_a_summary_with_the_full_lists_a_click_away(self):
        """The wizard shows counts, totals per currency, the skipped customers per reason
        and the first lines of each list; the full lists open as a list of the preview
        (read in SQL); the run charges exactly the customers listed to charge."""
        euro = self.env.ref("base.EUR")
        euro.active = True
        to_charge = self.env["res.partner"]
        for index in range(3):
            to_charge |= self._customer(f"Summary Co {index}", invoices=(10.0 * (index + 1),))[0]
        euro_customer = self._customer("Summary Euro Co", invoices=())[0]
        self._invoice(euro_customer, amount=70, currency=euro)
        to_charge |= euro_customer
        no_method = self._customer("Summary No Method A", method=None)[0]
        no_method |= self._customer("Summary No Method B", method=None)[0]
        unauthorized = self._customer("Summary Unauthorized Co", authorized=False)[0]
        skipped = no_method | unauthorized

        with patch.object(omni_bulk_charge_wizard, "PREVIEW_LINES", 2, create=True):
            wizard = self._wizard(to_charge | skipped)
        self.assertEqual((wizard.charge_count, wizard.skip_count), (4, 3))
        self.assertEqual(len(wizard.line_ids), 4, "the first 2 lines of each list")
        # the first lines of each list only
        self.assertEqual(len(wizard.charge_line_ids), 2)
        self.assertEqual(len(wizard.skip_line_ids), 2)
        self.assertFalse(any(wizard.charge_line_ids.mapped("skip")))
        self.assertTrue(all(wizard.skip_line_ids.mapped("skip")))
        self.assertLessEqual(wizard.charge_line_ids.partner_id, to_charge)
        self.assertLessEqual(wizard.skip_line_ids.partner_id, skipped)
        # totals per currency, and the skipped customers per reason
        company_currency = self.company.currency_id
        self.assertIn(company_currency.format(60), wizard.amount_summary)
        self.assertIn(euro.format(70), wizard.amount_summary)
        self.assertIn("no default payment method", wizard.skip_summary)
        self.assertIn("×2", wizard.skip_summary)
        self.assertIn("no recorded authorization", wizard.skip_summary)

        # the full lists, with the reasons
        rows = {}
        for name in ("action_view_to_charge", "action_view_skipped"):
            action = getattr(wizard, name)()
            self.assertEqual(action["res_model"], "omni.bulk.charge.preview")
            Preview = self.env[action["res_model"]].with_user(self.manager)
            rows[name] = Preview.with_context(**action["context"]).search(action["domain"])
            # another manager does not see this preview
            other = new_test_user(
                self.env,
                login=f"omni_bulk_other_{name}",
                groups="omni_payment_methods.group_omni_payment_method_manager",
            )
            other_rows = Preview.with_user(other).with_context(**action["context"])
            self.assertFalse(other_rows.search(action["domain"]))
        charge_rows, skip_rows = rows["action_view_to_charge"], rows["action_view_skipped"]
        self.assertEqual(charge_rows.partner_id, to_charge)
        self.assertEqual(skip_rows.partner_id, skipped)
        self.assertFalse(any(charge_rows.mapped("reason")))
        reasons = {row.partner_id: row.reason for row in skip_rows}
        self.assertIn("no recorded authorization", reasons[unauthorized])
        self.assertIn("no default payment method", reasons[no_method[1]])
        euro_row = charge_rows.filtered(lambda row: row.partner_id == euro_customer)
        self.assertEqual((euro_row.amount, euro_row.currency_id), (70, euro))
        self.assertEqual(euro_row.invoice_count, 1)

        # Start: the run's lines are the lists of the preview
        with patch.object(type(self.env["ir.cron"]), "_trigger"):
            run = self.Run.browse(wizard.action_start()["res_id"])
        lines = run.line_ids
        self.assertEqual(lines.filtered(lambda line: line.state == "to_do").partner_id, to_charge)
        self.assertEqual(lines.filtered(lambda line: line.state == "skipped").partner_id, skipped)
        self.assertEqual({line.partner_id: line.reason for line in lines if line.reason}, reasons)
        euro_line = lines.filtered(lambda line: line.partner_id == euro_customer)
        self.assertEqual((euro_line.amount_open, euro_line.currency_id), (70, euro))
        self.assertEqual(lines.company_id, run.company_id)

    def test_invoice_selection_charges_only_the_selected_invoices(self):
        first, _t, (inv_a, inv_b, inv_c) = self._customer(
            "Three Invoices Co", invoices=(10, 20, 30)
        )
        second, _t, (inv_d,) = self._customer("One Invoice Co", invoices=(40,))
        wizard = self._wizard(inv_a | inv_c | inv_d)
        self.assertEqual(
            (wizard.source, wizard.charge_count, wizard.amount_total), ("invoices", 2, 80)
        )
        run = wizard.action_start()
        run = self.Run.browse(run["res_id"])
        lines = self._lines(run)
        self.assertEqual(lines[first].invoice_ids, inv_a | inv_c, "grouped per customer")
        with self._fake_stripe() as fake:
            self.Run._cron_omni_bulk_charge()
        self.assertEqual(run.state, "done")
        self.assertEqual(lines[first].state, "succeeded")
        self.assertEqual(lines[first].amount, 40)
        self.assertEqual(lines[second].state, "succeeded")
        self.assertEqual(sorted(amount for _k, amount in fake.charges), [1000, 3000, 4000])
        self.assertFalse(self._attempts(inv_b), "not selected: not charged")
        self.assertEqual(inv_b.payment_state, "not_paid")

    def test_interrupted_run_is_resumed_without_double_charges(self):
        """The worker dies after Stripe answered for the second customer (the batch rolls
        back): the next batch charges nobody twice and skips nobody."""
        partners = self.env["res.partner"]
        for index in range(3):
            partners |= self._customer(f"Crash Co {index}")[0]
        run = self._start(partners)
        Attempt = self.registry["omni.charge.attempt"]
        original = Attempt._update_from_transaction
        seen = set()

        def crash_on_second(attempt, tx):
            seen.add(attempt.id)
            if len(seen) == 2:
                raise KeyboardInterrupt("worker killed")
            return original(attempt, tx)

        with self._fake_stripe() as fake:
            with (
                patch.object(Attempt, "_update_from_transaction", crash_on_second),
                self.assertRaises(KeyboardInterrupt),
                self.env.cr.savepoint(),
            ):
                run._process_batch()
            self.env.invalidate_all()
            self.assertEqual(run.to_do_count, 3, "the whole batch was rolled back")
            self.assertEqual(len(fake.charges), 2, "but Stripe had charged two customers")
            run._process_batch()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.succeeded_count, 3)
        self.assertEqual(len(fake.charges), 3, "one charge per customer")
        self.assertEqual(len({key for key, _p in fake.requests}), 3)
        self.assertTrue(all(line.state == "succeeded" for line in run.line_ids))

    def test_lost_card_is_not_charged_again_in_bulk(self):
        """A customer whose card was declined for good (lost, stolen, closed account) is
        listed as skipped in the preview; if the decline comes after the run started, the
        engine still refuses to send the charge."""
        lost, lost_token, lost_invoices = self._customer("Lost Card Co", invoices=(60.0, 40.0))
        late, late_token, late_invoices = self._customer("Late News Co")
        fine, _fine_token, _i = self._customer("Fine Co")
        (lost | late).omni_payment_mode = "automatic"
        with self._fake_stripe() as fake:
            fake.script[lost_token.stripe_payment_method] = ("decline", "lost_card")
            self.Attempt._charge(lost_invoices[0])
            self.assertTrue(lost.omni_dunning_case_ids.hard_decline)
            wizard = self._wizard(lost | late | fine)
            skipped = {line.partner_id: line.reason for line in wizard.line_ids if line.skip}
            self.assertEqual(set(skipped), set(lost))
            self.assertIn("declined for good", skipped[lost])
            run = wizard.action_start()
            run = self.Run.browse(run["res_id"])
            # Late News Co's card is reported stolen between the start and its batch.
            fake.script[late_token.stripe_payment_method] = ("decline", "stolen_card")
            self.Attempt._charge(late_invoices[0])
            requests = len(fake.requests)
            self.Run._cron_omni_bulk_charge()
            self.assertEqual(len(fake.requests), requests + 1, "only Fine Co is charged")
        lines = self._lines(run)
        self.assertEqual(lines[lost].state, "skipped")
        self.assertEqual(lines[late].state, "failed")
        self.assertIn("declined for good", lines[late].reason)
        self.assertEqual(lines[fine].state, "succeeded")
        self.assertEqual(lost_invoices.mapped("payment_state"), ["not_paid", "not_paid"])

    def test_stop_leaves_the_rest_uncharged(self):
        partners = self.env["res.partner"]
        for index in range(3):
            partners |= self._customer(f"Stop Co {index}")[0]
        run = self._start(partners, batch_size=1)
        with self._fake_stripe() as fake:
            self.Run._cron_omni_bulk_charge()
            self.assertEqual((run.succeeded_count, run.to_do_count), (1, 2))
            with self.assertRaises(AccessError):
                run.with_user(self.viewer).action_stop()
            run.with_user(self.manager).action_stop()
            self.assertEqual(run.state, "cancelled")
            self.Run._cron_omni_bulk_charge()
            self.assertFalse(run._process_batch())
        self.assertEqual(len(fake.requests), 1, "nothing more is charged")
        self.assertEqual((run.succeeded_count, run.to_do_count), (1, 2))
        self.assertIn("2 customer(s) left uncharged", run.message_ids[:1].body)

    def test_bad_input_is_refused_and_nothing_is_created(self):
        customer, _t, (invoice,) = self._customer("Bad Input Co")
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": customer.id,
                "invoice_date": TODAY - datetime.timedelta(days=30),
                "invoice_line_ids": [Command.create({"name": "Supply", "price_unit": 10})],
            }
        )
        branch = self.env["res.company"].create({"name": "Omni Bulk Other Co"})
        self.manager.company_ids |= branch
        # An invoice of another company (set in SQL: the other company has no accounting).
        branch_invoice = self._invoice(customer, amount=10)
        self.env.cr.execute(
            "UPDATE account_move SET company_id = %s WHERE id = %s", (branch.id, branch_invoice.id)
        )
        branch_invoice.invalidate_recordset(["company_id"])
        paid = self._invoice(customer, amount=5)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        no_method = self._customer("No Method Co", method=None)[0]
        before = self._counts()
        cases = [
            (invoice | bill, "Only customer invoices can be charged"),
            (invoice | branch_invoice, "several companies"),
            (paid, "None of the selected invoices is open"),
            (no_method, "(?s)Nothing to charge.*No Method Co: The customer has no default"),
        ]
        for records, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                self._wizard(records)
        with self.assertRaises(AccessError):
            self._wizard(customer, user=self.viewer)
        wizard = self._wizard(customer)
        with self.assertRaises(AccessError):
            wizard.with_user(self.viewer).action_start()
        # Paid since the wizard opened: refused at "Start", nothing created.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        with self.assertRaisesRegex(UserError, "Nothing to charge"):
            wizard.action_start()
        self.assertEqual(self._counts(), before)

    def test_viewer_reads_runs_but_cannot_start(self):
        customer = self._customer("Viewer Co")[0]
        run = self._start(customer)
        self.assertEqual(run.with_user(self.viewer).total_count, 1)
        with self.assertRaises(AccessError):
            self.Run.with_user(self.viewer).create({})


@tagged("post_install", "-at_install")
class TestBulkChargePreviewQueries(BulkChargeCommon):
    """The preview (who is charged, who is skipped and why) costs the same queries for 5
    customers or 50: nothing is looked up customer by customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = {}
        cls.invoices = {}
        for size in (5, 50):
            partners = cls.env["res.partner"]
            invoices = cls.env["account.move"]
            for i in range(size):
                # every kind of line: charged, no method, not authorized, nothing open
                kind = i % 5
                partner, _token, moves = cls._customer(
                    f"Preview {size}-{i}",
                    method=None if kind == 1 else "card",
                    authorized=kind != 2,
                    invoices=() if kind == 3 else (100.0 + i,),
                )
                partners |= partner
                invoices |= moves
            cls.customers[size] = partners
            cls.invoices[size] = invoices

    def _invalidate(self):
        self.env.flush_all()
        for model in ("res.partner", "account.move", "payment.token", "omni.charge.attempt"):
            self.env[model].invalidate_model()

    def _preview_queries(self, records):
        """Queries of the preview of ``records``, the data it reads not in the cache; then
        of starting the run, and of reading its full lists."""
        self._invalidate()
        before = self.env.cr.sql_log_count
        wizard = self._wizard(records)
        queries = self.env.cr.sql_log_count - before
        lines = [(line.partner_id.name, line.skip, line.reason) for line in wizard.line_ids]
        totals = (wizard.charge_count, wizard.skip_count, wizard.amount_total)
        # Start
        self._invalidate()
        before = self.env.cr.sql_log_count
        with patch.object(type(self.env["ir.cron"]), "_trigger"):
            run = self.Run.browse(wizard.action_start()["res_id"])
        start_queries = self.env.cr.sql_log_count - before
        self.assertEqual(len(run.line_ids), len(records.commercial_partner_id))
        # the full lists, as the list view reads them (a page of 80, the count)
        self._invalidate()
        before = self.env.cr.sql_log_count
        full = []
        for action in (wizard.action_view_to_charge(), wizard.action_view_skipped()):
            Preview = self.env[action["res_model"]].with_user(self.manager)
            Preview = Preview.with_context(**action["context"])
            page = Preview.web_search_read(
                action["domain"],
                {"partner_id": {"fields": {"display_name": {}}}, "amount": {}, "reason": {}},
                limit=80,
            )
            full.append((page["length"], [row["reason"] for row in page["records"]]))
        list_queries = self.env.cr.sql_log_count - before
        return (queries, list_queries, start_queries), totals, lines, full

    def test_preview_queries_do_not_depend_on_the_number_of_customers(self):
        for source in ("customers", "invoices"):
            with self.subTest(source=source):
                records = self.customers if source == "customers" else self.invoices
                # a first call fills the caches any first call fills (access rules, ...)
                self._preview_queries(records[5])
                few, few_totals, _few_lines, _few_full = self._preview_queries(records[5])
                many, many_totals, many_lines, many_full = self._preview_queries(records[50])
                expected = (2, 3) if source == "customers" else (2, 2)
                self.assertEqual(few_totals[:2], expected)
                self.assertEqual(many_totals[:2], tuple(10 * n for n in expected))
                self.assertEqual(len(many_lines), 50 if source == "customers" else 40)
                self.assertEqual(tuple(length for length, _r in many_full), many_totals[:2])
                self.assertFalse(any(many_full[0][1]), "no reason for the customers charged")
                self.assertTrue(all(many_full[1][1]), "a reason for each customer skipped")
                self.assertEqual(many[0], few[0], f"queries of the preview of 50 {source} vs 5")
                self.assertEqual(many[2], few[2], f"queries of Start, 50 {source} vs 5")
                self.assertEqual(many[1], few[1], f"queries of the full lists, 50 {source} vs 5")

    def test_preview_sends_the_first_lines_only(self):
        """The form gets the first lines of each list, however many customers."""
        with patch.object(omni_bulk_charge_wizard, "PREVIEW_LINES", 4, create=True):
            wizard = self._wizard(self.customers[50])
        self.assertEqual(len(wizard.line_ids), 8)
        self.assertEqual((wizard.charge_count, wizard.skip_count), (20, 30))
        self.assertEqual((len(wizard.charge_line_ids), len(wizard.skip_line_ids)), (4, 4))
        # what the web client gets when the form opens (its onchange)
        records = self.customers[50]
        Wizard = self.Wizard.with_user(self.manager).with_context(
            active_model=records._name, active_ids=records.ids
        )
        line_spec = {"fields": {"partner_id": {}, "skip": {}, "reason": {}}}
        spec = {"charge_count": {}, "charge_line_ids": line_spec, "skip_line_ids": line_spec}
        with patch.object(omni_bulk_charge_wizard, "PREVIEW_LINES", 4):
            values = Wizard.onchange({}, [], spec)["value"]
        self.assertEqual(values["charge_count"], 20)
        self.assertEqual(len(values["charge_line_ids"]), 4)
        self.assertEqual(len(values["skip_line_ids"]), 4)


@tagged("post_install", "-at_install")
class TestBulkChargePreviewMatchesEngine(BulkChargeCommon):
    """The preview decides on rows read in bulk; for each customer, its decision (charged or
    skipped, and the reason) is the one of the per-customer engine check: the customer's
    default method as the engine finds it, then each open invoice checked by the engine
    (``_omni_skip_reason``, ``omni.charge.attempt._check_chargeable``)."""

    UNSETTLED = ("not_sent", "unknown", "processing", "requires_action")

    def _engine_reason(self, company, partner, invoices):
        Attempt = self.Attempt.with_user(self.manager)
        unsettled = set(
            Attempt.search(
                [("invoice_id", "in", invoices.ids), ("state", "in", self.UNSETTLED)]
            ).invoice_id.ids
        )
        hard_declined = set(Attempt._hard_declined_partners(partner, company).ids)
        token = partner._omni_default_token(company)
        return self.Wizard.with_user(self.manager)._omni_skip_reason(
            company, partner, invoices, unsettled, hard_declined, token
        )

    def _population(self):
        """Customers covering every reason a bulk charge can skip one, and some charged."""
        euro = self.env.ref("base.EUR")
        euro.active = True
        # A second Stripe provider that accepts the company's currency only.
        # (the keys are not copied on 19.0; nothing reaches Stripe here: _fake_stripe)
        keys = {"stripe_secret_key": "sk_test_omni", "stripe_publishable_key": "pk_test_omni"}
        narrow = self.stripe.copy({"name": "Stripe (company currency only)", **keys})
        narrow.write(
            {"state": "test", "available_currency_ids": [Command.set(self.company.currency_id.ids)]}
        )
        off = self.stripe.copy({"name": "Stripe (switched off)", **keys})
        off.state = "test"
        customers = {}
        customers["charged"] = self._customer("Engine Charged", invoices=(10.0, 20.0))[0]
        manual = self._customer("Engine Manual Mode")[0]
        manual.omni_payment_mode = "manual"
        customers["manual"] = manual
        customers["nothing_open"] = self._customer("Engine Nothing Open", invoices=())[0]
        customers["no_method"] = self._customer("Engine No Method", method=None)[0]
        archived, archived_token, _i = self._customer("Engine Archived Only")
        # archived (in SQL: archiving in the ORM detaches the method in Stripe)
        self.env.cr.execute(
            "UPDATE payment_token SET active = false WHERE id = %s", [archived_token.id]
        )
        archived_token.invalidate_recordset(["active"])
        customers["archived"] = archived
        customers["unauthorized"] = self._customer("Engine Unauthorized", authorized=False)[0]
        waiting = self._customer("Engine Awaiting Verification", method=None)[0]
        token = self._omni_token(
            waiting,
            omni_method_kind="bank",
            omni_stripe_pm_type="us_bank_account",
            omni_awaiting_verification=True,
        )
        token._omni_record_authorization()
        customers["awaiting"] = waiting
        # a provider disabled behind the method's back (disabling it in the ORM would have
        # archived the method)
        disabled = self._customer("Engine Provider Off", method=None)[0]
        self._omni_token(disabled, provider_id=off.id)._omni_record_authorization()
        customers["provider"] = disabled
        wrong = self._customer("Engine Wrong Currency", method=None, invoices=())[0]
        self._omni_token(wrong, provider_id=narrow.id)._omni_record_authorization()
        self._invoice(wrong, amount=30, currency=euro)
        customers["currency"] = wrong
        # the second invoice only is in a currency the provider refuses
        mixed = self._customer("Engine Mixed Currencies", method=None, invoices=(15.0,))[0]
        self._omni_token(mixed, provider_id=narrow.id)._omni_record_authorization()
        self._invoice(mixed, amount=25, currency=euro)
        customers["mixed"] = mixed
        other = self.env["res.company"].create({"name": "Omni Engine Other Co"})
        elsewhere = self._customer("Engine Method Elsewhere", method=None)[0]
        self._omni_token(elsewhere).sudo().company_id = other
        customers["elsewhere"] = elsewhere
        lost, lost_token, lost_invoices = self._customer("Engine Lost Card", invoices=(60, 40))
        waiting_bank, bank_token, bank_invoices = self._customer(
            "Engine Debit Processing", method="sepa", invoices=(35, 45)
        )
        (lost | waiting_bank).omni_payment_mode = "automatic"
        with self._fake_stripe() as fake:
            fake.script[lost_token.stripe_payment_method] = ("decline", "lost_card")
            fake.script[bank_token.stripe_payment_method] = "processing"
            self.Attempt._charge(lost_invoices[0])
            self.Attempt._charge(bank_invoices[1])
        off.env.cr.execute("UPDATE payment_provider SET state = 'disabled' WHERE id = %s", [off.id])
        off.invalidate_recordset(["state"])
        self.assertTrue(lost.omni_dunning_case_ids.hard_decline)
        self.assertEqual(self._attempts(bank_invoices[1]).state, "processing")
        customers["hard_decline"] = lost
        customers["unsettled"] = waiting_bank
        return customers

    def test_preview_decides_as_the_engine_for_each_customer(self):
        customers = self._population()
        partners = self.env["res.partner"].union(*customers.values())
        company = self.company
        Move = self.env["account.move"]
        open_domain = [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("amount_residual", ">", 0),
        ]
        selected = Move.search([("partner_id", "in", partners.ids)], order="id desc")
        Wizard = self.Wizard.with_user(self.manager)
        for source in ("customers", "invoices"):
            with self.subTest(source=source):
                if source == "customers":
                    prepared = Wizard._prepare_lines(
                        company, partners.with_user(self.manager), Move
                    )
                else:
                    prepared = Wizard._prepare_lines(
                        company, self.env["res.partner"], selected.with_user(self.manager)
                    )
                lines = {line["partner_id"]: line for line in prepared}
                expected_partners = (
                    partners
                    if source == "customers"
                    else (selected.filtered_domain(open_domain).commercial_partner_id)
                )
                self.assertEqual(list(lines), expected_partners.ids, "the engine's order")
                for partner in expected_partners:
                    if source == "customers":
                        invoices = Move.search(
                            [
                                *open_domain,
                                ("commercial_partner_id", "=", partner.id),
                                ("company_id", "=", company.id),
                            ]
                        )
                    else:
                        invoices = selected.filtered_domain(open_domain).filtered(
                            lambda move, partner=partner: move.commercial_partner_id == partner
                        )
                    line = lines[partner.id]
                    self.assertEqual(
                        line["reason"],
                        self._engine_reason(company, partner, invoices),
                        f"{partner.name} ({source})",
                    )
                    self.assertEqual(line["skip"], bool(line["reason"]))
                    self.assertEqual(line["invoice_count"], len(invoices))
                    self.assertAlmostEqual(line["amount"], sum(invoices.mapped("amount_residual")))
                    self.assertEqual(
                        line["currency_id"], (invoices.currency_id[:1] or company.currency_id).id
                    )
                    self.assertEqual(
                        line["invoice_ids"], invoices.ids if source == "invoices" else []
                    )
                reasons = {
                    name: lines[partner.id]["reason"]
                    for name, partner in customers.items()
                    if partner.id in lines
                }
                # the population covers every reason a bulk charge can skip a customer for
                expected = {
                    "charged": "",
                    "manual": "",
                    "no_method": "no default payment method",
                    "archived": "no default payment method",
                    "elsewhere": "no default payment method",
                    "unauthorized": "no recorded authorization",
                    "awaiting": "awaiting verification",
                    "provider": "cannot charge (disabled or not Stripe)",
                    "currency": "which Stripe (company currency only) does not accept",
                    "mixed": "which Stripe (company currency only) does not accept",
                    "hard_decline": "declined for good",
                    "unsettled": "is not settled yet",
                }
                if source == "customers":
                    expected["nothing_open"] = "Nothing open in"
                for name, text in expected.items():
                    if text:
                        self.assertIn(text, reasons[name], name)
                    else:
                        self.assertEqual(reasons[name], "", name)


@tagged("post_install", "-at_install")
class TestBulkChargeLocalStripe(LocalStripeChargeCommon, BulkChargeCommon):
    """The real Stripe path (SDK over HTTP) against localstripe."""

    def test_bulk_charge_through_localstripe(self):
        first = self.env["res.partner"].create({"name": "LS One", "is_company": True})
        second = self.env["res.partner"].create({"name": "LS Two", "is_company": True})
        for partner in first | second:
            self._localstripe_token(partner)
            self._invoice(partner, amount=25)
        run = self._start(first | second)
        self.Run._cron_omni_bulk_charge()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.succeeded_count, 2)
        intents = {line.attempt_ids.stripe_payment_intent for line in run.line_ids}
        self.assertEqual(len(intents), 2)
        for intent_id in intents:
            intent = self.client.v1.payment_intents.retrieve(intent_id)
            self.assertEqual((intent["status"], intent["amount"]), ("succeeded", 2500))
