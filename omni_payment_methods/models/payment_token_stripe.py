# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""payment.token, its Stripe side: the calls the addon makes about a saved method (detach,
retrieve) and the synchronization of its details with Stripe (at creation, by hand, by the
job). The fields and the rules of a saved method are in ``payment_token.py``; the mapping of
Stripe's objects in ``lib/stripe_api.py``."""

import logging

import stripe

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_stripe import const as stripe_const

from ..exceptions import OmniBatchStop
from ..lib import stripe_api

_logger = logging.getLogger(__name__)

# Stripe errors about one method (the others may still synchronize); any other error
# (unreachable, timeout, 5xx, rate limit, credentials) is Stripe's and stops a run.
TOKEN_ERRORS = (stripe_api.ERROR_NOT_FOUND, stripe_api.ERROR_INVALID, stripe_api.ERROR_CARD)


class PaymentToken(models.Model):
    _inherit = "payment.token"

    # === BUSINESS METHODS: STRIPE CALLS AND SYNCHRONIZATION === #

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
        values["omni_card_country_id"] = country.id if country else False
        values["omni_stripe_sync_state"] = "synced"
        values["omni_stripe_synced_on"] = fields.Datetime.now()
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
        if self.omni_stripe_state_at and state_at < self.omni_stripe_state_at:
            return False
        values["omni_stripe_state_at"] = state_at
        self._omni_system_write(values)
        return True

    def _omni_archive_from_stripe(self, state_at=None):
        """The PaymentMethod was detached in Stripe: archive the token, keep one default.

        :return: False when the token already reflects a newer state or is archived.
        """
        self.ensure_one()
        state_at = state_at or fields.Datetime.now()
        if not self.active or (self.omni_stripe_state_at and state_at < self.omni_stripe_state_at):
            return False
        was_default = self.omni_is_default
        label = self._omni_issuer_label()
        self.with_context(omni_keep_in_stripe=True)._omni_system_write(
            {"active": False, "omni_stripe_state_at": state_at}
        )
        self._omni_log(
            self.env._("%(method)s was removed in Stripe.", method=label),
            event="deleted",
            channel="stripe",
        )
        if was_default:
            # The most recently added live method of the customer takes the mark.
            remaining = self.search(
                self._omni_default_domain(), order="omni_added_on desc, id desc"
            )
            remaining[:1]._omni_assign_first_default()
        return True

    def _omni_sync_details(self):
        """Fetch the method from Stripe and store it; log a change the customer would see
        (brand, last 4, expiry) on the chatter and in the audit log."""
        self.ensure_one()
        Event = self.env["omni.stripe.event"]
        before = Event._token_snapshot(self)
        label = self._omni_issuer_label()
        applied = self._omni_apply_payment_method(self._omni_fetch_stripe_payment_method())
        if applied and Event._token_snapshot(self) != before:
            self._omni_log(Event._update_note(self, label), event="updated", channel="stripe")
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
                values = {"omni_stripe_sync_state": "pending"}
                if isinstance(payment_method, dict) and payment_method.get("id") == (
                    token.stripe_payment_method
                ):
                    values = token._omni_values_from_payment_method(payment_method)
                    values["omni_stripe_sync_state"] = "pending"
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
                token._omni_system_write({"omni_stripe_sync_state": "pending"})
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
            ("omni_stripe_synced_on", "=", False),
            ("omni_stripe_synced_on", "<", limit),
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
                {
                    "omni_stripe_sync_state": "pending",
                    "omni_stripe_synced_on": fields.Datetime.now(),
                }
            )

        return self._omni_batch_run(
            lambda limit: self.search(
                self._omni_stale_domain(max_age_days),
                limit=limit,
                order="omni_stripe_synced_on asc nulls first, id",
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

    def _omni_stripe_pm_type(self):
        """The Stripe PaymentMethod type of this method: the one read from Stripe, else the
        one payment_stripe maps its Odoo payment method to (a card brand is a card)."""
        self.ensure_one()
        if self.omni_stripe_pm_type:
            return self.omni_stripe_pm_type
        method = self.payment_method_id.primary_payment_method_id or self.payment_method_id
        code = method.code or "card"
        return stripe_const.PAYMENT_METHODS_MAPPING.get(code, code)
