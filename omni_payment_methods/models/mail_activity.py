# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

# What people write in an activity planned on a document (a note to a colleague).
GUARDED_FIELDS = ("summary", "note")


class MailActivity(models.Model):
    _inherit = "mail.activity"

    @api.model_create_multi
    def create(self, vals_list):
        """Mask card numbers in activities before they are stored (see omni.pan.guard)."""
        guard = self.env["omni.pan.guard"]
        masked = {}
        if guard._omni_enabled():
            for index, vals in enumerate(vals_list):
                names = guard._omni_mask_vals(self, vals, GUARDED_FIELDS)
                if names:
                    masked[index] = names
        activities = super().create(vals_list)
        for index, names in masked.items():
            activities[index]._omni_pan_masked(names)
        return activities

    def write(self, vals):
        guard = self.env["omni.pan.guard"]
        names = []
        if guard._omni_enabled():
            vals = dict(vals)
            names = guard._omni_mask_vals(self, vals, GUARDED_FIELDS)
        res = super().write(vals)
        for activity in self if names else self.browse():
            activity._omni_pan_masked(names)
        return res

    def _omni_pan_masked(self, names):
        self.ensure_one()
        labels = [self._fields[name].string for name in names]
        document = self.env["omni.pan.guard"].browse()
        if self.res_model and self.res_id and self.res_model in self.env:
            # sudo: the note goes on the activity's document whoever planned the activity.
            document = self.env[self.res_model].sudo().browse(self.res_id).exists()
        self.env["omni.pan.guard"]._omni_tell_author(document, labels)
