# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from .omni_dunning_level import STAGES
from .omni_payment_link import LINK_VALIDITY_DAYS

LINK_ROUTE = "/omni/payment_methods"


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
    omni_payment_mode = fields.Selection(
        selection=[
            ("automatic", "Automatic (charge the default payment method)"),
            ("manual", "Manual (bank transfer)"),
        ],
        string="Payment Mode",
        default=lambda self: self._omni_default_payment_mode(),
        required=True,
        tracking=True,
        help="Automatic: due invoices are charged to the customer's default authorized "
        "payment method, with dunning when a charge fails. Manual: invoices are issued "
        "without automatic debit and marked paid by hand.",
    )
    omni_dunning_state = fields.Selection(
        selection=[("active", "Active"), *STAGES],
        string="Dunning State",
        default="active",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        help="Where the customer stands after failed charges. Other modules react to a "
        "change by overriding res.partner._omni_dunning_state_changed().",
    )
    omni_dunning_policy_id = fields.Many2one(
        comodel_name="omni.dunning.policy",
        string="Dunning Policy",
        help="Leave empty to use the company's default policy.",
    )
    omni_dunning_case_ids = fields.One2many(
        comodel_name="omni.dunning.case",
        inverse_name="partner_id",
        string="Dunning",
    )

    @api.depends("commercial_partner_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_omni_payment_token_ids(self):
        tokens = self.env["payment.token"].search(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
            order="is_default desc, added_on desc, id desc",
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
            ["commercial_partner_id", "method_kind"],
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
        query = self.env["payment.token"]._search([("method_kind", "=", kind)])
        domain = [("commercial_partner_id", "in", query.subselect("commercial_partner_id"))]
        return domain if positive else ["!", *domain]

    def _search_omni_has_card(self, operator, value):
        return self._omni_search_has_kind("card", operator, value)

    def _search_omni_has_bank_account(self, operator, value):
        return self._omni_search_has_kind("bank", operator, value)

    # === SIGNED LINK TO THE CUSTOMER'S PAYMENT METHODS === #

    def _omni_payment_methods_url(self, validity_days=LINK_VALIDITY_DAYS):
        """Single-use, expiring link to the customer's payment methods (no account needed).

        Each call issues a new link (``omni.payment.link``): the customer can see its methods
        and add one; the link is consumed once a method is added through it.
        """
        self.ensure_one()
        if not self.id:
            return False
        # sudo: links are issued by the company for its customer whoever sends the email
        # (reminder cron, dunning, staff); the link model is not readable by users.
        secret = self.env["omni.payment.link"].sudo()._omni_issue(self, validity_days)
        return f"{self.get_base_url()}{LINK_ROUTE}/{secret}"

    @api.model
    def _omni_link_from_payload(self, payload):
        """Return the link record of ``payload`` whatever its state (sudo, empty if unknown)."""
        # sudo: the link secret is the visitor's only credential; checked by hash.
        return self.env["omni.payment.link"].sudo()._omni_find(payload)

    @api.model
    def _omni_partner_from_link(self, payload):
        """Return the customer a link is for, or an empty recordset if it is unknown,
        tampered with, expired or already used."""
        link = self._omni_link_from_payload(payload)
        if not link or not link._omni_is_usable():
            return self.browse()
        return self.browse(link.partner_id.id)

    def action_omni_add_payment_method(self):
        """Open the dialog where staff enter a card given on the phone (Stripe Elements)."""
        self.ensure_one()
        self.env["payment.token"].check_access("create")
        partner = self.commercial_partner_id
        # The dialog fails early and clearly when Stripe is not configured.
        # sudo: staff may not read the providers' configuration.
        self.env["omni.payment.setup"].sudo()._omni_provider(partner)
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
        template = self.env.ref(
            "omni_payment_methods.mail_template_add_payment_method_link"
        ).with_context(omni_link_url=partner._omni_payment_methods_url())
        rendered = template._generate_template([partner.id], ("subject", "body_html"))[partner.id]
        # sudo: the email is the company writing to its customer; posting must not make the
        # staff member follow the customer.
        partner.sudo().with_context(mail_create_nosubscribe=True).message_post(
            body=rendered["body_html"],
            subject=rendered["subject"],
            partner_ids=recipient.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
        )
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

    # === PAYMENT MODE AND DUNNING === #

    @api.model
    def _omni_default_payment_mode(self):
        return (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("omni_payment_methods.default_payment_mode", "manual")
        )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ["omni_payment_mode", "omni_dunning_policy_id"]

    @api.onchange("omni_payment_mode")
    def _onchange_omni_payment_mode(self):
        if self.omni_payment_mode == "manual" and self._origin.omni_payment_mode == "automatic":
            return {
                "warning": {
                    "title": self.env._("Manual payment"),
                    "message": self.env._(
                        "From now on, this customer's invoices are issued without automatic "
                        "debit: they are marked paid by hand when the transfer arrives. Open "
                        "dunning is paused."
                    ),
                }
            }

    def write(self, vals):
        before = {}
        if "omni_payment_mode" in vals:
            before = {partner.id: partner.omni_payment_mode for partner in self}
        res = super().write(vals)
        if before:
            for partner in self.filtered(lambda p: p.is_company or not p.parent_id).filtered(
                lambda p: before.get(p.id) != p.omni_payment_mode
            ):
                partner._omni_payment_mode_changed()
        return res

    def _omni_payment_mode_changed(self):
        """Manual mode: open dunning is paused (nothing is charged any more)."""
        self.ensure_one()
        if self.omni_payment_mode == "manual":
            cases = self.omni_dunning_case_ids.filtered(lambda c: c.state in ("open", "waiting"))
            cases.action_omni_pause()
            self._omni_log_dunning(
                self.env._(
                    "Payment mode: manual. Invoices are no longer charged automatically; they "
                    "are marked paid by hand."
                )
            )
        else:
            self._omni_log_dunning(
                self.env._(
                    "Payment mode: automatic. Due invoices are charged to the default "
                    "payment method."
                )
            )

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
                    ("is_default", "=", True),
                    ("company_id", "=", company.id),
                ],
                limit=1,
            )
        )

    def _omni_set_dunning_state(self, state, case):
        """Set the customer's dunning state and tell the hook when it changes."""
        for partner in self:
            previous = partner.omni_dunning_state
            if previous == state:
                continue
            # sudo: the state is the job's to set, not the user's (the field is read-only).
            partner.sudo().omni_dunning_state = state
            partner._omni_dunning_state_changed(previous, state, case)

    def _omni_dunning_state_changed(self, previous, state, case):
        """Hook: the customer's dunning state moved from ``previous`` to ``state``.

        ``state`` is "active", "grace", "warning", "suspended" or "terminated"; ``case`` is
        the ``omni.dunning.case``. Override it to react (suspend a subscription, block
        orders, ...): the addon itself only logs the change and never deletes anything.
        """
        self.ensure_one()
        labels = dict(self._fields["omni_dunning_state"]._description_selection(self.env))
        self._omni_log_dunning(
            self.env._(
                "Dunning state: %(previous)s → %(state)s.",
                previous=labels.get(previous, previous),
                state=labels.get(state, state),
            )
        )

    def _omni_log_dunning(self, body):
        """A note on the customer's chatter."""
        for partner in self:
            # sudo: the trail is written whatever the author's rights on the customer.
            partner.sudo().with_context(mail_create_nosubscribe=True).message_post(
                body=body, message_type="comment", subtype_xmlid="mail.mt_note"
            )

    def _omni_payment_method_changed(self):
        """A method was added or the default changed: open dunning retries at once."""
        cases = self.env["omni.dunning.case"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("state", "in", ("open", "waiting")),
            ]
        )
        if not cases:
            return
        cases.write({"retry_requested_at": fields.Datetime.now(), "hard_decline": False})
        self.env.ref("omni_payment_methods.ir_cron_run_dunning")._trigger()

    def action_omni_open_dunning(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "omni_payment_methods.omni_dunning_case_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"search_default_filter_open": 0}
        return action
