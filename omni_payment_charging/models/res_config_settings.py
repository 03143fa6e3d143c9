# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .omni_charge_attempt import (
    CONCURRENCY_PARAM,
    DEFAULT_CONCURRENCY,
    DEFAULT_LANES,
    LANES_PARAM,
    MAX_CONCURRENCY,
    MAX_LANES,
)
from .omni_stripe_pacing import RATE_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    omni_charge_lanes = fields.Integer(
        string="Charging Lanes",
        config_parameter=LANES_PARAM,
        default=DEFAULT_LANES,
        help="Scheduled actions charging due invoices in parallel (each takes other "
        "invoices). Odoo runs as many at once as it has cron threads over all its servers.",
    )
    omni_charge_concurrency = fields.Integer(
        string="Stripe Requests at Once per Worker",
        config_parameter=CONCURRENCY_PARAM,
        default=DEFAULT_CONCURRENCY,
        help="Charges of a batch whose requests are sent to Stripe at the same time, so that "
        "a worker does not wait for each answer in turn.",
    )
    omni_stripe_requests_per_second = fields.Integer(
        string="Stripe Requests per Second",
        config_parameter=RATE_PARAM,
        default=0,
        help="Ceiling of the charging requests per second to each Stripe account, shared by "
        "all workers and servers (0: four fifths of Stripe's limit, i.e. 80 in live mode, 20 "
        "in test mode).",
    )

    @api.constrains("omni_charge_lanes", "omni_charge_concurrency")
    def _check_omni_charging_scale(self):
        for settings in self:
            if not 1 <= settings.omni_charge_lanes <= MAX_LANES:
                raise ValidationError(
                    self.env._(
                        "Charging lanes: from 1 to %(max)s.",
                        max=MAX_LANES,
                    )
                )
            if not 1 <= settings.omni_charge_concurrency <= MAX_CONCURRENCY:
                raise ValidationError(
                    self.env._(
                        "Stripe requests at once per worker: from 1 to %(max)s.",
                        max=MAX_CONCURRENCY,
                    )
                )

    def set_values(self):
        res = super().set_values()
        # The lanes are scheduled actions: created, woken or archived to match the setting.
        self.env["omni.charge.attempt"]._set_lanes(self[:1].omni_charge_lanes)
        return res
