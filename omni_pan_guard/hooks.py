# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def uninstall_hook(env):
    """Remove the module's settings kept as system parameters (they have no xml id, so
    Odoo's uninstall would leave them)."""
    env["ir.config_parameter"].search([("key", "=like", "omni_pan_guard.%")]).unlink()
