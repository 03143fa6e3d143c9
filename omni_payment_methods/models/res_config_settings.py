# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import reminders as reminders_lib
from .omni_payment_reminder import OFFSETS_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    omni_reminder_offsets = fields.Char(
        string="Expiry Reminders",
        config_parameter=OFFSETS_PARAM,
        default=reminders_lib.format_offsets(reminders_lib.DEFAULT_OFFSETS),
        help="Days before a saved card expires when its holder is reminded, separated by "
        "commas; 0 is the day it expires.",
    )

    @api.constrains("omni_reminder_offsets")
    def _check_omni_reminder_offsets(self):
        for settings in self:
            try:
                reminders_lib.parse_offsets(settings.omni_reminder_offsets)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "Expiry reminders: give whole numbers of days from 0 to 365, separated "
                        "by commas, e.g. '60, 30, 7, 0'. (%(error)s)",
                        error=str(exc),
                    )
                ) from exc

    def set_values(self):
        # Store the offsets in their canonical form ("60, 30, 7, 0").
        for settings in self:
            settings.omni_reminder_offsets = reminders_lib.format_offsets(
                reminders_lib.parse_offsets(settings.omni_reminder_offsets)
            )
        return super().set_values()
