# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError


class OmniRateLimited(UserError):
    """Too many attempts to add a payment method (card-testing protection)."""


class OmniBatchStop(Exception):
    """Raised by a batch job's crash callback (``omni.batch.mixin``) to end the batch: the
    records left wait for the next run (a service the job needs is down)."""
