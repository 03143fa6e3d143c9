# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    omni_payment_token_ids = fields.One2many(
        comodel_name="payment.token",
        string="Payment Methods",
        compute="_compute_omni_payment_token_ids",
        help="The saved payment methods of the customer (the commercial entity and all its "
        "contacts).",
    )
    omni_has_card = fields.Boolean(
        string="Has saved card",
        compute="_compute_omni_has_methods",
        search="_search_omni_has_card",
    )
    omni_has_bank_account = fields.Boolean(
        string="Has saved bank account",
        compute="_compute_omni_has_methods",
        search="_search_omni_has_bank_account",
    )

    @api.depends("commercial_partner_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_omni_payment_token_ids(self):
        tokens = self.env["payment.token"].search(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
            order="is_default desc, added_on desc, id desc",
        )
        for partner in self:
            partner.omni_payment_token_ids = tokens.filtered(
                lambda t, p=partner: t.commercial_partner_id == p.commercial_partner_id
            )

    @api.depends("commercial_partner_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_omni_has_methods(self):
        groups = self.env["payment.token"]._read_group(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
            ["commercial_partner_id", "method_kind"],
        )
        kinds = {(partner.id, kind) for partner, kind in groups}
        for partner in self:
            commercial_id = partner.commercial_partner_id.id
            partner.omni_has_card = (commercial_id, "card") in kinds
            partner.omni_has_bank_account = (commercial_id, "bank") in kinds

    def _omni_search_has_kind(self, kind, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        positive = (operator == "=") == bool(value)
        # The customer and all its contacts match when the customer has such a method.
        query = self.env["payment.token"]._search([("method_kind", "=", kind)])
        domain = [("commercial_partner_id", "in", query.subselect("commercial_partner_id"))]
        return domain if positive else ["!", *domain]

    def _search_omni_has_card(self, operator, value):
        return self._omni_search_has_kind("card", operator, value)

    def _search_omni_has_bank_account(self, operator, value):
        return self._omni_search_has_kind("bank", operator, value)
