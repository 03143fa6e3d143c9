# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

PAN_GUARD_PARAM = "omni_pan_guard.enabled"


class OmniPanGuard(models.AbstractModel):
    """The guard is on for chatter, activities and customers; the setting "Mask card
    numbers in messages and notes" turns it off."""

    _inherit = "omni.pan.guard"

    @api.model
    def _enabled(self):
        # sudo: every user's text is guarded, whoever may read the settings.
        value = self.env["ir.config_parameter"].sudo().get_param(PAN_GUARD_PARAM, "1")
        return value not in ("0", "False", "false")
