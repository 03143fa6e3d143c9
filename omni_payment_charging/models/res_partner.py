# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..const import AUTHENTICATION_ROUTE
from .omni_dunning_level import STAGES

# Fields that decide whether and how a customer is charged: only payment method managers
# change them (the external API's omni_api_set_payment_mode says so too).
MANAGER_FIELDS = ("omni_payment_mode", "omni_dunning_policy_id")
# Written by the dunning job only (through sudo): nobody sets it by hand.
SYSTEM_FIELDS = ("omni_dunning_state",)


class ResPartner(models.Model):
    _inherit = "res.partner"

    omni_payment_mode = fields.Selection(
        selection=[
            ("automatic", "Automatic (charge the default payment method)"),
            ("manual", "Manual (bank transfer)"),
        ],
        string="Payment Mode",
        default=lambda self: self._omni_default_payment_mode(),
        required=True,
        tracking=True,
        help="Automatic: due invoices are charged to the customer's default authorized "
        "payment method, with dunning when a charge fails. Manual: invoices are issued "
        "without automatic debit and marked paid by hand.",
    )
    omni_dunning_state = fields.Selection(
        selection=[("active", "Active"), *STAGES],
        string="Dunning State",
        default="active",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        help="Where the customer stands after failed charges. Other modules react to a "
        "change by overriding res.partner._omni_dunning_state_changed().",
    )
    omni_dunning_policy_id = fields.Many2one(
        comodel_name="omni.dunning.policy",
        string="Dunning Policy",
        help="Leave empty to use the company's default policy.",
    )
    omni_dunning_case_ids = fields.One2many(
        comodel_name="omni.dunning.case",
        inverse_name="partner_id",
        string="Dunning",
    )
    omni_installment_count = fields.Integer(
        string="Upcoming Payments",
        compute="_compute_omni_installments",
        groups="omni_payment_methods.group_omni_payment_method_viewer",
    )
    omni_installment_next_date = fields.Date(
        string="Next Payment",
        compute="_compute_omni_installments",
        groups="omni_payment_methods.group_omni_payment_method_viewer",
    )

    @api.model
    def _omni_link_routes(self):
        return [*super()._omni_link_routes(), AUTHENTICATION_ROUTE]

    # === WHO MAY CHANGE HOW A CUSTOMER IS CHARGED === #

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            defaults = {"omni_dunning_state": "active"}
            if any(name in vals for vals in vals_list for name in MANAGER_FIELDS):
                defaults["omni_payment_mode"] = self._omni_default_payment_mode()
                defaults["omni_dunning_policy_id"] = False
            for vals in vals_list:
                parent = self.browse(vals.get("parent_id")).commercial_partner_id
                self._omni_check_billing_fields(
                    vals,
                    lambda name, value, parent=parent: (
                        defaults.get(name) in (value, None)
                        or (parent and self._omni_same_value(parent, name, value))
                    ),
                )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            # Odoo copies the commercial fields to the contacts as superuser: a non-superuser
            # write that changes nothing is let through too (a form saving its values).
            self._omni_check_billing_fields(
                vals,
                lambda name, value: all(self._omni_same_value(p, name, value) for p in self),
            )
        modes = {}
        if "omni_payment_mode" in vals:
            modes = {partner.id: partner.omni_payment_mode for partner in self}
        res = super().write(vals)
        if modes:
            # Logged once, on the commercial entity (contacts follow it).
            for partner in self.filtered(lambda p: p.is_company or not p.parent_id).filtered(
                lambda p: modes.get(p.id) != p.omni_payment_mode
            ):
                partner._omni_payment_mode_changed()
        return res

    @api.model
    def _omni_same_value(self, partner, name, value):
        field = self._fields[name]
        return field.convert_to_write(partner[name], partner) == field.convert_to_write(
            field.convert_to_cache(value, partner), partner
        )

    @api.model
    def _omni_check_billing_fields(self, vals, unchanged):
        """Refuse a change of how a customer is charged by a user who may not decide it.

        :param unchanged: ``unchanged(name, value)`` says whether writing ``value`` leaves
            the field as it is (then nothing is decided)
        """
        for name in SYSTEM_FIELDS:
            if name in vals and not unchanged(name, vals[name]):
                raise AccessError(
                    self.env._(
                        "The dunning state of a customer is set by the dunning job only "
                        "(field: %(field)s).",
                        field=self._fields[name].string,
                    )
                )
        if self.env.user._omni_is_payment_manager():
            return
        for name in MANAGER_FIELDS:
            if name in vals and not unchanged(name, vals[name]):
                raise AccessError(
                    self.env._(
                        "Only payment method managers can change how a customer is charged "
                        "(field: %(field)s).",
                        field=self._fields[name].string,
                    )
                )

    # === PAYMENT MODE AND DUNNING === #

    @api.model
    def _omni_default_payment_mode(self):
        return (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("omni_payment_charging.default_payment_mode", "manual")
        )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ["omni_payment_mode", "omni_dunning_policy_id"]

    @api.onchange("omni_payment_mode")
    def _onchange_omni_payment_mode(self):
        if self.omni_payment_mode == "manual" and self._origin.omni_payment_mode == "automatic":
            return {
                "warning": {
                    "title": self.env._("Manual payment"),
                    "message": self.env._(
                        "From now on, this customer's invoices are issued without automatic "
                        "debit: they are marked paid by hand when the transfer arrives. Open "
                        "dunning is paused."
                    ),
                }
            }

    def _omni_payment_mode_changed(self):
        """Manual mode: open dunning is paused (nothing is charged any more)."""
        self.ensure_one()
        if self.omni_payment_mode == "manual":
            cases = self.omni_dunning_case_ids.filtered(lambda c: c.state in ("open", "waiting"))
            cases.action_pause()
            self._omni_log_dunning(
                self.env._(
                    "Payment mode: manual. Invoices are no longer charged automatically; they "
                    "are marked paid by hand."
                )
            )
        else:
            self._omni_log_dunning(
                self.env._(
                    "Payment mode: automatic. Due invoices are charged to the default "
                    "payment method."
                )
            )

    def _omni_set_dunning_state(self, state, case):
        """Set the customer's dunning state and tell the hook when it changes."""
        for partner in self:
            previous = partner.omni_dunning_state
            if previous == state:
                continue
            # sudo: the state is the job's to set, not the user's (the field is read-only).
            partner.sudo().omni_dunning_state = state
            partner._omni_dunning_state_changed(previous, state, case)

    def _omni_dunning_state_changed(self, previous, state, case):
        """Hook: the customer's dunning state moved from ``previous`` to ``state``.

        ``state`` is "active", "grace", "warning", "suspended" or "terminated"; ``case`` is
        the ``omni.dunning.case``. Override it to react (suspend a subscription, block
        orders, ...): the addon itself only logs the change and never deletes anything.
        """
        self.ensure_one()
        labels = dict(self._fields["omni_dunning_state"]._description_selection(self.env))
        self._omni_log_dunning(
            self.env._(
                "Dunning state: %(previous)s → %(state)s.",
                previous=labels.get(previous, previous),
                state=labels.get(state, state),
            )
        )

    def _omni_log_dunning(self, body):
        """A note on the customer's chatter."""
        for partner in self:
            # sudo: the trail is written whatever the author's rights on the customer.
            partner.sudo().with_context(mail_create_nosubscribe=True).message_post(
                body=body, message_type="comment", subtype_xmlid="mail.mt_note"
            )

    def _omni_payment_method_changed(self):
        """A method was added or the default changed: open dunning retries at once."""
        super()._omni_payment_method_changed()
        cases = self.env["omni.dunning.case"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("state", "in", ("open", "waiting")),
            ]
        )
        if not cases:
            return
        cases.write({"retry_requested_at": fields.Datetime.now(), "hard_decline": False})
        self.env.ref("omni_payment_charging.ir_cron_run_dunning")._trigger()

    def _compute_omni_installments(self):
        """Upcoming payments: the installments of the customer's running plans not paid yet."""
        Installment = self.env["omni.installment"]
        for partner in self:
            upcoming = Installment
            if partner.commercial_partner_id.id:
                upcoming = Installment.search(
                    [
                        ("partner_id", "=", partner.commercial_partner_id.id),
                        ("state", "in", ("scheduled", "processing", "failed")),
                        ("plan_id.state", "=", "running"),
                    ],
                    order="date",
                )
            partner.omni_installment_count = len(upcoming)
            scheduled = upcoming.filtered(lambda i: i.state == "scheduled")
            partner.omni_installment_next_date = scheduled[:1].date

    def action_omni_open_installments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "omni_payment_charging.omni_installment_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"search_default_filter_upcoming": 1}
        return action

    def action_omni_open_dunning(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "omni_payment_charging.omni_dunning_case_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"search_default_filter_open": 0}
        return action

    # === EXTERNAL API === #

    def omni_api_set_payment_mode(self, mode):
        """Switch the customers' payment mode: "automatic" (charge the default method) or
        "manual" (bank transfer; open dunning is paused). Returns the new mode."""
        self.env["payment.token"]._omni_api_check_manager()
        modes = dict(self._fields["omni_payment_mode"]._description_selection(self.env))
        if mode not in modes:
            raise UserError(
                self.env._(
                    "Unknown payment mode '%(mode)s': use one of %(modes)s.",
                    mode=mode,
                    modes=", ".join(f"'{key}'" for key in modes),
                )
            )
        customers = self._omni_api_customers()
        customers.check_access("write")
        customers.filtered(lambda p: p.omni_payment_mode != mode).write({"omni_payment_mode": mode})
        return [{"customer_id": c.id, "payment_mode": c.omni_payment_mode} for c in customers]

    def omni_api_dunning_state(self):
        """Where each customer stands after failed charges.

        Returns one dict per customer: ``{"customer_id", "payment_mode", "state" ("active",
        "grace", "warning", "suspended", "terminated"), "case_state" (False when no open
        dunning, else "open", "waiting", "paused"), "amount_due", "currency", "since" (day of
        the first failed charge, YYYY-MM-DD), "day", "last_attempt" (UTC, YYYY-MM-DD
        HH:MM:SS), "reason" (why the last charge failed), "hard_decline"}``.
        """
        customers = self._omni_api_customers()
        self.env["omni.dunning.case"].check_access("read")
        cases = self.env["omni.dunning.case"].search(
            [
                ("partner_id", "in", customers.ids),
                ("company_id", "=", self.env.company.id),
                ("state", "!=", "resolved"),
            ]
        )
        result = []
        for customer in customers:
            case = cases.filtered(lambda c, p=customer: c.partner_id == p)[:1]
            result.append(
                {
                    "customer_id": customer.id,
                    "payment_mode": customer.omni_payment_mode,
                    "state": customer.omni_dunning_state,
                    "case_state": case.state or False,
                    "amount_due": case.amount_due if case else 0.0,
                    "currency": (case.currency_id or self.env.company.currency_id).name,
                    "since": fields.Date.to_string(case.started_on) if case else False,
                    "day": case.day if case else 0,
                    "last_attempt": (
                        fields.Datetime.to_string(case.last_attempt_on)
                        if case.last_attempt_on
                        else False
                    ),
                    "reason": case.decline_reason or "",
                    "hard_decline": bool(case.hard_decline),
                }
            )
        return result
