# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Charging from the back office, end to end in Chromium: a bulk charge of customers picked
in their list, and an invoice split into installments. The charges go through localstripe
(real HTTP, real SDK); the background jobs are run by the test as the scheduler would."""

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.omni_payment_methods.tests.test_browser_e2e import BrowserE2EMixin, expect

from .charge_common import LocalStripeChargeCommon

# localstripe attaches this card, then declines it when it is charged.
DECLINED_AT_CHARGE = "4000000000000341"


@tagged("post_install", "-at_install", "omni_browser")
class TestBrowserE2ECharging(BrowserE2EMixin, LocalStripeChargeCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            "omni_e2e_billing",
            password="omni_e2e_billing_pw",
            name="Katherine Johnson",
            tz="UTC",
            groups="base.group_user,base.group_partner_manager,account.group_account_invoice,"
            "omni_payment_methods.group_omni_payment_method_manager",
        )
        cls.Run = cls.env["omni.bulk.charge"]
        cls.Installment = cls.env["omni.installment"]

    # === HELPERS === #

    def _company_partner(self, name):
        return self.env["res.partner"].create({"name": name, "is_company": True})

    def _stat(self, page, label):
        """The value of the smart button labelled ``label``, in the "More" menu of the
        button box when the page is too narrow to show every button."""
        button = page.locator(".oe_stat_button", has_text=label)
        page.wait_for_selector(".o_form_view .o-form-buttonbox", state="attached")
        more = page.locator(".o_form_view .o-form-buttonbox .o_button_more")
        if not button.count() and more.count():
            more.click()
        return button.locator(".o_stat_value")

    def _row(self, page, field, text):
        return page.locator(f".o_field_widget[name={field}] .o_data_row", has_text=text)

    def _open_record(self, page, model, record_id):
        page.goto(f"{self.base_url()}/odoo/{model}/{record_id}")
        page.wait_for_selector(".o_form_view .o_form_sheet")

    # === BULK CHARGE === #

    def test_bulk_charge_from_the_customer_list(self):
        paid = self._company_partner("E2E Bulk Paid Co")
        declined = self._company_partner("E2E Bulk Declined Co")
        no_method = self._company_partner("E2E Bulk No Method Co")
        paid_token = self._localstripe_token(paid)
        declined_token = self._localstripe_token(declined, number=DECLINED_AT_CHARGE)
        paid_invoice = self._invoice(paid, amount=80)
        declined_invoice = self._invoice(declined, amount=45)
        self._invoice(no_method, amount=30)
        company = self.env.company.name
        self.env.flush_all()  # the server's requests read the database, not this cache

        with self._page() as page:
            self._login(page, "omni_e2e_billing", "omni_e2e_billing_pw", "/odoo/customers")
            page.click(".o_switch_view.o_list")
            page.wait_for_selector(".o_list_view")
            search = page.locator(".o_searchview_input")
            search.fill("E2E Bulk")
            search.press("Enter")
            expect(page.locator(".o_list_view .o_data_row")).to_have_count(3)
            for partner in paid | declined | no_method:
                self._row_check(page, partner.name)
            page.locator(".o_cp_action_menus button", has_text="Actions").click()
            page.locator(
                ".o-dropdown--menu .dropdown-item", has_text="Charge saved payment methods"
            ).click()
            wizard = page.locator(".modal .o_form_view")
            wizard.wait_for()
            # The summary: counts, total, reasons; the first lines of each list in its tab.
            expect(wizard.locator(".o_field_widget[name=charge_count]")).to_have_text("2")
            expect(wizard.locator(".o_field_widget[name=amount_total]")).to_contain_text("125.00")
            warning = wizard.locator(".alert-warning")
            expect(warning).to_contain_text("The skipped customers will not be charged")
            expect(warning).to_contain_text(
                f"The customer has no default payment method in {company}."
            )
            expect(self._row(wizard, "charge_line_ids", "E2E Bulk")).to_have_count(2)
            self._shot(page, "bulk_charge_wizard.png")
            wizard.locator(".nav-link", has_text="Skipped").click()
            expect(wizard.locator(".o_field_widget[name=skip_count]")).to_have_text("1")
            expect(self._row(wizard, "skip_line_ids", no_method.name)).to_contain_text(
                f"The customer has no default payment method in {company}."
            )
            page.locator(".modal button[name=action_start]").click()

            # The run's page: two customers to do, the third skipped at once.
            form = page.locator(".o_action_manager .o_form_view")
            expect(form.locator(".oe_title h1")).to_contain_text("Bulk charge")
            expect(self._stat(page, "To Do")).to_have_text("2")
            expect(self._stat(page, "Skipped")).to_have_text("1")
            expect(form.locator(".o_field_widget[name=progress]")).to_contain_text("33")
            expect(page.locator(".o_statusbar_status .o_arrow_button_current")).to_have_text(
                "Running"
            )
            expect(form.locator(".alert-info")).to_contain_text("charged in the background")
            self._shot(page, "bulk_charge_run_started.png")

            # The scheduled action, as the scheduler runs it (on the shared test cursor).
            with self._db():
                run = (
                    self.env["omni.bulk.charge.line"].search([("partner_id", "=", paid.id)]).run_id
                )
                self.assertEqual((run.state, run.to_do_count, run.skipped_count), ("running", 2, 1))
                with mute_logger("odoo.addons.omni_payment_charging.models.omni_charge_attempt"):
                    self.Run._cron_omni_bulk_charge()
                self.env.flush_all()
                self._check_bulk_run(run, (paid, declined, no_method), (paid_token, declined_token))
                self.assertIn(paid_invoice.payment_state, ("paid", "in_payment"))
                self.assertEqual(declined_invoice.payment_state, "not_paid")
                reason = run.line_ids.filtered(lambda line: line.partner_id == declined).reason
                run_name = run.name

            # The page follows the run by itself (no reload): state, counts and lines.
            expect(page.locator(".o_statusbar_status .o_arrow_button_current")).to_have_text(
                "Done", timeout=15_000
            )
            expect(self._stat(page, "Succeeded")).to_have_text("1")
            expect(self._row(page, "line_ids", declined.name)).to_contain_text(reason)
            self._shot(page, "bulk_charge_run_followed.png")

            # Reloading keeps the run under the customer list: the wizard's id must not end
            # up in the URL as a customer's.
            page.reload()
            page.wait_for_selector(".o_form_view .o_form_sheet")
            expect(page.locator(".o_breadcrumb")).to_have_text(f"Customers{run_name}")
            expect(page.locator(".o_statusbar_status .o_arrow_button_current")).to_have_text("Done")
            expect(self._stat(page, "Succeeded")).to_have_text("1")
            expect(self._stat(page, "Failed")).to_have_text("1")
            expect(self._stat(page, "Skipped")).to_have_text("1")
            expect(self._stat(page, "To Do")).to_have_text("0")
            expect(form.locator(".o_field_widget[name=progress]")).to_contain_text("100")
            expect(form.locator(".o_field_widget[name=amount_charged]")).to_contain_text("80.00")
            expect(form.locator(".alert-info")).to_have_count(0)
            expect(self._row(page, "line_ids", declined.name)).to_contain_text(reason)
            expect(self._row(page, "line_ids", declined.name)).to_contain_text("Failed")
            expect(self._row(page, "line_ids", paid.name)).to_contain_text("Succeeded")
            expect(self._row(page, "line_ids", no_method.name)).to_contain_text("Skipped")
            expect(page.locator(".o-mail-Message", has_text="Succeeded 1")).to_contain_text(
                f"Succeeded 1, failed 1 ({reason}), pending 0, skipped 1."
            )
            self._shot(page, "bulk_charge_run_done.png")

    def _check_bulk_run(self, run, customers, tokens):
        """The finished run of the bulk charge test: paid, declined, skipped."""
        paid, declined, no_method = customers
        paid_token, declined_token = tokens
        lines = {line.partner_id: line for line in run.line_ids}
        self.assertEqual(run.state, "done")
        self.assertEqual(
            [lines[p].state for p in (paid, declined, no_method)],
            ["succeeded", "failed", "skipped"],
        )
        ok_attempt = lines[paid].attempt_ids
        self.assertEqual((ok_attempt.state, ok_attempt.token_id), ("done", paid_token))
        intent = self.client.v1.payment_intents.retrieve(ok_attempt.stripe_payment_intent)
        self.assertEqual((intent["status"], intent["amount"]), ("succeeded", 8000))
        failed_attempt = lines[declined].attempt_ids
        self.assertEqual(
            (failed_attempt.state, failed_attempt.token_id), ("failed", declined_token)
        )
        self.assertTrue(lines[declined].reason)
        self.assertFalse(lines[no_method].attempt_ids)

    def _row_check(self, page, name):
        page.locator(".o_list_view .o_data_row", has_text=name).locator(
            ".o_list_record_selector input"
        ).check()

    # === INSTALLMENTS === #

    def test_invoice_split_into_installments(self):
        customer = self._company_partner("E2E Installments Co")
        token = self._localstripe_token(customer)
        invoice = self._invoice(customer, amount=100)
        today = fields.Date.context_today(self.manager.with_context(tz=self.manager.tz))
        lang = self.env["res.lang"]._lang_get(self.manager.lang)
        dates = [(today + relativedelta(months=n)).strftime(lang.date_format) for n in range(3)]
        # What the assertions compare with, read before the browser runs (the test thread
        # reads the database only under self._db() while a page is open).
        token_name, invoice_name, currency = token.display_name, invoice.name, invoice.currency_id
        unbalanced = (
            f"The installments add up to {currency.format(106.67)}, not to the amount to "
            f"pay ({currency.format(100)})."
        )
        self.env.flush_all()  # the server's requests read the database, not this cache

        with self._page() as page:
            self._login(
                page,
                "omni_e2e_billing",
                "omni_e2e_billing_pw",
                f"/odoo/account.move/{invoice.id}",
            )
            page.wait_for_selector(".o_form_view .o_form_sheet")
            expect(self._stat(page, "Installments")).to_have_count(0)
            page.locator(".o_statusbar_buttons button", has_text="Charge Saved Method").click()
            dialog = page.locator(".modal .o_form_view")
            dialog.wait_for()
            expect(dialog.locator(".o_field_widget[name=token_id] input")).to_have_value(token_name)
            dialog.locator(".o_field_widget[name=split_installments] input").check()
            count = dialog.locator(".o_field_widget[name=installment_count] input")
            count.fill("3")
            # blur, not Tab: on 19.0 Tab focuses the first installment's date, whose picker
            # then covers the rows
            count.blur()
            rows = dialog.locator(".o_field_widget[name=installment_line_ids] .o_data_row")
            expect(rows).to_have_count(3)
            for row, date, amount in zip(
                rows.all(), dates, ("33.33", "33.33", "33.34"), strict=True
            ):
                expect(row.locator("td[name=date]")).to_have_text(date)
                expect(row.locator("td[name=amount]")).to_contain_text(amount)
            self._shot(page, "installments_dialog.png")

            # An unbalanced schedule is refused with the reason; nothing is created.
            self._edit_amount(rows.nth(1), "40.00")
            page.locator(".modal-footer button[name=action_schedule_installments]").click()
            error = page.locator(".o_error_dialog")
            expect(error).to_contain_text(unbalanced)
            self._shot(page, "installments_unbalanced.png")
            # The refused schedule was saved with its numbers (a read-only field is only
            # sent when forced): still 1, 2, 3.
            expect(rows.locator("td[name=sequence]")).to_have_text(["1", "2", "3"])
            error.locator("button", has_text="Close").click()
            expect(error).to_have_count(0)
            with self._db():
                self.assertFalse(invoice.omni_installment_plan_ids)
            self._edit_amount(rows.nth(2), "26.67")
            page.locator(".modal-footer button[name=action_schedule_installments]").click()

            # The plan's page.
            expect(page.locator(".modal")).to_have_count(0)
            form = page.locator(".o_action_manager .o_form_view")
            expect(form.locator(".oe_title h1")).to_contain_text(f"Installments for {invoice_name}")
            plan_rows = page.locator(".o_field_widget[name=installment_ids] .o_data_row")
            expect(plan_rows).to_have_count(3)
            for row in plan_rows.all():
                expect(row).to_contain_text("Scheduled")
            self._shot(page, "installments_plan_scheduled.png")

            # The installment job: the first installment (today) is charged through localstripe.
            with self._db():
                plan = invoice.omni_installment_plan_ids
                installments = plan.installment_ids.sorted("sequence")
                self.assertEqual(installments.mapped("amount"), [33.33, 40.0, 26.67])
                self.assertEqual(
                    installments.mapped("date"), [today + relativedelta(months=n) for n in range(3)]
                )
                charged = self.Installment._cron_charge_installments()
                self.env.flush_all()
                self.assertEqual(charged, installments[0])
                self.assertEqual(installments.mapped("state"), ["paid", "scheduled", "scheduled"])
                attempt = installments[0].attempt_ids
                self.assertEqual((attempt.state, attempt.token_id), ("done", token))
                intent = self.client.v1.payment_intents.retrieve(attempt.stripe_payment_intent)
                self.assertEqual((intent["status"], intent["amount"]), ("succeeded", 3333))
                self.assertEqual(invoice.payment_state, "partial")
                self.assertAlmostEqual(invoice.amount_residual, 66.67)

            page.reload()
            page.wait_for_selector(".o_form_view .o_form_sheet")
            states = [row.locator("td[name=state]").inner_text().strip() for row in plan_rows.all()]
            self.assertEqual(states, ["Paid", "Scheduled", "Scheduled"])
            expect(form.locator(".o_field_widget[name=amount_unpaid]")).to_contain_text("66.67")
            expect(form.locator(".o_field_widget[name=next_date]")).to_contain_text(dates[1])
            self._shot(page, "installments_plan_first_paid.png")

            self._open_record(page, "account.move", invoice.id)
            expect(self._stat(page, "Installments")).to_have_text("3")
            expect(page.locator(".ribbon")).to_have_text("Partial")
            self._shot(page, "installments_invoice.png")

            self._open_record(page, "res.partner", customer.id)
            upcoming = page.locator(".oe_stat_button", has_text="Upcoming Payments")
            expect(upcoming.locator(".o_stat_value")).to_have_text("2")
            expect(upcoming).to_contain_text(f"next {dates[1]}")
            self._shot(page, "installments_customer.png")

    def _edit_amount(self, row, amount):
        row.locator("td[name=amount]").click()
        field = row.locator("td[name=amount] input")
        field.fill(amount)
        field.press("Tab")
