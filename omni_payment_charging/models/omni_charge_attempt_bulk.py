# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# Each feature's part of a charge lives with the feature and extends the engine, which
# names none of them (the outcome hook): not merged into the engine's class, on purpose.
# pylint: disable=consider-merging-classes-inherited
from odoo import models


class OmniChargeAttempt(models.Model):
    """What the bulk charges add to the charging engine: their lines follow the attempts
    Stripe settles later."""

    _inherit = "omni.charge.attempt"

    def _on_charge_outcome(self):
        """Override: the pending lines of bulk charges follow their attempts."""
        res = super()._on_charge_outcome()
        self._sync_bulk_lines()
        return res

    def _sync_bulk_lines(self):
        """The bulk charge lines follow their attempts when Stripe settles them later (a bank
        debit confirmed or failed by a webhook)."""
        bulk = self.filtered(lambda attempt: attempt.origin == "bulk")
        if not bulk:
            return  # the automatic job's hot path: no query
        # sudo: the webhook runs as the public user; only the lines of these attempts change.
        lines = (
            self.env["omni.bulk.charge.line"]
            .sudo()
            .search([("attempt_ids", "in", bulk.ids), ("state", "=", "pending")])
        )
        for line in lines:
            line._update_from_attempts()
            if line.state != "pending":
                line.run_id.message_post(
                    body=self.env._(
                        "%(customer)s: the pending charge is settled (%(state)s).",
                        customer=line.partner_id.display_name,
                        state=dict(line._fields["state"]._description_selection(self.env))[
                            line.state
                        ],
                    )
                )
