# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

OPEN_INVOICE_DOMAIN = [
    ("move_type", "=", "out_invoice"),
    ("state", "=", "posted"),
    ("payment_state", "in", ("not_paid", "partial")),
]


class OmniMakePaymentWizard(models.TransientModel):
    _name = "omni.make.payment.wizard"
    _description = "Take a payment with a saved payment method"

    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True, readonly=True
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(comodel_name="res.currency", compute="_compute_currency_id")
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Invoices to Pay",
        domain="[('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id), "
        "('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    balance = fields.Monetary(
        string="Open Balance", compute="_compute_balance", currency_field="currency_id"
    )
    available_credit = fields.Monetary(
        compute="_compute_available_credit",
        currency_field="currency_id",
        help="Payments and credit notes of the customer not applied to an invoice yet: "
        "reconcile them first when they cover what is due.",
    )
    amount = fields.Monetary(
        currency_field="currency_id",
        help="Defaults to the open amount of the selected invoices; a lower amount pays "
        "the oldest invoices first.",
    )
    token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Payment Method",
        domain="[('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id), "
        "('omni_authorized', '=', True)]",
    )

    # Split into installments: the schedule is generated, shown and editable before it is
    # confirmed ("Schedule installments").
    split_installments = fields.Boolean(string="Split into installments")
    installment_count = fields.Integer(string="Number of Installments", default=3)
    installment_first_date = fields.Date(
        string="First Installment", default=fields.Date.context_today
    )
    installment_interval = fields.Selection(
        selection=[("weekly", "Weekly"), ("monthly", "Monthly")],
        string="Every",
        default="monthly",
    )
    installment_line_ids = fields.One2many(
        comodel_name="omni.make.payment.installment.line",
        inverse_name="wizard_id",
        string="Installments",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "account.move" and context.get("active_ids"):
            invoices = self.env["account.move"].browse(context["active_ids"])
            partners = invoices.commercial_partner_id
            if len(partners) != 1:
                raise UserError(self.env._("Select the invoices of one customer."))
            values["partner_id"] = partners.id
            values["company_id"] = invoices.company_id[:1].id
            values["invoice_ids"] = [
                fields.Command.set(invoices.filtered_domain(OPEN_INVOICE_DOMAIN).ids)
            ]
        elif context.get("active_model") == "res.partner" and context.get("active_id"):
            partner = self.env["res.partner"].browse(context["active_id"]).commercial_partner_id
            values["partner_id"] = partner.id
            values["invoice_ids"] = [
                fields.Command.set(
                    self.env["account.move"]
                    .search(
                        [
                            *OPEN_INVOICE_DOMAIN,
                            ("commercial_partner_id", "=", partner.id),
                            ("company_id", "=", self.env.company.id),
                        ]
                    )
                    .ids
                )
            ]
        if values.get("partner_id"):
            partner = self.env["res.partner"].browse(values["partner_id"])
            company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
            values["token_id"] = partner._omni_default_token(company).filtered("omni_authorized").id
        return values

    @api.depends("invoice_ids.currency_id", "company_id")
    def _compute_currency_id(self):
        """The invoices' currency (amounts are charged in it), else the company's."""
        for wizard in self:
            wizard.currency_id = wizard.invoice_ids.currency_id[:1] or wizard.company_id.currency_id

    @api.depends("invoice_ids.amount_residual")
    def _compute_balance(self):
        for wizard in self:
            wizard.balance = sum(wizard.invoice_ids.mapped("amount_residual"))

    @api.depends("partner_id", "company_id")
    def _compute_available_credit(self):
        for wizard in self:
            lines = self.env["account.move.line"].search(
                [
                    ("partner_id", "child_of", wizard.partner_id.id),
                    ("company_id", "=", wizard.company_id.id),
                    ("account_type", "=", "asset_receivable"),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("amount_residual", "<", 0),
                ]
            )
            wizard.available_credit = -sum(lines.mapped("amount_residual"))

    @api.onchange("invoice_ids")
    def _onchange_invoice_ids(self):
        self.amount = sum(self.invoice_ids.mapped("amount_residual"))

    def _omni_check(self):
        """Refuse what cannot be charged, with the reason (nothing is sent)."""
        self.ensure_one()
        rounding = self.currency_id.rounding
        if not self.invoice_ids:
            raise ValidationError(self.env._("Select the invoices to pay."))
        if len(self.invoice_ids.currency_id) > 1:
            raise ValidationError(
                self.env._("Select invoices in one currency: each payment is in one currency.")
            )
        if float_compare(self.amount, 0.0, precision_rounding=rounding) <= 0:
            raise ValidationError(self.env._("The amount must be greater than zero."))
        if float_compare(self.amount, self.balance, precision_rounding=rounding) > 0:
            raise ValidationError(
                self.env._(
                    "%(amount)s is more than the open balance of the selected invoices "
                    "(%(balance)s).",
                    amount=self.currency_id.format(self.amount),
                    balance=self.currency_id.format(self.balance),
                )
            )
        if not self.token_id:
            raise ValidationError(
                self.env._("Choose a saved payment method authorized by the customer.")
            )
        token = self.token_id
        if not token.active or not token.omni_authorized:
            raise ValidationError(
                self.env._(
                    "%(method)s cannot be charged: it is deleted or has no recorded authorization.",
                    method=token._omni_issuer_label(),
                )
            )
        if token.company_id != self.company_id or any(
            invoice.company_id != self.company_id for invoice in self.invoice_ids
        ):
            raise ValidationError(
                self.env._("The payment method and the invoices must belong to one company.")
            )
        if self.company_id not in self.env.companies:
            raise AccessError(
                self.env._(
                    "You cannot take a payment in %(company)s: it is not one of your companies.",
                    company=self.company_id.name,
                )
            )
        customer = self.partner_id.commercial_partner_id
        if (
            self.invoice_ids.commercial_partner_id != customer
            or token.commercial_partner_id != customer
        ):
            # The form's domains are only a help: a wizard created over RPC names any ids.
            raise ValidationError(
                self.env._(
                    "The payment method and the invoices must belong to the customer %(customer)s.",
                    customer=customer.display_name,
                )
            )
        # The user's own rights on what is charged (record rules: company, customer), before
        # the engine runs as superuser.
        self.invoice_ids.check_access("read")
        token.check_access("read")
        # The engine's own check (provider, currency): refused here, before any attempt is
        # recorded.
        Attempt = self.env["omni.charge.attempt"]
        for invoice in self.invoice_ids:
            # sudo: reads the provider's configuration (payment administrators only).
            reason, _company_side = Attempt.sudo()._check_chargeable(
                invoice, token.sudo(), origin="payment"
            )
            if reason:
                raise ValidationError(reason)
        pending = Attempt.search(
            [
                ("invoice_id", "in", self.invoice_ids.ids),
                ("state", "in", ("not_sent", "unknown", "processing", "requires_action")),
            ],
            limit=1,
        )
        if pending:
            raise UserError(
                self.env._(
                    "A charge of %(invoice)s is not settled yet (%(state)s): wait for Stripe's "
                    "answer before charging it again.",
                    invoice=pending.invoice_id.name,
                    state=dict(pending._fields["state"]._description_selection(self.env))[
                        pending.state
                    ],
                )
            )

    def action_charge(self):
        """Charge the chosen method: one PaymentIntent per invoice, oldest first, until the
        amount is used up. The receipts go to the invoices' and the customer's chatter."""
        self.ensure_one()
        self.env.user._omni_check_payment_manager(
            self.env._("Only payment method managers can charge a saved payment method.")
        )
        self._omni_check()
        # sudo: the manager's right to charge was checked above; the charging engine reads
        # the provider's configuration and creates the transaction, which only payment
        # administrators may do. The acting user stays the manager (audit trail).
        attempts = (
            self.env["omni.charge.attempt"]
            .sudo()
            ._charge_invoices(self.invoice_ids, self.token_id, self.amount, origin="payment")
        )
        return self._show_result(attempts)

    def _show_result(self, attempts):
        paid = attempts.filtered(lambda a: a.state in ("done", "processing"))
        message = (
            self.env._(
                "%(count)s payment(s) taken with %(method)s.",
                count=len(paid),
                method=self.token_id._omni_issuer_label(),
            )
            if paid and paid == attempts
            else self.env._(
                "The payment did not go through: %(reason)s",
                reason=", ".join(filter(None, (attempts - paid).mapped("reason"))) or "-",
            )
        )
        return self.env["payment.token"]._omni_notify(
            message, kind="success" if paid == attempts else "warning", reload=True
        )

    # === INSTALLMENTS === #

    @api.onchange(
        "split_installments",
        "installment_count",
        "installment_first_date",
        "installment_interval",
        "amount",
    )
    def _onchange_installments(self):
        self._generate_installments()

    def _generate_installments(self):
        """Lines of the schedule: ``installment_count`` dates from the first one, one week or
        one month apart; the amount split evenly, the rounding remainder on the last."""
        for wizard in self:
            commands = [fields.Command.clear()]
            count = wizard.installment_count
            if wizard.split_installments and count > 0 and wizard.installment_first_date:
                currency = wizard.currency_id
                share = currency.round((wizard.amount or 0.0) / count)
                step = (
                    relativedelta(weeks=1)
                    if wizard.installment_interval == "weekly"
                    else relativedelta(months=1)
                )
                for index in range(count):
                    amount = (
                        share
                        if index < count - 1
                        else currency.round((wizard.amount or 0.0) - share * (count - 1))
                    )
                    commands.append(
                        fields.Command.create(
                            {
                                "sequence": index + 1,
                                "date": wizard.installment_first_date + step * index,
                                "amount": amount,
                            }
                        )
                    )
            wizard.installment_line_ids = commands

    def _check_installments(self):
        """Refuse a schedule that cannot be charged as it stands (nothing is created)."""
        self.ensure_one()
        self._omni_check()
        currency = self.currency_id
        rounding = currency.rounding
        lines = self.installment_line_ids.sorted(lambda line: (line.sequence, line.id))
        if len(lines) < 2:
            raise ValidationError(self.env._("Split the payment into at least 2 installments."))
        if any(float_compare(line.amount, 0.0, precision_rounding=rounding) <= 0 for line in lines):
            raise ValidationError(self.env._("Every installment must be greater than zero."))
        self.env["omni.installment.plan"]._check_minimum_amounts(
            currency, [(index + 1, line.amount) for index, line in enumerate(lines)]
        )
        total = sum(lines.mapped("amount"))
        if not float_is_zero(total - self.amount, precision_rounding=rounding):
            raise ValidationError(
                self.env._(
                    "The installments add up to %(total)s, not to the amount to pay (%(amount)s).",
                    total=currency.format(total),
                    amount=currency.format(self.amount),
                )
            )
        today = fields.Date.context_today(self)
        if any(not line.date or line.date < today for line in lines):
            raise ValidationError(self.env._("An installment cannot be scheduled before today."))
        dates = lines.mapped("date")
        if any(later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)):
            raise ValidationError(
                self.env._("The installment dates must follow each other (one per date).")
            )
        planned = self.invoice_ids.omni_installment_plan_ids.filtered(
            lambda p: p.state == "running"
        )
        if planned:
            raise ValidationError(
                self.env._(
                    "%(invoices)s is already paid in installments (%(plan)s).",
                    invoices=", ".join((self.invoice_ids & planned.invoice_ids).mapped("name")),
                    plan=planned[:1].name,
                )
            )

    def action_schedule_installments(self):
        """Create the plan of installments, post the schedule on the invoices' and the
        customer's chatter and email it to the customer. An installment dated today is
        charged at once by the job."""
        self.ensure_one()
        self.env.user._omni_check_payment_manager(
            self.env._("Only payment method managers can charge a saved payment method.")
        )
        self._check_installments()
        invoices = self.invoice_ids.sorted(lambda m: (m.invoice_date_due or m.date, m.id))
        lines = self.installment_line_ids.sorted(lambda line: (line.sequence, line.id))
        plan = self.env["omni.installment.plan"].create(
            {
                "name": self.env._(
                    "Installments for %(invoices)s", invoices=", ".join(invoices.mapped("name"))
                ),
                "partner_id": self.partner_id.commercial_partner_id.id,
                "company_id": self.company_id.id,
                "currency_id": self.currency_id.id,
                "token_id": self.token_id.id,
                "invoice_ids": [fields.Command.set(invoices.ids)],
                "amount": self.amount,
                "installment_ids": [
                    fields.Command.create(
                        {"sequence": index + 1, "date": line.date, "amount": line.amount}
                    )
                    for index, line in enumerate(lines)
                ],
            }
        )
        plan._post_schedule()
        plan._send_schedule()
        if any(line.date <= fields.Date.context_today(self) for line in lines):
            self.env.ref("omni_payment_charging.ir_cron_charge_installments")._trigger()
        return {
            "type": "ir.actions.act_window",
            "res_model": "omni.installment.plan",
            "res_id": plan.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
