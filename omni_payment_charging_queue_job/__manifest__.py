# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Omni Payment Charging on the Job Queue",
    "summary": "Glue: automatic and bulk charges run as queue_job jobs across every worker",
    # no series: Odoo 18.0 and 19.0 both read it as <series>.1.0.0 (adapt_version)
    "version": "1.0.0",
    "category": "Hidden",
    "website": "https://github.com/omni-payment-methods/omni_payment_methods",
    "author": "omni_payment_methods contributors",
    "license": "LGPL-3",
    "depends": ["omni_payment_charging", "queue_job"],
    "data": ["data/queue_job_data.xml"],
    "auto_install": True,
}
