# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

import stripe

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, frozendict
from odoo.tools.sql import create_index

from odoo.addons.omni_pan_base.lib import pan as pan_lib
from odoo.addons.payment_stripe import const as stripe_const

from ..const import ISSUED_LINKS, SEND_LINKS
from ..exceptions import OmniBatchStop
from ..lib import consent as consent_lib
from ..lib import expiry as expiry_lib
from ..lib import reminders as reminders_lib
from ..lib import stripe_api, token_values

_logger = logging.getLogger(__name__)

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
        "method_kind",
        "stripe_pm_type",
        "card_brand",
        "card_exp_month",
        "card_exp_year",
        "holder_name",
        "card_funding",
        "card_country_id",
        "fingerprint",
        "card_wallet",
        "bank_name",
        "omni_mandate_reference",
        "omni_mandate_status",
        "added_on",
        "added_by_id",
        "added_channel",
        "omni_consent_text",
        "omni_consent_version",
        "omni_authorized_on",
        "omni_authorized_by_id",
        # Which Stripe state the details reflect: a forged time would make every later
        # event of Stripe look stale.
        "stripe_state_at",
        "stripe_sync_state",
        "omni_awaiting_verification",
    }
)
# The only immutable field a write may fill while it is empty: Odoo's own migration of
# pre-SCA Stripe tokens (payment_stripe, _stripe_sca_migrate_customer) sets it that way.
FILLABLE_FIELDS = frozenset({"stripe_payment_method"})

# Version of the consent wording the addon shows; stored with each authorization so that a
# later change of the wording does not rewrite what a customer accepted.
CONSENT_VERSION = "2026-11"

REMINDER_RENDER_FIELDS = ("subject", "body_html", "email_from")

# Stripe errors about one method (the others may still synchronize); any other error
# (unreachable, timeout, 5xx, rate limit, credentials) is Stripe's and stops a run.
TOKEN_ERRORS = (stripe_api.ERROR_NOT_FOUND, stripe_api.ERROR_INVALID, stripe_api.ERROR_CARD)

CHANNELS = [
    ("portal", "Customer portal"),
    ("checkout", "Online payment"),
    ("staff", "Staff (phone)"),
    ("link", "Emailed link"),
    ("api", "External API"),
    ("import", "Existing before install"),
]


