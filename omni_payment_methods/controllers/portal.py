# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import request

from ..models.res_partner import LINK_ROUTE


class OmniPaymentMethodsLink(http.Controller):
    @http.route(
        f"{LINK_ROUTE}/<string:payload>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def omni_payment_methods_link(self, payload, **kwargs):
        """The page a reminder links to: the customer's saved methods and their expiry.

        The signed payload names the customer; an invalid, tampered or expired link shows a
        page saying so. A signed-in user of that customer goes to the portal page.
        """
        partner = request.env["res.partner"]._omni_partner_from_link(payload)
        if not partner:
            return request.render("omni_payment_methods.payment_methods_link_invalid", status=403)
        user = request.env.user
        if not user._is_public() and user.partner_id.commercial_partner_id == partner:
            return request.redirect("/my/payment_method")
        # sudo: the signed link is the customer's credential for its own methods only.
        partner_sudo = partner.sudo()
        tokens = partner_sudo.omni_payment_token_ids.sorted(
            lambda t: (not t.is_default, t.expiry_date or t.create_date.date(), t.id)
        )
        has_account = bool(partner_sudo.user_ids or partner_sudo.child_ids.user_ids)
        return request.render(
            "omni_payment_methods.payment_methods_link_page",
            {"partner": partner_sudo, "tokens": tokens, "has_account": has_account},
        )
