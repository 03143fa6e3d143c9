# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request

from odoo.addons.payment.controllers.portal import PaymentPortal

from ..const import LINK_ROUTE
from ..exceptions import OmniRateLimited
from ..lib import stripe_api

_logger = logging.getLogger(__name__)

PORTAL_ROUTE = "/my/payment_method"
SETUP_ROUTE = "/omni/payment_method/setup"
FLASH_KEY = "omni_payment_method_flash"


def _flash(message, kind="success"):
    request.session[FLASH_KEY] = {"message": message, "type": kind}


def _pop_flash():
    return request.session.pop(FLASH_KEY, None)


class OmniPaymentMethodsPortal(PaymentPortal):
    """The customer's payment methods in the portal (``/my/payment_method``), the page of the
    emailed link, and the routes of the Stripe Elements form shared by the portal, the link
    page and the back-office dialog.

    Every route acting on a method checks first that it belongs to the signed-in user's
    commercial entity (404 otherwise); every POST carries the CSRF token.
    """

    # === PORTAL: LIST AND ACTIONS === #

    @http.route()
    def payment_method(self, **kwargs):
        """Override of `payment`: add the customer's saved methods with their actions.

        Odoo's own form keeps showing below for providers other than Stripe (with their
        saved methods); the Stripe methods are managed by the addon (rules on default and
        deletion, detach in Stripe), so they are listed by the addon and taken out of Odoo's
        list, whose delete button would bypass those rules.
        """
        response = super().payment_method(**kwargs)
        partner = request.env.user.partner_id
        tokens_sudo = self._omni_customer_tokens(partner)
        provider_sudo = self._omni_provider_sudo(partner)
        qcontext = response.qcontext
        qcontext["tokens_sudo"] = qcontext["tokens_sudo"] - tokens_sudo
        # sudo: the attempts of the customer's own tokens (listed above) are read for their
        # verification state only.
        verifications = (
            request.env["omni.payment.setup"]
            .sudo()
            .search(
                [
                    ("token_id", "in", tokens_sudo.filtered("omni_awaiting_verification").ids),
                    ("state", "=", "verifying"),
                ]
            )
        )
        qcontext.update(
            omni_tokens=tokens_sudo,
            omni_verifications={setup.token_id.id: setup for setup in verifications},
            omni_labels={token.id: token._omni_issuer_label() for token in tokens_sudo},
            omni_can_add=bool(provider_sudo),
            omni_flash=_pop_flash(),
        )
        return response

    @staticmethod
    def _omni_own_tokens_sudo(domain=()):
        """The signed-in customer's tokens matching ``domain``, in sudo: portal users have no
        rights on tokens, so ownership (the commercial entity) is the domain itself, checked
        here before anything runs on the returned records."""
        partner = request.env.user.partner_id
        Token = request.env["payment.token"].sudo()  # sudo: ownership is the domain below
        return Token.search(
            [("commercial_partner_id", "=", partner.commercial_partner_id.id), *domain],
            order="omni_is_default desc, omni_added_on desc, id desc",
        )

    @classmethod
    def _omni_customer_tokens(cls, partner):
        return cls._omni_own_tokens_sudo([("provider_id.code", "=", "stripe")])

    @staticmethod
    def _omni_provider_sudo(partner):
        # sudo: the provider's configuration is not readable by portal or public users.
        Setup = request.env["omni.payment.setup"].sudo()
        try:
            return Setup._provider(partner)
        except UserError:
            return request.env["payment.provider"]

    @classmethod
    def _omni_owned_token(cls, token_id):
        """The live token ``token_id`` if it belongs to the signed-in customer, else 404."""
        token_sudo = cls._omni_own_tokens_sudo([("id", "=", token_id)])
        if not token_sudo or request.env.user._is_public():
            raise NotFound()
        return token_sudo

    @http.route(
        f"{PORTAL_ROUTE}/<int:token_id>/default", type="http", auth="user", methods=["POST"]
    )
    def omni_set_default(self, token_id, **kwargs):
        token_sudo = self._omni_owned_token(token_id)
        try:
            result = token_sudo.action_omni_set_default()
            _flash(result["params"]["message"])
        except UserError as exc:
            _flash(exc.args[0], "danger")
        return request.redirect(PORTAL_ROUTE)

    @http.route(f"{PORTAL_ROUTE}/<int:token_id>/verify", type="http", auth="user", methods=["POST"])
    def omni_verify(self, token_id, amount_1="", amount_2="", descriptor_code="", **kwargs):
        """The customer enters the micro-deposits of a bank account awaiting verification:
        the two amounts, or the code of the deposit's description."""
        token_sudo = self._omni_owned_token(token_id)
        # sudo: the attempt of the customer's own token (checked above).
        Setup = request.env["omni.payment.setup"].sudo()
        setup = Setup.search(
            [("token_id", "=", token_sudo.id), ("state", "=", "verifying")], limit=1
        )
        try:
            if not setup:
                raise UserError(request.env._("This bank account is not awaiting verification."))
            amounts, code = Setup._parse_microdeposits(amount_1, amount_2, descriptor_code)
            with request.env.cr.savepoint():
                token = setup._verify_microdeposits(amounts=amounts, descriptor_code=code)
            _flash(
                request.env._(
                    "%(method)s has been verified: it can now be used for your payments.",
                    method=token._omni_issuer_label(),
                )
            )
        except UserError as exc:
            _flash(exc.args[0], "danger")
        return request.redirect(PORTAL_ROUTE)

    @http.route(f"{PORTAL_ROUTE}/<int:token_id>/rename", type="http", auth="user", methods=["POST"])
    def omni_rename(self, token_id, nickname="", **kwargs):
        token_sudo = self._omni_owned_token(token_id)
        nickname = (nickname or "").strip()[:64]
        try:
            with request.env.cr.savepoint():
                token_sudo.omni_nickname = nickname or False
            _flash(
                request.env._(
                    "%(method)s renamed to '%(nickname)s'.",
                    method=token_sudo._omni_issuer_label(),
                    nickname=nickname,
                )
                if nickname
                else request.env._(
                    "The nickname of %(method)s was removed.",
                    method=token_sudo._omni_issuer_label(),
                )
            )
        except (UserError, ValidationError) as exc:
            _flash(exc.args[0], "danger")
        return request.redirect(PORTAL_ROUTE)

    @http.route(
        f"{PORTAL_ROUTE}/<int:token_id>/delete",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def omni_delete_confirm(self, token_id, **kwargs):
        """The confirmation page: the card, its expiry and the consequences (or the refusal)."""
        token_sudo = self._omni_owned_token(token_id)
        try:
            is_last = token_sudo._omni_check_deletable()
        except UserError as exc:
            _flash(exc.args[0], "danger")
            return request.redirect(PORTAL_ROUTE)
        # The back office's wording, computed without creating the wizard.
        wizard = request.env["omni.payment.token.delete.wizard"].new(
            {"token_id": token_sudo.id, "is_last": is_last}
        )
        return request.render(
            "omni_payment_methods.portal_payment_method_delete",
            {"token": token_sudo, "message": wizard.message, "is_last": is_last},
        )

    @http.route(f"{PORTAL_ROUTE}/<int:token_id>/delete", type="http", auth="user", methods=["POST"])
    def omni_delete(self, token_id, **kwargs):
        token_sudo = self._omni_owned_token(token_id)
        try:
            label = token_sudo._omni_delete()
            _flash(request.env._("%(method)s has been deleted.", method=label))
        except UserError as exc:
            _flash(exc.args[0], "danger")
        return request.redirect(PORTAL_ROUTE)

    @http.route()
    def archive_token(self, token_id):
        """Override of `payment`: Odoo's delete button follows the addon's rules too."""
        token_sudo = self._omni_own_tokens_sudo([("id", "=", token_id)])
        if token_sudo:
            token_sudo._omni_delete()

    # === ADDING A METHOD: PAGES === #

    @http.route(f"{PORTAL_ROUTE}/add", type="http", auth="user", methods=["GET"], website=True)
    def omni_add_page(self, **kwargs):
        partner = request.env.user.partner_id
        provider_sudo = self._omni_provider_sudo(partner)
        if not provider_sudo:
            raise NotFound()
        return request.render(
            "omni_payment_methods.portal_payment_method_add",
            self._omni_form_values(provider_sudo, "portal", partner, cancel_url=PORTAL_ROUTE),
        )

    @http.route(
        "/omni/payment_method/staff/<int:partner_id>",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def omni_staff_add_page(self, partner_id, **kwargs):
        """The form of the back-office dialog (shown in its iframe); managers only."""
        if not request.env.user._omni_is_payment_manager():
            raise Forbidden()
        partner = request.env["res.partner"].browse(partner_id).exists()
        if not partner:
            raise NotFound()
        try:
            partner.check_access("read")
        except AccessError as exc:
            raise Forbidden() from exc
        provider_sudo = self._omni_provider_sudo(partner)
        if not provider_sudo:
            raise NotFound()
        response = request.render(
            "omni_payment_methods.staff_payment_method_add",
            self._omni_form_values(provider_sudo, "staff", partner.commercial_partner_id),
        )
        # Framed by the back office only.
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        return response

    @staticmethod
    def _omni_form_values(provider_sudo, mode, partner, cancel_url=None, link_payload=None):
        Token = request.env["payment.token"]
        company = partner.commercial_partner_id.company_id or request.env.company
        # sudo: the list of countries is public data.
        countries_sudo = request.env["res.country"].sudo().search([])
        return {
            "mandate_texts": {
                pm_type: Token._omni_mandate_wording(pm_type, company)
                for pm_type in stripe_api.BANK_SETUP_TYPES
            },
            "billing_email": request.env["omni.payment.setup"]._billing_email(partner),
            "partner": partner.commercial_partner_id,
            "omni_form": {
                "partner_id": partner.commercial_partner_id.id if mode == "staff" else "",
                "mode": mode,
                "stripe_js_url": provider_sudo._omni_stripe_js_url(),
                "publishable_key": provider_sudo._omni_stripe_publishable_key(),
                "link": link_payload or "",
                "cancel_url": cancel_url or "",
            },
            "countries": countries_sudo,
            "default_country": partner.country_id or request.env.company.country_id,
            "consent_text": request.env["payment.token"]._omni_consent_wording(mode),
        }

    # === THE EMAILED LINK === #

    @http.route(
        f"{LINK_ROUTE}/<string:payload>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def omni_payment_methods_link(self, payload, **kwargs):
        """The page of a single-use link: the customer's methods and the form to add one.

        Viewing does not consume the link; adding a method does. An unknown (tampered),
        expired or used link shows a page saying so and nothing else. A signed-in user of
        that customer goes to the portal page.
        """
        link = request.env["res.partner"]._omni_link_from_payload(payload)
        if not link or not link._is_usable():
            reason = "invalid" if not link else link.state
            return request.render(
                "omni_payment_methods.payment_methods_link_invalid",
                {"reason": reason},
                status=403,
            )
        partner = link.partner_id
        user = request.env.user
        if not user._is_public() and user.partner_id.commercial_partner_id == partner:
            return request.redirect(PORTAL_ROUTE)
        # sudo: the link is the customer's credential for its own methods only.
        partner_sudo = partner.sudo()
        tokens = partner_sudo.omni_payment_token_ids.sorted(
            lambda t: (not t.omni_is_default, t.omni_expiry_date or t.create_date.date(), t.id)
        )
        has_account = bool(partner_sudo.user_ids or partner_sudo.child_ids.user_ids)
        values = {"partner": partner_sudo, "tokens": tokens, "has_account": has_account}
        provider_sudo = self._omni_provider_sudo(partner_sudo)
        if provider_sudo:
            values.update(
                self._omni_form_values(provider_sudo, "link", partner_sudo, link_payload=payload)
            )
        return request.render("omni_payment_methods.payment_methods_link_page", values)

    # === ADDING A METHOD: THE STRIPE ELEMENTS FORM (portal, link, staff) === #

    @staticmethod
    def _json(values, status=200):
        return request.make_json_response(values, status=status)

    def _omni_setup_partner(self, mode, link=None, partner_id=None, consent=None):
        """Who the new method is for, from the caller's credential; raise Forbidden.

        :return: (contact the token is saved for, link record or None)
        """
        user = request.env.user
        if mode == "portal":
            if user._is_public():
                raise Forbidden()
            return user.partner_id, None
        if mode == "link":
            link_sudo = request.env["res.partner"]._omni_link_from_payload(link)
            if not link_sudo or not link_sudo._is_usable():
                raise Forbidden()
            return link_sudo.partner_id, link_sudo
        if mode == "staff":
            if not user._omni_is_payment_manager():
                raise Forbidden()
            try:
                partner = request.env["res.partner"].browse(int(partner_id)).exists()
                partner.check_access("read")
            except (AccessError, TypeError, ValueError) as exc:
                raise Forbidden() from exc
            if not partner:
                raise NotFound()
            if consent not in ("1", "true", "on", True):
                raise UserError(
                    request.env._("Confirm that the customer agreed to save this payment method.")
                )
            return partner.commercial_partner_id, None
        raise NotFound()

    @http.route(f"{SETUP_ROUTE}/start", type="http", auth="public", methods=["POST"])
    def omni_setup_start(
        self,
        mode=None,
        link=None,
        partner_id=None,
        holder_name="",
        country_id=None,
        nickname="",
        consent=None,
        method_type="card",
        **kwargs,
    ):
        """Check who asks, the limits and the attempt rate; create the SetupIntent.

        ``method_type`` is the Stripe PaymentMethod type to save: a card, or a bank debit
        (sepa_debit, acss_debit, us_bank_account) with its mandate.

        Answers JSON: ``{setup_id, handle, client_secret}`` or ``{error}``.
        """
        ip_address = request.httprequest.remote_addr
        # sudo: attempts are the company's log; the caller's credential is checked first.
        Setup = request.env["omni.payment.setup"].sudo()
        try:
            partner, link_sudo = self._omni_setup_partner(
                mode, link=link, partner_id=partner_id, consent=consent
            )
            Setup._omni_check_form(method_type, holder_name, country_id)
            with request.env.cr.savepoint():
                setup, client_secret, handle = Setup._omni_start(
                    partner.sudo(),  # sudo: the partner was authorized above
                    mode,
                    ip_address=ip_address,
                    link=link_sudo,
                    nickname=nickname,
                    method_type=method_type,
                )
        except OmniRateLimited as exc:
            Setup._log_blocked(partner, mode, ip_address, exc.args[0])
            return self._json({"error": exc.args[0]})
        except (UserError, ValidationError) as exc:
            return self._json({"error": exc.args[0]})
        return self._json(
            {
                "setup_id": setup.id,
                "handle": handle,
                "client_secret": client_secret,
                "method_type": method_type,
                # Stripe requires it on SEPA and ACSS methods (the mandate confirmation).
                "billing_email": Setup._billing_email(partner),
            }
        )

    @http.route(f"{SETUP_ROUTE}/<int:setup_id>/fail", type="http", auth="public", methods=["POST"])
    def omni_setup_fail(self, setup_id, handle=None, code=None, message=None, **kwargs):
        """Stripe.js refused the card: log it for staff, cancel the SetupIntent."""
        setup = request.env["omni.payment.setup"]._from_handle(setup_id, handle)
        if not setup:
            raise NotFound()
        return self._json({"error": setup._fail(code, message)})

    @http.route(
        f"{SETUP_ROUTE}/<int:setup_id>/abandon", type="http", auth="public", methods=["POST"]
    )
    def omni_setup_abandon(self, setup_id, handle=None, **kwargs):
        """The page was left (or Cancel): cancel the SetupIntent; nothing stays behind."""
        setup = request.env["omni.payment.setup"]._from_handle(setup_id, handle)
        if not setup:
            raise NotFound()
        setup._abandon()
        return self._json({"ok": True})

    @http.route(
        f"{SETUP_ROUTE}/<int:setup_id>/finish", type="http", auth="public", methods=["POST"]
    )
    def omni_setup_finish(self, setup_id, handle=None, **kwargs):
        """Stripe.js confirmed the SetupIntent: check it in Stripe and save the token."""
        setup = request.env["omni.payment.setup"]._from_handle(setup_id, handle)
        if not setup:
            raise NotFound()
        if setup.channel == "portal" and (
            request.env.user._is_public() or request.env.user != setup.user_id
        ):
            raise Forbidden()
        if setup.channel == "staff" and not request.env.user._omni_is_payment_manager():
            raise Forbidden()
        try:
            with request.env.cr.savepoint():
                token = setup._finish()
                if setup.channel == "staff":
                    token._omni_send_added_email()
        except (UserError, ValidationError) as exc:
            message = exc.args[0]
            # Only a pending attempt fails: a replayed "finish" of an attempt already done
            # (or failed, abandoned) is refused and leaves it as it is.
            setup.invalidate_recordset(["state"])
            if setup.state == "pending":
                with request.env.cr.savepoint():
                    setup.write({"state": "failed", "error_message": message[:256]})
                    setup._cancel_intent()
            return self._json({"error": message})
        message = request.env._(
            "Your %(method)s has been added to your account.", method=token._omni_issuer_label()
        )
        if token.omni_awaiting_verification:
            message = request.env._(
                "%(method)s is saved and awaiting verification: Stripe is sending small "
                "deposits to the account within 1-2 business days. Confirm them in your "
                "payment methods or with the link we emailed; the account is not debited "
                "before.",
                method=token._omni_issuer_label(),
            )
        elif setup.channel == "staff":
            message = request.env._(
                "%(method)s has been added to the account of %(customer)s.",
                method=token._omni_issuer_label(),
                customer=setup.partner_id.display_name,
            )
        if setup.channel == "portal":
            _flash(message)
        return self._json({"message": message, "token_id": token.id})
