# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Names the charging models, controllers and wizards share (no Odoo import)."""

#: the page of a link to authenticate a payment (3-D Secure off-session)
AUTHENTICATION_ROUTE = "/omni/pay"
