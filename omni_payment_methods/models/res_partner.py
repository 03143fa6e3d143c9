# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import clean_context

from ..compat import POST_WITHOUT_FOLLOWING
from ..compat import mail as compat_mail
from ..const import LINK_PREVIEW, LINK_REDACTED, LINK_ROUTE, SEND_LINKS
from .omni_payment_link import LINK_VALIDITY_DAYS

# The layout of the emails to customers.
EMAIL_LAYOUT = "mail.mail_notification_light"


class ResPartner(models.Model):
    _inherit = "res.partner"

    omni_payment_token_ids = fields.One2many(
        comodel_name="payment.token",
        string="Payment Methods",
        compute="_compute_omni_payment_token_ids",
        help="The saved payment methods of the customer (the commercial entity and all its "
        "contacts).",
    )
    omni_has_card = fields.Boolean(
        string="Has saved card",
        compute="_compute_omni_has_methods",
        search="_search_omni_has_card",
    )
    omni_has_bank_account = fields.Boolean(
        string="Has saved bank account",
        compute="_compute_omni_has_methods",
        search="_search_omni_has_bank_account",
    )
    omni_has_authorized_method = fields.Boolean(
        string="Authorized for automatic charges",
        compute="_compute_omni_has_authorized_method",
        search="_search_omni_has_authorized_method",
        help="The customer has at least one saved payment method whose consent to "
        "automatic (off-session) charges is recorded.",
    )

    @api.depends("commercial_partner_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_omni_payment_token_ids(self):
        tokens = self.env["payment.token"].search(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
            order="omni_is_default desc, omni_added_on desc, id desc",
        )
        for partner in self:
            partner.omni_payment_token_ids = tokens.filtered(
                lambda t, p=partner: t.commercial_partner_id == p.commercial_partner_id
            )

    @api.depends("commercial_partner_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_omni_has_methods(self):
        groups = self.env["payment.token"]._read_group(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
            ["commercial_partner_id", "omni_method_kind"],
        )
        kinds = {(partner.id, kind) for partner, kind in groups}
        for partner in self:
            commercial_id = partner.commercial_partner_id.id
            partner.omni_has_card = (commercial_id, "card") in kinds
            partner.omni_has_bank_account = (commercial_id, "bank") in kinds

    @api.depends("commercial_partner_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_omni_has_authorized_method(self):
        groups = self.env["payment.token"]._read_group(
            [
                ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                ("omni_authorized", "=", True),
            ],
            ["commercial_partner_id"],
        )
        authorized = {partner.id for (partner,) in groups}
        for partner in self:
            partner.omni_has_authorized_method = partner.commercial_partner_id.id in authorized

    def _search_omni_has_authorized_method(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        positive = (operator == "=") == bool(value)
        query = self.env["payment.token"]._search([("omni_authorized", "=", True)])
        domain = [("commercial_partner_id", "in", query.subselect("commercial_partner_id"))]
        return domain if positive else ["!", *domain]

    def _omni_search_has_kind(self, kind, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        positive = (operator == "=") == bool(value)
        # The customer and all its contacts match when the customer has such a method.
        query = self.env["payment.token"]._search([("omni_method_kind", "=", kind)])
        domain = [("commercial_partner_id", "in", query.subselect("commercial_partner_id"))]
        return domain if positive else ["!", *domain]

    def _search_omni_has_card(self, operator, value):
        return self._omni_search_has_kind("card", operator, value)

    def _search_omni_has_bank_account(self, operator, value):
        return self._omni_search_has_kind("bank", operator, value)

    # === SIGNED LINK TO THE CUSTOMER'S PAYMENT METHODS === #

    def _omni_payment_methods_url(self, validity_days=LINK_VALIDITY_DAYS, company=None):
        """Single-use, expiring link to the customer's payment methods (no account needed).

        Each call issues a new link (``omni.payment.link``): the customer can see its methods
        and add one; the link is consumed once a method is added through it. Called by the
        email templates while an email is rendered (never by a computed field): the URL
        exists in that email only (see ``_omni_forget_links``). Only the code that sends the
        email issues links (context key ``omni_send_links``, see ``_omni_sending``): a
        preview or a check of the template shows a placeholder and creates nothing.

        :param company: the company that sends the link (default: the current one)
        """
        self.ensure_one()
        if not self.id:
            return False
        if not self.env.context.get(SEND_LINKS):
            return f"{self.get_base_url()}{LINK_ROUTE}/{LINK_PREVIEW}"
        # sudo: links are issued by the company for its customer whoever sends the email
        # (reminder cron, dunning, staff); the link model is not readable by users. Private
        # method: RPC cannot call it.
        secret = (
            self.env["omni.payment.link"]
            .sudo()
            ._issue(self, validity_days, company=company or self.env.company)
        )
        return self._omni_link_url(secret)

    def _omni_link_url(self, secret):
        """The URL of the link of ``secret`` (issued for this customer)."""
        self.ensure_one()
        return f"{self.get_base_url()}{LINK_ROUTE}/{secret}"

    @api.model
    def _omni_sending(self, template):
        """``template`` to render an email that is sent now: its links are issued."""
        return template.with_context(**{SEND_LINKS: True})

    @api.model
    def _omni_link_routes(self):
        """The routes of the emailed links (``omni.payment.link``) whose secrets are taken
        out of the chatter's copy of an email; a module adding a link purpose adds its
        route."""
        return [LINK_ROUTE]

    @api.model
    def _omni_redact_links(self, text):
        """``text`` with the secrets of the links in it replaced (the link then opens the
        "no longer valid" page)."""
        routes = "|".join(re.escape(route) for route in self._omni_link_routes())
        return re.sub(
            rf"({routes})/[A-Za-z0-9_-]+", lambda match: f"{match[1]}/{LINK_REDACTED}", text
        )

    @api.model
    def _omni_forget_links(self, message):
        """Take the links' secrets out of ``message``, the copy of an email kept on the
        chatter: the link is a credential that exists in the email sent only (the outgoing
        mail, which only administrators read and which is deleted once sent)."""
        body = message.body or ""
        redacted = self._omni_redact_links(body)
        if redacted != body:
            # sudo: the company's own message, rewritten whoever sent it; only the secret
            # of the link changes.
            message.sudo().write({"body": Markup(redacted)})  # noqa: S704 - only the URL changed
        return message

    @api.model
    def _omni_link_from_payload(self, payload):
        """Return the link record of ``payload`` whatever its state (sudo, empty if unknown)."""
        # sudo: the link secret is the visitor's only credential; checked by hash.
        return self.env["omni.payment.link"].sudo()._find(payload)

    @api.model
    def _omni_partner_from_link(self, payload):
        """Return the customer a link is for, or an empty recordset if it is unknown,
        tampered with, expired or already used."""
        link = self._omni_link_from_payload(payload)
        if not link or not link._is_usable():
            return self.browse()
        return self.browse(link.partner_id.id)

    def action_omni_add_payment_method(self):
        """Open the dialog where staff enter a card given on the phone (Stripe Elements)."""
        self.ensure_one()
        self.env["payment.token"].check_access("create")
        partner = self.commercial_partner_id
        # The dialog fails early and clearly when Stripe is not configured.
        # sudo: staff may not read the providers' configuration.
        self.env["omni.payment.setup"].sudo()._provider(partner)
        return {
            "type": "ir.actions.client",
            "tag": "omni_add_payment_method",
            "name": self.env._("Add Payment Method"),
            "target": "new",
            # The dialog's own Close button replaces the default footer ("Ok").
            "context": {"footer": False},
            "params": {
                "partner_id": partner.id,
                "url": f"/omni/payment_method/staff/{partner.id}",
            },
        }

    def action_omni_send_payment_link(self):
        """Email the customer a single-use link to add a payment method."""
        self.ensure_one()
        self.env["payment.token"].check_access("create")
        partner = self.commercial_partner_id
        recipient = self if self.email else partner
        if not recipient.email:
            raise UserError(
                self.env._(
                    "%(customer)s has no email address: add one before sending a link.",
                    customer=partner.display_name,
                )
            )
        # The template issues the link while it renders (object._omni_payment_methods_url()).
        template = self.env.ref("omni_payment_methods.mail_template_add_payment_method_link")
        rendered = self._omni_sending(template)._generate_template(
            [partner.id], ("subject", "body_html")
        )[partner.id]
        # sudo: the email is the company writing to its customer; posting must not make the
        # staff member follow the customer.
        message = (
            partner.sudo()
            .with_context(**POST_WITHOUT_FOLLOWING)
            .message_post(
                body=rendered["body_html"],
                subject=rendered["subject"],
                partner_ids=recipient.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                email_layout_xmlid="mail.mail_notification_light",
            )
        )
        self._omni_forget_links(message)
        return self.env["payment.token"]._omni_notify(
            self.env._(
                "A link to add a payment method was sent to %(email)s.", email=recipient.email
            )
        )

    # === ACTIONS === #

    def action_omni_sync_stripe(self):
        """Fetch the current details of this customer's Stripe methods."""
        self.ensure_one()
        tokens = self.env["payment.token"].search(
            [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("provider_id.code", "=", "stripe"),
            ]
        )
        return tokens.action_omni_sync_from_stripe()

    # === HOOKS OF OTHER MODULES === #

    def _omni_payment_method_changed(self):
        """Hook: a method of these customers was added or became the default (automatic
        charging retries what failed)."""

    def _omni_default_token(self, company):
        """The customer's default payment method in ``company`` (or an empty recordset)."""
        self.ensure_one()
        # sudo: the charging job and integrations look up the method whatever the caller's
        # access to tokens; nothing of it is returned to the caller but the record.
        return (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("omni_is_default", "=", True),
                    ("company_id", "=", company.id),
                ],
                limit=1,
            )
        )

    def _omni_email_customer(self, rendered, recipient, company):
        """Email ``recipient`` on behalf of ``company`` and keep it on this customer's
        chatter; return the message. ``rendered``: a template's rendered subject,
        body_html and email_from."""
        self.ensure_one()
        email = self._omni_customer_email(rendered, recipient, company)
        return self._omni_email_customers([email])

    def _omni_customer_email(self, rendered, recipient, company):
        """The email of ``_omni_email_customers`` to ``recipient``, about this customer, on
        behalf of ``company``: its outgoing body is rendered here, in the recipient's
        language (the part of an email that can fail on its own)."""
        self.ensure_one()
        body = rendered.get("body_html") or Markup()
        return {
            "customer": self,
            "recipient": recipient,
            "company": company,
            "subject": rendered.get("subject") or False,
            "email_from": rendered.get("email_from") or company.partner_id.email_formatted,
            "body": body,
            # sudo: the company's layout, whoever sends (a job, staff).
            "body_html": compat_mail.render_layout(
                EMAIL_LAYOUT, body, self.sudo(), company, recipient.lang
            ),
        }

    @api.model
    def _omni_email_customers(self, emails):
        """Send ``emails`` (``_omni_customer_email`` values) in batch; return their chatter
        messages, in the same order.

        What ``message_post`` does for one comment to one recipient, written for all the
        emails at once: a message on the customer's chatter (its copy of the email, the
        links' secrets taken out, see ``_omni_forget_links``), the outgoing email to the
        recipient (the layout and the working links; queued, not sent inline) and its
        notification. Only the recipient is notified (not the customer's followers: the
        email carries the customer's own link), and nobody is subscribed.
        """
        messages = self.env["mail.message"]
        if not emails:
            return messages
        # sudo: the company writes to its customer, whoever triggers it (a job, staff).
        customers = self.browse(dict.fromkeys(email["customer"].id for email in emails)).sudo()
        alias_domains = customers._mail_get_alias_domains(default_company=self.env.company)
        companies = customers._mail_get_companies(default=self.env.company)
        reply_to = {}
        for email_from in {email["email_from"] for email in emails}:
            reply_to[email_from] = customers._notify_get_reply_to(default=email_from)
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        # The caller's context without its default_* keys (they are for the caller's own
        # records, as message_post does): replaced, not merged.
        Message = self.env["mail.message"].with_env(
            self.env(context=clean_context(self.env.context))
        )
        messages = Message.sudo().create(
            [
                {
                    "model": self._name,
                    "res_id": email["customer"].id,
                    "record_name": email["customer"].display_name,
                    "record_alias_domain_id": alias_domains[email["customer"].id].id,
                    "record_company_id": companies[email["customer"].id].id,
                    "author_id": email["company"].partner_id.id,
                    "email_from": email["email_from"],
                    "reply_to": reply_to[email["email_from"]][email["customer"].id],
                    "subject": email["subject"],
                    "body": Markup(  # noqa: S704 - only the link's secret changed
                        self._omni_redact_links(email["body"])
                    ),
                    "message_type": "comment",
                    "subtype_id": subtype_id,
                    "partner_ids": [Command.link(email["recipient"].id)],
                    "email_layout_xmlid": EMAIL_LAYOUT,
                }
                for email in emails
            ]
        )
        mails = (
            self.env["mail.mail"]
            .sudo()
            .create(
                [
                    {
                        "mail_message_id": message.id,
                        "body_html": email["body_html"],
                        "recipient_ids": [Command.link(email["recipient"].id)],
                        "references": message.message_id,
                        "is_notification": True,
                        "auto_delete": True,
                    }
                    for message, email in zip(messages, emails, strict=True)
                ]
            )
        )
        self.env["mail.notification"].sudo().create(
            [
                {
                    "mail_message_id": message.id,
                    "mail_mail_id": mail.id,
                    "res_partner_id": email["recipient"].id,
                    "author_id": message.author_id.id,
                    "notification_type": "email",
                    "notification_status": "ready",
                    "is_read": True,
                }
                for message, mail, email in zip(messages, mails, emails, strict=True)
            ]
        )
        return messages.sudo(False)

    # === EXTERNAL API === #
    # Public methods (no leading underscore) that integrations call through XML-RPC or
    # JSON-RPC ``execute_kw``; documented in README.md, "External API". They run as the
    # calling user (no sudo to widen what the caller reaches): outside the viewer group a
    # user only reaches its own commercial entity, and write operations need the manager
    # group. They return plain JSON/XML-RPC values (dicts, lists, str, int, float, bool).

    def _omni_api_customers(self):
        """The commercial entities of the partners the caller named, readable by the caller."""
        if not self.ids:
            raise UserError(self.env._("Give at least one customer id."))
        partners = self.exists()
        missing = set(self.ids) - set(partners.ids)
        if missing:
            raise UserError(
                self.env._(
                    "Unknown customer id(s): %(ids)s.",
                    ids=", ".join(str(i) for i in sorted(missing)),
                )
            )
        partners.check_access("read")
        customers = partners.commercial_partner_id
        own = self.env.user.partner_id.commercial_partner_id
        is_viewer = self.env.user.has_group("omni_payment_methods.group_omni_payment_method_viewer")
        if not is_viewer and customers - own:
            raise AccessError(
                self.env._(
                    "You may only see your own payment methods: the payment methods of other "
                    "customers are reserved to the group 'Saved Payment Methods / Viewer'."
                )
            )
        return customers

    def _omni_api_customer(self):
        if len(set(self.ids)) != 1:
            raise UserError(
                self.env._("Give exactly one customer id (got %(count)s).", count=len(self.ids))
            )
        return self._omni_api_customers()

    def omni_api_list_payment_methods(self):
        """The live payment methods of the customers (commercial entities) of these partners.

        Each method is ``{"id", "customer_id", "kind" ("card"/"bank"), "brand", "last4",
        "exp_month", "exp_year" (False for bank accounts), "is_default", "authorized",
        "nickname"}``: never more. Default first, then newest first.
        """
        customers = self._omni_api_customers()
        tokens = self.env["payment.token"].search(
            [("commercial_partner_id", "in", customers.ids)],
            order="commercial_partner_id, omni_is_default desc, omni_added_on desc, id desc",
        )
        return [token._omni_api_values() for token in tokens]

    def omni_api_send_add_link(self):
        """Email the customer a single-use link to add a payment method.

        Returns ``{"customer_id", "email"}`` (where the link was sent).
        """
        self.env["payment.token"]._omni_api_check_manager()
        partner = self._omni_api_customer()
        contact = self.exists()
        recipient = contact if contact.email else partner
        contact.action_omni_send_payment_link()
        return {"customer_id": partner.id, "email": recipient.email}
