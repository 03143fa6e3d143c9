# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import binascii
import datetime

from odoo import api, fields, models
from odoo.tools import hash_sign, verify_hash_signed

LINK_SCOPE = "omni_payment_methods.payment_methods_link"
LINK_VALIDITY_DAYS = 30
LINK_ROUTE = "/omni/payment_methods"

# Text fields of a customer where people may paste a card number (notes, addresses, names
# typed in the portal's account form, the invoice warning). Phone fields are guarded too,
# leaving numbers written with their "+" or 0 prefix alone (see lib/pan.py). Structured
# identifiers are left out: VAT, zip, barcode (an EAN-13 may pass the Luhn check), and the
# technical signup_type / invoice_edi_format_store.
PAN_GUARDED_FIELDS = (
    "comment",
    "name",
    "company_name",
    "street",
    "street2",
    "city",
    "function",
    "ref",
    "email",
    "website",
    "additional_info",
    "invoice_warn_msg",
    "phone",
    "mobile",
)
PAN_PHONE_FIELDS = ("phone", "mobile")


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

    # === CARD NUMBER GUARD === #

    @api.model_create_multi
    def create(self, vals_list):
        masked = [self._omni_mask_card_numbers(vals) for vals in vals_list]
        partners = super().create(vals_list)
        for partner, names in zip(partners, masked, strict=True):
            partner._omni_card_numbers_masked(names)
        return partners

    def write(self, vals):
        vals = dict(vals)
        names = self._omni_mask_card_numbers(vals)
        res = super().write(vals)
        for partner in self if names else self.browse():
            partner._omni_card_numbers_masked(names)
        return res

    @api.model
    def _omni_mask_card_numbers(self, vals):
        """Mask card numbers in the free-text values of ``vals``; return the fields masked."""
        guard = self.env["omni.pan.guard"]
        if not guard._omni_enabled():
            return []
        return guard._omni_mask_vals(self, vals, PAN_GUARDED_FIELDS, PAN_PHONE_FIELDS)

    def _omni_card_numbers_masked(self, names):
        if names:
            labels = [self._fields[name].string for name in names]
            self.env["omni.pan.guard"]._omni_tell_author(self, labels)

    # === SIGNED LINK TO THE CUSTOMER'S PAYMENT METHODS === #

    def _omni_payment_methods_url(self, validity_days=LINK_VALIDITY_DAYS):
        """Signed, expiring link to the customer's payment methods (no account needed)."""
        self.ensure_one()
        if not self.id:
            return False
        # sudo: signing reads the database secret.
        payload = hash_sign(
            self.sudo().env,
            LINK_SCOPE,
            {"p": self.commercial_partner_id.id},
            expiration=datetime.timedelta(days=validity_days),
        )
        return f"{self.get_base_url()}{LINK_ROUTE}/{payload}"

    @api.model
    def _omni_partner_from_link(self, payload):
        """Return the customer a signed link is for, or an empty recordset if it is invalid,
        tampered with or expired."""
        try:
            # sudo: verifying reads the database secret.
            values = verify_hash_signed(self.sudo().env, LINK_SCOPE, payload or "")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            values = None
        if not isinstance(values, dict) or not isinstance(values.get("p"), int):
            return self.browse()
        return self.browse(values["p"]).exists()

    # === ACTIONS === #

    def action_omni_sync_stripe(self):
        """Fetch the current details of this customer's Stripe methods."""
        self.ensure_one()
        tokens = self.env["payment.token"].search(
            [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("provider_id.code", "=", "stripe"),
            ]
        )
        return tokens.action_omni_sync_from_stripe()
