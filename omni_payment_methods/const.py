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

# Emails to customers (expiry reminders, a method added by staff)
#: the values of a mail.template rendered for an email the company posts to its customer
EMAIL_RENDER_FIELDS = ("subject", "body_html", "email_from")

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

# Saved payment methods (payment.token)
#: how a method was added (payment.token.added_channel, omni.payment.setup.channel)
CHANNELS = [
    ("portal", "Customer portal"),
    ("checkout", "Online payment"),
    ("staff", "Staff (phone)"),
    ("link", "Emailed link"),
    ("api", "External API"),
    ("import", "Existing before install"),
]

# Fields that describe the stored method itself: they only change through the addon's own
# private path (``_omni_system_write``: a synchronization with Stripe, the consent recorded
# when the method is saved), never by hand nor by a context key a caller could pass. To
# change a card, add a new one and delete the old one.
IMMUTABLE_FIELDS = frozenset(
    {
        "provider_id",
        "payment_method_id",
        "partner_id",
        "provider_ref",
        "payment_details",
        "stripe_payment_method",
        "stripe_mandate",
        "omni_method_kind",
        "omni_stripe_pm_type",
        "omni_card_brand",
        "omni_card_exp_month",
        "omni_card_exp_year",
        "omni_holder_name",
        "omni_card_funding",
        "omni_card_country_id",
        "omni_fingerprint",
        "omni_card_wallet",
        "omni_bank_name",
        "omni_mandate_reference",
        "omni_mandate_status",
        "omni_added_on",
        "omni_added_by_id",
        "omni_added_channel",
        "omni_consent_text",
        "omni_consent_version",
        "omni_authorized_on",
        "omni_authorized_by_id",
        # Which Stripe state the details reflect: a forged time would make every later
        # event of Stripe look stale.
        "omni_stripe_state_at",
        "omni_stripe_sync_state",
        "omni_awaiting_verification",
    }
)
# The only immutable field a write may fill while it is empty: Odoo's own migration of
# pre-SCA Stripe tokens (payment_stripe, _stripe_sca_migrate_customer) sets it that way.
FILLABLE_FIELDS = frozenset({"stripe_payment_method"})

# Version of the consent wording the addon shows; stored with each authorization so that a
# later change of the wording does not rewrite what a customer accepted.
CONSENT_VERSION = "2026-11"
