# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class OmniDunningPolicy(models.Model):
    _name = "omni.dunning.policy"
    _description = "Dunning Policy"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        help="Leave empty to use the policy in every company.",
    )
    level_ids = fields.One2many(
        comodel_name="omni.dunning.level",
        inverse_name="policy_id",
        string="Levels",
        copy=True,
    )
    activity_user_id = fields.Many2one(
        comodel_name="res.users",
        string="Staff Responsible",
        domain=[("share", "=", False)],
        help="Who gets the dunning activities. Empty: the customer's salesperson, else the "
        "user running the job.",
    )

    @api.model
    def _omni_for_partner(self, partner, company):
        """The policy that applies to ``partner`` in ``company``."""
        if partner.omni_dunning_policy_id:
            return partner.omni_dunning_policy_id
        return self.search([("company_id", "in", [company.id, False])], limit=1)
