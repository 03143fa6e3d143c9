# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailMessage(models.Model):
    """Card numbers masked in every message before it is stored: the single point every
    chatter message, note, received email (the mail gateway ends in ``message_post``) and
    portal comment goes through, on any document; editing a message (chatter or portal
    edit) is guarded like posting one."""

    _name = "mail.message"
    _inherit = ["mail.message", "omni.pan.guarded"]

    _omni_pan_fields = ("body", "subject")

    def _omni_pan_document(self):
        self.ensure_one()
        return self._omni_pan_related_document(self.model, self.res_id)

    def _omni_pan_incoming(self):
        return self.message_type == "email"
