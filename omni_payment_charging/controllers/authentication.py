# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..const import AUTHENTICATION_ROUTE


class OmniPaymentAuthentication(http.Controller):
    """The page of the emailed link where a customer authenticates (3-D Secure) and pays a
    charge that the bank declined off-session with ``authentication_required``.

    The link is the visitor's only credential: it names one charge attempt, expires, and is
    used up once that charge is paid. The page confirms the PaymentIntent of that charge with
    Stripe.js; the server then checks it in Stripe and records it (``omni.charge.attempt``).
    """

    @staticmethod
    def _omni_link(payload):
        """The authentication link of ``payload`` (sudo) whatever its state, and whether it
        can still be used."""
        link = request.env["omni.charge.attempt"]._authentication_link(payload)
        return link, bool(link and link._is_usable() and link.attempt_id)

    @http.route(
        f"{AUTHENTICATION_ROUTE}/<string:payload>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def omni_authentication_page(self, payload, **kwargs):
        link, usable = self._omni_link(payload)
        if not usable:
            return request.render(
                "omni_payment_charging.payment_authentication_invalid",
                {"reason": link.state if link else "invalid"},
                status=403,
            )
        values = link.attempt_id._authentication_page_values()
        values["route"] = f"{AUTHENTICATION_ROUTE}/{payload}"
        return request.render("omni_payment_charging.payment_authentication_page", values)

    @http.route(
        f"{AUTHENTICATION_ROUTE}/<string:payload>/start",
        type="http",
        auth="public",
        methods=["POST"],
    )
    def omni_authentication_start(self, payload, **kwargs):
        """JSON: ``{client_secret, payment_method}`` for Stripe.js, ``{done, message}`` or
        ``{error}``."""
        link, usable = self._omni_link(payload)
        if not usable:
            raise Forbidden()
        try:
            values = link.attempt_id._authentication_start()
        except UserError as exc:
            values = {"error": exc.args[0]}
        return request.make_json_response(values)

    @http.route(
        f"{AUTHENTICATION_ROUTE}/<string:payload>/finish",
        type="http",
        auth="public",
        methods=["POST"],
    )
    def omni_authentication_finish(self, payload, **kwargs):
        """JSON: ``{message}`` once the payment is recorded, or ``{error}``. A link already
        used for this payment answers with the same message."""
        link, usable = self._omni_link(payload)
        if not usable and not (link and link.state == "used" and link.attempt_id.state == "done"):
            raise Forbidden()
        try:
            with request.env.cr.savepoint():
                message = link.attempt_id._authentication_finish()
        except UserError as exc:
            return request.make_json_response({"error": exc.args[0]})
        return request.make_json_response({"message": message})
