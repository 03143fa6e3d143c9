# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Omni Payment Methods",
    "summary": "Customers' saved Stripe cards and bank debits: defaults, expiry, audit, "
    "access control",
    # no series: Odoo 18.0 and 19.0 both read it as <series>.1.0.1 (adapt_version)
    "version": "1.2.0",
    "category": "Accounting/Payment Providers",
    "website": "https://github.com/omni-payment-methods/omni_payment_methods",
    "author": "omni_payment_methods contributors",
    "license": "LGPL-3",
    "depends": [
        "payment_stripe",
        "account_payment",
        "portal",
        "mail",
        "contacts",
        "omni_pan_base",
    ],
    "external_dependencies": {"python": ["stripe", "openupgradelib"]},
    "data": [
        "security/omni_payment_methods_groups.xml",
        "security/ir.model.access.csv",
        "security/payment_token_rules.xml",
        "security/omni_payment_methods_rules.xml",
        "data/mail_template_data.xml",
        "data/ir_cron_data.xml",
        "views/payment_token_views.xml",
        "views/res_partner_views.xml",
        "views/payment_provider_views.xml",
        "views/omni_payment_reminder_views.xml",
        "views/res_config_settings_views.xml",
        "views/portal_templates.xml",
        "views/omni_stripe_event_views.xml",
        "views/omni_payment_audit_views.xml",
        "wizards/payment_token_delete_wizard_views.xml",
        "views/omni_payment_methods_menus.xml",
        "views/omni_payment_setup_views.xml",
        "data/payment_method_data.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "omni_payment_methods/static/src/js/stripe_setup.js",
            "omni_payment_methods/static/src/js/portal_add_payment_method.js",
        ],
        "web.assets_backend": [
            "omni_payment_methods/static/src/js/staff_add_payment_method.js",
            "omni_payment_methods/static/src/xml/staff_add_payment_method.xml",
        ],
    },
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/payment_token_demo.xml",
    ],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "images": ["static/description/screenshot_partner_payment_methods.png"],
}
