# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare

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
        # The engine's own check (provider, currency): refused here, before any attempt is
        # recorded.
        Attempt = self.env["omni.charge.attempt"]
        for invoice in self.invoice_ids:
            # sudo: reads the provider's configuration (payment administrators only).
            reason, _company_side = Attempt.sudo()._omni_check_chargeable(
                invoice, token.sudo(), origin="payment"
            )
            if reason:
                raise ValidationError(reason)
        pending = Attempt.search(
            [
                ("invoice_id", "in", self.invoice_ids.ids),
                ("state", "in", ("not_sent", "processing", "requires_action")),
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
        if not self.env.user.has_group("omni_payment_methods.group_omni_payment_method_manager"):
            raise AccessError(
                self.env._("Only payment method managers can charge a saved payment method.")
            )
        self._omni_check()
        # sudo: the manager's right to charge was checked above; the charging engine reads
        # the provider's configuration and creates the transaction, which only payment
        # administrators may do. The acting user stays the manager (audit trail).
        attempts = (
            self.env["omni.charge.attempt"]
            .sudo()
            ._omni_charge_invoices(self.invoice_ids, self.token_id, self.amount, origin="payment")
        )
        return self._omni_show_result(attempts)

    def _omni_show_result(self, attempts):
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
