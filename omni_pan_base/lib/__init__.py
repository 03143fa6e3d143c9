# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Plain-Python helpers of omni_pan_base.

Nothing in this package imports ``odoo``: the top-level ``tests/`` test it without Odoo.
"""
