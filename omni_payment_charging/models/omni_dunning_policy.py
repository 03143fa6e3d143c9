# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import dunning as dunning_lib


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
    retry_days = fields.Char(
        default=lambda self: dunning_lib.format_retry_days(dunning_lib.DEFAULT_RETRY_DAYS),
        help="Days of the dunning on which the default method is charged again (day 1 is the "
        "day of the failed charge), e.g. 2, 4, 6, 8, 10, 12, 14: eight tries within two weeks. "
        "The first day of a level that retries is a retry day too. Never after a hard decline, "
        "never before the day a 'retry later' advice names, at most one retry a day, and at "
        "most 15 within 30 days (Visa's limit).",
    )
    bank_max_retries = fields.Integer(
        string="Bank Debit Retries",
        default=dunning_lib.BANK_MAX_REPRESENTMENTS,
        help="A bank debit (SEPA, ACH, Bacs, ACSS) returned for insufficient funds is presented "
        "again on the retry days at most this many times (NACHA allows two). A debit returned "
        "for a closed account or a missing authorization is never presented again.",
    )
    activity_user_id = fields.Many2one(
        comodel_name="res.users",
        string="Staff Responsible",
        domain=[("share", "=", False)],
        help="Who gets the dunning activities. Empty: the customer's salesperson, else the "
        "user running the job.",
    )

    @api.model
    def _for_partner(self, partner, company):
        """The policy that applies to ``partner`` in ``company``."""
        if partner.omni_dunning_policy_id:
            return partner.omni_dunning_policy_id
        return self.search([("company_id", "in", [company.id, False])], limit=1)

    @api.constrains("retry_days", "bank_max_retries", "level_ids")
    def _check_retry_schedule(self):
        """The schedule must be readable and stay within the card networks' retry limits."""
        for policy in self:
            try:
                days = dunning_lib.parse_retry_days(policy.retry_days)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "The retry days of %(policy)s must be whole numbers of days, on day 2 "
                        "or later (day 1 is the day of the failed charge), separated by commas "
                        "(e.g. 2, 4, 6): %(days)s",
                        policy=policy.name,
                        days=policy.retry_days,
                    )
                ) from exc
            days += [level.day for level in policy.level_ids if level.retry_charge]
            most = dunning_lib.most_retries_in_window(days)
            if most > dunning_lib.VISA_MAX_REATTEMPTS:
                raise ValidationError(
                    self.env._(
                        "%(policy)s retries %(count)s times within %(window)s days (its retry "
                        "days and the levels that retry): the card networks allow at most "
                        "%(limit)s retries within %(window)s days (Visa).",
                        policy=policy.name,
                        count=most,
                        limit=dunning_lib.VISA_MAX_REATTEMPTS,
                        window=dunning_lib.VISA_WINDOW_DAYS,
                    )
                )
            if not 0 <= policy.bank_max_retries <= dunning_lib.BANK_MAX_REPRESENTMENTS:
                raise ValidationError(
                    self.env._(
                        "A returned bank debit may be presented again at most %(limit)s times "
                        "(NACHA): %(count)s is not allowed.",
                        limit=dunning_lib.BANK_MAX_REPRESENTMENTS,
                        count=policy.bank_max_retries,
                    )
                )

    def _retry_days(self):
        """The policy's retry days (the levels' retries are added by the plan)."""
        self.ensure_one()
        return dunning_lib.parse_retry_days(self.retry_days)
