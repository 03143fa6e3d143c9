# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# Each feature's part of a charge lives with the feature and extends the engine, which
# names none of them (the outcome hook): not merged into the engine's class, on purpose.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models

from .omni_charge_attempt import NO_DUNNING_ORIGINS

# Charges that wait for a new payment method after a hard decline (lost or stolen card,
# closed account): the card networks penalize retrying those. Staff taking a payment with
# the customer and a manager's "Retry now" decide for themselves.
HARD_DECLINE_GUARDED_ORIGINS = ("auto", "bulk", "installment")


class OmniChargeAttempt(models.Model):
    """What the dunning adds to the charging engine: a failed charge opens or updates the
    customer's case, a payment may resolve it, and a hard decline holds the next charges
    back until the method changes."""

    _inherit = "omni.charge.attempt"

    case_id = fields.Many2one(
        comodel_name="omni.dunning.case", string="Dunning", readonly=True, index="btree_not_null"
    )

    @api.model
    def _charge_blocked_reason(self, invoice, origin, batch=None):
        """Override: after a hard decline, the customer's next charges wait for a new
        payment method."""
        reason = super()._charge_blocked_reason(invoice, origin, batch=batch)
        if reason or origin not in HARD_DECLINE_GUARDED_ORIGINS:
            return reason
        if batch is not None and "hard_declined" in batch:
            declined = (
                invoice.commercial_partner_id.id,
                invoice.company_id.id,
            ) in batch["hard_declined"]
        else:
            declined = self._hard_declined(invoice)
        return self._hard_decline_reason() if declined else ""

    @api.model
    def _charge_batch_prefetch(self, invoices):
        """Override: the customers of the batch whose open dunning stopped on a hard decline,
        in one query (``hard_declined``: a set of (commercial partner id, company id))."""
        batch = super()._charge_batch_prefetch(invoices)
        cases = self.env["omni.dunning.case"].search(
            [
                ("partner_id", "in", invoices.commercial_partner_id.ids),
                ("company_id", "in", invoices.company_id.ids),
                ("state", "!=", "resolved"),
                ("hard_decline", "=", True),
            ]
        )
        batch["hard_declined"] = {(case.partner_id.id, case.company_id.id) for case in cases}
        return batch

    @api.model
    def _hard_declined(self, invoice):
        """The customer's open dunning stopped on a hard decline (lost card, closed account):
        the same method is not charged again for new invoices either."""
        return bool(self._hard_declined_partners(invoice.commercial_partner_id, invoice.company_id))

    @api.model
    def _hard_declined_partners(self, partners, company):
        """Those of ``partners`` (commercial entities) whose open dunning in ``company``
        stopped on a hard decline, in one query."""
        cases = self.env["omni.dunning.case"].search(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "=", company.id),
                ("state", "!=", "resolved"),
                ("hard_decline", "=", True),
            ]
        )
        return cases.partner_id

    @api.model
    def _hard_decline_reason(self):
        return self.env._(
            "A charge of this customer was declined for good: waiting for a new payment "
            "method before charging again."
        )

    def _on_charge_outcome(self):
        """Override: paid, the customer's dunning case is checked for resolution; declined,
        skipped, in error or waiting for the customer, the charge opens or updates the
        customer's case (not for the charges staff see at once, ``NO_DUNNING_ORIGINS``)."""
        res = super()._on_charge_outcome()
        Case = self.env["omni.dunning.case"]
        for attempt in self:
            if attempt.state == "done":
                if not attempt.case_id._check_resolved():
                    attempt.case_id._stop_waiting()
            elif (
                attempt.state in ("failed", "error", "skipped", "requires_action")
                and attempt.origin not in NO_DUNNING_ORIGINS
            ):
                Case._register_failure(attempt)
        return res
