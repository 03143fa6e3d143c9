# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import hashlib
import logging
import secrets

import stripe
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, email_normalize, email_split

from odoo.addons.omni_pan_base.lib import pan as pan_lib

from ..exceptions import OmniRateLimited
from ..lib import expiry as expiry_lib
from ..lib import stripe_api
from .payment_token import CHANNELS, CONSENT_VERSION

_logger = logging.getLogger(__name__)

MAX_CARDS_PARAM = "omni_payment_methods.max_cards"
MAX_BANK_ACCOUNTS_PARAM = "omni_payment_methods.max_bank_accounts"
SETUP_MAX_ATTEMPTS_PARAM = "omni_payment_methods.setup_max_attempts"
SETUP_WINDOW_PARAM = "omni_payment_methods.setup_window_minutes"
DEFAULT_MAX_METHODS = 10
DEFAULT_SETUP_MAX_ATTEMPTS = 5
DEFAULT_SETUP_WINDOW_MINUTES = 60
# A SetupIntent not confirmed within this delay is abandoned: it is canceled in Stripe.
ABANDONED_AFTER_MINUTES = 60
# Stripe gives the customer 10 days to confirm micro-deposits, then fails the SetupIntent
# (setup_intent.setup_failed). An account still awaiting verification after this many days
# is checked in Stripe by the daily clean-up, in case that event was lost.
VERIFICATION_CHECK_DAYS = 12
# Bank debits Stripe may verify with micro-deposits.
MICRODEPOSIT_TYPES = ("us_bank_account", "acss_debit")
# Stripe's errors of verify_microdeposits that end the verification.
VERIFICATION_FAILED_CODES = {
    "payment_method_microdeposit_verification_attempts_exceeded",
    "payment_method_microdeposit_verification_timeout",
}

# Stripe error codes → the message the person adding the method sees.
CARD_NUMBER_CODES = {"incorrect_number", "invalid_number", "incomplete_number"}
EXPIRY_CODES = {
    "invalid_expiry_month",
    "invalid_expiry_year",
    "expired_card",
    "incomplete_expiry",
    "invalid_expiry_year_past",
    "invalid_expiry_month_past",
}
CVC_CODES = {"incorrect_cvc", "invalid_cvc", "incomplete_cvc"}
DECLINE_CODES = {"card_declined", "do_not_honor", "generic_decline", "insufficient_funds"}
AUTH_CODES = {"setup_intent_authentication_failure", "authentication_required"}
IBAN_CODES = {"invalid_bank_account_iban", "incomplete_iban", "invalid_iban"}

METHOD_TYPES = [
    ("card", "Card"),
    ("sepa_debit", "SEPA Direct Debit"),
    ("acss_debit", "Canadian pre-authorized debit"),
    ("us_bank_account", "US bank account (ACH)"),
]
# The Odoo payment method of the token saved for each Stripe type: the one payment_stripe
# maps back to that type when Odoo charges the token (ACSS has none in Odoo: the addon's).
ODOO_PAYMENT_METHODS = {
    "card": "payment.payment_method_card",
    "sepa_debit": "payment.payment_method_sepa_direct_debit",
    "acss_debit": "omni_payment_methods.payment_method_acss_debit",
    "us_bank_account": "payment.payment_method_ach_direct_debit",
}


