# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import concurrent.futures
import contextlib
import copy
import datetime
import logging
import threading
import time

import psycopg2
import stripe

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_compare, float_is_zero, mute_logger

from odoo.addons.omni_payment_methods.compat import orm as compat_orm
from odoo.addons.omni_payment_methods.lib import stripe_api
from odoo.addons.payment import utils as payment_utils

from ..lib import dunning as dunning_lib
from ..lib import pacing as pacing_lib
from ..lib import stripe_minimums

_logger = logging.getLogger(__name__)

ATTEMPT_STATES = [
    ("not_sent", "Not sent"),
    ("unknown", "Outcome unknown"),
    ("processing", "Processing"),
    ("requires_action", "Authentication required"),
    ("done", "Paid"),
    ("failed", "Declined"),
    ("error", "Error"),
    ("skipped", "Not charged"),
    ("not_chargeable", "Not chargeable"),
    ("cancelled", "Cancelled"),
]
# Sent, but Stripe's answer was lost (timeout) or a 5xx: the next run looks the PaymentIntent
# up in Stripe before anything is sent again.
UNKNOWN = "unknown"
# States in which an attempt is over: the next charge of its invoice is a new attempt.
FINAL_FAILURES = ("failed", "error", "skipped", "not_chargeable", "cancelled")
# Stripe keeps idempotency keys for 24 hours: an attempt whose outcome is unknown is only
# re-sent with its key within that window, with a margin.
IDEMPOTENCY_WINDOW = datetime.timedelta(hours=23)

# A charge Stripe did not confirm is sent again by a later run, not by the run that sent it.
RESEND_DELAY = datetime.timedelta(minutes=10)

# Charges started by staff (a payment taken with the customer, a bulk charge, a schedule of
# installments): the customer's payment mode does not apply, and they are not the automatic
# charge of the invoice (a failed one does not stop the automatic charging of the invoice).
STAFF_ORIGINS = ("payment", "bulk", "installment")
# Charges whose failure staff see at once (the result of the wizard, the bulk summary): no
# dunning is started for them.
NO_DUNNING_ORIGINS = ("payment", "bulk")

# The SDK's errors after which a request may not have reached Stripe, or its answer was lost
# (``OmniStripeNotSent``): unreachable, timeout or rate limited; a 5xx (Stripe may have charged).
NOT_SENT_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)

# Attempts per invoice are numbered: attempt N of invoice I always sends the key derived from
# (I, N), however many times it is re-sent.
KEY_SCOPE = "omni_charge"


# The charging job's scale-out settings (Settings > Saved Payment Methods).
LANES_PARAM = "omni_payment_charging.charge_lanes"
CONCURRENCY_PARAM = "omni_payment_charging.charge_concurrency"
DEFAULT_LANES = 1
MAX_LANES = 32
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
MAIN_CRON = "omni_payment_charging.ir_cron_charge_due_invoices"
LANE_CODE = "model._cron_charge_due_invoices(lane=%d)"
LANE_XMLID = "ir_cron_charge_due_invoices_lane_%d"
# The answers a batch received for its attempts (attempt id: future), handed to the
# transaction's request hook of each attempt in turn; per thread (one per worker thread).
_PREFETCHED = threading.local()


def send_payment_intent(client, params, key):
    """Send a PaymentIntent through the SDK with its idempotency key, waiting out Stripe's
    rate limit (429: ``Retry-After``, else a backoff) and sending it again with the same
    key: a 429 is never a decline. No database access: called from the batch's threads.

    :return: the PaymentIntent (SDK object)
    :raise stripe.StripeError: any other error, or the last 429 after
        ``pacing.MAX_RATE_LIMITED_TRIES``
    """
    tries = 0
    while True:
        try:
            return client.v1.payment_intents.create(
                copy.deepcopy(params), options={"idempotency_key": key}
            )
        except stripe.RateLimitError as exc:
            if tries + 1 >= pacing_lib.MAX_RATE_LIMITED_TRIES:
                raise
            wait = pacing_lib.retry_wait(getattr(exc, "headers", None), tries)
            _logger.info("Stripe rate limit (429): request %s sent again in %.1f s", key, wait)
            time.sleep(wait)
            tries += 1


class OmniStripeNotSent(Exception):
    """Stripe could not be reached, timed out or failed (5xx): the charge was not confirmed."""

    def __init__(self, error, outcome_unknown):
        super().__init__(str(error))
        self.error = error
        self.outcome_unknown = outcome_unknown


class OmniAttemptTaken(Exception):
    """Another worker created this attempt first."""


