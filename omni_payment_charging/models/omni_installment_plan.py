# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, format_date

from ..lib import stripe_minimums

PLAN_STATES = [
    ("running", "Running"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
]
# Installments still to be paid (the not-yet-due part of a plan's invoices).
UNPAID_STATES = ("scheduled", "processing", "failed")


class OmniInstallmentPlan(models.Model):
    _name = "omni.installment.plan"
    _description = "Installment Plan"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True)
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one(comodel_name="res.company", required=True, readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", required=True, readonly=True)
    token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Payment Method",
        required=True,
        readonly=True,
        tracking=True,
    )
    token_label = fields.Char(string="Charged To", compute="_compute_token_label")
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        relation="omni_installment_plan_invoice_rel",
        column1="plan_id",
        column2="move_id",
        string="Invoices",
        readonly=True,
    )
    amount = fields.Monetary(string="Total", readonly=True, currency_field="currency_id")
    state = fields.Selection(
        selection=PLAN_STATES,
        required=True,
        default="running",
        readonly=True,
        index=True,
        tracking=True,
    )
    installment_ids = fields.One2many(
        comodel_name="omni.installment", inverse_name="plan_id", string="Installments"
    )
    has_failed_installment = fields.Boolean(
        compute="_compute_has_failed_installment", search="_search_has_failed_installment"
    )
    next_date = fields.Date(string="Next Installment", compute="_compute_next")
    amount_unpaid = fields.Monetary(
        string="Still to Pay", compute="_compute_next", currency_field="currency_id"
    )

    @api.depends("token_id")
    def _compute_token_label(self):
        for plan in self:
            # sudo: the label (brand and last 4) is shown with the plan, whoever reads it.
            token = plan.token_id.sudo()
            plan.token_label = token._omni_issuer_label() if token else False

    @api.depends("installment_ids.state")
    def _compute_has_failed_installment(self):
        for plan in self:
            plan.has_failed_installment = "failed" in plan.installment_ids.mapped("state")

    def _search_has_failed_installment(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Operation not supported."))
        positive = (operator == "=") == value
        return [("installment_ids.state", "=" if positive else "!=", "failed")]

    @api.depends("installment_ids.state", "installment_ids.date", "installment_ids.amount")
    def _compute_next(self):
        for plan in self:
            unpaid = plan.installment_ids.filtered(lambda i: i.state in UNPAID_STATES)
            scheduled = unpaid.filtered(lambda i: i.state == "scheduled")
            plan.next_date = min(scheduled.mapped("date")) if scheduled else False
            plan.amount_unpaid = sum(i.amount - i.amount_paid for i in unpaid)

    @api.constrains("partner_id", "company_id", "token_id", "invoice_ids")
    def _check_belong_together(self):
        """The method and the invoices are the customer's, in the plan's company: a plan
        created over RPC names any ids."""
        for plan in self:
            customer = plan.partner_id.commercial_partner_id
            invoices = plan.invoice_ids
            if (
                plan.token_id.commercial_partner_id != customer
                or invoices.commercial_partner_id - customer
                or plan.token_id.company_id != plan.company_id
                or invoices.company_id - plan.company_id
            ):
                raise ValidationError(
                    self.env._(
                        "The payment method and the invoices of a plan of installments must "
                        "belong to its customer (%(customer)s) and company (%(company)s).",
                        customer=customer.display_name,
                        company=plan.company_id.name,
                    )
                )

    # === CRUD === #

    def write(self, vals):
        # Installments edited from the plan form are checked together, once, after the
        # write (moving an amount from one installment to another is two line writes): their
        # updates go through the installments' private path, the other commands as usual.
        commands = vals.get("installment_ids")
        if commands:
            others = []
            for command in commands:
                if command[0] == Command.UPDATE:
                    installment = self.env["omni.installment"].browse(command[1])
                    if installment.plan_id - self:
                        raise UserError(self.env._("This installment belongs to another plan."))
                    installment._edit(command[2])
                else:
                    others.append(command)
            vals = dict(vals, installment_ids=others)
        res = super().write(vals)
        if "installment_ids" in vals:
            self._check_schedule()
        return res

    # === BUSINESS METHODS === #

    def _open_invoices(self):
        """The plan's invoices that still have something to pay, oldest due first."""
        self.ensure_one()
        return self.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.payment_state in ("not_paid", "partial")
        ).sorted(lambda m: (m.invoice_date_due or m.date, m.id))

    def _open_balance(self):
        self.ensure_one()
        return sum(self._open_invoices().mapped("amount_residual"))

    def _check_schedule(self):
        """Refuse a schedule that cannot be charged as it stands.

        Rule on edits (documented in USAGE): the unpaid installments may not add up to more
        than the open balance of the plan's invoices (nobody is charged more than is owed; a
        lower total leaves the rest to be paid by other means). Scheduled installments keep a
        positive amount, and dates strictly increasing (a changed date may not be in the past:
        checked by the installment's write).
        """
        for plan in self.filtered(lambda p: p.state == "running"):
            currency = plan.currency_id
            active = plan.installment_ids.filtered(lambda i: i.state != "cancelled").sorted(
                lambda i: (i.sequence, i.id)
            )
            scheduled = active.filtered(lambda i: i.state == "scheduled")
            for installment in scheduled:
                if (
                    float_compare(installment.amount, 0.0, precision_rounding=currency.rounding)
                    <= 0
                ):
                    raise ValidationError(
                        self.env._("Every installment must be greater than zero.")
                    )
            self._check_minimum_amounts(currency, [(i.sequence, i.amount) for i in scheduled])
            dates = active.mapped("date")
            if any(later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)):
                raise ValidationError(
                    self.env._("The installment dates must follow each other (one per date).")
                )
            unpaid = sum(
                i.amount - i.amount_paid
                for i in active.filtered(lambda i: i.state in UNPAID_STATES)
            )
            balance = plan._open_balance()
            if float_compare(unpaid, balance, precision_rounding=currency.rounding) > 0:
                raise ValidationError(
                    self.env._(
                        "The installments still to pay add up to %(unpaid)s, more than the open "
                        "balance of the invoices (%(balance)s).",
                        unpaid=currency.format(unpaid),
                        balance=currency.format(balance),
                    )
                )

    @api.model
    def _check_minimum_amounts(self, currency, installments):
        """Refuse installments Stripe would refuse to charge: below its minimum charge in
        ``currency`` (lib/stripe_minimums.py).

        :param installments: ``(number, amount)`` of each installment
        :raise ValidationError: naming the first installment below the minimum
        """
        minimum = stripe_minimums.minimum_amount(currency.name)
        for number, amount in installments:
            if stripe_minimums.is_below_minimum(amount, currency.name):
                raise ValidationError(
                    self.env._(
                        "Installment %(number)s (%(amount)s) is below Stripe's minimum charge "
                        "in %(currency)s (%(minimum)s): use fewer installments.",
                        number=number,
                        amount=currency.format(amount),
                        currency=currency.name,
                        minimum=currency.format(float(minimum)),
                    )
                )

    def _schedule_text(self):
        """One line per installment: 'date: amount (state)'."""
        self.ensure_one()
        states = dict(
            self.env["omni.installment"]._fields["state"]._description_selection(self.env)
        )
        return [
            self.env._(
                "%(date)s: %(amount)s (%(state)s)",
                date=format_date(self.env, installment.date),
                amount=self.currency_id.format(installment.amount),
                state=states[installment.state],
            )
            for installment in self.installment_ids.sorted(lambda i: (i.sequence, i.id))
        ]

    def _post_schedule(self):
        """The schedule on the invoices' and the customer's chatter."""
        for plan in self:
            body = plan._note(
                self.env._(
                    "Payment in %(count)s installments with %(method)s:",
                    count=len(plan.installment_ids),
                    method=plan.token_label,
                ),
                plan._schedule_text(),
            )
            # sudo: the trail is written on the invoices and the customer whatever the
            # author's rights on them; the author stays the acting user.
            for record in [*plan.invoice_ids.sudo(), plan.partner_id.sudo()]:
                record.with_context(mail_create_nosubscribe=True).message_post(
                    body=body, message_type="comment", subtype_xmlid="mail.mt_note"
                )
            plan.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")

    def _note(self, title, lines):
        items = Markup("").join(Markup("<li>%s</li>") % escape(line) for line in lines)
        return Markup("%s<ul>%s</ul>") % (escape(title), items)

    def _recipient(self):
        self.ensure_one()
        partner = self.partner_id
        invoice_contact = partner.child_ids.filtered(lambda c: c.type == "invoice" and c.email)[:1]
        return invoice_contact or partner

    def _send_schedule(self):
        """Email the schedule to the customer (kept on the customer's chatter)."""
        template = self.env.ref("omni_payment_charging.mail_template_installment_schedule")
        messages = self.env["mail.message"]
        for plan in self:
            recipient = plan._recipient()
            if not recipient.email:
                plan.message_post(
                    body=self.env._("The schedule was not emailed: the customer has no email."),
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
                continue
            rendered = template.with_context(
                lang=recipient.lang or self.env.lang
            )._generate_template(plan.ids, ("subject", "body_html", "email_from"))[plan.id]
            messages |= plan.partner_id._omni_email_customer(rendered, recipient, plan.company_id)
        return messages

    def _omni_log(self, body):
        for plan in self:
            plan.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")

    def _follow_invoices(self):
        """The plan follows its invoices: installments charged meanwhile are settled, and
        when the invoices are paid (by the installments or by other means) nothing more is
        charged: the remaining installments are cancelled and the plan is done."""
        for plan in self.filtered(lambda p: p.state == "running"):
            plan.installment_ids._sync_state()
            if plan.state != "running" or plan._open_invoices():
                continue
            rest = plan.installment_ids.filtered(lambda i: i.state in ("scheduled", "failed"))
            if rest:
                rest.write(
                    {
                        "state": "cancelled",
                        "reason": self.env._("The invoices were paid: nothing left to charge."),
                    }
                )
                plan._omni_log(
                    self.env._(
                        "The invoices were paid: %(count)s remaining installment(s) cancelled.",
                        count=len(rest),
                    )
                )
            plan._check_done()

    def _check_done(self):
        for plan in self.filtered(lambda p: p.state == "running"):
            if not plan.installment_ids.filtered(lambda i: i.state in UNPAID_STATES):
                plan.state = "done"

    # === ACTIONS === #

    def _check_manager(self):
        self.env.user._omni_check_payment_manager(
            self.env._("Only payment method managers can change a schedule of installments.")
        )
        # The plans themselves (the ids come from the caller): the record rules keep a
        # manager to the companies they work in, before any email is sent as superuser.
        self.check_access("write")

    def action_cancel(self):
        """Stop the plan: the scheduled installments are not charged (a debit already
        processing is left to Stripe's answer)."""
        self._check_manager()
        for plan in self.filtered(lambda p: p.state == "running"):
            scheduled = plan.installment_ids.filtered(lambda i: i.state in ("scheduled", "failed"))
            scheduled.write(
                {
                    "state": "cancelled",
                    "reason": self.env._("Plan cancelled by %(user)s.", user=self.env.user.name),
                }
            )
            plan.state = "cancelled"
            plan._omni_log(
                self.env._(
                    "Plan cancelled: %(count)s installment(s) will not be charged.",
                    count=len(scheduled),
                )
            )
        return True

    def action_send_schedule(self):
        self._check_manager()
        sent = self._send_schedule()
        return self.env["payment.token"]._omni_notify(
            self.env._("Schedule emailed to the customer.")
            if sent
            else self.env._("Not emailed: the customer has no email address."),
            kind="success" if sent else "warning",
        )

    def action_open_invoices(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Invoices"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("id", "in", self.invoice_ids.ids)],
        }
