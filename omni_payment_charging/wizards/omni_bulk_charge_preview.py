# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

#: Context key naming the bulk charge wizard whose preview is listed.
WIZARD_KEY = "omni_bulk_charge_wizard_id"


class OmniBulkChargePreview(models.Model):
    """Every customer of a bulk charge wizard's preview, to charge or skipped and why: the
    full lists the wizard opens (its form shows the first lines only).

    Read in SQL from the wizard's ``preview_data`` (no record per customer is created):
    the wizard is named by the context key ``omni_bulk_charge_wizard_id``, and only the
    user who opened it sees its customers. The id of a row is its customer's.
    """

    _name = "omni.bulk.charge.preview"
    _description = "Customer in the bulk charge preview (full list)"
    _auto = False
    _order = "skip desc, partner_id"
    _rec_name = "partner_id"
    _depends = {"omni.bulk.charge.wizard": ["preview_data", "create_uid"]}

    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    amount = fields.Monetary(string="Open Amount", currency_field="currency_id", readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    skip = fields.Boolean(string="Skipped", readonly=True)
    reason = fields.Char(string="Why Skipped", readonly=True)

    @property
    def _table_query(self):
        # preview_data: {"reasons": [text, ...], "lines": [[customer, invoices, amount,
        # currency, reason index or null], ...]} (omni.bulk.charge.wizard)
        # The wizard's JSON is read once (a materialized CTE): read row by row, a large
        # value would be decompressed again for each customer.
        return SQL(
            """
            WITH preview AS MATERIALIZED (
                SELECT w.preview_data->'lines' AS lines, w.preview_data->'reasons' AS reasons
                  FROM omni_bulk_charge_wizard w
                 WHERE w.id = %(wizard)s AND w.create_uid = %(uid)s
            ), reason AS MATERIALIZED (
                SELECT r.text, r.n - 1 AS index
                  FROM preview
                 CROSS JOIN LATERAL jsonb_array_elements_text(preview.reasons)
                       WITH ORDINALITY AS r(text, n)
            )
            SELECT (line->>0)::int AS id,
                   (line->>0)::int AS partner_id,
                   (line->>1)::int AS invoice_count,
                   (line->>2)::numeric AS amount,
                   (line->>3)::int AS currency_id,
                   (line->>4) IS NOT NULL AS skip,
                   reason.text AS reason
              FROM preview
             CROSS JOIN LATERAL jsonb_array_elements(preview.lines) AS line
              LEFT JOIN reason ON reason.index = (line->>4)::int
            """,
            wizard=int(self.env.context.get(WIZARD_KEY) or 0),
            uid=self.env.uid,
        )