class OmniPaymentSetup(models.Model):
    """One attempt to add a payment method through Stripe Elements (a Stripe SetupIntent).

    The same record serves three purposes: it carries the SetupIntent between the page and
    the confirmation (no token exists before Stripe confirmed the method), it is the count
    the card-testing protection limits per customer and per IP address, and it is the log
    of failed attempts staff review (Invoicing > Customers > Payment Method Attempts).
    """

    _name = "omni.payment.setup"
    _inherit = ["omni.pan.guarded"]
    _description = "Attempt to add a payment method"
    _order = "id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    token_partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Contact",
        readonly=True,
        ondelete="cascade",
        help="The contact the method is saved for (the customer or one of its contacts).",
    )
    provider_id = fields.Many2one(
        comodel_name="payment.provider", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="provider_id.company_id", store=True)
    channel = fields.Selection(selection=CHANNELS, required=True, readonly=True)
    user_id = fields.Many2one(comodel_name="res.users", readonly=True, default=lambda s: s.env.user)
    ip_address = fields.Char(string="IP Address", readonly=True, index=True)
    link_id = fields.Many2one(comodel_name="omni.payment.link", readonly=True, ondelete="set null")
    nickname = fields.Char(readonly=True)
    consent_text = fields.Text(readonly=True)
    method_type = fields.Selection(
        selection=METHOD_TYPES,
        required=True,
        default="card",
        readonly=True,
    )
    stripe_customer_ref = fields.Char(string="Stripe Customer", readonly=True)
    setup_intent_ref = fields.Char(string="Stripe SetupIntent", readonly=True, index=True)
    state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("verifying", "Awaiting verification"),
            ("done", "Added"),
            ("failed", "Failed"),
            ("blocked", "Blocked (too many attempts)"),
            ("canceled", "Abandoned"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    access_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    error_code = fields.Char(readonly=True)
    error_message = fields.Char(readonly=True)
    token_id = fields.Many2one(comodel_name="payment.token", readonly=True, ondelete="set null")
    microdeposit_type = fields.Selection(
        selection=[("amounts", "Two amounts"), ("descriptor_code", "Descriptor code")],
        string="Micro-deposits",
        readonly=True,
        help="What the customer reads on the bank statement to verify the account: the two "
        "small amounts, or the 6-character code (starting with SM) of one deposit.",
    )
    verification_arrival = fields.Date(
        string="Deposits Expected",
        readonly=True,
        help="When Stripe expects the micro-deposits to reach the account.",
    )
    verification_url = fields.Char(
        string="Stripe Verification Page",
        readonly=True,
        groups="omni_payment_methods.group_omni_payment_method_manager",
        help="Stripe's page where the customer confirms the micro-deposits (emailed).",
    )

    # === CARD NUMBER GUARD === #

    # The log keeps text from the browser (Stripe.js's error, the nickname typed): a card
    # number in it is reduced to its first 6 and last 4 digits (omni.pan.guarded), whatever
    # the setting of the chatter's guard (viewers read this log).
    _omni_pan_always = True

    def _omni_pan_masked(self, names):
        """Nobody to tell: the text is the browser's, logged by the addon."""

    # === LIMITS === #

    @api.model
    def _param_int(self, key, default):
        # sudo: reading configuration parameters (settings) from any request.
        value = self.env["ir.config_parameter"].sudo().get_param(key)
        try:
            return int(value) if value not in (None, False, "") else default
        except ValueError:
            return default

    @api.model
    def _check_method_limit(self, partner, kind="card"):
        """Refuse a new method when the customer already has the maximum of that kind."""
        if kind == "bank":
            maximum = self._param_int(MAX_BANK_ACCOUNTS_PARAM, DEFAULT_MAX_METHODS)
        else:
            maximum = self._param_int(MAX_CARDS_PARAM, DEFAULT_MAX_METHODS)
        # sudo: count every live method of the customer, visible to the caller or not.
        count = (
            self.env["payment.token"]
            .sudo()
            .search_count(
                [
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("omni_method_kind", "=", kind),
                ]
            )
        )
        if maximum and count >= maximum:
            if kind == "bank":
                message = self.env._(
                    "This account already has %(count)s saved bank accounts, the maximum "
                    "allowed. Delete one before adding another.",
                    count=count,
                )
            else:
                message = self.env._(
                    "This account already has %(count)s saved cards, the maximum allowed. "
                    "Delete one before adding another.",
                    count=count,
                )
            raise UserError(message)

    @api.model
    def _check_rate(self, partner, ip_address):
        """Card-testing protection: limit the attempts per customer and per IP address."""
        maximum = self._param_int(SETUP_MAX_ATTEMPTS_PARAM, DEFAULT_SETUP_MAX_ATTEMPTS)
        window = self._param_int(SETUP_WINDOW_PARAM, DEFAULT_SETUP_WINDOW_MINUTES)
        if not maximum:
            return
        since = fields.Datetime.now() - datetime.timedelta(minutes=window)
        base = [("create_date", ">=", since), ("state", "!=", "done")]
        by_customer = self.search_count(
            [*base, ("partner_id", "=", partner.commercial_partner_id.id)]
        )
        by_ip = ip_address and self.search_count([*base, ("ip_address", "=", ip_address)])
        if by_customer >= maximum or (by_ip or 0) >= maximum:
            raise OmniRateLimited(
                self.env._(
                    "Too many attempts to add a payment method. For your security, please "
                    "wait %(minutes)s minutes before trying again.",
                    minutes=window,
                )
            )

    @api.model
    def _log_blocked(self, partner, channel, ip_address, message):
        """Log an attempt refused by the card-testing protection (staff review these)."""
        _logger.warning(
            "payment method setup blocked for partner %s from %s (%s)",
            partner.commercial_partner_id.id,
            ip_address,
            channel,
        )
        provider = self.env["payment.provider"].search([("code", "=", "stripe")], limit=1)
        if not provider:
            return self.browse()
        return self.create(
            {
                "partner_id": partner.commercial_partner_id.id,
                "token_partner_id": partner.id,
                "provider_id": provider.id,
                "channel": channel,
                "ip_address": ip_address,
                "state": "blocked",
                "error_message": message[:256],
            }
        )

    # === FLOW === #

    @api.model
    def _omni_check_form(self, method_type, holder_name, country_id=None):
        """Check what the add form sends besides Stripe's element: the kind of method, the
        holder's name, the card's country; return the country (empty for a bank account).

        :raise UserError: with what to correct
        """
        if method_type not in stripe_api.SETUP_TYPES:
            raise UserError(self.env._("This kind of payment method cannot be saved."))
        is_card = method_type == "card"
        if not (holder_name or "").strip():
            if is_card:
                raise UserError(self.env._("Enter the cardholder's name."))
            raise UserError(self.env._("Enter the account holder's name."))
        # sudo: countries are public data.
        country = (
            self.env["res.country"]
            .sudo()
            .browse(int(country_id) if str(country_id or "").isdigit() else 0)
            .exists()
        )
        if not country and is_card:
            raise UserError(self.env._("Choose the country of the card."))
        return country if is_card else self.env["res.country"]

    @api.model
    def _consent_text(self, commercial, channel, method_type):
        """What the person adding a method accepts: for a bank account the scheme's debit
        mandate, whatever the channel (staff read it to the customer on the phone); for a
        card the wording of the channel."""
        Token = self.env["payment.token"]
        if method_type != "card":
            return Token._omni_mandate_wording(
                method_type, commercial.company_id or self.env.company
            )
        return Token._omni_consent_wording(channel)

    @api.model
    def _omni_start(
        self,
        partner,
        channel,
        ip_address=None,
        link=None,
        nickname=None,
        method_type="card",
        **extra,
    ):
        """Create the SetupIntent of a new attempt (a card or a bank debit, ``method_type``).

        :return: (attempt, Stripe client secret, handle): the handle is the browser's proof
            that it started the attempt (only its hash is stored).

        Raises ``UserError`` (limits, rate, Stripe) before anything is created in Stripe.
        ``partner`` is the contact the method is saved for.
        """
        commercial = partner.commercial_partner_id
        provider = self._provider(commercial)
        # The nickname becomes the token's: refused now, before anything is logged or sent
        # to Stripe, like the token would refuse it.
        self.env["payment.token"]._omni_check_no_card_number({"omni_nickname": nickname or ""})
        if method_type not in stripe_api.SETUP_TYPES:
            raise UserError(self.env._("This kind of payment method cannot be saved."))
        self._check_method_limit(commercial, stripe_api.method_kind(method_type))
        if method_type in stripe_api.EMAIL_REQUIRED_TYPES and not self._billing_email(partner):
            raise UserError(
                self.env._(
                    "An email address is required to save this bank account: the bank's "
                    "mandate confirmation is sent to it. Add the customer's email address "
                    "first."
                )
            )
        self._check_rate(commercial, ip_address)
        extra.setdefault("consent_text", self._consent_text(commercial, channel, method_type))
        handle = secrets.token_urlsafe(24)
        setup = self.create(
            {
                "access_hash": hashlib.sha256(handle.encode()).hexdigest(),
                "partner_id": commercial.id,
                "token_partner_id": partner.id,
                "provider_id": provider.id,
                "channel": channel,
                "ip_address": ip_address,
                "link_id": link.id if link else False,
                "nickname": (nickname or "").strip()[:64] or False,
                "method_type": method_type,
                **extra,
            }
        )
        client = provider._omni_stripe_client()
        try:
            customer_ref = setup._stripe_customer(client)
            intent = client.v1.setup_intents.create(
                stripe_api.setup_intent_params(
                    method_type,
                    customer_ref,
                    {"odoo_setup_id": str(setup.id), "channel": channel},
                    acss_transaction_type="business" if commercial.is_company else "personal",
                ),
                {"idempotency_key": setup._omni_key("setup_intent")},
            )
        except stripe.StripeError as exc:  # every SDK error becomes a user message
            raise provider._omni_stripe_user_error(exc) from exc
        setup.write({"stripe_customer_ref": customer_ref, "setup_intent_ref": intent["id"]})
        return setup, intent["client_secret"], handle

    @api.model
    def _billing_email(self, partner):
        """The email address the bank's mandate confirmation goes to (the contact's, else
        the customer's): one normalised address, or "" when neither has a valid one."""
        return self._normalized_email(partner.email) or self._normalized_email(
            partner.commercial_partner_id.email
        )

    @api.model
    def _normalized_email(self, raw):
        """The first valid address of ``raw`` as Stripe takes it, or "".

        Odoo keeps the email field as typed: a display name (``Name <a@b>``) or a list of
        addresses; Stripe wants exactly one address.
        """
        for address in email_split(raw or ""):
            normalized = email_normalize(address)
            if normalized:
                return normalized
        return ""

    @api.model
    def _from_handle(self, setup_id, handle):
        """The attempt ``setup_id`` if ``handle`` is its handle, else an empty recordset."""
        if not handle or not isinstance(handle, str):
            return self.browse()
        # sudo: the handle hash is restricted to system users; compared here only.
        setup = self.sudo().browse(setup_id).exists()
        if not setup or not secrets.compare_digest(
            setup.access_hash or "", hashlib.sha256(handle.encode()).hexdigest()
        ):
            return self.browse()
        return setup

    @api.model
    def _provider(self, partner):
        provider = self.env["payment.provider"].search(
            [
                ("code", "=", "stripe"),
                ("state", "in", ("enabled", "test")),
                ("company_id", "in", (partner.company_id or self.env.company).ids),
            ],
            limit=1,
        )
        if not provider:
            raise UserError(
                self.env._("Adding a payment method is not available: Stripe is not enabled.")
            )
        return provider

    def _omni_key(self, operation):
        self.ensure_one()
        return stripe_api.idempotency_key(
            self.env.cr.dbname, self._name, self.id, self.create_date.isoformat(), operation
        )

    def _stripe_customer(self, client):
        """The customer's Stripe customer id: the one of its saved methods, or a new one."""
        self.ensure_one()
        existing = (
            self.env["payment.token"]
            .with_context(active_test=False)
            .search(
                [
                    ("commercial_partner_id", "=", self.partner_id.id),
                    ("provider_id", "=", self.provider_id.id),
                    ("provider_ref", "like", "cus_%"),
                ],
                order="active desc, id desc",
                limit=1,
            )
        )
        if existing:
            return existing.provider_ref
        partner = self.partner_id
        params = {"name": partner.name or "", "metadata": {"odoo_partner_id": str(partner.id)}}
        email = self._normalized_email(partner.email)
        if email:
            params["email"] = email
        customer = client.v1.customers.create(
            params, {"idempotency_key": self._omni_key("customer")}
        )
        return customer["id"]

    def _fail(self, code=None, message=None):
        """Record a failure reported by Stripe.js; cancel the SetupIntent; return the message
        the person adding the method sees."""
        self.ensure_one()
        # What the browser sends is the caller's text: no card number is stored nor echoed.
        code = pan_lib.mask_pans(code)[0] if isinstance(code, str) else None
        message = pan_lib.mask_pans(message)[0] if isinstance(message, str) else None
        text = self._omni_error_message(code, message)
        if self.method_type != "card" and (code or "") not in IBAN_CODES:
            text = self.env._(
                "The bank account could not be saved: %(detail)s",
                detail=message or code or self.env._("no details given"),
            )
        if self.state == "pending":
            self.write(
                {
                    "state": "failed",
                    "error_code": (code or "")[:64] or False,
                    "error_message": (message or "")[:256] or False,
                }
            )
            self._cancel_intent()
        _logger.info(
            "payment method setup %s failed for partner %s from %s: %s",
            self.id,
            self.partner_id.id,
            self.ip_address,
            code or message,
        )
        return text

    @api.model
    def _omni_error_message(self, code=None, message=None):
        code = code or ""
        if code in CARD_NUMBER_CODES:
            return self.env._("The card number is not valid. Check it and try again.")
        if code in EXPIRY_CODES:
            return self.env._("The card's expiry date is not valid or is in the past.")
        if code in CVC_CODES:
            return self.env._("The card's security code (CVC) is not valid.")
        if code in DECLINE_CODES:
            return self.env._("The card was declined by its bank. Please use another card.")
        if code in AUTH_CODES:
            return self.env._("The card could not be authenticated. Please try again.")
        if code in IBAN_CODES:
            return self.env._("The IBAN is not valid. Check it and try again.")
        if message and message != "Bad request":
            return self.env._("The card could not be saved: %(detail)s", detail=message)
        return self.env._("The card details are incomplete or not valid. Check them and try again.")

    def _cancel_intent(self):
        """Cancel the SetupIntent in Stripe when possible (best effort)."""
        for setup in self.filtered("setup_intent_ref"):
            try:
                setup.provider_id._omni_stripe_client().v1.setup_intents.cancel(
                    setup.setup_intent_ref, {}, {"idempotency_key": setup._omni_key("cancel")}
                )
            except stripe.StripeError as exc:  # already succeeded/canceled or unreachable
                _logger.info("SetupIntent %s not canceled: %s", setup.setup_intent_ref, exc)

    def _abandon(self):
        """The page was left without adding the method: nothing is kept but the log line."""
        pending = self.filtered(lambda s: s.state == "pending")
        pending.write({"state": "canceled"})
        pending._cancel_intent()

    @api.autovacuum
    def _gc_abandoned_setups(self):
        """Cancel the SetupIntents of attempts left pending for too long."""
        limit = fields.Datetime.now() - datetime.timedelta(minutes=ABANDONED_AFTER_MINUTES)
        self.search([("state", "=", "pending"), ("create_date", "<", limit)], limit=200)._abandon()
        # Accounts awaiting verification are never abandoned: Stripe ends them (its event);
        # the outcome is fetched here for those past Stripe's delay, in case it was lost.
        overdue = fields.Datetime.now() - datetime.timedelta(days=VERIFICATION_CHECK_DAYS)
        for setup in self.search(
            [("state", "=", "verifying"), ("create_date", "<", overdue)], limit=50
        ):
            try:
                with self.env.cr.savepoint():
                    setup._sync_verification()
            except UserError as exc:
                _logger.info("verification of setup %s not checked: %s", setup.id, exc)

    def _finish(self):
        """Stripe.js confirmed the SetupIntent: create the token; return it.

        Everything is checked again server side (the SetupIntent's status, the customer, the
        expiry, the limit): the browser's word is never taken for it.
        """
        self.ensure_one()
        # Two confirmations of the same attempt (double submit, two tabs) never make two
        # tokens: the second waits for the first, then finds the attempt done.
        self.env.cr.execute(
            SQL("SELECT id FROM omni_payment_setup WHERE id = %s FOR UPDATE", self.id)
        )
        self.invalidate_recordset(["state"])
        if self.state != "pending":
            raise UserError(
                self.env._("This attempt is no longer valid. Reload the page and try again.")
            )
        provider = self.provider_id
        client = provider._omni_stripe_client()
        try:
            intent = stripe_api.as_dict(client.v1.setup_intents.retrieve(self.setup_intent_ref))
        except stripe.StripeError as exc:  # every SDK error becomes a user message
            raise provider._omni_stripe_user_error(exc) from exc
        next_action = intent.get("next_action") or {}
        awaiting = (
            intent.get("status") == "requires_action"
            and next_action.get("type") == "verify_with_microdeposits"
            and self.method_type in MICRODEPOSIT_TYPES
            and bool(intent.get("payment_method"))
        )
        if not awaiting and (
            intent.get("status") != "succeeded" or not intent.get("payment_method")
        ):
            if self.method_type != "card":
                raise UserError(
                    self.env._("Stripe has not confirmed the bank account yet. Please try again.")
                )
            raise UserError(self.env._("Stripe has not confirmed the card yet. Please try again."))
        pm_ref = intent["payment_method"]
        if isinstance(pm_ref, dict):
            pm_ref = pm_ref["id"]
        intent_customer = intent.get("customer")
        if isinstance(intent_customer, dict):
            intent_customer = intent_customer.get("id")
        try:
            pm = stripe_api.as_dict(client.v1.payment_methods.retrieve(pm_ref))
        except stripe.StripeError as exc:  # every SDK error becomes a user message
            raise provider._omni_stripe_user_error(exc) from exc
        owner = stripe_api.customer_id_of(pm)
        if (intent_customer and intent_customer != self.stripe_customer_ref) or (
            owner and owner != self.stripe_customer_ref
        ):
            # Another customer's PaymentMethod (the browser named it): never attached nor
            # saved, whatever Stripe would say. Nothing is detached either: it is not ours.
            _logger.warning(
                "payment method setup %s refused: %s belongs to another Stripe customer",
                self.id,
                pm_ref,
            )
            raise UserError(
                self.env._("This payment method cannot be saved: it belongs to another account.")
            )
        if awaiting:
            # Stripe attaches the account and activates its mandate once the micro-deposits
            # are confirmed: until then the token exists but is never charged (a refusal
            # here cancels the SetupIntent, as any failed attempt).
            with self.env.cr.savepoint():
                return self._save_token(pm_ref, pm, awaiting=next_action)
        if not owner:
            # Stripe attaches the method when it confirms a SetupIntent with a customer;
            # localstripe does not: attach it here.
            try:
                pm = stripe_api.as_dict(
                    client.v1.payment_methods.attach(
                        pm_ref,
                        {"customer": self.stripe_customer_ref},
                        {"idempotency_key": self._omni_key("attach")},
                    )
                )
            except stripe.StripeError as exc:  # every SDK error becomes a user message
                raise provider._omni_stripe_user_error(exc) from exc
        mandate = None
        mandate_ref = intent.get("mandate")
        if isinstance(mandate_ref, dict):
            mandate, mandate_ref = mandate_ref, mandate_ref.get("id")
        elif mandate_ref:
            try:
                mandate = stripe_api.as_dict(client.v1.mandates.retrieve(mandate_ref))
            except stripe.StripeError as exc:  # the mandate id alone is enough to charge
                _logger.warning("mandate %s not read from Stripe: %s", mandate_ref, exc)
                mandate = {"id": mandate_ref}
        try:
            # Whatever refuses the method from here on, it does not stay attached in Stripe.
            with self.env.cr.savepoint():
                return self._save_token(pm_ref, pm, mandate=mandate)
        except Exception:
            self._detach(client, pm_ref)
            raise

    def _save_token(self, pm_ref, pm, mandate=None, awaiting=None):
        """Check the confirmed PaymentMethod ``pm`` and create its token; ``mandate`` is the
        Stripe Mandate of a bank debit (None for cards, and with localstripe).

        :param dict awaiting: the SetupIntent's ``next_action`` when Stripe verifies the bank
            account with micro-deposits: the token is saved awaiting verification (never
            charged) and the attempt stays open until Stripe reports the outcome.
        """
        self.ensure_one()
        values = stripe_api.payment_method_values(pm)
        if values.get("omni_stripe_pm_type") != self.method_type:
            raise UserError(
                self.env._("Stripe confirmed another kind of payment method than the one asked.")
            )
        exp = expiry_lib.expiry_date(
            values.get("omni_card_exp_month"), values.get("omni_card_exp_year")
        )
        if exp and exp < fields.Date.context_today(self):
            raise UserError(self._omni_error_message("expired_card"))
        self._check_method_limit(self.partner_id, values.get("omni_method_kind") or "card")
        if self.link_id and not self.link_id._is_usable():
            raise UserError(self.env._("This link was already used. Ask us for a new one."))
        token = self.env["payment.token"].create(
            {
                "provider_id": self.provider_id.id,
                "payment_method_id": self.env.ref(ODOO_PAYMENT_METHODS[self.method_type]).id,
                "partner_id": (self.token_partner_id or self.partner_id).id,
                "payment_details": values.get("payment_details") or "",
                "provider_ref": self.stripe_customer_ref,
                "stripe_payment_method": pm_ref,
                "omni_nickname": self.nickname,
                "omni_added_channel": self.channel,
                "omni_added_by_id": self.user_id.id if not self.user_id._is_public() else False,
                "omni_awaiting_verification": bool(awaiting),
            }
        )
        token._omni_capture_stripe_details(pm)
        if values.get("omni_method_kind") == stripe_api.BANK:
            reference, status = stripe_api.mandate_values(mandate, pm)
            token._omni_system_write(
                {
                    # payment_stripe passes this id with each charge of the token.
                    "stripe_mandate": (mandate or {}).get("id") or False,
                    "omni_mandate_reference": reference,
                    "omni_mandate_status": status,
                }
            )
            token._omni_record_authorization(
                self.consent_text or None, version=f"{self.method_type}-{CONSENT_VERSION}"
            )
        else:
            token._omni_record_authorization(self.consent_text or None)
        if awaiting:
            self._await_verification(token, awaiting)
        else:
            self.write({"state": "done", "token_id": token.id})
        if self.link_id and not self.link_id._consume(token):
            raise UserError(self.env._("This link was already used. Ask us for a new one."))
        return token

    # === MICRO-DEPOSIT VERIFICATION === #

    def _await_verification(self, token, next_action):
        """Keep the attempt open for the micro-deposits of ``token``; email the customer
        Stripe's verification page."""
        self.ensure_one()
        details = next_action.get("verify_with_microdeposits") or {}
        arrival = details.get("arrival_date")
        kind = details.get("microdeposit_type")
        self.write(
            {
                "state": "verifying",
                "token_id": token.id,
                "microdeposit_type": kind if kind in ("amounts", "descriptor_code") else False,
                "verification_arrival": (
                    datetime.datetime.fromtimestamp(arrival, datetime.timezone.utc).date()
                    if isinstance(arrival, int)
                    else False
                ),
                "verification_url": details.get("hosted_verification_url") or False,
            }
        )
        token._omni_log(
            self.env._(
                "%(method)s saved, awaiting verification: Stripe sent two small deposits to "
                "the account.",
                method=token._omni_issuer_label(),
            ),
            event="added",
        )
        self._send_verification_email()

    def _send_verification_email(self):
        """Email the customer the link to Stripe's page that verifies the micro-deposits.

        Stripe's hosted page is used rather than a page of Odoo's: it checks the amounts or
        code, counts the attempts and needs no account in Odoo; the signed-in customer can
        also enter them in the portal. The link is Stripe's and expires with the SetupIntent.
        """
        self.ensure_one()
        # sudo: the verification page is restricted to managers; it is sent to its customer.
        url = self.sudo().verification_url
        token = self.token_id
        recipient = token._omni_reminder_recipient()
        if not url or not recipient.email:
            return False
        partner = self.partner_id
        if self.microdeposit_type == "descriptor_code":
            what = self.env._(
                "one deposit of 0.01 whose description holds a 6-character code starting with SM"
            )
        else:
            what = self.env._("two small deposits")
        body = Markup("<p>%s</p><p>%s</p><p><a href='%s'>%s</a></p><p>%s</p>") % (
            self.env._("Hello %(name)s,", name=partner.name or ""),
            self.env._(
                "To verify %(method)s, Stripe is sending %(what)s to the account; they "
                "usually arrive within 1-2 business days. Once you see them on your bank "
                "statement, confirm them on Stripe's page (or in your account on our "
                "portal). The account is not debited before it is verified.",
                method=token._omni_issuer_label(),
                what=what,
            ),
            url,
            self.env._("Verify my bank account"),
            self.env._("The deposits must be confirmed within 10 days."),
        )
        rendered = {
            "subject": self.env._(
                "Verify your bank account ending in %(last4)s",
                last4=(token.payment_details or "")[-4:],
            ),
            "body_html": body,
            "email_from": (self.company_id.email_formatted or self.env.user.email_formatted),
        }
        return partner._omni_email_customer(rendered, recipient, self.company_id)

    @api.model
    def _parse_microdeposits(self, amount_1="", amount_2="", descriptor_code=""):
        """Return ``(amounts in cents, descriptor code)`` from what the customer typed.

        An amount is read as on the statement ("0.32", "0,32") or in cents ("32"); the code
        is upper-cased ("sm11aa" -> "SM11AA"). Raises ``UserError`` when neither is given.
        """
        code = (descriptor_code or "").strip().upper()
        if code:
            if not (len(code) == 6 and code.isalnum()):
                raise UserError(self.env._("The code has 6 letters and digits and starts with SM."))
            return None, code
        amounts = []
        for raw in (amount_1, amount_2):
            text = (raw or "").strip().replace(",", ".")
            try:
                value = round(float(text) * 100) if "." in text else int(text)
            except ValueError:
                value = None
            if value is None or not 0 < value < 100:
                raise UserError(
                    self.env._(
                        "Enter the two amounts of the deposits as they appear on your bank "
                        "statement, e.g. 0.32 and 0.45."
                    )
                )
            amounts.append(value)
        return amounts, None

    def _verify_microdeposits(self, amounts=None, descriptor_code=None):
        """Send the micro-deposits the customer read on the statement to Stripe.

        :param list amounts: the two amounts, in cents
        :param str descriptor_code: the code of the deposit's description (SM...)
        :return: the verified token
        Raises ``UserError`` with Stripe's reason when they do not match.
        """
        self.ensure_one()
        if self.state != "verifying":
            raise UserError(self.env._("This bank account is not awaiting verification."))
        if descriptor_code:
            params = {"descriptor_code": descriptor_code}
        elif amounts and len(amounts) == 2:
            params = {"amounts": list(amounts)}
        else:
            raise UserError(
                self.env._("Enter the two amounts or the code of the deposit as they appear.")
            )
        provider = self.provider_id
        client = provider._omni_stripe_client()
        try:
            intent = stripe_api.as_dict(
                client.v1.setup_intents.verify_microdeposits(
                    self.setup_intent_ref,
                    params,
                    {"idempotency_key": self._omni_key(f"verify-{sorted(params.items())}")},
                )
            )
        except stripe.InvalidRequestError as exc:
            code = getattr(exc, "code", None)
            message = getattr(exc, "user_message", None) or str(exc)
            if code in VERIFICATION_FAILED_CODES:
                self._verification_failed(code, message)
            raise UserError(
                self.env._("The bank account could not be verified: %(detail)s", detail=message)
            ) from exc
        except stripe.StripeError as exc:
            raise provider._omni_stripe_user_error(exc) from exc
        self._sync_verification(intent)
        if self.state != "done":
            raise UserError(
                self.env._("Stripe has not confirmed the bank account yet. Please try again.")
            )
        return self.token_id

    def _sync_verification(self, intent=None):
        """Apply the SetupIntent's outcome to an account awaiting verification.

        ``intent`` is the SetupIntent in the addon's API version (retrieved when None): the
        webhook's copy is only the trigger. Succeeded: the token becomes usable; failed or
        canceled: it is archived; still waiting: nothing changes.

        :return: "verified", "failed" or False (nothing changed)
        """
        self.ensure_one()
        self.env.cr.execute(
            SQL("SELECT id FROM omni_payment_setup WHERE id = %s FOR UPDATE", self.id)
        )
        self.invalidate_recordset(["state"])
        if self.state != "verifying":
            return False
        provider = self.provider_id
        client = provider._omni_stripe_client()
        if intent is None:
            try:
                intent = stripe_api.as_dict(client.v1.setup_intents.retrieve(self.setup_intent_ref))
            except stripe.StripeError as exc:
                raise provider._omni_stripe_user_error(exc) from exc
        status = intent.get("status")
        if status == "succeeded":
            self._complete_verification(client, intent)
            return "verified"
        if status in ("requires_payment_method", "canceled"):
            error = intent.get("last_setup_error") or {}
            self._verification_failed(error.get("code") or status, error.get("message") or status)
            return "failed"
        return False

    def _complete_verification(self, client, intent):
        """Stripe verified the account: store its mandate, make the token usable."""
        token = self.token_id.with_context(active_test=False)
        mandate = None
        mandate_ref = intent.get("mandate")
        if isinstance(mandate_ref, dict):
            mandate = mandate_ref
        elif mandate_ref:
            try:
                mandate = stripe_api.as_dict(client.v1.mandates.retrieve(mandate_ref))
            except stripe.StripeError as exc:
                _logger.warning("mandate %s not read from Stripe: %s", mandate_ref, exc)
                mandate = {"id": mandate_ref}
        reference, status = stripe_api.mandate_values(mandate)
        token._omni_system_write(
            {
                "omni_awaiting_verification": False,
                "stripe_mandate": (mandate or {}).get("id") or False,
                "omni_mandate_reference": reference,
                "omni_mandate_status": status,
            }
        )
        self.write({"state": "done"})
        token._omni_log(
            self.env._(
                "%(method)s verified by Stripe (micro-deposits): it can now be charged.",
                method=token._omni_issuer_label(),
            ),
            event="updated",
            channel="stripe",
        )
        if token.active:
            token.commercial_partner_id._omni_payment_method_changed()

    def _verification_failed(self, code, message):
        """The micro-deposits were not confirmed (wrong too often, or too late): the account
        is archived; the customer adds it again to retry."""
        token = self.token_id
        self.write(
            {
                "state": "failed",
                "error_code": (code or "")[:64] or False,
                "error_message": (message or "")[:256] or False,
            }
        )
        if token.active:
            # Stripe failed the verification: nothing to detach there.
            token.with_context(omni_keep_in_stripe=True)._omni_system_write({"active": False})
            token._omni_log(
                self.env._(
                    "%(method)s could not be verified (micro-deposits): it was removed.",
                    method=token._omni_issuer_label(),
                ),
                event="deleted",
                channel="stripe",
            )

    def _detach(self, client, pm_ref):
        try:
            client.v1.payment_methods.detach(
                pm_ref, {}, {"idempotency_key": self._omni_key("detach")}
            )
        except stripe.StripeError as exc:  # best effort: the method is not kept anyway
            _logger.info("payment method %s not detached: %s", pm_ref, exc)
