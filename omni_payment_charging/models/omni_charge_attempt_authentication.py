# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# Each feature's part of a charge lives with the feature and extends the engine, which
# names none of them (the outcome hook): not merged into the engine's class, on purpose.
# pylint: disable=consider-merging-classes-inherited
import logging

import stripe

from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.omni_payment_methods.const import LINK_PREVIEW, SEND_LINKS
from odoo.addons.omni_payment_methods.lib import stripe_api

from ..const import AUTHENTICATION_ROUTE
from .omni_payment_link import AUTHENTICATION_LINK_VALIDITY_DAYS

_logger = logging.getLogger(__name__)


class OmniChargeAttempt(models.Model):
    """Authentication by the customer (3-D Secure off-session): a charge the bank wants the
    cardholder to confirm waits for them; the emailed link opens a page where they
    authenticate and pay that charge (the page's controller calls the methods below)."""

    _inherit = "omni.charge.attempt"

    def _omni_authentication_url(self):
        """A new signed, expiring, single-use link to the page where the customer
        authenticates and pays this attempt's charge (for the email asking for it). Issued
        only when the email is sent (see res.partner's ``_omni_payment_methods_url``)."""
        self.ensure_one()
        if not self.env.context.get(SEND_LINKS):
            return f"{self.get_base_url()}{AUTHENTICATION_ROUTE}/{LINK_PREVIEW}"
        # sudo: links are issued by the company for its customer whoever sends the email
        # (the charging job, dunning); the link model is not readable by users.
        secret = (
            self.env["omni.payment.link"]
            .sudo()
            ._issue(
                self.partner_id,
                AUTHENTICATION_LINK_VALIDITY_DAYS,
                company=self.company_id,
                values={"purpose": "authentication", "attempt_id": self.id},
            )
        )
        return f"{self.get_base_url()}{AUTHENTICATION_ROUTE}/{secret}"

    def _authentication_links(self):
        # sudo: the links of these attempts, whoever records the payment (webhook, job).
        return self.env["omni.payment.link"].sudo().search([("attempt_id", "in", self.ids)])

    @api.model
    def _authentication_link(self, payload):
        """The link of ``payload`` to authenticate a payment, whatever its state (sudo;
        empty when unknown, tampered with, or a link of another purpose)."""
        # sudo: the link's secret is the visitor's only credential, for that payment only;
        # checked by hash.
        return self.env["omni.payment.link"].sudo()._find(payload, purpose="authentication")

    def _authentication_page_values(self):
        """What the page of the link shows: the invoice, the amount and the method."""
        self.ensure_one()
        provider = self.token_id.provider_id
        return {
            "attempt": self,
            "invoice_name": self.invoice_id.name,
            "amount": self._amount_label(),
            "method": self.token_id._omni_issuer_label() if self.token_id else "",
            "company": self.company_id,
            "stripe_js_url": provider._omni_stripe_js_url(),
            "publishable_key": provider._omni_stripe_publishable_key(),
        }

    def _authentication_paid_message(self):
        self.ensure_one()
        return self.env._(
            "Thank you: %(amount)s for %(invoice)s is paid.",
            amount=self._amount_label(),
            invoice=self.invoice_id.name,
        )

    def _retrieve_payment_intent(self):
        """This attempt's PaymentIntent as Stripe has it now.

        :raise UserError: Stripe cannot be reached or does not know it
        """
        self.ensure_one()
        try:
            intent = self._omni_stripe_client().v1.payment_intents.retrieve(
                self.stripe_payment_intent
            )
        except stripe.StripeError as exc:
            _logger.warning("PaymentIntent of %s not retrieved: %s", self.reference, exc)
            raise UserError(
                self.env._("The payment service cannot be reached: try again in a moment.")
            ) from exc
        return stripe_api.as_dict(intent)

    def _cancel_for_other_method(self, token):
        """Cancel in Stripe this attempt's PaymentIntent, which waits for the customer's
        authentication, because its invoice is to be charged to ``token``, another method
        (the customer set a new default): the emailed link can no longer pay it, so the
        invoice is never paid twice.

        Stripe cancels a PaymentIntent that waits for a payment method or an action, and
        refuses to cancel one that was paid (or is processing) meanwhile: that payment is
        recorded instead.

        :return: "cancelled" (the attempt is over, its links used up), "paid" (recorded),
            or "" (Stripe could not be reached or refused: the attempt still waits)
        :rtype: str
        """
        self.ensure_one()
        if self.state != "requires_action" or not self.stripe_payment_intent:
            return ""
        try:
            intent = stripe_api.as_dict(
                self._omni_stripe_client().v1.payment_intents.cancel(self.stripe_payment_intent)
            )
        except stripe.StripeError as exc:
            _logger.info("PaymentIntent of %s not cancelled: %s", self.reference, exc)
            try:
                intent = self._retrieve_payment_intent()
            except UserError:
                return ""
            if intent.get("status") in ("succeeded", "processing"):
                self._apply_intent(intent)
                return "paid" if self.state in ("done", "processing") else ""
            if intent.get("status") != "canceled":
                return ""
        reason = self.env._(
            "Cancelled before the customer authenticated it: the invoice is charged to "
            "%(method)s, the customer's new method.",
            method=token._omni_issuer_label(),
        )
        self.write({"state": "cancelled", "reason": reason})
        self._authentication_links()._use()
        if self.transaction_id.state in ("draft", "pending"):
            self.transaction_id._set_canceled(state_message=reason)
        return "cancelled"

    def _authentication_start(self):
        """What the customer's browser needs to authenticate this charge with Stripe.js
        (``confirmCardPayment`` on the PaymentIntent Stripe declined off-session, with the
        saved payment method).

        :return: ``{client_secret, payment_method}``, or ``{done, message}`` when it is paid
        :rtype: dict
        :raise UserError: when there is nothing to authenticate any more
        """
        self.ensure_one()
        if self.state == "done":
            return {"done": True, "message": self._authentication_paid_message()}
        if self.state != "requires_action" or not self.stripe_payment_intent:
            raise UserError(
                self.env._("This payment cannot be completed online any more: contact us.")
            )
        intent = self._retrieve_payment_intent()
        if intent.get("status") in ("succeeded", "processing"):
            self._apply_intent(intent)
            return {"done": True, "message": self._authentication_paid_message()}
        if intent.get("status") not in (
            "requires_payment_method",
            "requires_action",
            "requires_confirmation",
        ):
            raise UserError(
                self.env._("This payment cannot be completed online any more: contact us.")
            )
        return {
            "client_secret": intent["client_secret"],
            "payment_method": (self.request_params or {}).get("payment_method")
            or self.token_id.stripe_payment_method,
        }

    def _authentication_finish(self):
        """The customer's browser is done with Stripe.js: check the PaymentIntent in Stripe
        and record the payment (once: a second call, or payment_stripe's webhook, records
        nothing more).

        :return: the message for the customer
        :rtype: str
        :raise UserError: when the payment did not go through (the customer may try again)
        """
        self.ensure_one()
        if self.state != "done":
            if self.state != "requires_action" or not self.stripe_payment_intent:
                raise UserError(
                    self.env._("This payment cannot be completed online any more: contact us.")
                )
            intent = self._retrieve_payment_intent()
            if intent.get("status") not in ("succeeded", "processing"):
                error = intent.get("last_payment_error") or {}
                raise UserError(
                    self.env._(
                        "The payment was not completed (%(reason)s). You can try again.",
                        reason=error.get("message") or intent.get("status"),
                    )
                )
            self._apply_intent(intent)
        if self.state == "processing":
            return self.env._("Thank you: the payment is being processed.")
        return self._authentication_paid_message()
