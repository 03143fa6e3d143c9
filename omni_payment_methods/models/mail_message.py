# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

# What people write in a message: the body (HTML) and the subject.
GUARDED_FIELDS = ("body", "subject")


class MailMessage(models.Model):
    _inherit = "mail.message"

    @api.model_create_multi
    def create(self, vals_list):
        """Mask card numbers in every message before it is stored.

        The single point every chatter message, note, received email (the mail gateway
        ends in ``message_post``) and portal comment goes through, on any document.
        """
        guard = self.env["omni.pan.guard"]
        masked = {}
        # No context key switches the guard off: a client's context reaches create()
        # through /mail/message/post. The guard's own notes hold no card number.
        if guard._omni_enabled():
            for index, vals in enumerate(vals_list):
                names = guard._omni_mask_vals(self, vals, GUARDED_FIELDS)
                if names:
                    masked[index] = names
        messages = super().create(vals_list)
        for index, names in masked.items():
            self._omni_pan_masked(messages[index], names)
        return messages

    def write(self, vals):
        """Editing a message (chatter edit, portal edit) is guarded like posting one."""
        guard = self.env["omni.pan.guard"]
        names = []
        if guard._omni_enabled():
            vals = dict(vals)
            names = guard._omni_mask_vals(self, vals, GUARDED_FIELDS)
        res = super().write(vals)
        for message in self if names else self.browse():
            self._omni_pan_masked(message, names)
        return res

    @api.model
    def _omni_pan_masked(self, message, names):
        labels = [self._fields[name].string for name in names]
        document = self.env["omni.pan.guard"].browse()
        if message.model and message.res_id and message.model in self.env:
            # sudo: the note goes on the message's document whoever wrote the message.
            document = self.env[message.model].sudo().browse(message.res_id).exists()
        self.env["omni.pan.guard"]._omni_tell_author(
            document, labels, incoming=message.message_type == "email"
        )
