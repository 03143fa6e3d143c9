# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from odoo.addons.payment_stripe.controllers.main import StripeController

from ..const import OMNI_WEBHOOK_EVENT_PREFIX, SETUP_EVENT_PREFIX

_logger = logging.getLogger(__name__)

# Stripe's events nest a dozen levels at most; a deeper body is refused before anything
# (payment_stripe's handling included) walks it recursively.
MAX_JSON_DEPTH = 64


def _too_deep(value, limit=MAX_JSON_DEPTH):
    """Whether the decoded JSON ``value`` nests deeper than ``limit`` (no recursion)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class OmniStripeController(StripeController):
    @http.route(
        StripeController._webhook_url,
        type="http",
        methods=["POST"],
        auth="public",
        csrf=False,
    )
    def stripe_webhook(self):
        """Override of `payment_stripe`: handle the ``payment_method.*`` events, and the
        ``setup_intent.*`` events of the addon's own SetupIntents (bank accounts awaiting
        micro-deposit verification).

        They are verified with the provider's webhook secret (403 when unsigned, forged,
        older than 10 minutes, or when no secret is configured), recorded once by event id
        and applied to the stored methods in the order of their creation in Stripe. Events
        are read in the API version of the endpoint that sent them (``omni.stripe.event``
        normalises them). Every other event goes to payment_stripe unchanged.
        """
        payload = request.httprequest.get_data()
        try:
            event = json.loads(payload)
        except (ValueError, RecursionError):
            # RecursionError: a deeply nested body (a client's, before any signature check)
            # is a bad request, not a server error.
            event = None
        if not isinstance(event, dict) or _too_deep(event):
            _logger.warning(
                "Stripe webhook request refused: its body is not a JSON object (or nests "
                "deeper than %s levels)",
                MAX_JSON_DEPTH,
            )
            return self._omni_response("malformed", 400)
        event_type = event.get("type")
        if not isinstance(event_type, str):
            return super().stripe_webhook()
        # Superuser (sudo): a public route, authenticated by Stripe's signature just below;
        # the notes on the customers' chatter are then written by OdooBot, not the public user.
        event_model = request.env["omni.stripe.event"].with_user(SUPERUSER_ID)
        if event_type.startswith(SETUP_EVENT_PREFIX):
            setup = event_model._setup_of_event(event)
            if not setup:
                return super().stripe_webhook()
            return self._omni_setup_event(event_model, event, payload, setup)
        if not event_type.startswith(OMNI_WEBHOOK_EVENT_PREFIX):
            return super().stripe_webhook()
        try:
            object_id = event_model._parse_event(event)["object_id"]
        except ValueError as exc:
            _logger.warning("malformed Stripe event refused: %s", exc)
            return self._omni_response("malformed", 400)
        provider = event_model._verify_signature(
            payload, request.httprequest.headers.get("Stripe-Signature"), object_id
        )
        if not provider:
            return self._omni_response("forbidden", 403)
        record = event_model._process_event(event, provider)
        return self._omni_response(record.state if record else "duplicate", 200)

    def _omni_setup_event(self, event_model, event, payload, setup):
        """A ``setup_intent.*`` event of the addon's attempt ``setup``: verified with the
        attempt provider's secret, then recorded and applied."""
        try:
            event_model._parse_event(event)
        except ValueError as exc:
            _logger.warning("malformed Stripe event refused: %s", exc)
            return self._omni_response("malformed", 400)
        provider = event_model._verify_signature(
            payload,
            request.httprequest.headers.get("Stripe-Signature"),
            None,
            providers=setup.provider_id,
        )
        if not provider:
            return self._omni_response("forbidden", 403)
        record = event_model._process_setup_event(event, setup)
        return self._omni_response(record.state if record else "duplicate", 200)

    @staticmethod
    def _omni_response(status, code):
        return request.make_json_response({"status": status}, status=code)
