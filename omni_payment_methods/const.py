# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Names the models, controllers and wizards share (no Odoo import)."""

# Groups
VIEWER_GROUP = "omni_payment_methods.group_omni_payment_method_viewer"
MANAGER_GROUP = "omni_payment_methods.group_omni_payment_method_manager"

# Emailed links (omni.payment.link)
#: the page of a link to the customer's payment methods
LINK_ROUTE = "/omni/payment_methods"
#: what the chatter copy of an email shows instead of a link's secret (an "invalid link")
LINK_REDACTED = "sent-by-email"
#: what a rendering that sends nothing shows instead of a link's secret (a template's
#: preview, the check Odoo 19.0 renders when a template is saved): no link is issued for it
LINK_PREVIEW = "issued-when-sent"
#: context key set by the code that sends an email: its rendering issues real links
SEND_LINKS = "omni_send_links"
#: context key: links issued beforehand for the emails being rendered ({record id: secret}),
#: so that a batch of emails issues its links in one insert
ISSUED_LINKS = "omni_issued_links"

# Stripe
#: environment variable of the Odoo server naming a Stripe-compatible development server
#: (localstripe) that providers in test mode talk to instead of Stripe; a server-level
#: setting: nothing in the database, never used by a provider in production mode
DEV_API_BASE_ENV = "OMNI_STRIPE_API_BASE"
#: the webhook events of this prefix are handled by the addon, never by payment_stripe
OMNI_WEBHOOK_EVENT_PREFIX = "payment_method."
#: SetupIntent events: those of the addon's own SetupIntents (bank accounts awaiting
#: micro-deposit verification) are handled by the addon, the others by payment_stripe
SETUP_EVENT_PREFIX = "setup_intent."