@compat_orm.sql_constraints(
    (
        "invoice_attempt_uniq",
        "UNIQUE(invoice_id, attempt_no)",
        "An invoice has one charge attempt per number.",
    ),
    ("idempotency_key_uniq", "UNIQUE(idempotency_key)", "Idempotency keys are unique."),
)
class OmniChargeAttempt(models.Model):
    _name = "omni.charge.attempt"
    _inherit = ["omni.batch.mixin"]
    _description = "Automatic Charge Attempt"
    _order = "id desc"
    _rec_name = "reference"

    reference = fields.Char(required=True, readonly=True, index=True)
    invoice_id = fields.Many2one(
        comodel_name="account.move",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    invoice_payment_state = fields.Selection(
        related="invoice_id.payment_state", string="Invoice Payment Status"
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one(comodel_name="res.company", required=True, readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", required=True, readonly=True)
    amount = fields.Monetary(readonly=True)
    attempt_no = fields.Integer(string="Attempt", required=True, readonly=True, default=1)
    origin = fields.Selection(
        selection=[
            ("auto", "Automatic charge"),
            ("retry", "Dunning retry"),
            ("method", "New payment method"),
            ("staff", "Retry by staff"),
            ("payment", "Payment taken by staff"),
            ("bulk", "Bulk charge"),
            ("installment", "Installment"),
        ],
        required=True,
        readonly=True,
        default="auto",
    )
    token_id = fields.Many2one(
        comodel_name="payment.token", string="Payment Method", readonly=True, index="btree_not_null"
    )
    transaction_id = fields.Many2one(
        comodel_name="payment.transaction", readonly=True, index="btree_not_null"
    )
    state = fields.Selection(
        selection=ATTEMPT_STATES, required=True, readonly=True, default="not_sent", index=True
    )
    failure_kind = fields.Selection(
        selection=[
            (dunning_lib.HARD, "Hard decline"),
            (dunning_lib.SOFT, "Soft decline"),
            (dunning_lib.RETRY_LATER, "Decline: retry later"),
            (dunning_lib.AUTHENTICATION, "Authentication required"),
            (dunning_lib.CONFIG, "Not chargeable"),
        ],
        readonly=True,
    )
    decline_code = fields.Char(readonly=True)
    advice_code = fields.Char(
        readonly=True,
        help="Stripe's advice on the decline: do_not_try_again, try_again_later, "
        "confirm_card_data.",
    )
    network_advice_code = fields.Char(
        readonly=True,
        help="The card network's advice on the decline (Mastercard's Merchant Advice Code, "
        "Visa's decline category).",
    )
    reason = fields.Char(readonly=True)
    company_side = fields.Boolean(
        string="Company Action Needed",
        readonly=True,
        help="The charge was not sent for a reason the company must fix (provider, currency, "
        "company): the customer is not emailed, staff get an activity.",
    )
    idempotency_key = fields.Char(readonly=True, copy=False)
    request_params = fields.Json(
        string="Stripe Request",
        readonly=True,
        copy=False,
        help="The parameters of the PaymentIntent, frozen with the idempotency key when the "
        "charge is first sent: every re-send of the key sends them unchanged (Stripe refuses "
        "a key reused with other parameters). What must change takes a new attempt.",
    )
    stripe_payment_intent = fields.Char(string="Stripe PaymentIntent", readonly=True)
    first_sent_at = fields.Datetime(readonly=True)
    last_sent_at = fields.Datetime(readonly=True)
    send_count = fields.Integer(
        readonly=True, help="How many times the request was sent (always with the same key)."
    )
    outcome_unknown = fields.Boolean(
        readonly=True,
        help="Stripe timed out or failed after the request was sent: the next run re-sends it "
        "with the same idempotency key, so Stripe answers with the first result.",
    )

    # === BUSINESS METHODS: SELECTION === #

    @api.model
    def _due_invoices(self, today, limit=None, lock=False):
        """Posted customer invoices due by ``today`` of customers in automatic mode that no
        charge attempt has handled yet. An attempt left "Not sent" or "Outcome unknown" is taken
        again once ``RESEND_DELAY`` has passed (the next run), not by the run that just sent
        it.

        With ``lock``, the rows are locked (FOR NO KEY UPDATE SKIP LOCKED): two workers running
        the job at once never take the same invoice.
        """
        query = SQL(
            """
            SELECT m.id
              FROM account_move m
              JOIN res_partner p ON p.id = m.commercial_partner_id
             WHERE m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.amount_residual > 0
               AND m.invoice_date_due <= %(today)s
               AND m.company_id IN %(companies)s
               AND p.omni_payment_mode = 'automatic'
               AND NOT EXISTS (
                    SELECT 1 FROM omni_charge_attempt a
                     WHERE a.invoice_id = m.id
                       AND a.origin NOT IN %(staff_origins)s
                       AND (a.state NOT IN ('not_sent', 'unknown')
                            OR a.last_sent_at >= %(resend_after)s)
               )
               %(conditions)s
             ORDER BY m.invoice_date_due, m.id
             %(limit)s
             %(lock)s
            """,
            today=today,
            resend_after=fields.Datetime.now() - RESEND_DELAY,
            staff_origins=STAFF_ORIGINS,
            companies=tuple(self.env.companies.ids),
            limit=SQL("LIMIT %s", limit) if limit else SQL(),
            lock=SQL("FOR NO KEY UPDATE OF m SKIP LOCKED") if lock else SQL(),
            conditions=SQL(" ").join(
                SQL("AND (%s)", condition) for condition in self._due_invoices_conditions()
            ),
        )
        self.env["account.move"].flush_model(
            ["move_type", "state", "payment_state", "amount_residual", "invoice_date_due"]
        )
        self.flush_model(["state", "invoice_id", "last_sent_at"])
        self.env["res.partner"].flush_model(["omni_payment_mode"])
        return self.env["account.move"].browse(row[0] for row in self.env.execute_query(query))

    @api.model
    def _due_invoices_conditions(self):
        """Hook for the features that charge some invoices their own way: extra conditions
        on the invoices ``_due_invoices`` selects (``m`` is the ``account_move`` row).
        Overrides extend super's list and flush the fields their conditions read.

        :return: the conditions, all of which a due invoice meets
        :rtype: list[odoo.tools.SQL]
        """
        return []

    # === BUSINESS METHODS: CHARGING === #

    @api.model
    def _charge(self, invoice, origin="auto", token=None, amount=None, installment=None):
        """Charge ``amount`` (default: the open amount) of ``invoice`` with ``token``
        (default: the customer's default method), off-session, through a
        ``payment.transaction``.

        Returns the attempt. Never raises for a Stripe outcome: declines, errors and an
        unreachable Stripe are recorded on the attempt (and open or update the customer's
        dunning case).

        :param installment: the ``omni.installment`` this charge pays (its attempts are
            linked to it), or None
        """
        attempt, send = self._charge_prepare(
            invoice, origin=origin, token=token, amount=amount, installment=installment
        )
        if send:
            attempt._omni_send()
            attempt._charge_outcome()
        return attempt

    @api.model
    def _charge_prepare(
        self,
        invoice,
        origin="auto",
        token=None,
        amount=None,
        installment=None,
        savepoint=True,
        batch=None,
    ):
        """Everything of ``_charge`` up to sending the PaymentIntent: the attempt (new,
        or the last one not sent), the checks, an unknown outcome looked up in Stripe.

        :param bool savepoint: False when the caller runs this in a savepoint of its own
            (the batch): a new attempt is created without one, and an invoice another
            worker is charging raises ``OmniAttemptTaken`` for the caller to roll back
        :return: ``(attempt, send)``: ``send`` is True when the attempt's PaymentIntent is
            to be sent (``_omni_send``, then ``_charge_outcome``); False when there is
            nothing to send (skipped, not chargeable, paid, in progress, found in Stripe,
            taken by another worker: an empty attempt)
        :param dict batch: what ``_charge_batch_prefetch`` read for the invoices of the
            batch ``invoice`` belongs to (None: read for this invoice alone)
        :rtype: tuple
        """
        invoice.ensure_one()
        # The records follow the engine's environment (the job's, or a checked sudo).
        invoice = invoice.with_env(self.env)
        partner, company = invoice.commercial_partner_id, invoice.company_id
        # The method is chosen first, so that a new attempt is created with it.
        if token:
            token = token.with_env(self.env)
        elif batch is not None:
            token = batch["default_tokens"].get((partner.id, company.id))
            # sudo: as res.partner's _omni_default_token, which the batch read them as
            token = token or self.env["payment.token"].sudo()
        else:
            token = partner._omni_default_token(company)
        try:
            attempt = self._next_attempt(
                invoice,
                origin,
                installment=installment,
                token=token,
                savepoint=savepoint,
                last=batch["last_attempts"].get(invoice.id, self.browse())
                if batch is not None
                else None,
            )
        except OmniAttemptTaken:
            if not savepoint:
                raise
            _logger.info("invoice %s is being charged by another worker", invoice.name)
            return self.browse(), False
        if attempt.state == UNKNOWN or (attempt.state == "not_sent" and attempt.outcome_unknown):
            decision = attempt._resolve_unknown()
            if decision == "new":
                # Nothing was charged and the key expired: a new attempt, a new key.
                return self._charge_prepare(
                    invoice,
                    origin=origin,
                    token=token,
                    amount=amount,
                    installment=installment,
                    savepoint=savepoint,
                )
            if decision != "resend":
                return attempt, False  # found in Stripe (recorded), or still unknown
        elif attempt.state != "not_sent":
            return attempt, False  # in progress or paid: nothing to send
        if attempt.request_params:
            # Sent before without a confirmed answer: the same charge again (same key, same
            # parameters, same method and amount), whatever changed meanwhile.
            return attempt, True
        reason, company_side = self._check_chargeable(invoice, token, origin)
        if not reason:
            reason = self._charge_blocked_reason(invoice, origin, batch=batch)
        values = {
            "token_id": token,
            "amount": amount or invoice.amount_residual,
            "currency_id": invoice.currency_id,
        }
        # A new attempt has them already: only what changed is written.
        attempt.write(
            {
                name: value.id if isinstance(value, models.BaseModel) else value
                for name, value in values.items()
                if attempt[name] != value
            }
        )
        if not reason and attempt._below_minimum():
            # Stripe would refuse it (amount_too_small): not sent, and not the customer's
            # failure (no dunning over cents).
            attempt.write(
                {
                    "state": "not_chargeable",
                    "failure_kind": dunning_lib.CONFIG,
                    "reason": attempt._below_minimum_reason(),
                }
            )
        elif reason:
            attempt.write(
                {
                    "state": "skipped",
                    "failure_kind": dunning_lib.CONFIG,
                    "reason": reason,
                    "company_side": company_side,
                }
            )
        else:
            return attempt, True
        attempt._charge_outcome()
        return attempt, False

    @api.model
    def _charge_invoices(self, invoices, token, amount=None, origin="payment", installment=None):
        """Charge ``amount`` (default: their open amount) of ``invoices`` with ``token``: one
        PaymentIntent per invoice, the oldest due first, until the amount is used up. Stops at
        the first charge that does not go through (the method failed: it is not tried on the
        next invoices).

        Returns the attempts. The shared engine of "Make a payment", bulk charges and
        installments.
        """
        currency = invoices[:1].currency_id
        rounding = currency.rounding if currency else 0.01
        remaining = sum(invoices.mapped("amount_residual")) if amount is None else amount
        attempts = self.browse()
        invoices = invoices.sorted(lambda m: (m.invoice_date_due or m.date, m.id))
        for invoice in invoices:
            if float_compare(remaining, 0.0, precision_rounding=rounding) <= 0:
                break
            if float_is_zero(invoice.amount_residual, precision_rounding=rounding):
                continue
            part = min(invoice.amount_residual, remaining)
            attempt = self._charge(
                invoice, origin=origin, token=token, amount=part, installment=installment
            )
            attempts |= attempt
            if attempt.state in ("done", "processing"):
                remaining -= part
            else:
                break
        return attempts

    @api.model
    def _next_attempt(
        self, invoice, origin, installment=None, token=None, savepoint=True, last=None
    ):
        """The attempt to send for ``invoice``: the last one when it was not sent (same number,
        same key), else a new one (linked to ``installment`` when it charges one, with
        ``token`` as its method).

        :param bool savepoint: create a new attempt in a savepoint of its own, so that an
            invoice another worker is charging raises ``OmniAttemptTaken`` with the
            transaction still usable; False: the caller's savepoint rolls it back
        :param last: the invoice's last attempt (or an empty recordset) when the caller read
            it already (a batch); None: read here
        :raise OmniAttemptTaken: another worker created this attempt first
        """
        if last is None:
            last = self.search([("invoice_id", "=", invoice.id)], order="attempt_no desc", limit=1)
        # A paid attempt whose payment is recorded on the invoice is over too when the
        # invoice is charged again (a partial payment, the next installment): the new charge
        # is a new attempt with its own key. Paid but not recorded yet: nothing to send.
        over = last.state in FINAL_FAILURES or (
            last.state == "done" and last.transaction_id.is_post_processed
        )
        if last and not over:
            return last
        number = last.attempt_no + 1 if last else 1
        reference = f"{invoice.name}-omni{number}"
        values = {
            "reference": reference,
            "invoice_id": invoice.id,
            "partner_id": invoice.commercial_partner_id.id,
            "company_id": invoice.company_id.id,
            "currency_id": invoice.currency_id.id,
            "amount": invoice.amount_residual,
            "attempt_no": number,
            "origin": origin,
            "token_id": token.id if token else False,
            "idempotency_key": stripe_api.idempotency_key(
                # sudo: the database's uuid (a system parameter) scopes the key, whoever charges
                self.env["ir.config_parameter"].sudo().get_param("database.uuid"),
                KEY_SCOPE,
                invoice.id,
                number,
            ),
        }
        # The unique (invoice, number) index is the arbiter between workers: a worker whose
        # snapshot predates another's commit sees no attempt, and its insert fails here
        # before anything is sent.
        values.update(self._new_attempt_links(invoice, installment=installment))
        try:
            with (
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint() if savepoint else contextlib.nullcontext(),
            ):
                return self.create(values)
        except psycopg2.errors.UniqueViolation as exc:
            raise OmniAttemptTaken(invoice.id) from exc

    @api.model
    def _new_attempt_links(self, invoice, installment=None):
        """Hook: the values linking a new attempt of ``invoice`` to the feature record its
        charge pays (an argument of the engine, never the context).

        :param installment: the ``installment`` argument of ``_charge``
        :return: values for the new attempt
        :rtype: dict
        """
        return {}

    @api.model
    def _check_chargeable(self, invoice, token, origin="auto"):
        """Why ``invoice`` cannot be charged with ``token``: ``(reason, company_side)``, or
        ``("", False)`` when it can.

        ``company_side`` is True when the company must act (provider, currency, company,
        payment mode), False when the customer must (no method, archived, not authorized).
        """
        partner = invoice.commercial_partner_id
        if partner.omni_payment_mode != "automatic" and origin not in STAFF_ORIGINS:
            return self.env._("The customer pays manually (bank transfer)."), True
        if not token:
            archived = (
                self.env["payment.token"]
                .with_context(active_test=False)
                .search_count(
                    [
                        ("commercial_partner_id", "=", partner.id),
                        ("active", "=", False),
                        ("company_id", "=", invoice.company_id.id),
                    ],
                    limit=1,
                )
            )
            if archived:
                return self.env._(
                    "The customer's payment method was deleted (archived) and there is no "
                    "default payment method."
                ), False
            return self.env._("The customer has no default payment method."), False
        if token.commercial_partner_id != partner:
            # Whoever asks (a wizard, an integration, a bulk run): a customer's invoice is
            # never charged to another customer's method.
            return self.env._(
                "%(method)s belongs to another customer than the invoice (%(customer)s).",
                method=token._omni_issuer_label(),
                customer=partner.display_name,
            ), True
        if not token.active:
            return self.env._(
                "%(method)s is archived: it cannot be charged.", method=token._omni_issuer_label()
            ), False
        if token.omni_awaiting_verification:
            return self.env._(
                "%(method)s is awaiting verification (micro-deposits): it cannot be charged "
                "before the customer confirms them.",
                method=token._omni_issuer_label(),
            ), False
        if not token.omni_authorized:
            return self.env._(
                "%(method)s has no recorded authorization for automatic charges.",
                method=token._omni_issuer_label(),
            ), False
        if token.company_id != invoice.company_id:
            return self.env._(
                "%(method)s belongs to another company.", method=token._omni_issuer_label()
            ), True
        provider = token.provider_id
        if provider.code != "stripe" or provider.state == "disabled":
            return self.env._(
                "The payment provider %(provider)s of %(method)s cannot charge (disabled or not "
                "Stripe).",
                provider=provider.name,
                method=token._omni_issuer_label(),
            ), True
        currencies = provider.available_currency_ids
        supported = token.payment_method_id.supported_currency_ids
        if (currencies and invoice.currency_id not in currencies) or (
            supported and invoice.currency_id not in supported
        ):
            return self.env._(
                "The invoice is in %(currency)s, which %(provider)s does not accept for "
                "%(method)s.",
                currency=invoice.currency_id.name,
                provider=provider.name,
                method=token._omni_issuer_label(),
            ), True
        return "", False

    @api.model
    def _charge_blocked_reason(self, invoice, origin, batch=None):
        """Hook for the features that hold a charge back: why ``invoice``, chargeable as far
        as the engine can tell (``_check_chargeable``), is not charged now (the attempt
        is skipped with the reason, as the customer's failure), or "" to charge it.

        :param str origin: the attempt's origin
        :param dict batch: what ``_charge_batch_prefetch`` read for the batch, or None
        :rtype: str
        """
        return ""

    @api.model
    def _charge_batch_prefetch(self, invoices):
        """Hook: what the preparation of each invoice of a batch reads, read once for all the
        batch's ``invoices`` (claimed and locked by the caller: no other worker changes
        them meanwhile). The engine reads each invoice's last attempt and the customers'
        default payment methods; overrides add their keys to super's dict.

        :return: ``{"last_attempts": {invoice id: attempt}, "default_tokens":
            {(commercial partner id, company id): token}, ...}``
        :rtype: dict
        """
        last_attempts = {}
        for attempt in self.search([("invoice_id", "in", invoices.ids)], order="attempt_no desc"):
            last_attempts.setdefault(attempt.invoice_id.id, attempt)
        default_tokens = {}
        # sudo: as res.partner's _omni_default_token (the job looks the methods up whatever
        # its access to tokens); one search for the batch, in its order.
        tokens = (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "in", invoices.commercial_partner_id.ids),
                    ("omni_is_default", "=", True),
                    ("company_id", "in", invoices.company_id.ids),
                ]
            )
        )
        for token in tokens:
            default_tokens.setdefault((token.commercial_partner_id.id, token.company_id.id), token)
        return {"last_attempts": last_attempts, "default_tokens": default_tokens}

    def _resolve_unknown(self):
        """Decide on a charge whose answer was lost (timeout) or was a 5xx: Stripe replays a
        5xx to every request with the same key for 24 hours, and a new key could charge
        twice, so the PaymentIntent is looked up in Stripe first (by the attempt's reference
        in its metadata).

        Found: recorded through the transaction (paid, processing or declined), once.
        Not found: re-sent with the same key and parameters while Stripe keeps the key;
        after that, nothing was charged (the lookup proved it) and the attempt ends, not as
        the customer's failure, for a new attempt with a new key.

        :return: "resend", "new", or "" (recorded, or Stripe could not be asked)
        :rtype: str
        """
        self.ensure_one()
        try:
            intent = self._find_payment_intent()
        except OmniStripeNotSent as exc:
            _category, message, _code = stripe_api.classify_error(exc.error)
            self.reason = self.env._(
                "Stripe could not be asked about this charge (%(message)s); the next run asks "
                "again before sending anything.",
                message=message,
            )
            return ""
        if intent:
            self._apply_intent(intent)
            return ""
        if self._window_open():
            return "resend"
        self.write(
            {
                "state": "error",
                "outcome_unknown": False,
                "reason": self.env._(
                    "Stripe has no payment for this charge: nothing was charged. Its "
                    "idempotency key has expired, so the invoice is charged again with a new "
                    "one."
                ),
            }
        )
        if self.transaction_id.state == "draft":
            self.transaction_id._set_canceled(state_message=self.reason)
        return "new"

    def _below_minimum(self):
        """The amount is below Stripe's minimum charge in its currency."""
        self.ensure_one()
        return stripe_minimums.is_below_minimum(self.amount, self.currency_id.name)

    def _below_minimum_reason(self):
        self.ensure_one()
        return self.env._(
            "%(amount)s is below Stripe's minimum charge in %(currency)s (%(minimum)s): it is "
            "not charged automatically. Collect it by other means.",
            amount=self._amount_label(),
            currency=self.currency_id.name,
            minimum=self.currency_id.format(
                float(stripe_minimums.minimum_amount(self.currency_id.name))
            ),
        )

    def _window_open(self):
        """An attempt sent before with an unknown outcome may only be re-sent while Stripe
        still remembers its idempotency key."""
        self.ensure_one()
        if not self.outcome_unknown or not self.first_sent_at:
            return True
        return fields.Datetime.now() - self.first_sent_at < IDEMPOTENCY_WINDOW

    def _omni_send(self):
        """Create the transaction and send the PaymentIntent, in a savepoint: if Stripe cannot
        be reached the transaction disappears and the attempt stays "Not sent".

        The parameters are frozen at the first send (``request_params``) and every re-send
        sends them unchanged with the same key.
        """
        self.ensure_one()
        self._mark_sent()
        self._send_marked()

    def _mark_sent(self):
        """Record that the PaymentIntent is being sent (when, how many times) and freeze its
        parameters with the key. A batch marks its attempts before sending them all at once:
        an attempt marked in the last ``RESEND_DELAY`` is not taken by another worker."""
        now = fields.Datetime.now()
        for attempt in self:
            values = {
                "first_sent_at": attempt.first_sent_at or now,
                "last_sent_at": now,
                "send_count": attempt.send_count + 1,
            }
            if not attempt.request_params:
                values["request_params"] = attempt._payment_intent_payload()
            if attempt.state == UNKNOWN:
                values["state"] = "not_sent"  # being sent again: its outcome is followed
            attempt.write(values)

    def _send_marked(self):
        """The transaction and the PaymentIntent of an attempt marked as sent
        (``_mark_sent``), and what Stripe answered."""
        self.ensure_one()
        unknown = None
        # The savepoint takes back a new transaction when nothing reached Stripe. An answer
        # the batch received already, that is not such an error, needs none: whatever else
        # fails rolls back with the batch's savepoint of the invoice.
        undo = contextlib.nullcontext() if self._answer_reached() else self.env.cr.savepoint()
        try:
            with undo:
                tx = self.transaction_id or self._omni_create_transaction()
                try:
                    tx._omni_charge_with_token()
                except OmniStripeNotSent as exc:
                    if not (exc.outcome_unknown or self.transaction_id):
                        # Nothing reached Stripe: the new transaction goes with the savepoint.
                        raise
                    unknown = exc
        except OmniStripeNotSent as exc:
            category, message, _code = stripe_api.classify_error(exc.error)
            self.write(
                {
                    "state": "not_sent",
                    "outcome_unknown": self.outcome_unknown or exc.outcome_unknown,
                    "reason": self.env._(
                        "Stripe did not confirm the charge (%(category)s: %(message)s); the "
                        "next run sends it again with the same idempotency key.",
                        category=category,
                        message=message,
                    ),
                }
            )
            return
        if unknown:
            # Stripe may have charged: the transaction is kept (payment_stripe's webhook finds
            # it by its reference) and the next run looks the PaymentIntent up.
            category, message, _code = stripe_api.classify_error(unknown.error)
            self.write(
                {
                    "state": UNKNOWN,
                    "outcome_unknown": True,
                    "transaction_id": tx.id,
                    "reason": self.env._(
                        "Stripe did not answer this charge (%(category)s: %(message)s); the "
                        "next run looks it up in Stripe before sending anything again.",
                        category=category,
                        message=message,
                    ),
                }
            )
            return
        self._update_from_transaction(tx)
        if tx.state == "done" and not tx.is_post_processed:
            # Odoo's post-processing creates the account.payment and reconciles the invoice.
            tx._post_process()

    def _omni_create_transaction(self):
        self.ensure_one()
        invoice = self.invoice_id
        token = self.token_id
        # sudo: the job (or a manager's "Retry now") creates the transaction for the customer;
        # payment.transaction is restricted to the payment administrators.
        return (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": token.provider_id.id,
                    "payment_method_id": token.payment_method_id.id,
                    "reference": self.reference,
                    "amount": self.amount,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "token_id": token.id,
                    "operation": "offline",
                    "invoice_ids": [Command.set(invoice.ids)],
                    "omni_charge_attempt_id": self.id,
                }
            )
        )

    # === BUSINESS METHODS: STRIPE === #

    def _payment_intent_payload(self):
        """Parameters of the off-session PaymentIntent of this attempt (hook for integrators:
        Connect, statement descriptors, ...). Called once, when the charge is first sent: the
        result is frozen on the attempt with its idempotency key and re-sent unchanged.

        :return: the parameters, JSON-serializable
        :rtype: dict
        """
        self.ensure_one()
        token = self.token_id
        payload = {
            "amount": payment_utils.to_minor_currency_units(self.amount, self.currency_id),
            "currency": self.currency_id.name.lower(),
            "customer": token.provider_ref,
            "payment_method": token.stripe_payment_method,
            "payment_method_types": [token._omni_stripe_pm_type()],
            "off_session": True,
            "confirm": True,
            "description": self.reference,
            "metadata": {
                # The attempt's reference: how a charge whose answer was lost is found again
                # (PaymentIntent search), and how its webhook is matched with the attempt.
                "omni_reference": self.reference,
                "odoo_reference": self.reference,
                "odoo_invoice": self.invoice_id.name,
                "omni_attempt": str(self.attempt_no),
            },
        }
        if token.stripe_mandate:
            payload["mandate"] = token.stripe_mandate
        return payload

    def _create_payment_intent(self, tx):
        """Send the PaymentIntent through the SDK with the attempt's idempotency key and its
        frozen parameters.

        Returns the PaymentIntent as a dict, or None when Stripe refused the request (the
        transaction is then in error). Raises ``OmniStripeNotSent`` when the outcome is not
        known (unreachable, timeout, 5xx, rate limit).
        """
        self.ensure_one()
        try:
            intent = self._request_payment_intent(tx)
        except stripe.CardError as exc:
            error = exc.error
            decline_code = getattr(error, "decline_code", None) if error else None
            code = getattr(exc, "code", None)
            message = getattr(exc, "user_message", None) or str(exc)
            self._record_decline(
                decline_code or code,
                code,
                message,
                advice_code=getattr(error, "advice_code", None) if error else None,
                network_advice_code=getattr(error, "network_advice_code", None) if error else None,
            )
            tx._set_error(self.env._("Stripe: %(message)s", message=message))
            intent = getattr(error, "payment_intent", None) if error else None
            intent = stripe_api.as_dict(intent) if intent else None
            if intent and intent.get("id"):
                self.stripe_payment_intent = intent["id"]
            return intent
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            category, _message, _code = stripe_api.classify_error(exc)
            raise OmniStripeNotSent(exc, category == stripe_api.ERROR_TIMEOUT) from exc
        except stripe.APIError as exc:  # 5xx: Stripe may have charged
            raise OmniStripeNotSent(exc, True) from exc
        except stripe.StripeError as exc:
            _category, message, _code = stripe_api.classify_error(exc)
            self.write({"reason": message, "failure_kind": dunning_lib.CONFIG})
            tx._set_error(self.env._("Stripe refused the charge: %(message)s", message=message))
            return None
        intent = stripe_api.as_dict(intent)
        # Recorded at once: the notifications about this charge are matched with it.
        self.stripe_payment_intent = intent.get("id")
        error = intent.get("last_payment_error") or {}
        if intent.get("status") == "requires_action":
            self._record_decline("authentication_required", None, "")
        elif error:
            self._record_payment_failure(intent)
        return intent

    def _request_payment_intent(self, tx):
        """The SDK's answer to this attempt's PaymentIntent request: the one a batch already
        received (sent concurrently with the batch's other requests, ``_send_batch``),
        else the request sent now.

        :return: the PaymentIntent (SDK object)
        :raise stripe.StripeError: what the SDK raised
        """
        future = getattr(_PREFETCHED, "answers", {}).pop(self.id, None)
        if future is not None:
            return future.result()
        client = tx.provider_id._omni_stripe_client()
        return send_payment_intent(
            client,
            self.request_params or self._payment_intent_payload(),
            self.idempotency_key,
        )

    def _omni_stripe_client(self):
        self.ensure_one()
        provider = self.transaction_id.provider_id or self.token_id.provider_id
        return provider._omni_stripe_client()

    def _find_payment_intent(self):
        """The PaymentIntent Stripe created for this attempt, found by the attempt's
        reference in its metadata (``omni_reference``), or None.

        Stripe's search (https://docs.stripe.com/search) is used where it is offered; where
        it is not (accounts in India, localstripe), the customer's PaymentIntents are listed
        and filtered. Search follows writes within a minute (an hour at worst): the lookup
        runs at the next run, ``RESEND_DELAY`` later, and decides on a new key only after 24
        hours.

        :raise OmniStripeNotSent: when Stripe cannot be asked
        """
        self.ensure_one()
        client = self._omni_stripe_client()
        reference = self.reference.replace("\\", "\\\\").replace("'", "\\'")
        try:
            try:
                result = client.v1.payment_intents.search(
                    {"query": f"metadata['omni_reference']:'{reference}'", "limit": 10}
                )
            except stripe.InvalidRequestError:
                customer = (self.request_params or {}).get("customer") or (
                    self.token_id.provider_ref
                )
                result = client.v1.payment_intents.list({"customer": customer, "limit": 100})
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise OmniStripeNotSent(exc, True) from exc
        intents = [
            intent
            for intent in map(stripe_api.as_dict, result["data"])
            if (intent.get("metadata") or {}).get("omni_reference") == self.reference
        ]
        # One PaymentIntent per key; should there be more, the one that charged counts.
        intents.sort(
            key=lambda intent: (
                intent.get("status") not in ("succeeded", "processing"),
                -(intent.get("created") or 0),
            )
        )
        return intents[0] if intents else None

    def _apply_intent(self, intent):
        """Record what Stripe says of this attempt's PaymentIntent (found by a lookup, or
        confirmed later) through the attempt's transaction, as payment_stripe's webhook
        would; a payment is post-processed at once (the invoice is reconciled). Applying the
        same PaymentIntent again changes nothing (Odoo ignores a transaction's unchanged
        state, and post-processes it once).

        :param dict intent: the Stripe PaymentIntent
        """
        self.ensure_one()
        tx = self.transaction_id
        if not tx:
            tx = self._omni_create_transaction()
            self.transaction_id = tx
        if not self.stripe_payment_intent:
            self.stripe_payment_intent = intent.get("id")
        error = intent.get("last_payment_error") or {}
        if error and intent.get("status") == "requires_payment_method":
            self._record_decline(
                error.get("decline_code") or error.get("code"),
                error.get("code"),
                error.get("message") or "",
            )
        tx._omni_process_stripe_intent(intent)
        if tx.state == "done" and not tx.is_post_processed:
            tx._post_process()

    def _check_notification(self, tx, notification_data):
        """Refuse a notification about ``tx`` (this attempt's transaction) that does not
        match what the addon sent: the PaymentIntent it created (its id, recorded when Stripe
        answered), the amount and the currency. A signed event about another PaymentIntent
        with the same description (created in Stripe's dashboard, by another integration)
        changes nothing.

        :raise ValidationError: when it does not match (payment_stripe's webhook logs it and
            acknowledges the event)
        """
        self.ensure_one()
        intent = notification_data.get("payment_intent")
        if not isinstance(intent, dict):
            return
        known = self.stripe_payment_intent or tx.provider_reference or None
        metadata = intent.get("metadata") or {}
        if not known and metadata.get("omni_reference") == self.reference:
            # A charge whose answer was lost: Stripe's object names the attempt.
            known = intent.get("id")
        expected = (
            known,
            payment_utils.to_minor_currency_units(tx.amount, tx.currency_id),
            tx.currency_id.name.lower(),
        )
        received = (
            intent.get("id"),
            intent.get("amount"),
            str(intent.get("currency") or "").lower(),
        )
        if expected[0] is None or received != expected:
            _logger.warning(
                "notification about %s refused: PaymentIntent %s (%s %s), expected %s (%s %s)",
                self.reference,
                *received,
                *expected,
            )
            raise ValidationError(
                self.env._(
                    "Stripe: the notification about %(reference)s does not match the charge "
                    "Odoo sent (PaymentIntent, amount or currency): ignored.",
                    reference=self.reference,
                )
            )
        if not self.stripe_payment_intent:
            self.stripe_payment_intent = known

    def _record_decline(
        self,
        decline_code,
        code,
        message,
        advice_code=None,
        network_advice_code=None,
        failure_code=None,
    ):
        """Record why Stripe refused the charge, and classify it (``lib/dunning.py``).

        :param decline_code: the issuer's decline code, or None
        :param code: Stripe's error code, or None
        :param message: Stripe's message for the customer
        :param advice_code: Stripe's advice (``do_not_try_again``...), or None
        :param network_advice_code: the card network's advice (Mastercard MAC...), or None
        :param failure_code: the charge's failure code (a bank debit's return), or None
        """
        self.ensure_one()
        kind = dunning_lib.classify_decline(
            decline_code,
            code,
            failure_code,
            advice_code=advice_code,
            network_advice_code=network_advice_code,
            brand=self.token_id.omni_card_brand or None,
        )
        if kind == dunning_lib.AUTHENTICATION:
            message = message or self.env._(
                "The customer's bank asks the customer to authenticate the payment (3-D Secure)."
            )
        self.write(
            {
                "decline_code": decline_code or failure_code or code,
                "advice_code": advice_code,
                "network_advice_code": network_advice_code,
                "failure_kind": kind,
                "reason": message,
            }
        )

    def _record_payment_failure(self, intent):
        """Record the failure a PaymentIntent (a dict) reports: its ``last_payment_error`` and
        its latest charge's failure code (a bank debit returned days later)."""
        self.ensure_one()
        failure = dunning_lib.payment_failure(intent)
        self._record_decline(
            failure["decline_code"],
            failure["code"],
            failure["message"],
            advice_code=failure["advice_code"],
            network_advice_code=failure["network_advice_code"],
            failure_code=failure["failure_code"],
        )

    def _update_from_transaction(self, tx):
        """Mirror the transaction's state on the attempt (and use up the authentication links
        of an attempt paid after waiting)."""
        for attempt in self:
            if attempt.state == "cancelled":
                # Cancelled in Stripe (another method was charged): nothing can follow, and
                # the transaction left in error must not make it wait again.
                continue
            values = {"transaction_id": tx.id, "stripe_payment_intent": tx.provider_reference}
            if tx.state == "done":
                values.update(state="done", reason=False, failure_kind=False)
                if attempt.state in ("requires_action", "processing", "unknown"):
                    # Paid after waiting (for the customer's authentication, a debit, a lost
                    # answer): the authentication links issued meanwhile are used up. An
                    # attempt paid when sent never had one (no query).
                    attempt._authentication_links()._use()
            elif tx.state == "pending":
                values["state"] = "processing"
            elif (
                tx.state in ("draft", "error")
                and attempt.failure_kind == dunning_lib.AUTHENTICATION
            ):
                # Off-session 3-D Secure: Stripe declines with 402 authentication_required
                # (the transaction is in error, the PaymentIntent waits for a payment method;
                # localstripe answers requires_action instead). The customer completes it on
                # the page of the emailed link; a failed authentication there leaves it so.
                values["state"] = "requires_action"
            elif tx.state in ("error", "cancel"):
                values["state"] = (
                    "failed" if attempt.failure_kind != dunning_lib.CONFIG else "error"
                )
                values["reason"] = attempt.reason or tx.state_message
                if not attempt.failure_kind:
                    values["failure_kind"] = dunning_lib.SOFT
            else:
                continue
            attempt.write(values)

    def _charge_outcome(self):
        """Act on the outcome of the attempts: called once an attempt is paid, processing,
        declined, skipped or waits for the customer (by the engine, and by the transaction
        when Stripe settles it later).

        The engine's own work: the method's audit log (paid, declined); then
        ``_on_charge_outcome``. (The authentication links a paid charge used up are marked
        when its state changes, ``_update_from_transaction``.)
        """
        for attempt in self:
            token = attempt.token_id
            if attempt.state == "done":
                if token:
                    token._omni_log(
                        self.env._(
                            "%(method)s charged %(amount)s for %(invoice)s.",
                            method=token._omni_issuer_label(),
                            amount=attempt._amount_label(),
                            invoice=attempt.invoice_id.name,
                        ),
                        event="charged",
                        channel=attempt._audit_channel(),
                    )
            elif token and attempt.state in ("failed", "requires_action"):
                token._omni_log(
                    self.env._(
                        "Charge of %(amount)s for %(invoice)s with %(method)s failed: %(reason)s",
                        method=token._omni_issuer_label(),
                        amount=attempt._amount_label(),
                        invoice=attempt.invoice_id.name,
                        reason=attempt.reason or "-",
                    ),
                    event="failed",
                    channel=attempt._audit_channel(),
                )
        self._on_charge_outcome()

    def _on_charge_outcome(self):
        """Hook for the features that follow the charges (installments, dunning, bulk
        charges, integrators): called with the attempts whose outcome is known or changed
        (paid, processing, declined, error, skipped, not chargeable, waiting for the
        customer's authentication; also after a send Stripe did not confirm, "Not sent" or
        "Outcome unknown": overrides look at the state), once the engine has done its own
        work on them (``_charge_outcome``: the audit log), in the
        transaction of the charge. Called again when Stripe settles the charge later (a
        bank debit, an authentication, a webhook).

        Overrides call super and act on the attempts of their feature; the ones in this
        module run in this order: installments (before super: an installment's state moves
        before anything looks at the customer's balance), dunning, bulk charges. The engine
        does nothing here.
        """

    def _audit_channel(self):
        """Staff took the payment or pressed "Retry now"; the jobs charge as the system."""
        self.ensure_one()
        return "staff" if self.origin in ("staff", *NO_DUNNING_ORIGINS) else "system"

    def _amount_label(self):
        self.ensure_one()
        return self.currency_id.format(self.amount)

    # === BATCHES: REQUESTS SENT CONCURRENTLY, PACED PER STRIPE ACCOUNT === #

    @api.model
    def _charge_batch(self, invoices):
        """Charge ``invoices`` (claimed by the caller) automatically, overlapping Stripe's
        latency:

        1. each invoice's attempt is prepared in the database (``_charge_prepare``:
           checks, an unknown outcome looked up), all in one savepoint, else each in its own
           (``_charge_batch_prepare``);
        2. the attempts to send are marked as sent with their frozen parameters (committed
           inside a cron run: another worker leaves them alone), then their PaymentIntents
           are sent at once from a small pool of threads that only talk HTTP through the
           SDK (no cursor, no environment), paced per Stripe account
           (``omni.stripe.pacing``);
        3. each answer, as it arrives, goes through the same path as a charge sent alone
           (the transaction, payment_stripe's request hook, Odoo's post-processing,
           ``_charge_outcome``), in the main thread, one savepoint per invoice,
           committed one by one inside a cron run.

        The idempotency key of each attempt is what guarantees nothing is charged twice: a
        batch that dies after sending is sent again later with the same keys.

        :return: the attempts of the batch
        """

        def crashed(invoice, error):
            if isinstance(error, OmniAttemptTaken):
                # Rolled back with the invoice's savepoint: the other worker charges it.
                _logger.info("invoice %s is being charged by another worker", invoice.name)
                return
            _logger.exception("automatic charge of invoice %s failed", invoice.name)
            self._omni_record_crash(invoice)

        batch = self._charge_batch_prefetch(invoices)

        def prepare(invoice):
            # In the batch's or the invoice's savepoint: no second one for its attempt.
            return self._charge_prepare(invoice, savepoint=False, batch=batch)

        def apply(answer):
            attempt, future = answer
            with attempt._omni_answer(future):
                attempt._send_marked()
                attempt._charge_outcome()

        # A concurrent update (OperationalError) propagates from either phase: what is not
        # committed rolls back and runs again; the requests are sent again with the same
        # keys (Stripe answers with their first result instead of charging again).
        attempts = to_send = self.browse()
        for attempt, send in self._charge_batch_prepare(invoices, prepare, crashed):
            attempts |= attempt
            if send:
                to_send |= attempt
        if not to_send:
            return attempts
        to_send._mark_sent()
        self.env.flush_all()
        self.env["ir.cron"]._omni_commit_progress()
        self._omni_batch_each(
            to_send._send_batch(),
            apply,
            on_crash=lambda answer, error: crashed(answer[0].invoice_id, error),
            commit=True,
        )
        return attempts

    @api.model
    def _charge_batch_prepare(self, invoices, prepare, crashed):
        """Prepare the invoices of a batch (``prepare(invoice)``) in one savepoint: an invoice
        that fails rolls it back, and the batch is prepared again invoice by invoice, each in
        its own savepoint (``_omni_batch_each``, ``crashed`` for the one that fails): a failure
        never takes another invoice's preparation with it. Preparing again is safe: nothing
        of it left the database but lookups in Stripe.

        :return: ``prepare``'s results, ``(attempt, send)``, in order
        :rtype: list
        """
        try:
            with self.env.cr.savepoint():
                return [prepare(invoice) for invoice in invoices]
        except psycopg2.OperationalError:
            raise  # a concurrent update: the caller's transaction runs again (see the batch)
        except Exception:  # noqa: BLE001 - any crash of one invoice: prepared one by one
            # The failing invoice is logged (or recorded) by ``crashed`` when it fails again.
            _logger.info("charging batch: an invoice failed; preparing them one by one")
        return self._omni_batch_each(invoices, prepare, on_crash=crashed).results

    def _send_batch(self):
        """Send the PaymentIntents of these attempts (marked as sent) concurrently, paced
        per Stripe account; yield ``(attempt, future)`` as the answers arrive.

        Only the SDK call runs in the threads; the clients, parameters and keys are read
        here first, in the main thread.
        """
        # A pool per batch, shut down when the batch's answers are all in: no idle thread
        # outlives the batch (a server's shutdown joins every thread it finds).
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=self._concurrency(), thread_name_prefix="omni_stripe"
        ) as pool:
            yield from self._send_batch_with(pool)

    def _send_batch_with(self, pool):
        Pacing = self.env["omni.stripe.pacing"]
        futures = {}
        unsent = self.browse()
        for provider, attempts in self.grouped(
            lambda attempt: attempt.token_id.provider_id
        ).items():
            try:
                client = provider._omni_stripe_client()
            except UserError:
                # No key, not Stripe: each attempt goes through the path of a charge sent
                # alone, which records why.
                unsent |= attempts
                continue
            requests = [
                (attempt, copy.deepcopy(attempt.request_params), attempt.idempotency_key)
                for attempt in attempts
            ]
            while requests:
                try:
                    granted, wait = Pacing._take(provider, len(requests))
                except psycopg2.Error:
                    # The bucket could not be taken (the database refused the short
                    # transaction): these requests go unpaced rather than not at all.
                    _logger.warning("Stripe pacing unavailable", exc_info=True)
                    granted, wait = len(requests), 0.0
                for attempt, params, key in requests[:granted]:
                    futures[pool.submit(send_payment_intent, client, params, key)] = attempt
                requests = requests[granted:]
                if requests:
                    time.sleep(wait)
        for attempt in unsent:
            yield attempt, None
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future

    def _answer_reached(self):
        """The batch received this attempt's answer (``_omni_answer``) and it is Stripe's
        (a PaymentIntent, a decline, a refusal), not an error after which the request may not
        have reached Stripe (``OmniStripeNotSent``)."""
        future = getattr(_PREFETCHED, "answers", {}).get(self.id)
        if future is None or not future.done():
            return False
        return not isinstance(future.exception(), NOT_SENT_ERRORS)

    @contextlib.contextmanager
    def _omni_answer(self, future):
        """Hand ``future`` (the SDK's answer for this attempt) to the transaction's request
        hook (``_request_payment_intent``) instead of sending the request again."""
        self.ensure_one()
        answers = _PREFETCHED.__dict__.setdefault("answers", {})
        if future is not None:
            answers[self.id] = future
        try:
            yield
        finally:
            answers.pop(self.id, None)

    @api.model
    def _concurrency(self):
        """Requests to Stripe a worker sends at once (Settings)."""
        # sudo: a technical setting read by the charging job, whoever runs it.
        value = self.env["ir.config_parameter"].sudo().get_param(CONCURRENCY_PARAM)
        try:
            value = int(value) if value else DEFAULT_CONCURRENCY
        except ValueError:
            value = DEFAULT_CONCURRENCY
        return max(1, min(value, MAX_CONCURRENCY))

    # === LANES (parallel scheduled actions) AND QUEUE_JOB === #

    @api.model
    def _lane_crons(self):
        """The extra lanes of the charging job (active or archived), by lane number."""
        crons = (
            self.env["ir.cron"]
            .sudo()  # sudo: scheduled actions are administrators' records
            .with_context(active_test=False)
            .search([("code", "like", "_cron_charge_due_invoices(lane=")])
        )
        lanes = {}
        for cron in crons:
            for number in range(2, MAX_LANES + 1):
                if (cron.code or "").strip() == LANE_CODE % number:
                    lanes[number] = cron
        return lanes

    @api.model
    def _set_lanes(self, count):
        """Run the charging job in ``count`` lanes: the main scheduled action and
        ``count - 1`` copies of it running the same method, which Odoo runs in parallel
        (different scheduled actions run at once in several cron threads and servers). Each
        batch claims its invoices with SKIP LOCKED: no invoice is taken by two lanes. Lanes
        beyond ``count`` are archived, not deleted."""
        main = self.env.ref(MAIN_CRON, raise_if_not_found=False)
        if not main:
            return
        # sudo: scheduled actions are administrators' records; called from the settings.
        main = main.sudo()
        lanes = self._lane_crons()
        for number in range(2, max(count, max(lanes, default=1)) + 1):
            cron = lanes.get(number)
            if number > count:
                if cron and cron.active:
                    cron.active = False
                continue
            values = {
                "active": main.active,
                "interval_number": main.interval_number,
                "interval_type": main.interval_type,
                "nextcall": main.nextcall,
                "user_id": main.user_id.id,
                "priority": main.priority,
            }
            if cron:
                cron.write(values)
                continue
            cron = main.create(
                dict(
                    values,
                    name=self.env._("%(name)s (lane %(lane)s)", name=main.name, lane=number),
                    model_id=main.model_id.id,
                    state="code",
                    code=LANE_CODE % number,
                )
            )
            # sudo: the lane's xml id, like the scheduled action itself (administrators' data).
            self.env["ir.model.data"].sudo()._update_xmlids(
                [
                    {
                        "xml_id": f"omni_payment_charging.{LANE_XMLID % number}",
                        "record": cron,
                        "noupdate": True,
                    }
                ]
            )

    @api.model
    def _trigger_lanes(self):
        """Wake the other active lanes up (a run of the main lane with more work than one
        batch): they start at once instead of at their next call."""
        for cron in self._lane_crons().values():
            if cron.active:
                cron._trigger()

    @api.model
    def _queue_job_available(self):
        """Charging runs as queue_job jobs (omni_payment_charging_queue_job)."""
        return self.env["omni.bulk.charge"]._queue_job_available()

    # === CRON === #

    @api.model
    def _cron_charge_due_invoices(self, batch_size=50, lane=None):
        """Charge the due invoices of customers in automatic mode, a bounded batch per call.

        Each invoice is charged in its own savepoint: a failure is recorded on its attempt and
        the batch goes on. The invoices of the batch are locked (SKIP LOCKED) so that another
        lane or worker takes other invoices; the batch's Stripe requests are sent at once
        (``_charge_batch``).

        With omni_payment_charging_queue_job installed, the job only enqueues the charging
        jobs.

        :param int lane: the lane running it (None: the main scheduled action)
        """
        today = fields.Date.context_today(self)

        def remaining():
            due = len(self._due_invoices(today))
            if due > batch_size and not lane and self.env.context.get("ir_cron_progress_id"):
                self._trigger_lanes()
            return due

        return self._omni_batch_run(
            lambda limit: self._due_invoices(today, limit=limit, lock=True),
            remaining,
            batch_size,
            process_batch=self._charge_batch,
        ).batch

    @api.model
    def _omni_record_crash(self, invoice):
        """Keep a visible trace of an invoice whose charge raised unexpectedly (never skipped
        silently): a "Not sent" attempt with the reason, taken again by the next run."""
        attempt = self._next_attempt(invoice, "auto")
        attempt.write(
            {
                "reason": self.env._(
                    "Unexpected error while charging: see the server log. The next run tries again."
                )
            }
        )
