# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import reminders as reminders_lib
from .omni_payment_reminder import OFFSETS_PARAM
from .omni_payment_setup import (
    DEFAULT_MAX_METHODS,
    DEFAULT_SETUP_MAX_ATTEMPTS,
    DEFAULT_SETUP_WINDOW_MINUTES,
    MAX_BANK_ACCOUNTS_PARAM,
    MAX_CARDS_PARAM,
    SETUP_MAX_ATTEMPTS_PARAM,
    SETUP_WINDOW_PARAM,
)

#: the global rule that keeps every user but payment method viewers to their own
#: commercial entity's saved methods (security/payment_token_rules.xml)
RESTRICT_RULE = "omni_payment_methods.payment_token_rule_commercial_entity"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    omni_reminder_offsets = fields.Char(
        string="Expiry Reminders",
        config_parameter=OFFSETS_PARAM,
        default=reminders_lib.format_offsets(reminders_lib.DEFAULT_OFFSETS),
        help="Days before a saved card expires when its holder is reminded, separated by "
        "commas; 0 is the day it expires.",
    )

    omni_max_cards = fields.Integer(
        string="Maximum Saved Cards",
        config_parameter=MAX_CARDS_PARAM,
        default=DEFAULT_MAX_METHODS,
        help="Cards a customer may keep on file (0: no limit).",
    )
    omni_max_bank_accounts = fields.Integer(
        string="Maximum Saved Bank Accounts",
        config_parameter=MAX_BANK_ACCOUNTS_PARAM,
        default=DEFAULT_MAX_METHODS,
        help="Bank accounts a customer may keep on file (0: no limit).",
    )
    omni_setup_max_attempts = fields.Integer(
        string="Attempts to Add a Method",
        config_parameter=SETUP_MAX_ATTEMPTS_PARAM,
        default=DEFAULT_SETUP_MAX_ATTEMPTS,
        help="Card-testing protection: unsuccessful attempts to add a payment method allowed "
        "per customer and per IP address within the window (0: no limit).",
    )
    omni_setup_window_minutes = fields.Integer(
        string="Attempt Window (minutes)",
        config_parameter=SETUP_WINDOW_PARAM,
        default=DEFAULT_SETUP_WINDOW_MINUTES,
    )

    module_omni_pan_guard = fields.Boolean(
        string="Mask card numbers in messages and notes",
        help="Installs the Card Number Guard: card numbers written in chatter messages, "
        "received emails, activities and customer notes are stored with their first 6 and "
        "last 4 digits only, and the author is told why.",
    )

    omni_restrict_token_access = fields.Boolean(
        string="Saved methods for payment method viewers only",
        default=True,
        help="On: only the Payment Method Viewer and Manager groups see other customers' "
        "saved methods. Off: the groups of other modules that see every saved method "
        "(Invoicing's billing users, Sales' salesmen) see them too, as without this addon.",
    )

    omni_unconfirmed_import_count = fields.Integer(
        string="Methods Saved Before the Install Without Authorization",
        compute="_compute_omni_unconfirmed_import_count",
    )

    def _compute_omni_unconfirmed_import_count(self):
        count = self.env["payment.token"].search_count(self._omni_unconfirmed_import_domain())
        for settings in self:
            settings.omni_unconfirmed_import_count = count

    @api.model
    def _omni_unconfirmed_import_domain(self):
        return [("omni_added_channel", "=", "import"), ("omni_authorized", "=", False)]

    def action_omni_confirm_imported_authorizations(self):
        """Confirm, as the current user, that the customers of every method saved before the
        install agreed to automatic charges (recorded on each method)."""
        tokens = self.env["payment.token"].search(self._omni_unconfirmed_import_domain())
        return tokens.action_omni_confirm_authorization()

    @api.model
    def get_values(self):
        res = super().get_values()
        rule = self._omni_restrict_rule()
        res["omni_restrict_token_access"] = bool(rule.active)
        return res

    @api.model
    def _omni_restrict_rule(self):
        # sudo: settings are admin-only; the rule is read and switched, never shown
        return (
            (self.env.ref(RESTRICT_RULE, raise_if_not_found=False) or self.env["ir.rule"])
            .sudo()
            .with_context(active_test=False)
        )

    @api.constrains("omni_reminder_offsets")
    def _check_omni_reminder_offsets(self):
        for settings in self:
            try:
                reminders_lib.parse_offsets(settings.omni_reminder_offsets)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "Expiry reminders: give whole numbers of days from 0 to 365, separated "
                        "by commas, e.g. '60, 30, 7, 0'. (%(error)s)",
                        error=str(exc),
                    )
                ) from exc

    def set_values(self):
        # Store the offsets in their canonical form ("60, 30, 7, 0").
        for settings in self:
            settings.omni_reminder_offsets = reminders_lib.format_offsets(
                reminders_lib.parse_offsets(settings.omni_reminder_offsets)
            )
        res = super().set_values()
        # The rule itself is switched: its state is the setting (no parameter to disagree).
        rule = self._omni_restrict_rule()
        if rule and rule.active != self[:1].omni_restrict_token_access:
            rule.active = self[:1].omni_restrict_token_access
        return res
