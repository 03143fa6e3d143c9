# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError


class OmniRateLimited(UserError):
    """Too many attempts to add a payment method (card-testing protection)."""
