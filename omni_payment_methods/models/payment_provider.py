# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import os

import stripe

from odoo import models
from odoo.exceptions import UserError

from odoo.addons.payment_stripe import const as stripe_const
from odoo.addons.payment_stripe import utils as stripe_utils

from ..const import DEV_API_BASE_ENV
from ..lib import stripe_api, stripe_events
from .omni_stripe_event import OMNI_SUBSCRIBED_EVENTS

_logger = logging.getLogger(__name__)


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    def _archive_linked_tokens(self):
        """Override of `payment`: the tokens Odoo archives when the provider's state changes
        stay attached in Stripe (``payment.token._handle_archiving``): the customers' methods
        are not deleted at Stripe because the provider was switched in Odoo."""
        return super(
            PaymentProvider, self.with_context(omni_keep_in_stripe=True)
        )._archive_linked_tokens()

    def _omni_stripe_request_payload(self, method, endpoint, payload):
        """The payload of a request payment_stripe sends to Stripe, with the addon's
        additions: the webhook that "Generate your webhook" creates also asks for the events
        that keep stored methods current (handled by the addon's controller before
        payment_stripe's own handling); the customer it creates when a checkout saves a
        method gets one normalised email address (Odoo's field may hold ``Name <a@b>`` or a
        list), or none when the field holds no valid one. Called by models/payment_compat.py
        for 18.0's ``_stripe_make_request`` and 19.0's ``_send_api_request``.

        :param str method: the HTTP method
        :param str endpoint: the endpoint, e.g. ``webhook_endpoints``
        :param dict payload: the form-encoded payload, or None
        :return: the payload to send
        :rtype: dict
        """
        if endpoint == "webhook_endpoints" and method == "POST" and payload:
            # The endpoint is created in payment_stripe's version (its request and the
            # endpoint's api_version): the events are named as that version names them.
            api_version = payload.get("api_version") or stripe_const.API_VERSION
            events = list(payload.get("enabled_events[]") or [])
            events += [
                event
                for event in stripe_events.event_names_for_version(
                    OMNI_SUBSCRIBED_EVENTS, api_version
                )
                if event not in events
            ]
            payload = dict(payload, **{"enabled_events[]": events})
        if endpoint == "customers" and method == "POST" and payload and payload.get("email"):
            email = self.env["omni.payment.setup"]._normalized_email(payload["email"])
            payload = dict(payload, email=email or None)
        return payload

    def action_omni_stripe_update_webhook(self):
        """Add the addon's events to the provider's existing Stripe webhook endpoint.

        The migration of an endpoint created before the addon (or before this version of
        it): the endpoint whose URL is the provider's webhook URL is given the addon's events
        (``OMNI_SUBSCRIBED_EVENTS``) under the names of the endpoint's own API version,
        keeping the events it has. Nothing else of the endpoint changes (its version, its
        secret).

        :return: the feedback notification
        :rtype: dict
        """
        self.ensure_one()
        client = self._omni_stripe_client()
        url = self._get_stripe_webhook_url()
        try:
            endpoints = stripe_api.as_dict(client.v1.webhook_endpoints.list({"limit": 100}))
            endpoint = next(
                (e for e in endpoints.get("data") or [] if stripe_api.as_dict(e)["url"] == url),
                None,
            )
            if endpoint is None:
                return self._omni_notification(
                    self.env._(
                        'Stripe has no webhook endpoint for %(url)s: use "Generate your '
                        "webhook\" (it subscribes the addon's events too).",
                        url=url,
                    ),
                    "warning",
                )
            endpoint = stripe_api.as_dict(endpoint)
            # The names are those of the endpoint's version, checked by Stripe in it.
            api_version = endpoint.get("api_version") or stripe_const.API_VERSION
            current = list(endpoint.get("enabled_events") or [])
            missing = [
                event
                for event in stripe_events.event_names_for_version(
                    OMNI_SUBSCRIBED_EVENTS, api_version
                )
                if event not in current and "*" not in current
            ]
            if missing:
                client.v1.webhook_endpoints.update(
                    endpoint["id"],
                    {"enabled_events": current + missing},
                    {"stripe_version": api_version},
                )
        except stripe.StripeError as exc:
            raise self._omni_stripe_user_error(exc) from exc
        _logger.info(
            "Stripe webhook endpoint %s (%s): events %s added",
            endpoint["id"],
            api_version,
            missing,
        )
        if not missing:
            return self._omni_notification(
                self.env._("The Stripe webhook already sends every event the addon needs."),
                "info",
            )
        return self._omni_notification(
            self.env._(
                "The Stripe webhook now also sends %(events)s (API version %(version)s).",
                events=", ".join(missing),
                version=api_version,
            ),
            "success",
        )

    @staticmethod
    def _omni_notification(message, notification_type):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "sticky": False, "type": notification_type},
        }

    def _omni_stripe_client(self):
        """Return a ``stripe.StripeClient`` built from the provider's keys.

        Note: ``self.ensure_one()``
        """
        self.ensure_one()
        if self.code != "stripe":
            raise UserError(
                self.env._("%(provider)s is not a Stripe provider.", provider=self.name)
            )
        # sudo: the secret key and API base are restricted to system users; the client is
        # only used server side.
        provider_sudo = self.sudo()  # the keys are readable by system users only
        secret_key = stripe_utils.get_secret_key(provider_sudo)
        if not secret_key:
            raise UserError(
                self.env._(
                    "The Stripe provider %(provider)s has no secret key: set it in the "
                    "provider's configuration.",
                    provider=self.name,
                )
            )
        return stripe_api.make_client(
            secret_key,
            api_base=provider_sudo._omni_stripe_api_base(),
            timeout=self._omni_stripe_timeout(),
            max_network_retries=self._omni_stripe_max_network_retries(),
        )

    def _omni_stripe_api_base(self):
        """The development server this provider talks to instead of Stripe (the server's
        ``OMNI_STRIPE_API_BASE``), for a provider in test mode only; None: Stripe."""
        self.ensure_one()
        api_base = os.environ.get(DEV_API_BASE_ENV, "").strip()
        return api_base if api_base and self.state == "test" else None

    def _omni_stripe_timeout(self):
        """(connect, read) timeouts of the addon's Stripe calls, in seconds."""
        return stripe_api.DEFAULT_TIMEOUT

    def _omni_stripe_max_network_retries(self):
        return stripe_api.DEFAULT_MAX_NETWORK_RETRIES

    def _omni_stripe_user_error(self, exc):
        """Return a translated ``UserError`` explaining a Stripe SDK failure."""
        category, message, decline_code = stripe_api.classify_error(exc)
        _logger.warning("Stripe call failed (%s): %s", category, message)
        if category == stripe_api.ERROR_UNREACHABLE:
            text = self.env._("Stripe could not be reached. Nothing was changed; try again later.")
        elif category == stripe_api.ERROR_TIMEOUT:
            text = self.env._(
                "Stripe did not answer in time. Nothing was changed in Odoo; try again later "
                "(the retry is safe: Stripe recognizes a repeated request)."
            )
        elif category == stripe_api.ERROR_NOT_FOUND:
            text = self.env._(
                "Stripe does not know this payment method or customer: %(detail)s",
                detail=message,
            )
        elif category == stripe_api.ERROR_CARD:
            text = self.env._(
                "The card was declined: %(detail)s (%(code)s)",
                detail=message,
                code=decline_code or "-",
            )
        elif category == stripe_api.ERROR_AUTH:
            text = self.env._(
                "Stripe refused the provider's credentials. Check the secret key of the "
                "Stripe provider."
            )
        elif category == stripe_api.ERROR_INVALID:
            text = self.env._("Stripe refused the request: %(detail)s", detail=message)
        else:
            text = self.env._(
                "Stripe answered with an error. Nothing was changed; try again later. (%(detail)s)",
                detail=message,
            )
        return UserError(text)

    def _omni_stripe_js_url(self):
        """URL of Stripe.js: Stripe's own, or the development server's (see
        ``_omni_stripe_api_base``)."""
        self.ensure_one()
        api_base = self._omni_stripe_api_base()
        if api_base:
            return f"{api_base.rstrip('/')}/js.stripe.com/v3/"
        return "https://js.stripe.com/v3/"

    def _omni_stripe_publishable_key(self):
        self.ensure_one()
        # sudo: the publishable key is meant for browsers; the provider's fields are not.
        return stripe_utils.get_publishable_key(self.sudo())
