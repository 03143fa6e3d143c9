# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailActivity(models.Model):
    """Card numbers masked in activities before they are stored (see omni.pan.guarded)."""

    _name = "mail.activity"
    _inherit = ["mail.activity", "omni.pan.guarded"]

    _omni_pan_fields = ("summary", "note")

    def _omni_pan_document(self):
        self.ensure_one()
        return self._omni_pan_related_document(self.res_model, self.res_id)
