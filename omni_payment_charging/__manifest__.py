# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Omni Payment Charging",
    "summary": "Charge customers' saved Stripe methods automatically: dunning, Make a payment, "
    "installments, bulk charges",
    # no series: Odoo 18.0 and 19.0 both read it as <series>.1.0.0 (adapt_version)
    "version": "1.0.0",
    "category": "Accounting/Payment Providers",
    "website": "https://github.com/omni-payment-methods/omni_payment_methods",
    "author": "omni_payment_methods contributors",
    "license": "LGPL-3",
    "depends": ["omni_payment_methods"],
    "external_dependencies": {"python": ["stripe"]},
    "data": [
        "security/ir.model.access.csv",
        "security/omni_payment_charging_rules.xml",
        "data/mail_template_dunning_data.xml",
        "data/omni_dunning_policy_data.xml",
        "data/ir_cron_data.xml",
        "views/omni_dunning_views.xml",
        "wizards/omni_make_payment_wizard_views.xml",
        "views/res_partner_dunning_views.xml",
        "views/omni_charge_attempt_failed_views.xml",
        "views/omni_bulk_charge_views.xml",
        "views/omni_installment_views.xml",
        "views/portal_templates.xml",
        "views/res_config_settings_views.xml",
        "views/omni_payment_charging_menus.xml",
        "data/omni_bulk_charge_data.xml",
        "wizards/omni_bulk_charge_wizard_views.xml",
        "data/mail_template_installment_data.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "omni_payment_charging/static/src/js/portal_authenticate_payment.js",
        ],
        "web.assets_backend": [
            "omni_payment_charging/static/src/js/bulk_charge_progress.js",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "images": ["static/description/screenshot_dunning.png"],
}
