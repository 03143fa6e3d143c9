# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import create_index

from odoo.addons.omni_pan_base.lib import pan as pan_lib

from ..const import (
    CHANNELS,
    CONSENT_VERSION,
    EMAIL_RENDER_FIELDS,
    FILLABLE_FIELDS,
    IMMUTABLE_FIELDS,
    ISSUED_LINKS,
    SEND_LINKS,
)
from ..lib import consent as consent_lib
from ..lib import expiry as expiry_lib
from ..lib import stripe_api, token_values

_logger = logging.getLogger(__name__)


class PaymentToken(models.Model):
    _name = "payment.token"
    _inherit = ["payment.token", "omni.batch.mixin"]

    # Odoo's own name for this related field (account.move, sale.order, res.partner...):
    # not prefixed, a core field of that name would be the same field. The others are.
    commercial_partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
        help="The commercial entity the method belongs to: defaults are per customer.",
    )
    omni_nickname = fields.Char(
        string="Nickname", help="A name the customer gives the method, e.g. 'Company Visa'."
    )
    omni_is_default = fields.Boolean(
        string="Default",
        copy=False,
        readonly=True,
        help="The method charged automatically. Exactly one per customer and company.",
    )
    omni_method_kind = fields.Selection(
        selection=[("card", "Card"), ("bank", "Bank account")],
        string="Kind",
        readonly=True,
        index=True,
    )
    omni_stripe_pm_type = fields.Char(string="Stripe Method Type", readonly=True)
    omni_awaiting_verification = fields.Boolean(
        string="Awaiting Verification",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A bank account Stripe verifies with micro-deposits: it is never charged until "
        "the customer confirms them (in the portal or on Stripe's page) and Stripe reports "
        "the account verified.",
    )
    omni_card_brand = fields.Char(string="Brand", readonly=True)
    omni_card_exp_month = fields.Integer(string="Expiry Month", readonly=True)
    omni_card_exp_year = fields.Integer(string="Expiry Year", readonly=True)
    omni_expiry_date = fields.Date(
        string="Expiry Date",
        compute="_compute_omni_expiry_date",
        store=True,
        index=True,
        help="Last day on which the card can be charged.",
    )
    omni_expiry_display = fields.Char(string="Expiry", compute="_compute_omni_expiry_display")
    omni_expiry_state = fields.Selection(
        string="Expiry State",
        selection=[("valid", "Valid"), ("expiring", "Expiring"), ("expired", "Expired")],
        compute="_compute_omni_expiry_state",
    )
    omni_holder_name = fields.Char(string="Holder Name", readonly=True)
    omni_card_funding = fields.Selection(
        selection=[
            ("credit", "Credit"),
            ("debit", "Debit"),
            ("prepaid", "Prepaid"),
            ("unknown", "Unknown"),
        ],
        string="Funding",
        readonly=True,
    )
    omni_card_country_id = fields.Many2one(
        string="Card Country", comodel_name="res.country", readonly=True
    )
    omni_fingerprint = fields.Char(
        string="Fingerprint",
        readonly=True,
        index="btree_not_null",
        help="Stripe's fingerprint of the card or account: the same number gives the same "
        "fingerprint, which tells duplicates apart without storing the number.",
    )
    omni_card_wallet = fields.Char(string="Wallet", readonly=True)
    omni_bank_name = fields.Char(string="Bank Name", readonly=True)
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
    omni_issuer_display = fields.Char(string="Issuer", compute="_compute_omni_issuer_display")
    omni_expiry_days_left = fields.Integer(
        string="Days Until Expiry",
        compute="_compute_omni_expiry_days_left",
        help="0 on the last day the card can be charged, negative once expired.",
    )
    omni_expiry_days_label = fields.Char(
        string="Days Left", compute="_compute_omni_expiry_days_left"
    )
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
    omni_added_on = fields.Datetime(string="Added", default=fields.Datetime.now, readonly=True)
    omni_added_by_id = fields.Many2one(
        string="Added By",
        comodel_name="res.users",
        default=lambda self: self.env.user,
        readonly=True,
    )
    omni_added_channel = fields.Selection(
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
    omni_stripe_sync_state = fields.Selection(
        selection=[("synced", "Synchronized"), ("pending", "To synchronize")],
        string="Stripe Details",
        readonly=True,
        copy=False,
        help="'To synchronize' means the details could not be read from Stripe yet: "
        "use 'Fetch details from Stripe'.",
    )
    omni_stripe_synced_on = fields.Datetime(
        string="Last Checked With Stripe", readonly=True, copy=False
    )
    omni_stripe_state_at = fields.Datetime(
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
                "WHERE omni_is_default AND active"
            )
        )
        # Expiring Cards list and reminder job: "active card, expiry between .. ORDER BY
        # expiry_date, id LIMIT n" reads n index entries (expiry_date alone holds a whole
        # month of cards per value, which the query would sort).
        create_index(
            self.env.cr,
            "payment_token_omni_card_expiry_index",
            self._table,
            ["omni_expiry_date", "id"],
            where="active AND omni_method_kind = 'card'",
        )
        return res

    # === COMPUTE METHODS === #

    @api.depends("omni_authorized_on", "omni_consent_text")
    def _compute_omni_authorized(self):
        for token in self:
            token.omni_authorized = bool(token.omni_authorized_on and token.omni_consent_text)

    @api.depends("omni_card_exp_month", "omni_card_exp_year")
    def _compute_omni_expiry_date(self):
        for token in self:
            token.omni_expiry_date = expiry_lib.expiry_date(
                token.omni_card_exp_month, token.omni_card_exp_year
            )

    @api.depends("omni_card_exp_month", "omni_card_exp_year")
    def _compute_omni_expiry_display(self):
        for token in self:
            token.omni_expiry_display = expiry_lib.format_expiry(
                token.omni_card_exp_month, token.omni_card_exp_year
            )

    @api.depends("omni_expiry_date")
    def _compute_omni_expiry_state(self):
        today = fields.Date.context_today(self)
        for token in self:
            token.omni_expiry_state = expiry_lib.expiry_state(
                token.omni_expiry_date, today, self._omni_expiry_warning_days()
            )

    @api.depends("omni_card_brand", "omni_bank_name", "payment_details", "omni_method_kind")
    def _compute_omni_issuer_display(self):
        for token in self:
            token.omni_issuer_display = token._omni_issuer_label(short=True)

    @api.depends("omni_expiry_date")
    def _compute_omni_expiry_days_left(self):
        today = fields.Date.context_today(self)
        for token in self:
            days = expiry_lib.days_until(token.omni_expiry_date, today)
            token.omni_expiry_days_left = days or 0
            if days is None:
                token.omni_expiry_days_label = ""
            elif days < 0:
                token.omni_expiry_days_label = self.env._("EXPIRED")
            else:
                token.omni_expiry_days_label = str(days)

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
            vals.pop("omni_is_default", None)
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
        if "omni_is_default" in vals:
            raise UserError(
                self.env._(
                    "Use 'Set as default' to choose the default payment method: it moves the "
                    "mark from the current default and updates Stripe."
                )
            )
        if vals.get("active") is False:
            # An archived method is no longer anybody's default.
            vals = dict(vals, omni_is_default=False)
        res = super().write(vals)
        if "omni_nickname" in vals:
            for token in self:
                token._omni_log(
                    self.env._(
                        "%(method)s renamed to '%(nickname)s'.",
                        method=token._omni_issuer_label(),
                        nickname=token.omni_nickname or "",
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
            vals = dict(vals, omni_is_default=False)
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
                [*token._omni_default_domain(), ("omni_is_default", "=", True)], limit=1
            )
            if not has_default:
                # sudo: the mark is the system's to place, whatever the caller may write.
                token.sudo()._omni_system_write({"omni_is_default": True})

    def action_omni_set_default(self):
        """Make this method the customer's default, in Odoo and in Stripe."""
        self.ensure_one()
        self.check_access("write")
        if not self.active:
            raise UserError(self.env._("An archived payment method cannot become the default."))
        if self.omni_is_default:
            return self._omni_notify(
                self.env._(
                    "%(method)s is already the default payment method.",
                    method=self._omni_issuer_label(),
                )
            )
        self._omni_lock_customers()
        previous = self.search([*self._omni_default_domain(), ("omni_is_default", "=", True)])
        # Two writes in this order: the partial unique index never sees two defaults.
        previous._omni_system_write({"omni_is_default": False})
        previous.flush_recordset(["omni_is_default"])
        self._omni_system_write({"omni_is_default": True})
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
        if self.omni_is_default and others:
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

    # === BUSINESS METHODS: AUTHORIZATION === #

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
                    or self._omni_consent_wording(token.omni_added_channel),
                    "omni_consent_version": version,
                    "omni_authorized_on": fields.Datetime.now(),
                }
            )

    def _omni_init_existing(self):
        """Mark tokens that existed before the install: channel, default, to synchronize."""
        self._omni_system_write({"omni_added_channel": "import", "omni_added_by_id": False})
        if self:
            # One statement for every existing token: they were added when they were created.
            self.env.cr.execute(
                SQL(
                    "UPDATE payment_token SET omni_added_on = create_date WHERE id IN %s",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["omni_added_on"])
        stripe_tokens = self.filtered(lambda t: t.provider_code == "stripe")
        stripe_tokens._omni_system_write({"omni_stripe_sync_state": "pending"})
        # Their Stripe type is the one of their Odoo payment method until the details are
        # fetched (a SEPA token is never charged as a card).
        for token in stripe_tokens.filtered(lambda t: not t.omni_stripe_pm_type):
            pm_type = token._omni_stripe_pm_type()
            token._omni_system_write(
                {
                    "omni_stripe_pm_type": pm_type,
                    "omni_method_kind": stripe_api.method_kind(pm_type),
                }
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
        refused = tokens.filtered(lambda t: t.omni_added_channel != "import")
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
    # The reminders themselves are omni.payment.reminder's (models/omni_payment_reminder.py):
    # here only what the templates, the buttons and the other modules call on a method.

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
        See ``omni.payment.reminder._send_expiry_reminders`` (``today`` is not needed: the
        ``stages`` say which reminder is due)."""
        return self.env["omni.payment.reminder"]._send_expiry_reminders(
            self, stages=stages, origin=origin
        )

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
        cards = self.filtered(
            lambda t: t.active and t.omni_method_kind == "card" and t.omni_expiry_date
        )
        if not cards:
            raise UserError(self.env._("Select cards with an expiry date to send reminders."))
        # sudo: viewers may remind customers; the log and the email are the company's.
        sent = self.env["omni.payment.reminder"].sudo()._send_by_hand(cards.sudo())
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
            ._generate_template([self.id], EMAIL_RENDER_FIELDS)[self.id]
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
            kind=self.omni_method_kind,
            card_brand=self.omni_card_brand,
            bank_name=self.omni_bank_name,
            payment_details=self.payment_details,
            exp_month=self.omni_card_exp_month,
            exp_year=self.omni_card_exp_year,
            is_default=self.omni_is_default,
            authorized=self.omni_authorized,
            nickname=self.omni_nickname,
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
        return max(self.env["omni.payment.reminder"]._offsets())

    def _omni_issuer_label(self, short=False):
        """'Visa ending in 4242' (or 'Visa •••• 4242' with ``short``); bank name for debits
        (``lib/token_values.py``)."""
        self.ensure_one()
        return token_values.issuer_label(
            self.env._,
            kind=self.omni_method_kind,
            card_brand=self.omni_card_brand,
            bank_name=self.omni_bank_name,
            method_name=self.payment_method_id.name,
            payment_details=self.payment_details,
            short=short,
        )

    def _omni_channel_label(self):
        self.ensure_one()
        return dict(self._fields["omni_added_channel"]._description_selection(self.env)).get(
            self.omni_added_channel, ""
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
        if event == "added" and self.omni_added_channel:
            return self.omni_added_channel
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
