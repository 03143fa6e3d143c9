# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Omni Card Number Guard",
    "summary": "Mask card numbers written in chatter, emails received, activities and "
    "customers' notes",
    # no series: Odoo 18.0 and 19.0 both read it as <series>.1.0.0 (adapt_version)
    "version": "1.0.0",
    "category": "Productivity/Discuss",
    "website": "https://github.com/omni-payment-methods/omni_payment_methods",
    "author": "omni_payment_methods contributors",
    "license": "LGPL-3",
    "depends": ["omni_pan_base"],
    "uninstall_hook": "uninstall_hook",
}
