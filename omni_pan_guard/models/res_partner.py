# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

# Text fields of a customer where people may paste a card number (notes, addresses, names
# typed in the portal's account form, the invoice warning). Phone fields are guarded too,
# leaving numbers written with their "+" or 0 prefix alone (see omni_pan_base/lib/pan.py).
# Structured identifiers are left out: VAT, zip, barcode (an EAN-13 may pass the Luhn
# check), and the technical signup_type / invoice_edi_format_store.
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
    "mobile",  # Odoo 18.0 only (19.0 removed it): a field the model lacks is skipped
)
PAN_PHONE_FIELDS = ("phone", "mobile")


class ResPartner(models.Model):
    """The card number guard (omni.pan.guarded) on the customer's free text."""

    _name = "res.partner"
    _inherit = ["res.partner", "omni.pan.guarded"]

    _omni_pan_fields = PAN_GUARDED_FIELDS
    _omni_pan_phone_fields = PAN_PHONE_FIELDS
