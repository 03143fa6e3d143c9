# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.exceptions import AccessError

from ..const import MANAGER_GROUP


class ResUsers(models.Model):
    _inherit = "res.users"

    def _omni_is_payment_manager(self):
        """The user is a manager of saved payment methods (may charge, change, delete)."""
        self.ensure_one()
        return self.has_group(MANAGER_GROUP)

    def _omni_check_payment_manager(self, message=None):
        """Refuse what only managers of saved payment methods may do.

        :param str message: the translated refusal, naming what was refused
        :raise AccessError: the user is not a manager
        """
        if not self._omni_is_payment_manager():
            raise AccessError(
                message
                or self.env._(
                    "Only payment method managers may do this (group 'Saved Payment "
                    "Methods / Manager')."
                )
            )