class PaymentToken(models.Model):
    _name = "payment.token"
    _inherit = ["payment.token", "omni.batch.mixin"]

    commercial_partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
        help="The commercial entity the method belongs to: defaults are per customer.",
    )
    nickname = fields.Char(help="A name the customer gives the method, e.g. 'Company Visa'.")
    is_default = fields.Boolean(
        string="Default",
        copy=False,
        readonly=True,
        help="The method charged automatically. Exactly one per customer and company.",
    )
    method_kind = fields.Selection(
        selection=[("card", "Card"), ("bank", "Bank account")],
        string="Kind",
        readonly=True,
        index=True,
    )
    stripe_pm_type = fields.Char(string="Stripe Method Type", readonly=True)
    omni_awaiting_verification = fields.Boolean(
        string="Awaiting Verification",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A bank account Stripe verifies with micro-deposits: it is never charged until "
        "the customer confirms them (in the portal or on Stripe's page) and Stripe reports "
        "the account verified.",
    )
    card_brand = fields.Char(string="Brand", readonly=True)
    card_exp_month = fields.Integer(string="Expiry Month", readonly=True)
    card_exp_year = fields.Integer(string="Expiry Year", readonly=True)
    expiry_date = fields.Date(
        compute="_compute_expiry_date",
        store=True,
        index=True,
        help="Last day on which the card can be charged.",
    )
    expiry_display = fields.Char(string="Expiry", compute="_compute_expiry_display")
    expiry_state = fields.Selection(
        selection=[("valid", "Valid"), ("expiring", "Expiring"), ("expired", "Expired")],
        compute="_compute_expiry_state",
    )
    holder_name = fields.Char(readonly=True)
    card_funding = fields.Selection(
        selection=[
            ("credit", "Credit"),
            ("debit", "Debit"),
            ("prepaid", "Prepaid"),
            ("unknown", "Unknown"),
        ],
        string="Funding",
        readonly=True,
    )
    card_country_id = fields.Many2one(comodel_name="res.country", readonly=True)
    fingerprint = fields.Char(
        readonly=True,
        index="btree_not_null",
        help="Stripe's fingerprint of the card or account: the same number gives the same "
        "fingerprint, which tells duplicates apart without storing the number.",
    )
    card_wallet = fields.Char(string="Wallet", readonly=True)
    bank_name = fields.Char(readonly=True)
    omni_mandate_reference = fields.Char(
        string="Mandate Reference",
        readonly=True,
        copy=False,
        help="The reference of the debit mandate the customer accepted (bank accounts); "
        "the mandate id Odoo passes with each charge is in 'Stripe Mandate'.",
    )
    omni_mandate_status = fields.Selection(
        selection=[("active", "Active"), ("inactive", "Inactive"), ("pending", "Pending")],
        string="Mandate Status",
        readonly=True,
        copy=False,
    )
    issuer_display = fields.Char(string="Issuer", compute="_compute_issuer_display")
    expiry_days_left = fields.Integer(
        string="Days Until Expiry",
        compute="_compute_expiry_days_left",
        help="0 on the last day the card can be charged, negative once expired.",
    )
    expiry_days_label = fields.Char(string="Days Left", compute="_compute_expiry_days_left")
    omni_reminder_ids = fields.One2many(
        comodel_name="omni.payment.reminder",
        inverse_name="token_id",
        string="Expiry Reminders",
        readonly=True,
    )
    omni_last_reminder_on = fields.Datetime(
        string="Last Reminder", compute="_compute_omni_last_reminder"
    )
    omni_last_reminder_stage = fields.Char(
        string="Last Reminder Stage", compute="_compute_omni_last_reminder"
    )
    added_on = fields.Datetime(string="Added", default=fields.Datetime.now, readonly=True)
    added_by_id = fields.Many2one(
        comodel_name="res.users",
        default=lambda self: self.env.user,
        readonly=True,
    )
    added_channel = fields.Selection(
        selection=CHANNELS, string="Channel", readonly=True, default="checkout"
    )
    omni_consent_text = fields.Text(
        string="Consent Text",
        readonly=True,
        copy=False,
        help="The wording the customer accepted to let the company charge this method.",
    )
    omni_consent_version = fields.Char(string="Consent Version", readonly=True, copy=False)
    omni_authorized_on = fields.Datetime(string="Authorized On", readonly=True, copy=False)
    omni_authorized_by_id = fields.Many2one(
        comodel_name="res.users",
        string="Authorization Confirmed By",
        readonly=True,
        copy=False,
        help="The staff member who confirmed the customer's consent for a method saved "
        "before the addon was installed (empty when the customer gave it through Odoo).",
    )
    omni_authorized = fields.Boolean(
        string="Authorized",
        compute="_compute_omni_authorized",
        store=True,
        help="The customer's consent to off-session charges is recorded: only authorized "
        "methods are charged automatically.",
    )
    stripe_sync_state = fields.Selection(
        selection=[("synced", "Synchronized"), ("pending", "To synchronize")],
        string="Stripe Details",
        readonly=True,
        copy=False,
        help="'To synchronize' means the details could not be read from Stripe yet: "
        "use 'Fetch details from Stripe'.",
    )
    stripe_synced_on = fields.Datetime(string="Last Checked With Stripe", readonly=True, copy=False)
    stripe_state_at = fields.Datetime(
        string="Stripe State Time",
        readonly=True,
        copy=False,
        help="Time of the Stripe state the stored details reflect (a fetch, or the creation "
        "time of the webhook event applied last): older events are ignored.",
    )

    def init(self):
        res = super().init()
        # At most one default per customer (commercial entity) and company among the live
        # methods, whatever writes to the table.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS payment_token_omni_one_default_uniq "
                "ON payment_token (commercial_partner_id, company_id) "
                "WHERE is_default AND active"
            )
        )
        # Expiring Cards list and reminder job: "active card, expiry between .. ORDER BY
        # expiry_date, id LIMIT n" reads n index entries (expiry_date alone holds a whole
        # month of cards per value, which the query would sort).
        create_index(
            self.env.cr,
            "payment_token_omni_card_expiry_index",
            self._table,
            ["expiry_date", "id"],
            where="active AND method_kind = 'card'",
        )
        return res

    # === COMPUTE METHODS === #

    @api.depends("omni_authorized_on", "omni_consent_text")
    def _compute_omni_authorized(self):
        for token in self:
            token.omni_authorized = bool(token.omni_authorized_on and token.omni_consent_text)

    @api.depends("card_exp_month", "card_exp_year")
    def _compute_expiry_date(self):
        for token in self:
            token.expiry_date = expiry_lib.expiry_date(token.card_exp_month, token.card_exp_year)

    @api.depends("card_exp_month", "card_exp_year")
    def _compute_expiry_display(self):
        for token in self:
            token.expiry_display = expiry_lib.format_expiry(
                token.card_exp_month, token.card_exp_year
            )

    @api.depends("expiry_date")
    def _compute_expiry_state(self):
        today = fields.Date.context_today(self)
        for token in self:
            token.expiry_state = expiry_lib.expiry_state(
                token.expiry_date, today, self._omni_expiry_warning_days()
            )

    @api.depends("card_brand", "bank_name", "payment_details", "method_kind")
    def _compute_issuer_display(self):
        for token in self:
            token.issuer_display = token._omni_issuer_label(short=True)

    @api.depends("expiry_date")
    def _compute_expiry_days_left(self):
        today = fields.Date.context_today(self)
        for token in self:
            days = expiry_lib.days_until(token.expiry_date, today)
            token.expiry_days_left = days or 0
            if days is None:
                token.expiry_days_label = ""
            elif days < 0:
                token.expiry_days_label = self.env._("EXPIRED")
            else:
                token.expiry_days_label = str(days)

    def _compute_omni_last_reminder(self):
        self.omni_last_reminder_on = False
        self.omni_last_reminder_stage = False
        if not self.ids:
            return
        reminders = self.env["omni.payment.reminder"].search(
            [("token_id", "in", self.ids), ("state", "=", "sent")], order="sent_on desc, id desc"
        )
        for reminder in reminders:
            token = reminder.token_id
            if token in self and not token.omni_last_reminder_on:
                token.omni_last_reminder_on = reminder.sent_on
                token.omni_last_reminder_stage = reminder.stage_label

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._omni_check_no_card_number(vals)
            # A new method is never made default by its creator: the first one of a customer
            # gets the mark below, later ones are moved with "Set as default".
            vals.pop("is_default", None)
        tokens = super().create(vals_list)
        tokens._omni_assign_first_default()
        # A new method lifts a hard decline: open dunning retries at once (an account
        # awaiting verification does so once verified).
        tokens.filtered(
            lambda t: t.active and not t.omni_awaiting_verification
        ).commercial_partner_id._omni_payment_method_changed()
        for token in tokens:
            token._omni_log(
                self.env._(
                    "%(method)s added (channel: %(channel)s).",
                    method=token._omni_issuer_label(),
                    channel=token._omni_channel_label(),
                ),
                event="added",
            )
        return tokens

    @api.model
    def _get_available_tokens(self, *args, **kwargs):
        """Override of `payment`: a bank account awaiting verification is offered nowhere
        (checkout, Register Payment) until Stripe verified it."""
        tokens = super()._get_available_tokens(*args, **kwargs)
        return tokens.filtered(lambda t: not t.omni_awaiting_verification)

    def write(self, vals):
        self._omni_check_no_card_number(vals)
        # Whoever calls (RPC, superuser code, any context): the description of the method
        # and its default mark only change through _omni_system_write.
        self._omni_check_immutable(vals)
        if "is_default" in vals:
            raise UserError(
                self.env._(
                    "Use 'Set as default' to choose the default payment method: it moves the "
                    "mark from the current default and updates Stripe."
                )
            )
        if vals.get("active") is False:
            # An archived method is no longer anybody's default.
            vals = dict(vals, is_default=False)
        res = super().write(vals)
        if "nickname" in vals:
            for token in self:
                token._omni_log(
                    self.env._(
                        "%(method)s renamed to '%(nickname)s'.",
                        method=token._omni_issuer_label(),
                        nickname=token.nickname or "",
                    ),
                    event="renamed",
                )
        return res

    @api.model
    def _omni_check_no_card_number(self, vals):
        """Refuse any value that contains a card number: Odoo never stores one."""
        for name, value in vals.items():
            if isinstance(value, str) and pan_lib.contains_pan(value):
                field = self._fields.get(name)
                raise ValidationError(
                    self.env._(
                        "The value of '%(field)s' looks like a card number. Card numbers are "
                        "never stored in Odoo: add the card through Stripe instead.",
                        field=field.string if field else name,
                    )
                )

    def _omni_system_write(self, vals):
        """The addon's private path to the fields ``write()`` refuses (the description of
        the method, the default mark): the synchronization with Stripe, the consent recorded
        when a method is saved, the move of the default mark. Not callable over RPC (leading
        underscore); the caller's rights on the records apply as for ``write()`` (use
        ``sudo()`` where the caller may not write, with the reason).

        Card numbers are refused here too; an archived method loses the default mark.
        """
        self._omni_check_no_card_number(vals)
        if vals.get("active") is False:
            vals = dict(vals, is_default=False)
        # super() from this class: write()'s refusals above are the only step skipped (a
        # private path by design, hence the other method name).
        return super().write(vals)  # pylint: disable=super-method-mismatch

    def _omni_check_immutable(self, vals):
        changed = IMMUTABLE_FIELDS.intersection(vals)
        if not changed:
            return
        for token in self:
            for name in changed:
                field = self._fields[name]
                current = field.convert_to_write(token[name], token)
                if not current and name in FILLABLE_FIELDS:
                    continue  # Filling a missing value (Odoo's pre-SCA Stripe migration).
                if current != field.convert_to_write(
                    field.convert_to_cache(vals[name], token), token
                ):
                    raise ValidationError(
                        self.env._(
                            "A stored payment method cannot be changed, except its nickname and "
                            "default mark. To change a card, add a new one and delete the old "
                            "one. (Field: %(field)s)",
                            field=field.string,
                        )
                    )

    # === BUSINESS METHODS: DEFAULT === #

    def _omni_default_domain(self):
        self.ensure_one()
        return [
            ("commercial_partner_id", "=", self.commercial_partner_id.id),
            ("company_id", "=", self.company_id.id),
            ("active", "=", True),
        ]

    def _omni_lock_customers(self):
        """Serialize default changes per customer: lock the commercial partners' rows."""
        partner_ids = sorted(set(self.commercial_partner_id.ids))
        if partner_ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM res_partner WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    tuple(partner_ids),
                )
            )

    def _omni_assign_first_default(self):
        """Make each live token the default if its customer has no default yet."""
        live = self.filtered("active")
        if not live:
            return
        live._omni_lock_customers()
        for token in live:
            has_default = self.sudo().search_count(  # sudo: the rule must not hide a default
                [*token._omni_default_domain(), ("is_default", "=", True)], limit=1
            )
            if not has_default:
                # sudo: the mark is the system's to place, whatever the caller may write.
                token.sudo()._omni_system_write({"is_default": True})

    def action_omni_set_default(self):
        """Make this method the customer's default, in Odoo and in Stripe."""
        self.ensure_one()
        self.check_access("write")
        if not self.active:
            raise UserError(self.env._("An archived payment method cannot become the default."))
        if self.is_default:
            return self._omni_notify(
                self.env._(
                    "%(method)s is already the default payment method.",
                    method=self._omni_issuer_label(),
                )
            )
        self._omni_lock_customers()
        previous = self.search([*self._omni_default_domain(), ("is_default", "=", True)])
        # Two writes in this order: the partial unique index never sees two defaults.
        previous._omni_system_write({"is_default": False})
        previous.flush_recordset(["is_default"])
        self._omni_system_write({"is_default": True})
        self.env.flush_all()
        if self.provider_code == "stripe":
            # Stripe last: if it fails, the exception rolls the whole transaction back.
            self._omni_stripe_call(
                "set_default",
                lambda client, key: client.v1.customers.update(
                    self.provider_ref,
                    {"invoice_settings": {"default_payment_method": self.stripe_payment_method}},
                    {"idempotency_key": key},
                ),
            )
        message = self.env._(
            "%(method)s is now your default payment method.", method=self._omni_issuer_label()
        )
        self._omni_log(
            self.env._(
                "%(method)s set as the default payment method.", method=self._omni_issuer_label()
            ),
            event="default",
        )
        self._omni_default_changed(previous)
        return self._omni_notify(message, reload=True)

    def _omni_default_changed(self, previous):
        """Hook called after the default moved from ``previous`` (maybe empty) to ``self``.

        Open dunning of the customer retries at once with the new default.
        """
        self.commercial_partner_id._omni_payment_method_changed()

    # === BUSINESS METHODS: DELETE === #

    def _omni_check_deletable(self):
        """Raise if the method may not be deleted; return whether it is the last one."""
        self.ensure_one()
        if not self.active:
            raise UserError(self.env._("This payment method is already deleted."))
        others = self.sudo().search_count(  # sudo: count every method, visible or not
            [*self._omni_default_domain(), ("id", "!=", self.id)]
        )
        if self.is_default and others:
            raise UserError(
                self.env._(
                    "%(method)s is the default payment method. Set another method as default "
                    "before deleting this one.",
                    method=self._omni_issuer_label(),
                )
            )
        return not others

    def action_omni_delete(self):
        """Open the confirmation of the deletion (card, expiry and consequences)."""
        self.ensure_one()
        self.check_access("write")
        is_last = self._omni_check_deletable()
        wizard = self.env["omni.payment.token.delete.wizard"].create(
            {"token_id": self.id, "is_last": is_last}
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Delete Payment Method"),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def _omni_delete(self):
        """Detach the method in Stripe, then archive it in Odoo (history stays)."""
        self.ensure_one()
        self.check_access("write")
        self._omni_check_deletable()
        label = self._omni_issuer_label()
        self.write({"active": False})  # detached in Stripe first (_handle_archiving)
        self._omni_log(self.env._("%(method)s deleted.", method=label), event="deleted")
        return label

    def _handle_archiving(self):
        """Override of `payment`: a Stripe method archived in Odoo is detached in Stripe
        first, whatever the path (the Delete button, ``write`` over RPC, the list's Archive
        action): Odoo never shows as deleted a method that Stripe can still charge. Stripe
        unreachable: a translated error, and nothing is archived.

        Not when Odoo archives the tokens of a provider whose state changes or of a payment
        method it deactivates, nor when Stripe itself reported the method gone: context
        ``omni_keep_in_stripe``."""
        super()._handle_archiving()
        if self.env.context.get("omni_keep_in_stripe"):
            return
        for token in self:
            if token.provider_code == "stripe" and token.stripe_payment_method:
                token._omni_stripe_call("detach", token._omni_stripe_detach)

    def _omni_stripe_detach(self, client, key):
        try:
            client.v1.payment_methods.detach(
                self.stripe_payment_method, {}, {"idempotency_key": key}
            )
        except stripe.StripeError as exc:  # classified below, re-raised otherwise
            category, message, _decline = stripe_api.classify_error(exc)
            already_gone = category == stripe_api.ERROR_NOT_FOUND or (
                category == stripe_api.ERROR_INVALID and "not attached" in message.lower()
            )
            if not already_gone:
                raise
            _logger.info("payment method %s was already detached", self.stripe_payment_method)

    # === BUSINESS METHODS: STRIPE === #

    def _omni_stripe_call(self, operation, call):
        """Run ``call(client, idempotency_key)`` against the token's Stripe account.

        Errors become a translated ``UserError`` (which rolls the transaction back).
        """
        self.ensure_one()
        if self.provider_code != "stripe":
            raise UserError(
                self.env._(
                    "%(method)s is not managed by Stripe (provider: %(provider)s).",
                    method=self._omni_issuer_label(),
                    provider=self.provider_id.name,
                )
            )
        if not self.provider_ref:
            raise UserError(
                self.env._(
                    "%(method)s has no Stripe customer: it cannot be managed in Stripe.",
                    method=self._omni_issuer_label(),
                )
            )
        client = self.provider_id._omni_stripe_client()
        key = stripe_api.idempotency_key(
            self.env.cr.dbname,
            "payment.token",
            self.id,
            operation,
            self.write_date and self.write_date.isoformat(),
        )
        try:
            return call(client, key)
        except stripe.StripeError as exc:  # every SDK error becomes a user message
            raise self.provider_id._omni_stripe_user_error(exc) from exc

    def _omni_fetch_stripe_payment_method(self):
        """Return the token's PaymentMethod as a dict, fetched with the SDK."""
        self.ensure_one()
        if not self.stripe_payment_method:
            raise UserError(
                self.env._(
                    "%(method)s has no Stripe PaymentMethod id.", method=self._omni_issuer_label()
                )
            )
        return self._omni_stripe_call(
            "retrieve",
            lambda client, _key: stripe_api.as_dict(
                client.v1.payment_methods.retrieve(self.stripe_payment_method)
            ),
        )

    def _omni_values_from_payment_method(self, payment_method):
        """Map a Stripe PaymentMethod (dict or SDK object) to token values."""
        values = stripe_api.payment_method_values(payment_method)
        country_code = values.pop("card_country_code", False)
        country = country_code and self.env["res.country"].search(
            [("code", "=", country_code)], limit=1
        )
        values["card_country_id"] = country.id if country else False
        values["stripe_sync_state"] = "synced"
        values["stripe_synced_on"] = fields.Datetime.now()
        if not values["payment_details"]:
            values.pop("payment_details")
        return values

    def _omni_apply_payment_method(self, payment_method, state_at=None):
        """Store the details of a PaymentMethod on the token (Stripe is the source of truth).

        :param state_at: the time of the Stripe state ``payment_method`` shows (a webhook
            event's creation time); None for a fetch made now.
        :return: False when the token already reflects a newer state (nothing written).
        """
        self.ensure_one()
        values = self._omni_values_from_payment_method(payment_method)
        if values["stripe_payment_method"] != self.stripe_payment_method and (
            self.stripe_payment_method
        ):
            raise UserError(
                self.env._(
                    "The PaymentMethod %(received)s does not belong to %(method)s.",
                    received=values["stripe_payment_method"],
                    method=self._omni_issuer_label(),
                )
            )
        state_at = state_at or fields.Datetime.now()
        if self.stripe_state_at and state_at < self.stripe_state_at:
            return False
        values["stripe_state_at"] = state_at
        self._omni_system_write(values)
        return True

    def _omni_archive_from_stripe(self, state_at=None):
        """The PaymentMethod was detached in Stripe: archive the token, keep one default.

        :return: False when the token already reflects a newer state or is archived.
        """
        self.ensure_one()
        state_at = state_at or fields.Datetime.now()
        if not self.active or (self.stripe_state_at and state_at < self.stripe_state_at):
            return False
        was_default = self.is_default
        label = self._omni_issuer_label()
        self.with_context(omni_keep_in_stripe=True)._omni_system_write(
            {"active": False, "stripe_state_at": state_at}
        )
        self._omni_log(
            self.env._("%(method)s was removed in Stripe.", method=label),
            event="deleted",
            channel="stripe",
        )
        if was_default:
            # The most recently added live method of the customer takes the mark.
            remaining = self.search(self._omni_default_domain(), order="added_on desc, id desc")
            remaining[:1]._omni_assign_first_default()
        return True

    def _omni_sync_details(self):
        """Fetch the method from Stripe and store it; log a change the customer would see
        (brand, last 4, expiry) on the chatter and in the audit log."""
        self.ensure_one()
        Event = self.env["omni.stripe.event"]
        before = Event._omni_token_snapshot(self)
        label = self._omni_issuer_label()
        applied = self._omni_apply_payment_method(self._omni_fetch_stripe_payment_method())
        if applied and Event._omni_token_snapshot(self) != before:
            self._omni_log(Event._omni_update_note(self, label), event="updated", channel="stripe")
        return applied

    def _omni_capture_stripe_details(self, payment_method=None):
        """Fill the token's details from Stripe right after its creation.

        The PaymentMethod is retrieved with the SDK (``payment_method`` given by the
        notification is used only when the retrieval fails, then the token stays
        'to synchronize'). A Stripe failure never breaks the payment that created the token.
        """
        for token in self.filtered(lambda t: t.provider_code == "stripe"):
            try:
                with self.env.cr.savepoint():
                    token._omni_apply_payment_method(token._omni_fetch_stripe_payment_method())
            except UserError as exc:
                _logger.warning("could not read details of token %s from Stripe: %s", token.id, exc)
                values = {"stripe_sync_state": "pending"}
                if isinstance(payment_method, dict) and payment_method.get("id") == (
                    token.stripe_payment_method
                ):
                    values = token._omni_values_from_payment_method(payment_method)
                    values["stripe_sync_state"] = "pending"
                token._omni_system_write(values)

    def action_omni_sync_from_stripe(self):
        """Fetch current details from Stripe for the selected methods (backfill and repair)."""
        self.check_access("write")
        done, failed = self.browse(), []
        for token in self.filtered(lambda t: t.provider_code == "stripe"):
            try:
                with self.env.cr.savepoint():
                    token._omni_sync_details()
                done |= token
            except UserError as exc:
                failed.append(f"{token._omni_issuer_label()}: {exc.args[0]}")
                token._omni_system_write({"stripe_sync_state": "pending"})
        skipped = len(self) - len(done) - len(failed)
        message = self.env._(
            "%(done)s payment method(s) synchronized with Stripe, %(failed)s failed, "
            "%(skipped)s skipped (not Stripe).",
            done=len(done),
            failed=len(failed),
            skipped=skipped,
        )
        if failed:
            message += "\n" + "\n".join(failed)
        return self._omni_notify(message, kind="warning" if failed else "success", reload=True)

    @api.model
    def _omni_stale_domain(self, max_age_days=7):
        """Stripe methods whose details were never fetched, or not for ``max_age_days``."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=max_age_days)
        return [
            ("provider_id.code", "=", "stripe"),
            ("stripe_payment_method", "!=", False),
            "|",
            ("stripe_synced_on", "=", False),
            ("stripe_synced_on", "<", limit),
        ]

    @api.model
    def _cron_omni_sync_stripe(self, batch_size=100, max_age_days=7):
        """Fetch current details from Stripe for stale methods, one bounded batch per call.

        Stripe unreachable, timing out, failing (5xx, rate limit) or refusing the keys stops
        the run without marking anything: the next run starts again from the same methods.
        Only an answer about the method itself (unknown, invalid) marks it 'to synchronize'.
        """

        def crashed(token, error):
            category = stripe_api.classify_error(error.__cause__)[0] if error.__cause__ else None
            if category not in TOKEN_ERRORS:
                _logger.warning("Stripe unavailable, synchronization stopped: %s", error)
                raise OmniBatchStop(str(error))
            token._omni_system_write(
                {"stripe_sync_state": "pending", "stripe_synced_on": fields.Datetime.now()}
            )

        return self._omni_batch_run(
            lambda limit: self.search(
                self._omni_stale_domain(max_age_days),
                limit=limit,
                order="stripe_synced_on asc nulls first, id",
            ),
            lambda: self.search_count(self._omni_stale_domain(max_age_days)),
            batch_size,
            process=lambda token: token._omni_sync_details(),
            on_crash=crashed,
            errors=(UserError,),
        ).done

    def action_omni_sync_all_stripe(self):
        """Queue the synchronization of every stale Stripe method (runs in the background)."""
        self.env["payment.token"].check_access("write")
        cron = self.env.ref("omni_payment_methods.ir_cron_sync_stripe")
        # sudo: managers may start the job; triggering a cron needs system rights.
        cron.sudo()._trigger()
        count = self.search_count(self._omni_stale_domain())
        return self._omni_notify(
            self.env._(
                "Synchronization with Stripe started in the background for %(count)s payment "
                "method(s).",
                count=count,
            )
        )

    @api.model
    def _omni_consent_wording(self, channel):
        """The consent a customer gives when saving a method through ``channel``
        (``lib/consent.py``), in the language of the environment."""
        return consent_lib.consent_wording(channel, self.env._, user=self.env.user.name)

    @api.model
    def _omni_mandate_wording(self, pm_type, company=None):
        """The debit mandate the customer accepts when saving a bank account of ``pm_type``
        (``lib/consent.py``), naming ``company`` (default: the current company)."""
        return consent_lib.mandate_wording(
            pm_type, self.env._, company=(company or self.env.company).name
        )

    def _omni_record_authorization(self, consent_text=None, version=CONSENT_VERSION):
        """Record the customer's consent to off-session charges of these methods.

        Override point for integrators that collect consent elsewhere (pass its wording).
        """
        for token in self:
            token._omni_system_write(
                {
                    "omni_consent_text": consent_text
                    or self._omni_consent_wording(token.added_channel),
                    "omni_consent_version": version,
                    "omni_authorized_on": fields.Datetime.now(),
                }
            )

    def _omni_stripe_pm_type(self):
        """The Stripe PaymentMethod type of this method: the one read from Stripe, else the
        one payment_stripe maps its Odoo payment method to (a card brand is a card)."""
        self.ensure_one()
        if self.stripe_pm_type:
            return self.stripe_pm_type
        method = self.payment_method_id.primary_payment_method_id or self.payment_method_id
        code = method.code or "card"
        return stripe_const.PAYMENT_METHODS_MAPPING.get(code, code)

    def _omni_init_existing(self):
        """Mark tokens that existed before the install: channel, default, to synchronize."""
        self._omni_system_write({"added_channel": "import", "added_by_id": False})
        if self:
            # One statement for every existing token: they were added when they were created.
            self.env.cr.execute(
                SQL(
                    "UPDATE payment_token SET added_on = create_date WHERE id IN %s",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["added_on"])
        stripe_tokens = self.filtered(lambda t: t.provider_code == "stripe")
        stripe_tokens._omni_system_write({"stripe_sync_state": "pending"})
        # Their Stripe type is the one of their Odoo payment method until the details are
        # fetched (a SEPA token is never charged as a card).
        for token in stripe_tokens.filtered(lambda t: not t.stripe_pm_type):
            pm_type = token._omni_stripe_pm_type()
            token._omni_system_write(
                {"stripe_pm_type": pm_type, "method_kind": stripe_api.method_kind(pm_type)}
            )
        # No consent to automatic charges is recorded for them: nobody has said the customer
        # gave one. Staff confirm it (action_omni_confirm_authorization, or every such
        # method at once from Settings) and are recorded as having done so.
        self._omni_assign_first_default()

    def action_omni_confirm_authorization(self):
        """Record, for methods saved before the install, that the customer agreed to
        automatic charges: staff confirm it (managers), and are recorded with the wording."""
        self.check_access("write")  # managers
        tokens = self.filtered(lambda t: t.active and not t.omni_authorized)
        refused = tokens.filtered(lambda t: t.added_channel != "import")
        if refused:
            raise UserError(
                self.env._(
                    "Only a method saved before the addon was installed can have its "
                    "authorization confirmed by staff: %(methods)s was added through Odoo, "
                    "where the customer gives it.",
                    methods=", ".join(refused.mapped(lambda t: t._omni_issuer_label())),
                )
            )
        tokens._omni_record_authorization()
        tokens._omni_system_write({"omni_authorized_by_id": self.env.user.id})
        tokens._omni_log(
            self.env._("Authorization to charge automatically confirmed by staff."),
            event="other",
        )
        return self._omni_notify(
            self.env._(
                "Automatic charges authorized for %(count)s payment method(s).",
                count=len(tokens),
            )
        )

    # === BUSINESS METHODS: EXPIRY REMINDERS === #

    def _omni_replacements(self, today):
        """Return {(customer id, company id): default token} for the customers of ``self``."""
        defaults = self.search(
            [
                ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                ("is_default", "=", True),
            ]
        )
        return {(t.commercial_partner_id.id, t.company_id.id): t for t in defaults}

    def _omni_reminder_skip_reason(self, defaults, today):
        """Return why this card needs no reminder (translated), or False."""
        self.ensure_one()
        if not self.active:
            return self.env._("The payment method was deleted.")
        if not self._omni_reminder_recipient().email:
            return self.env._("The customer has no email address.")
        default = defaults.get((self.commercial_partner_id.id, self.company_id.id))
        if (
            default
            and default != self
            and (not default.expiry_date or default.expiry_date > self.expiry_date)
        ):
            return self.env._(
                "Replaced: the customer's default payment method is %(method)s.",
                method=default._omni_issuer_label(),
            )
        return False

    def _omni_update_url(self):
        """A new single-use link to the customer's payment methods, for the email being
        rendered (the expiry reminder calls it): a method, not a field, so that reading a
        method never issues a link. The reminder job issues the links of a batch
        beforehand (context ``omni_issued_links``)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        issued = self.env.context.get(SEND_LINKS) and self.env.context.get(ISSUED_LINKS)
        if issued and self.id in issued:
            return partner._omni_link_url(issued[self.id])
        return partner._omni_payment_methods_url(company=self.company_id)

    def _omni_reminder_recipient(self):
        self.ensure_one()
        return self.partner_id if self.partner_id.email else self.commercial_partner_id

    def _omni_send_expiry_reminders(self, stages=None, today=None, origin="cron"):
        """Send (or log as skipped) the expiry reminder of each card; return those sent.

        In batch: the log rows first (a scheduled stage has a unique index, so a second
        worker that reaches the same card sends nothing), then the links and the rendering
        of the emails, then the emails and their chatter copies. A card whose email cannot
        be rendered is logged as failed and the others go on.
        """
        today = today or fields.Date.context_today(self)
        stages = stages or {}
        Reminder = self.env["omni.payment.reminder"]
        template = self.env.ref("omni_payment_methods.mail_template_card_expiry")
        defaults = self._omni_replacements(today)
        reasons = {token: token._omni_reminder_skip_reason(defaults, today) for token in self}
        logs = Reminder._omni_create_logs(
            [
                (token, stages.get(token.id), "skipped" if reasons[token] else "sent")
                for token in self
            ],
            reasons={token: reason for token, reason in reasons.items() if reason},
            origin=origin,
        )
        to_send = self.filtered(lambda token: not reasons[token] and token in logs)
        template = self._omni_issue_links(template, to_send)
        rendered = self._omni_render_reminders(template, to_send)
        emails, failed = [], {}
        for token in to_send:
            try:
                emails.append(token._omni_expiry_reminder_email(template, rendered.get(token.id)))
            except Exception as exc:  # noqa: BLE001 - one card never stops the batch
                _logger.exception("expiry reminder of token %s failed", token.id)
                failed[token] = str(exc)[:200]
        messages = self.env["res.partner"]._omni_email_customers(emails)
        sent = self.browse([email["token_id"] for email in emails])
        Reminder._omni_link_messages(
            {logs[token].id: message.id for token, message in zip(sent, messages, strict=True)}
        )
        for token, reason in failed.items():
            logs[token].write({"state": "failed", "reason": reason})
        return sent

    @api.model
    def _omni_issue_links(self, template, tokens):
        """``template`` rendering for ``tokens`` with their links issued beforehand, in one
        insert (each email's ``_omni_update_url`` then takes its own)."""
        if not tokens:
            return template
        # sudo: links are issued by the company for its customer whoever sends the email;
        # the link model is not readable by users.
        issued = (
            self.env["omni.payment.link"]
            .sudo()
            ._omni_issue_many([(token.commercial_partner_id, token.company_id) for token in tokens])
        )
        return template.with_context(
            **{ISSUED_LINKS: frozendict(zip(tokens.ids, issued, strict=True))}
        )

    @api.model
    def _omni_render_reminders(self, template, tokens):
        """Render the reminders of ``tokens`` in one call ({token id: values}).

        If the batch fails, nothing is returned: each card is then rendered on its own, so
        that a card that cannot be rendered fails alone.
        """
        if not tokens:
            return {}
        try:
            with self.env.cr.savepoint():
                return (
                    self.env["res.partner"]
                    ._omni_sending(template)
                    ._generate_template(tokens.ids, REMINDER_RENDER_FIELDS)
                )
        except Exception:  # noqa: BLE001 - retried card by card
            _logger.warning("batch rendering of expiry reminders failed", exc_info=True)
            return {}

    def _omni_expiry_reminder_email(self, template, rendered=None):
        """The reminder email of this card (``res.partner._omni_customer_email`` values):
        rendered alone when the batch rendering gave nothing."""
        self.ensure_one()
        if rendered is None:
            with self.env.cr.savepoint():
                rendered = (
                    self.env["res.partner"]
                    ._omni_sending(template)
                    ._generate_template([self.id], REMINDER_RENDER_FIELDS)[self.id]
                )
        email = self.commercial_partner_id._omni_customer_email(
            rendered, self._omni_reminder_recipient(), self.company_id
        )
        return dict(email, token_id=self.id)

    def action_omni_notify(self):
        """Send the expiry reminder of the selected cards now (Notify / bulk action).

        Viewers and managers only: a customer (portal) reads its own methods but does not
        make the company email anybody.
        """
        if not self.env.user.has_group("omni_payment_methods.group_omni_payment_method_viewer"):
            raise AccessError(
                self.env._("Only payment method viewers and managers can send expiry reminders.")
            )
        self.check_access("read")
        cards = self.filtered(lambda t: t.active and t.method_kind == "card" and t.expiry_date)
        if not cards:
            raise UserError(self.env._("Select cards with an expiry date to send reminders."))
        today = fields.Date.context_today(self)
        offsets = self.env["omni.payment.reminder"]._omni_offsets()
        grace = self.env["omni.payment.reminder"]._omni_grace_days()
        stages = {
            card.id: reminders_lib.due_stage(card.expiry_days_left, offsets, grace)
            for card in cards
        }
        # sudo: viewers may remind customers; the log and the email are the company's.
        sent = cards.sudo()._omni_send_expiry_reminders(stages, today, origin="manual")
        not_sent = len(cards) - len(sent)
        message = self.env._("%(sent)s reminder(s) sent.", sent=len(sent))
        if not_sent:
            message += " " + self.env._(
                "%(count)s not sent (see the reminder log for the reason).", count=not_sent
            )
        return self._omni_notify(message, kind="warning" if not_sent else "success", reload=True)

    def _omni_open_customer_methods(self):
        """Open the customer form (its Payment Methods page) of the card."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.commercial_partner_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_omni_update(self):
        return self._omni_open_customer_methods()

    def _omni_send_added_email(self):
        """Tell the customer that staff added this method to its account."""
        self.ensure_one()
        template = self.env.ref("omni_payment_methods.mail_template_payment_method_added")
        rendered = (
            self.env["res.partner"]
            ._omni_sending(template)
            ._generate_template([self.id], REMINDER_RENDER_FIELDS)[self.id]
        )
        recipient = self._omni_reminder_recipient()
        if not recipient.email:
            return False
        return self.commercial_partner_id._omni_email_customer(rendered, recipient, self.company_id)

    # === EXTERNAL API === #
    # Public methods (no leading underscore) that integrations call through XML-RPC or
    # JSON-RPC ``execute_kw``; documented in README.md, "External API". They run as the
    # calling user: the record rules and access rights apply, and write operations need the
    # manager group. They return plain JSON/XML-RPC values (dicts, lists, str, int, bool).

    def _omni_api_values(self):
        """What an integration may know of a method: never more than this
        (``lib/token_values.py``, whose keys are the API's)."""
        self.ensure_one()
        return token_values.api_values(
            method_id=self.id,
            customer_id=self.commercial_partner_id.id,
            kind=self.method_kind,
            card_brand=self.card_brand,
            bank_name=self.bank_name,
            payment_details=self.payment_details,
            exp_month=self.card_exp_month,
            exp_year=self.card_exp_year,
            is_default=self.is_default,
            authorized=self.omni_authorized,
            nickname=self.nickname,
        )

    @api.model
    def _omni_api_check_manager(self):
        self.env.user._omni_check_payment_manager(
            self.env._(
                "Only the payment methods managers may change a customer's payment "
                "methods (group 'Saved Payment Methods / Manager')."
            )
        )

    def _omni_api_token(self):
        """The one live method the caller named, readable by the caller, or a clear error."""
        if len(self.ids) != 1:
            raise UserError(
                self.env._("Give exactly one payment method id (got %(count)s).", count=len(self))
            )
        # active_test off: an archived (deleted) method gets a clear message, not "unknown".
        token = self.with_context(active_test=False).exists()
        if not token:
            raise UserError(self.env._("Unknown payment method id: %(id)s.", id=self.ids[0]))
        token.check_access("read")
        if not token.active:
            raise UserError(self.env._("This payment method is already deleted."))
        return token.with_context(active_test=True)

    def omni_api_set_default(self):
        """Make the method the customer's default (in Odoo and in Stripe).

        Returns the method as ``res.partner.omni_api_list_payment_methods`` lists it.
        """
        self._omni_api_check_manager()
        token = self._omni_api_token()
        token.action_omni_set_default()
        return token._omni_api_values()

    def omni_api_delete(self):
        """Delete the method with the back office's rules: the default cannot be deleted while
        the customer has other methods; the method is detached in Stripe, then archived.

        Returns ``{"id", "deleted": True, "was_last": bool, "warning": str}``: ``was_last``
        means the customer has no method left, so automatic billing stops.
        """
        self._omni_api_check_manager()
        token = self._omni_api_token()
        token.check_access("write")
        is_last = token._omni_check_deletable()
        token._omni_delete()
        warning = ""
        if is_last:
            warning = self.env._(
                "The customer has no payment method left: automatic billing stops until a "
                "new method is added."
            )
        return {"id": token.id, "deleted": True, "was_last": is_last, "warning": warning}

    # === HELPERS === #

    @api.model
    def _omni_expiry_warning_days(self):
        """Cards show as 'Expiring' from the first reminder stage on."""
        return max(self.env["omni.payment.reminder"]._omni_offsets())

    def _omni_issuer_label(self, short=False):
        """'Visa ending in 4242' (or 'Visa •••• 4242' with ``short``); bank name for debits
        (``lib/token_values.py``)."""
        self.ensure_one()
        return token_values.issuer_label(
            self.env._,
            kind=self.method_kind,
            card_brand=self.card_brand,
            bank_name=self.bank_name,
            method_name=self.payment_method_id.name,
            payment_details=self.payment_details,
            short=short,
        )

    def _omni_channel_label(self):
        self.ensure_one()
        return dict(self._fields["added_channel"]._description_selection(self.env)).get(
            self.added_channel, ""
        )

    def _omni_log(self, body, event="other", channel=None):
        """Record a change of the method: a note on the customer's chatter (who and when are
        the message's author and date; the channel is added to the text) and a row of the
        audit log staff can filter. Brand and last 4 at most.

        :param event: a value of ``omni.payment.audit``'s ``event`` (added, default, renamed,
            deleted, updated, charged, failed, other)
        :param channel: how the change was made (see ``_omni_current_channel``)
        """
        Audit = self.env["omni.payment.audit"]
        channels = dict(Audit._fields["channel"]._description_selection(self.env))
        for token in self:
            partner = token.commercial_partner_id or token.partner_id
            if not partner:
                continue
            token_channel = channel or token._omni_current_channel(event)
            note = body
            if event != "added":  # the note of an addition names its channel already
                note = self.env._(
                    "%(note)s (channel: %(channel)s)",
                    note=body,
                    channel=channels.get(token_channel, token_channel),
                )
            # sudo: the audit trail is written whatever the author's rights on the customer;
            # the author stays the acting user.
            message = (
                partner.sudo()
                .with_context(mail_create_nosubscribe=True)
                .message_post(
                    body=note,
                    author_id=self.env.user.partner_id.id,
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
            )
            # sudo: nobody writes the audit log directly; it is written here only.
            Audit.sudo().create(
                {
                    "token_id": token.id,
                    "commercial_partner_id": partner.id,
                    "company_id": token.company_id.id,
                    "event": event,
                    "channel": token_channel,
                    "user_id": self.env.uid,
                    "summary": body,
                    "message_id": message.id,
                }
            )

    def _omni_current_channel(self, event=None):
        """How the change being logged is made, when the code logging it does not say
        (``_omni_log(channel=...)``): the method's channel for an addition, else from the
        acting user (portal/public users in the portal, OdooBot a job, staff). Never from
        the context, which RPC callers choose."""
        self.ensure_one()
        if event == "added" and self.added_channel:
            return self.added_channel
        user = self.env.user
        if user._is_public() or user.share:
            return "portal"
        if user._is_superuser():
            return "system"
        return "staff"

    @api.model
    def _omni_notify(self, message, kind="success", reload=False):
        params = {"message": message, "type": kind, "sticky": kind != "success"}
        if reload:
            params["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
