# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Omni Card Number Masking (base)",
    "summary": "Technical: find and mask card numbers in text, for the models that take it",
    # no series: Odoo 18.0 and 19.0 both read it as <series>.1.0.0 (adapt_version)
    "version": "1.0.0",
    "category": "Hidden/Tools",
    "website": "https://github.com/omni-payment-methods/omni_payment_methods",
    "author": "omni_payment_methods contributors",
    "license": "LGPL-3",
    "depends": ["mail"],
}
