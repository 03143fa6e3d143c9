# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import Counter, defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from ..models.omni_bulk_charge import OPEN_INVOICE_DOMAIN

# Customers named in an error message, at most.
NAMES_SHOWN = 5
# Lines of each list (to charge, skipped) the form shows; the full lists open from it.
PREVIEW_LINES = 80
# Reasons of the skipped customers listed in the summary, at most (most frequent first).
REASONS_SHOWN = 8
# Run lines inserted per SQL query when the run starts.
INSERT_BATCH = 5000
# What the preview reads of each default method (in SQL).
TOKEN_FIELDS = [
    "commercial_partner_id",
    "company_id",
    "active",
    "omni_authorized",
    "omni_awaiting_verification",
    "provider_id",
    "payment_method_id",
]


class OmniBulkChargeWizard(models.TransientModel):
    _name = "omni.bulk.charge.wizard"
    _description = "Charge saved payment methods in bulk"

    source = fields.Selection(
        selection=[("customers", "Customers"), ("invoices", "Invoices")],
        required=True,
        default="customers",
        readonly=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_ids = fields.Many2many(
        comodel_name="res.partner", string="Selected Customers", readonly=True
    )
    invoice_ids = fields.Many2many(
        comodel_name="account.move", string="Selected Invoices", readonly=True
    )
    line_ids = fields.One2many(
        comodel_name="omni.bulk.charge.wizard.line",
        inverse_name="wizard_id",
        readonly=True,
        help="The first lines of each list (to charge, skipped); the full lists open from "
        "the wizard.",
    )
    charge_line_ids = fields.One2many(
        comodel_name="omni.bulk.charge.wizard.line",
        inverse_name="wizard_id",
        string="First Customers to Charge",
        domain=[("skip", "=", False)],
        readonly=True,
    )
    skip_line_ids = fields.One2many(
        comodel_name="omni.bulk.charge.wizard.line",
        inverse_name="wizard_id",
        string="First Customers Skipped",
        domain=[("skip", "=", True)],
        readonly=True,
    )
    charge_count = fields.Integer(string="To Charge", readonly=True)
    skip_count = fields.Integer(string="Skipped", readonly=True)
    amount_total = fields.Monetary(
        string="Total to Charge",
        currency_field="currency_id",
        readonly=True,
        help="The open amounts to charge, converted to the company's currency at today's rate.",
    )
    amount_summary = fields.Char(
        string="Amounts to Charge",
        readonly=True,
        help="The open amounts to charge, per currency.",
    )
    skip_summary = fields.Html(
        string="Why Skipped",
        readonly=True,
        help="The skipped customers counted per reason.",
    )
    preview_data = fields.Json(
        readonly=True,
        help="Technical: every customer of the preview (to charge or skipped, and why), read "
        "in SQL by the full lists (omni.bulk.charge.preview).",
    )
    batch_size = fields.Integer(default=50, help="Customers charged per transaction.")

    @api.model
    def default_get(self, fields_list):
        self._check_manager()
        values = super().default_get(fields_list)
        context = self.env.context
        active_ids = context.get("active_ids") or []
        partners = self.env["res.partner"]
        invoices = self.env["account.move"]
        if context.get("active_model") == "account.move" and active_ids:
            invoices = self.env["account.move"].browse(active_ids)
            self._check_invoices(invoices)
            values.update(
                source="invoices",
                company_id=invoices.company_id.id,
                invoice_ids=[Command.set(invoices.ids)],
            )
        elif context.get("active_model") == "res.partner" and active_ids:
            partners = self.env["res.partner"].browse(active_ids)
            # in one query (record rules in SQL), not 1,000 customers at a time
            partners.fetch(["commercial_partner_id"])
            partners = partners.commercial_partner_id
            values.update(source="customers", partner_ids=[Command.set(partners.ids)])
        else:
            raise UserError(self.env._("Select the customers or the invoices to charge."))
        company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
        prepared = self._prepare_lines(company, partners, invoices)
        self._check_something_to_charge(prepared)
        values.update(self._summary_values(company, prepared))
        return values

    @api.model
    def _summary_values(self, company, prepared):
        """The wizard's values for the preview ``prepared`` (``_prepare_lines``): the
        counts, the totals per currency, the skipped customers per reason, the first
        ``PREVIEW_LINES`` lines of each list (the only records the form gets), and every
        customer in ``preview_data`` for the full lists.

        :param company: the company charging (``res.company``)
        :param list prepared: one dict per customer, as ``_prepare_lines`` returns
        :return: the values of the wizard's summary fields
        :rtype: dict
        """
        charged = [line for line in prepared if not line["skip"]]
        skipped = [line for line in prepared if line["skip"]]
        by_currency = defaultdict(float)
        for line in charged:
            by_currency[line["currency_id"]] += line["amount"]
        Currency = self.env["res.currency"]
        date = fields.Date.context_today(self)
        currencies = Currency.browse(sorted(by_currency))
        # one conversion per currency, not per customer
        amount_total = sum(
            currency._convert(by_currency[currency.id], company.currency_id, company, date)
            for currency in currencies
        )
        reasons = Counter(line["reason"] for line in skipped)
        reason_index = {reason: index for index, reason in enumerate(reasons)}
        return {
            "charge_count": len(charged),
            "skip_count": len(skipped),
            "amount_total": amount_total,
            "amount_summary": " + ".join(
                currency.format(by_currency[currency.id]) for currency in currencies
            ),
            "skip_summary": self._skip_summary(reasons),
            # the fields of the form (line_ids holds both once the wizard is saved)
            "charge_line_ids": [self._line_command(line) for line in charged[:PREVIEW_LINES]],
            "skip_line_ids": [self._line_command(line) for line in skipped[:PREVIEW_LINES]],
            "preview_data": {
                "reasons": list(reasons),
                # [customer, invoices, open amount, currency, reason (index) or None]
                "lines": [
                    [
                        line["partner_id"],
                        line["invoice_count"],
                        line["amount"],
                        line["currency_id"],
                        reason_index[line["reason"]] if line["skip"] else None,
                    ]
                    for line in prepared
                ],
            },
        }

    @api.model
    def _line_command(self, line):
        return Command.create(dict(line, invoice_ids=[Command.set(line["invoice_ids"])]))

    @api.model
    def _skip_summary(self, reasons):
        """The skipped customers per reason, most frequent first: an HTML list.

        :param collections.Counter reasons: customers skipped per reason
        :rtype: markupsafe.Markup
        """
        if not reasons:
            return False
        items = [
            Markup("<li>%s <span class='text-muted'>×%s</span></li>") % (reason, count)
            for reason, count in reasons.most_common(REASONS_SHOWN)
        ]
        others = sum(count for _reason, count in reasons.most_common()[REASONS_SHOWN:])
        if others:
            items.append(
                Markup("<li>%s</li>")
                % self.env._(
                    "%(count)s more customer(s), for other reasons (see the full list).",
                    count=others,
                )
            )
        return Markup("<ul class='mb-0'>%s</ul>") % Markup().join(items)

    # === CHECKS === #

    def _check_manager(self):
        self.env.user._omni_check_payment_manager(
            self.env._("Only payment method managers can charge saved payment methods.")
        )

    @api.model
    def _check_invoices(self, invoices):
        """Refuse a selection that is not open customer invoices of one company."""
        others = invoices.filtered(lambda move: move.move_type != "out_invoice")
        if others:
            raise UserError(
                self.env._(
                    "Only customer invoices can be charged; not: %(moves)s.",
                    moves=", ".join(others[:NAMES_SHOWN].mapped("display_name")),
                )
            )
        if len(invoices.company_id) > 1:
            raise UserError(
                self.env._(
                    "The selected invoices belong to several companies (%(companies)s): "
                    "select the invoices of one company.",
                    companies=", ".join(invoices.company_id.mapped("name")),
                )
            )
        if not invoices.filtered_domain(OPEN_INVOICE_DOMAIN):
            raise UserError(
                self.env._("None of the selected invoices is open: there is nothing to charge.")
            )

    @api.model
    def _check_something_to_charge(self, prepared):
        if any(not line["skip"] for line in prepared):
            return
        partners = self.env["res.partner"].browse(line["partner_id"] for line in prepared)
        reasons = [
            f"{partner.display_name}: {line['reason']}"
            for partner, line in zip(partners, prepared, strict=True)
        ]
        raise UserError(
            self.env._(
                "Nothing to charge: none of the selected customers can be charged.\n%(reasons)s",
                reasons="\n".join(reasons[:NAMES_SHOWN])
                + ("\n…" if len(reasons) > NAMES_SHOWN else ""),
            )
        )

    # === PREPARATION === #

    @api.model
    def _prepare_lines(self, company, partners, invoices):
        """One value dict per customer: the invoices (selected ones, else none: the open
        balance), the open amount, and why the customer is skipped (or "").

        Decided in a constant number of queries, on rows rather than records (50,000
        customers open in seconds): the open invoices and the customers are searched as the
        user (record rules in SQL), the default methods read in sudo as the engine does, and
        what SQL rows can decide is decided on them (nothing open, no default method, a hard
        decline, a charge not settled). A customer whose method or currency the engine's
        checks (``omni.charge.attempt._check_chargeable``) would refuse goes through
        the per-customer engine path (``_omni_skip_reason``), which writes the reason: the
        fast path only recognises the customers the engine accepts
        (``_engine_accepts``), and a test compares both paths customer by customer.
        """
        Move = self.env["account.move"]
        Partner = self.env["res.partner"]
        invoice_rows = self._open_invoice_rows(company, partners, invoices)
        groups = defaultdict(list)
        for row in invoice_rows:
            groups[row[1]].append(row)
        customer_ids = list(groups) if invoices else partners.ids
        self._check_customers_visible(customer_ids)
        open_ids = [row[0] for row in invoice_rows]
        unsettled = set(
            self.env["omni.charge.attempt"]
            .search(
                [
                    ("invoice_id", "in", open_ids),
                    ("state", "in", ("not_sent", "unknown", "processing", "requires_action")),
                ]
            )
            .invoice_id.ids
        )
        hard_declined = set(
            self.env["omni.charge.attempt"]
            ._hard_declined_partners(Partner.browse(customer_ids), company)
            .ids
        )
        tokens, accepted = self._default_token_rows(company, customer_ids)
        nothing_open = self.env._("Nothing open in %(company)s.", company=company.name)
        no_method = self.env._(
            "The customer has no default payment method in %(company)s.",
            company=company.name,
        )
        hard_reason = self.env["omni.charge.attempt"]._hard_decline_reason()
        lines = []
        refused = []  # customers the engine refuses: its own path writes their reason
        for partner_id in customer_ids:
            group = groups.get(partner_id, [])
            token = tokens.get(partner_id)
            if not group:
                reason = nothing_open
            elif not token:
                reason = no_method
            elif not all(
                self._engine_accepts(company, partner_id, row, token, accepted) for row in group
            ):
                reason = None
                refused.append((len(lines), partner_id, [row[0] for row in group], token["id"]))
            elif partner_id in hard_declined:
                reason = hard_reason
            else:
                reason = next(
                    (
                        self.env._(
                            "A charge of %(invoice)s is not settled yet: wait for Stripe's answer.",
                            invoice=row[4],
                        )
                        for row in group
                        if row[0] in unsettled
                    ),
                    "",
                )
            lines.append(
                {
                    "partner_id": partner_id,
                    "invoice_ids": [row[0] for row in group] if invoices else [],
                    "invoice_count": len(group),
                    "amount": sum(row[3] for row in group),
                    "currency_id": group[0][2] if group else company.currency_id.id,
                    "reason": reason,
                    "skip": bool(reason),
                }
            )
        if refused:
            # The engine's path and texts, on records prefetched together (the same queries
            # for 5 or 5,000 customers refused).
            all_partners = Partner.browse(item[1] for item in refused)
            all_moves = Move.browse(move_id for item in refused for move_id in item[2])
            # sudo: the method as the engine reads it (res.partner._omni_default_token)
            all_tokens = self.env["payment.token"].sudo().browse(item[3] for item in refused)
            for index, partner_id, move_ids, token_id in refused:
                reason = self._omni_skip_reason(
                    company,
                    Partner.browse(partner_id).with_prefetch(all_partners._prefetch_ids),
                    Move.browse(move_ids).with_prefetch(all_moves._prefetch_ids),
                    unsettled,
                    hard_declined,
                    all_tokens.browse(token_id).with_prefetch(all_tokens._prefetch_ids),
                )
                lines[index].update(reason=reason, skip=bool(reason))
        return lines

    @api.model
    def _open_invoice_rows(self, company, partners, invoices):
        """The open invoices to charge, as rows ``(id, customer, currency, open amount,
        name)`` in the order the engine path reads them: the selected invoices in their
        order, else the customers' open invoices of ``company`` in the model's order.

        Searched as the user: the record rules of invoices apply (in SQL).
        """
        Move = self.env["account.move"]
        Move.flush_model(["commercial_partner_id", "currency_id", "amount_residual", "name"])
        if invoices:
            query = Move._search([*OPEN_INVOICE_DOMAIN, ("id", "in", invoices.ids)])
        else:
            query = Move._search(
                [
                    *OPEN_INVOICE_DOMAIN,
                    ("commercial_partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                ],
                order=Move._order,
            )
        columns = ("id", "commercial_partner_id", "currency_id", "amount_residual", "name")
        rows = self.env.execute_query(
            query.select(*(SQL.identifier(query.table, column) for column in columns))
        )
        # amounts as the ORM reads them (float, not Decimal)
        rows = [
            (id_, partner, currency, float(amount), name)
            for id_, partner, currency, amount, name in rows
        ]
        if invoices:
            position = {invoice_id: index for index, invoice_id in enumerate(invoices.ids)}
            rows.sort(key=lambda row: position[row[0]])
        return rows

    @api.model
    def _check_customers_visible(self, customer_ids):
        """Raise the user's AccessError unless every customer is readable (record rules in
        SQL, one query): the preview reads the rest in sudo for these customers only."""
        Partner = self.env["res.partner"]
        query = Partner._search([("id", "in", customer_ids)])
        visible = {row[0] for row in self.env.execute_query(query.select())}
        hidden = Partner.browse(set(customer_ids) - visible).exists()
        if hidden:
            hidden.check_access("read")

    @api.model
    def _default_token_rows(self, company, customer_ids):
        """The default method of each customer in ``company``, as the engine finds it
        (``res.partner._omni_default_token``: active, default, of the company, the first in
        the model's order): ``({customer: values}, {(provider, method): currencies})``, the
        second the currencies each provider and payment method accept (None: any).

        sudo: the charging engine's lookup of the methods, whatever the caller's access to
        tokens (as ``res.partner._omni_default_token``); safe because ``customer_ids`` were
        established by the caller's access-checked searches (``_open_invoice_rows``,
        ``_check_customers_visible``) and nothing of the methods but the decision is
        returned to the user.
        """
        Token = self.env["payment.token"].sudo()
        Token.flush_model(TOKEN_FIELDS)
        query = Token._search(
            [
                ("commercial_partner_id", "in", customer_ids),
                ("omni_is_default", "=", True),
                ("company_id", "=", company.id),
            ],
            order=Token._order,
        )
        rows = self.env.execute_query(
            query.select(*(SQL.identifier(query.table, column) for column in ("id", *TOKEN_FIELDS)))
        )
        tokens = {}
        for row in rows:
            values = dict(zip(("id", *TOKEN_FIELDS), row, strict=True))
            tokens.setdefault(values["commercial_partner_id"], values)
        accepted = {}
        pairs = {(token["provider_id"], token["payment_method_id"]) for token in tokens.values()}
        for provider_id, method_id in pairs:
            provider = self.env["payment.provider"].sudo().browse(provider_id)
            method = self.env["payment.method"].sudo().browse(method_id)
            if provider.code != "stripe" or provider.state == "disabled":
                accepted[provider_id, method_id] = False
                continue
            accepted[provider_id, method_id] = (
                set(provider.available_currency_ids.ids) or None,
                set(method.supported_currency_ids.ids) or None,
            )
        return tokens, accepted

    @api.model
    def _engine_accepts(self, company, partner_id, row, token, accepted):
        """Whether the engine's checks (``omni.charge.attempt._check_chargeable`` for a
        bulk charge) accept invoice ``row`` with the method ``token``, decided on the rows
        of ``_open_invoice_rows`` and ``_default_token_rows``. False sends the
        customer to the engine itself, which says why."""
        currencies = accepted[token["provider_id"], token["payment_method_id"]]
        if currencies is False:
            return False  # provider disabled or not Stripe
        provider_currencies, method_currencies = currencies
        return (
            token["commercial_partner_id"] == partner_id
            and token["active"]
            and not token["omni_awaiting_verification"]
            and token["omni_authorized"]
            and token["company_id"] == company.id
            and (provider_currencies is None or row[2] in provider_currencies)
            and (method_currencies is None or row[2] in method_currencies)
        )

    @api.model
    def _omni_skip_reason(self, company, partner, invoices, unsettled, hard_declined, token):
        """Why ``partner`` is skipped (or ""): ``unsettled``, the ids of the invoices with a
        charge not settled yet; ``hard_declined``, the ids of the customers whose dunning
        stopped on a hard decline; ``token``, the customer's default method."""
        if not invoices:
            return self.env._("Nothing open in %(company)s.", company=company.name)
        if not token:
            return self.env._(
                "The customer has no default payment method in %(company)s.",
                company=company.name,
            )
        Attempt = self.env["omni.charge.attempt"]
        for invoice in invoices:
            # sudo: reads the provider's configuration (payment administrators only); the
            # engine's own checks (authorization, archived, provider, currency).
            reason, _company_side = Attempt.sudo()._check_chargeable(invoice, token, origin="bulk")
            if reason:
                return reason
            if partner.id in hard_declined:
                return Attempt._hard_decline_reason()
            if invoice.id in unsettled:
                return self.env._(
                    "A charge of %(invoice)s is not settled yet: wait for Stripe's answer.",
                    invoice=invoice.name,
                )
        return ""

    # === ACTION === #

    def action_start(self):
        """Create the run (skipped customers recorded at once with their reason), schedule it
        in the background and open it."""
        self.ensure_one()
        self._check_manager()
        if self.source == "invoices":
            self._check_invoices(self.invoice_ids)
        # Reading the many2many of customers keeps the active ones: their archived flag in
        # one query (record rules in SQL), not 1,000 customers at a time.
        self.with_context(active_test=False).partner_ids.fetch(["active"])
        # Prepared again: the invoices may have been paid since the wizard opened.
        prepared = self._prepare_lines(self.company_id, self.partner_ids, self.invoice_ids)
        self._check_something_to_charge(prepared)
        Run = self.env["omni.bulk.charge"]
        backend = "queue_job" if Run._queue_job_available() else "cron"
        run = Run.create(
            {
                "company_id": self.company_id.id,
                "source": self.source,
                "batch_size": max(self.batch_size, 1),
                "backend": backend,
            }
        )
        self._insert_run_lines(run, prepared)
        run.message_post(
            body=self.env._(
                "Started by %(user)s: %(count)s customer(s) to charge, %(skipped)s skipped.",
                user=self.env.user.name,
                count=run.to_do_count,
                skipped=run.skipped_count,
            )
        )
        run._omni_schedule()
        return {
            "type": "ir.actions.act_window",
            "res_model": "omni.bulk.charge",
            "res_id": run.id,
            "view_mode": "form",
            "target": "current",
            # Not the wizard's id as the run's active_id (the web client's default): it
            # would be in the URL after the customer list and read as a customer's on reload.
            "context": {"active_id": False},
        }

    @api.model
    def _insert_run_lines(self, run, prepared):
        """The lines of ``run``, one per customer of ``prepared``, inserted in SQL by batches
        of ``INSERT_BATCH`` (with the selected invoices of each), not created one record at a
        time: a run of 50,000 customers starts in seconds.

        :param run: the new run (``omni.bulk.charge``)
        :param list prepared: one dict per customer, as ``_prepare_lines`` returns
        """
        Line = self.env["omni.bulk.charge.line"]
        run.flush_recordset()
        now = fields.Datetime.now()
        for batch in split_every(INSERT_BATCH, prepared, list):
            rows = self.env.execute_query(
                SQL(
                    """
                    INSERT INTO omni_bulk_charge_line (
                        run_id, company_id, partner_id, state, reason, amount_open,
                        currency_id, create_uid, create_date, write_uid, write_date
                    )
                    SELECT %(run)s, %(company)s, line.partner_id, line.state, line.reason,
                           line.amount_open, line.currency_id, %(uid)s, %(now)s, %(uid)s,
                           %(now)s
                      FROM unnest(
                               %(partners)s::int[], %(states)s::varchar[],
                               %(reasons)s::varchar[], %(amounts)s::numeric[],
                               %(currencies)s::int[]
                           ) WITH ORDINALITY
                           AS line(partner_id, state, reason, amount_open, currency_id, n)
                     ORDER BY line.n
                    RETURNING id, partner_id
                    """,
                    run=run.id,
                    company=run.company_id.id,
                    uid=self.env.uid,
                    now=now,
                    partners=[line["partner_id"] for line in batch],
                    states=["skipped" if line["skip"] else "to_do" for line in batch],
                    reasons=[line["reason"] or None for line in batch],
                    amounts=[line["amount"] for line in batch],
                    currencies=[line["currency_id"] for line in batch],
                )
            )
            line_ids = dict((partner_id, line_id) for line_id, partner_id in rows)
            pairs = [
                (line_ids[line["partner_id"]], invoice_id)
                for line in batch
                for invoice_id in line["invoice_ids"]
            ]
            if pairs:
                self.env.execute_query(
                    SQL(
                        """
                        INSERT INTO omni_bulk_charge_line_invoice_rel (line_id, invoice_id)
                        SELECT * FROM unnest(%s::int[], %s::int[])
                        """,
                        [line_id for line_id, _invoice in pairs],
                        [invoice_id for _line, invoice_id in pairs],
                    )
                )
        # the ORM's cache knows nothing of the rows inserted
        Line.invalidate_model()
        run.invalidate_recordset(["line_ids"])

    # === FULL LISTS === #

    def action_view_to_charge(self):
        """Every customer to charge (the form shows the first ones)."""
        return self._preview_action(self.env._("Customers to Charge"), [("skip", "=", False)])

    def action_view_skipped(self):
        """Every customer skipped, with the reason (the form shows the first ones)."""
        return self._preview_action(self.env._("Customers Skipped"), [("skip", "=", True)])

    def _preview_action(self, name, domain):
        self.ensure_one()
        self._check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "omni.bulk.charge.preview",
            "view_mode": "list",
            "views": [(False, "list")],
            "domain": domain,
            "context": {"omni_bulk_charge_wizard_id": self.id, "create": False},
        }
