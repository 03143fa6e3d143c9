# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import logging

import stripe
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from odoo.addons.payment_stripe import utils as stripe_utils

from ..compat import orm as compat_orm
from ..lib import expiry as expiry_lib
from ..lib import stripe_events

_logger = logging.getLogger(__name__)

# The events by their current names; an endpoint of an older API version delivers (and is
# subscribed to) the card updater's under its name in that version,
# payment_method.card_automatically_updated (lib/stripe_events.py).
EVENT_AUTOMATICALLY_UPDATED = "payment_method.automatically_updated"
EVENT_UPDATED = "payment_method.updated"
EVENT_DETACHED = "payment_method.detached"
# The Stripe events that keep stored methods current: the addon asks Stripe to send them
# (payment.provider._omni_stripe_request_payload adds them to the webhook payment_stripe
# creates, in the names of its version) and processes them itself (controllers/main.py).
OMNI_WEBHOOK_EVENTS = (EVENT_AUTOMATICALLY_UPDATED, EVENT_UPDATED, EVENT_DETACHED)
# setup_intent.succeeded is in payment_stripe's subscription already.
OMNI_SETUP_EVENTS = ("setup_intent.setup_failed", "setup_intent.canceled")
# Every event the addon asks the webhook endpoint for, by current name.
OMNI_SUBSCRIBED_EVENTS = OMNI_WEBHOOK_EVENTS + OMNI_SETUP_EVENTS
# Oldest accepted signature, in seconds: payment_stripe's WEBHOOK_AGE_TOLERANCE.
WEBHOOK_TOLERANCE = 10 * 60


