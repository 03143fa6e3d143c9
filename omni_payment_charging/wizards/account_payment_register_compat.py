# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Register Payment with a saved method, for billing users who are not viewers (18.0, 19.0).

account_payment lists the customer's tokens in the wizard from a search in sudo. On 18.0
that list is assigned as it is; 19.0 also checks that the user may read each token it
assigns, and the addon's global rule (own commercial entity unless viewer) then makes the
wizard fail for a billing user paying a customer's invoice. The list is computed in sudo on
both series, which is what 18.0 did: the wizard offers the tokens of the invoice's customer,
as Odoo intends, and nothing else becomes readable.
"""

from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _compute_suitable_payment_token_ids(self):
        """Override of `account_payment`: compute the list in sudo (see the module's
        docstring); the values land in the cache the wizard reads."""
        # sudo: account_payment searches the tokens in sudo already; 19.0 would refuse to
        # assign those of another commercial entity to a billing user's wizard.
        return super(AccountPaymentRegister, self.sudo())._compute_suitable_payment_token_ids()
