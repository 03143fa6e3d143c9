# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from odoo.addons.omni_payment_methods.compat import orm as compat_orm

from ..lib import dunning as dunning_lib

STAGES = [
    ("grace", "Grace period"),
    ("warning", "Warning"),
    ("suspended", "Suspended"),
    ("terminated", "Terminated / collections"),
]


@compat_orm.sql_constraints(
    ("day_positive", "CHECK(day >= 1)", "A dunning level starts on day 1 or later."),
)
class OmniDunningLevel(models.Model):
    _name = "omni.dunning.level"
    _description = "Dunning Level"
    _order = "policy_id, day, id"

    policy_id = fields.Many2one(
        comodel_name="omni.dunning.policy", required=True, ondelete="cascade", index=True
    )
    name = fields.Char(required=True, translate=True)
    day = fields.Integer(
        string="From Day",
        required=True,
        default=1,
        help="Day of the dunning case this level starts on: the day of the failed charge is day 1.",
    )
    stage = fields.Selection(
        selection=STAGES,
        required=True,
        help="The state the customer is in at this level (other modules can react to it).",
    )
    retry_charge = fields.Boolean(
        string="Retry the Charge",
        help="Charge the default method again on entering the level (never after a hard "
        "decline until the method changes), besides the policy's retry days. The level's "
        "email and activity only go out if this attempt fails.",
    )
    mail_template_id = fields.Many2one(
        comodel_name="mail.template",
        string="Email",
        domain=[("model", "=", "omni.dunning.case")],
    )
    create_activity = fields.Boolean(string="Activity for Staff")
    activity_summary = fields.Char(translate=True)

    @api.constrains("day", "retry_charge", "policy_id")
    def _check_policy_retry_schedule(self):
        """A level that retries adds a retry day: the policy's schedule is checked again."""
        self.policy_id._check_retry_schedule()

    def _as_plan_level(self):
        return dunning_lib.Level(day=self.day, retry=self.retry_charge)