@compat_orm.sql_constraints(
    (
        "event_id_uniq",
        "UNIQUE(event_id)",
        "A Stripe event is recorded only once.",
    ),
)
class OmniStripeEvent(models.Model):
    """One Stripe webhook event about a stored PaymentMethod, recorded once by event id.

    Only the event's identity and outcome are stored: never its payload.
    """

    _name = "omni.stripe.event"
    _description = "Stripe Webhook Event"
    _order = "received_on desc, id desc"
    _rec_name = "event_id"

    event_id = fields.Char(string="Event ID", required=True, readonly=True)
    event_type = fields.Char(
        string="Type",
        required=True,
        readonly=True,
        index=True,
        help="The event's name as Stripe sent it, in the API version of the endpoint.",
    )
    api_version = fields.Char(
        string="API Version",
        readonly=True,
        help="The Stripe API version the event was sent in: the version of the webhook "
        "endpoint, which names and shapes its events.",
    )
    object_id = fields.Char(
        string="Stripe Object",
        readonly=True,
        index=True,
        help="The Stripe PaymentMethod (or SetupIntent) id the event is about.",
    )
    stripe_created = fields.Datetime(
        string="Created in Stripe",
        readonly=True,
        help="When Stripe created the event: the time of the state it describes.",
    )
    received_on = fields.Datetime(
        string="Received", default=fields.Datetime.now, required=True, readonly=True
    )
    provider_id = fields.Many2one(
        comodel_name="payment.provider", readonly=True, ondelete="set null"
    )
    company_id = fields.Many2one(
        related="provider_id.company_id", store=True, index=True, string="Company"
    )
    token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Payment Method",
        readonly=True,
        ondelete="set null",
    )
    state = fields.Selection(
        selection=[
            ("processed", "Processed"),
            ("ignored", "Ignored"),
            ("stale", "Stale"),
        ],
        required=True,
        readonly=True,
        index=True,
        help="Stale: older than the state the payment method already reflects, so not applied.",
    )
    reason = fields.Char(readonly=True)

    # === BUSINESS METHODS: RECEPTION === #

    @api.model
    def _parse_event(self, event):
        """Return the values of the event that matter, or raise ``ValueError`` if malformed.

        :param event: the decoded JSON body of the webhook request.
        """
        if not isinstance(event, dict):
            raise ValueError("the event is not a JSON object")
        event_id, event_type = event.get("id"), event.get("type")
        created = event.get("created")
        data = event.get("data")
        stripe_object = data.get("object") if isinstance(data, dict) else None
        object_id = stripe_object.get("id") if isinstance(stripe_object, dict) else None
        if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
            raise ValueError("the event has no id or type")
        if isinstance(created, bool) or not isinstance(created, int) or created <= 0:
            raise ValueError("the event has no creation time")
        if not (isinstance(object_id, str) and object_id):
            raise ValueError("the event has no object id")
        try:
            stripe_created = datetime.datetime.fromtimestamp(created, datetime.timezone.utc)
        except (OverflowError, OSError) as exc:
            raise ValueError("the event's creation time is out of range") from exc
        api_version = event.get("api_version")
        return {
            "event_id": event_id,
            "event_type": event_type,
            "api_version": api_version if isinstance(api_version, str) else False,
            "object_id": object_id,
            "stripe_created": stripe_created.replace(tzinfo=None),
            "object": stripe_object,
        }

    @api.model
    def _tokens_of(self, object_id, provider=None):
        """Return every stored Stripe method, archived ones included, of a PaymentMethod."""
        domain = [("stripe_payment_method", "=", object_id), ("provider_code", "=", "stripe")]
        if provider is not None:
            domain.append(("provider_id", "=", provider.id))
        return self.env["payment.token"].with_context(active_test=False).search(domain)

    @api.model
    def _candidate_providers(self, object_id):
        """Return the providers whose webhook secret may have signed an event on ``object_id``.

        The provider of the methods holding the PaymentMethod when there are some; otherwise
        every enabled or test Stripe provider (an event on an unknown PaymentMethod is still
        verified, then recorded).
        """
        providers = self._tokens_of(object_id).provider_id
        if providers:
            return providers
        providers = self.env["payment.provider"].search(
            [("code", "=", "stripe"), ("state", "in", ("enabled", "test"))]
        )
        # sudo: the webhook secret is restricted to system users; only its presence is read.
        return providers.filtered(lambda p: stripe_utils.get_webhook_secret(p.sudo()))

    @api.model
    def _setup_of_event(self, event):
        """The addon's attempt whose SetupIntent a ``setup_intent.*`` event is about, or an
        empty recordset (then the event is payment_stripe's)."""
        data = event.get("data")
        intent = data.get("object") if isinstance(data, dict) else None
        intent_id = intent.get("id") if isinstance(intent, dict) else None
        if not (isinstance(intent_id, str) and intent_id.startswith("seti_")):
            return self.env["omni.payment.setup"]
        return self.env["omni.payment.setup"].search(
            [("setup_intent_ref", "=", intent_id)], limit=1
        )

    @api.model
    def _verify_signature(self, payload, signature_header, object_id, providers=None):
        """Return the provider whose webhook secret signed ``payload``, or an empty recordset.

        The signature is checked with Stripe's SDK, timestamps older than
        ``WEBHOOK_TOLERANCE`` are refused. A provider without a webhook secret accepts
        nothing: these events change stored payment methods.

        :param bytes payload: the raw body of the request, exactly as received.
        :param str signature_header: the ``Stripe-Signature`` header (maybe None).
        :param providers: the providers that may have signed it (default: those of the
            PaymentMethod ``object_id``).
        """
        if providers is None:
            providers = self._candidate_providers(object_id)
        if not signature_header:
            _logger.warning("Stripe webhook event without signature refused")
            return providers.browse()
        for provider in providers:
            # sudo: the webhook secret is restricted to system users; it is only used to
            # check the signature.
            secret = stripe_utils.get_webhook_secret(provider.sudo())
            if not secret:
                _logger.warning(
                    "Stripe provider %s has no webhook secret: its payment method events are "
                    "refused",
                    provider.id,
                )
                continue
            try:
                stripe.WebhookSignature.verify_header(
                    payload, signature_header, secret, tolerance=WEBHOOK_TOLERANCE
                )
            except stripe.SignatureVerificationError as exc:
                _logger.debug("signature not from provider %s: %s", provider.id, exc)
                continue
            return provider
        _logger.warning(
            "Stripe webhook event refused: no valid, recent signature from providers %s",
            providers.ids,
        )
        return providers.browse()

    # === BUSINESS METHODS: PROCESSING === #

    @api.model
    def _find_event(self, event_id):
        return self.search([("event_id", "=", event_id)], limit=1)

    @api.model
    def _record_event(self, values):
        """Create the event's row, or return an empty recordset if it is already recorded.

        The row is inserted before anything else changes: of two identical deliveries
        processed at the same time, the second one waits on the unique index until the first
        one commits, then fails on it and is answered as a duplicate.
        """
        if self._find_event(values["event_id"]):
            return self.browse()
        try:
            # The duplicate key of a simultaneous delivery is expected and handled here.
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return self.create(values)
        except pg_errors.UniqueViolation:
            _logger.info("Stripe event %s received twice at once", values["event_id"])
            return self.browse()

    @api.model
    def _process_event(self, event, provider):
        """Record a verified ``payment_method.*`` event once, and apply it to stored methods.

        The event is read in the version of the endpoint that sent it (its ``api_version``):
        it is turned once, here, into the shape the rest of the handling reads.

        :param dict event: the decoded Stripe event (its signature already checked).
        :param provider: the Stripe provider whose webhook secret signed the event.
        :return: the event's record, or an empty recordset when it was already received.
        """
        values = self._parse_event(event)
        values.pop("object")
        normalized = stripe_events.normalize_event(event)
        payment_method = normalized["data"]["object"]
        handled_type = normalized["type"]
        record = self._record_event(
            dict(values, provider_id=provider.id, state="ignored", reason=False)
        )
        if not record:
            return record
        tokens = self._tokens_of(values["object_id"], provider=provider)
        if handled_type not in OMNI_WEBHOOK_EVENTS:
            outcome = ("ignored", self.env._("Event type not handled."))
        elif not tokens:
            outcome = ("ignored", self.env._("No stored payment method has this PaymentMethod."))
        else:
            outcome = None
            for token in tokens:
                token_outcome = record._apply_to_token(token, payment_method, handled_type)
                # A processed token wins over ignored/stale ones of the same PaymentMethod.
                if outcome is None or token_outcome[0] == "processed":
                    outcome = token_outcome
                    record.token_id = token
        record.write({"state": outcome[0], "reason": outcome[1]})
        _logger.info(
            "Stripe event %s (%s) on %s: %s",
            record.event_id,
            record.event_type,
            record.object_id,
            record.state,
        )
        return record

    @api.model
    def _process_setup_event(self, event, setup):
        """Record a verified ``setup_intent.*`` event of the addon's SetupIntent ``setup``
        once, and apply it to a bank account awaiting verification.

        The SetupIntent is read again from Stripe, in the addon's API version: the event (in
        the endpoint's version) only says something changed.

        :return: the event's record, or an empty recordset when it was already received.
        """
        values = self._parse_event(event)
        values.pop("object")
        record = self._record_event(
            dict(values, provider_id=setup.provider_id.id, state="ignored", reason=False)
        )
        if not record:
            return record
        record.token_id = setup.token_id
        if setup.state != "verifying":
            record.reason = self.env._("The attempt is not awaiting verification.")
            return record
        try:
            with self.env.cr.savepoint():
                outcome = setup._sync_verification()
        except UserError as exc:
            _logger.warning("Stripe event %s not applied to setup %s: %s", record.id, setup.id, exc)
            record.reason = self.env._("Stripe could not be read: %(error)s", error=exc)
            return record
        if outcome == "verified":
            record.write({"state": "processed", "reason": self.env._("Bank account verified.")})
        elif outcome == "failed":
            record.write(
                {"state": "processed", "reason": self.env._("Verification failed: archived.")}
            )
        else:
            record.reason = self.env._("Still awaiting verification in Stripe.")
        return record

    def _apply_to_token(self, token, payment_method, event_type):
        """Apply the event to one stored method; return ``(state, reason)``.

        ``payment_method`` and ``event_type`` are the event's, in the addon's shape and names
        (``lib/stripe_events.normalize_event``).

        Order-independent: each change carries the event's creation time, and the token
        refuses a state older than the one it reflects (stale). A detached method stays
        archived whatever update arrives later.
        """
        self.ensure_one()
        state_at = self.stripe_created
        is_older = bool(token.omni_stripe_state_at and state_at < token.omni_stripe_state_at)
        if not token.active:
            if is_older:
                return "stale", self.env._("Older than the stored state of the method.")
            return "ignored", self.env._("The payment method is archived.")
        if event_type == EVENT_DETACHED:
            if not token._omni_archive_from_stripe(state_at=state_at):
                return "stale", self.env._("Older than the stored state of the method.")
            return "processed", self.env._("Archived: detached in Stripe.")
        before = self._token_snapshot(token)
        label = token._omni_issuer_label()
        try:
            with self.env.cr.savepoint():
                applied = token._omni_apply_payment_method(payment_method, state_at=state_at)
        except UserError as exc:
            _logger.warning("Stripe event %s not applied to token %s: %s", self.id, token.id, exc)
            return "ignored", self.env._("Refused by the payment method: %(error)s", error=exc)
        if not applied:
            return "stale", self.env._("Older than the stored state of the method.")
        if self._token_snapshot(token) == before:
            return "processed", self.env._("Up to date: no change of brand, last 4 or expiry.")
        token._omni_log(self._update_note(token, label), event="updated", channel="stripe")
        return "processed", self.env._("Brand, last 4 or expiry updated.")

    @api.model
    def _token_snapshot(self, token):
        """What the customer sees of a method: brand, last 4 and expiry."""
        return (
            token.omni_card_brand,
            (token.payment_details or "")[-4:],
            token.omni_card_exp_month,
            token.omni_card_exp_year,
        )

    def _update_note(self, token, label):
        """The chatter note of an update: brand and last 4 at most, and the new expiry."""
        new_label = token._omni_issuer_label()
        expiry = expiry_lib.format_expiry(token.omni_card_exp_month, token.omni_card_exp_year)
        if new_label != label and expiry:
            return self.env._(
                "%(method)s was updated by Stripe: now %(new_method)s, expires %(expiry)s.",
                method=label,
                new_method=new_label,
                expiry=expiry,
            )
        if new_label != label:
            return self.env._(
                "%(method)s was updated by Stripe: now %(new_method)s.",
                method=label,
                new_method=new_label,
            )
        return self.env._(
            "%(method)s was updated by Stripe: expires %(expiry)s.", method=label, expiry=expiry
        )
