# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.2.0: the fields the module adds to ``payment.token`` take its ``omni_`` prefix.

``nickname``, ``is_default``, ``card_brand``, ``expiry_date``... are names Odoo or another
module could give a field of their own on ``payment.token`` (payment_stripe already adds
``stripe_*`` fields there). Each column is renamed in place, with what refers to the field
by name: its ``ir.model.fields`` row and xml id, its selection values' xml ids, saved
filters and export lists (openupgradelib's ``rename_fields``), the indexes Odoo named after
the column, and the email templates on payment methods (``noupdate``: the update would not
rewrite them), whose placeholders read the fields.

``commercial_partner_id`` keeps its name: it is Odoo's own name for the same related field
on account.move, sale.order, res.partner..., which a future core field would define alike.
"""

import logging

from openupgradelib import openupgrade

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

MODULE = "omni_payment_methods"

#: {model: {old name: new name}} (read by ``tools/harness/upgrade.py`` to compare the data)
RENAMED_FIELDS = {
    "payment.token": {
        "nickname": "omni_nickname",
        "is_default": "omni_is_default",
        "method_kind": "omni_method_kind",
        "stripe_pm_type": "omni_stripe_pm_type",
        "card_brand": "omni_card_brand",
        "card_exp_month": "omni_card_exp_month",
        "card_exp_year": "omni_card_exp_year",
        "expiry_date": "omni_expiry_date",
        "expiry_display": "omni_expiry_display",
        "expiry_state": "omni_expiry_state",
        "holder_name": "omni_holder_name",
        "card_funding": "omni_card_funding",
        "card_country_id": "omni_card_country_id",
        "fingerprint": "omni_fingerprint",
        "card_wallet": "omni_card_wallet",
        "bank_name": "omni_bank_name",
        "issuer_display": "omni_issuer_display",
        "expiry_days_left": "omni_expiry_days_left",
        "expiry_days_label": "omni_expiry_days_label",
        "added_on": "omni_added_on",
        "added_by_id": "omni_added_by_id",
        "added_channel": "omni_added_channel",
        "stripe_sync_state": "omni_stripe_sync_state",
        "stripe_synced_on": "omni_stripe_synced_on",
        "stripe_state_at": "omni_stripe_state_at",
    },
}


def _table(model):
    # the tables of core models, named after them (the registry holds the old code here)
    return model.replace(".", "_")


def rename_fields(env):
    for model, names in RENAMED_FIELDS.items():
        table = part = _table(model)
        openupgrade.rename_fields(
            env, [(model, table, old, new) for old, new in names.items() if old != new]
        )
        for old, new in names.items():
            # The field's xml id and its selection values': the update finds the row by
            # its name, and would delete what an old xml id no longer loaded points to.
            openupgrade.rename_xmlids(
                env.cr, [(f"{MODULE}.field_{part}__{old}", f"{MODULE}.field_{part}__{new}")]
            )
            env.cr.execute(
                SQL(
                    "SELECT name FROM ir_model_data WHERE module = %s AND name LIKE %s",
                    MODULE,
                    f"selection\\_\\_{part}\\_\\_{old}\\_\\_%",
                )
            )
            prefix = f"selection__{part}__{old}__"
            openupgrade.rename_xmlids(
                env.cr,
                [
                    (
                        f"{MODULE}.{name}",
                        f"{MODULE}.selection__{part}__{new}__{name[len(prefix) :]}",
                    )
                    for (name,) in env.cr.fetchall()
                ],
            )
            # Odoo names the index of an indexed field after its column.
            env.cr.execute(
                SQL(
                    "ALTER INDEX IF EXISTS %s RENAME TO %s",
                    SQL.identifier(f"{table}__{old}_index"),
                    SQL.identifier(f"{table}__{new}_index"),
                )
            )


def rename_in_templates(env):
    """The placeholders of the email templates on payment methods (``object.<field>``),
    in every language of their subject and body."""
    names = RENAMED_FIELDS["payment.token"]
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    pattern = rf"(object\.)({alternatives})\M"
    for column in ("subject", "body_html"):
        env.cr.execute(
            SQL(
                "UPDATE mail_template SET %(column)s = "
                "regexp_replace(%(column)s::text, %(pattern)s, %(replace)s, 'g')::jsonb "
                "WHERE model = 'payment.token' AND %(column)s::text ~ %(pattern)s",
                column=SQL.identifier(column),
                pattern=pattern,
                replace=r"\1omni_\2",
            )
        )
        _logger.info("%s: %s email templates' %s renamed", MODULE, env.cr.rowcount, column)


def neutralize_stale_extensions(env):
    """Our views that extend another view and still name an old field are emptied
    (``<data/>``) until this update reloads them from their files: a view is validated
    with every view extending it, and one of ours loaded before another would otherwise
    fail on the other's old arch."""
    names = [name for renames in RENAMED_FIELDS.values() for name in renames]
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    env.cr.execute(
        SQL(
            "UPDATE ir_ui_view v SET arch_db = jsonb_build_object('en_US', '<data/>') "
            "FROM ir_model_data d "
            "WHERE d.model = 'ir.ui.view' AND d.res_id = v.id AND d.module LIKE %s "
            "AND v.inherit_id IS NOT NULL AND v.arch_db::text ~ %s",
            "omni\\_%",
            rf"\m({alternatives})\M",
        )
    )
    _logger.info("%s: %s extending views emptied until reloaded", MODULE, env.cr.rowcount)


@openupgrade.migrate()
def migrate(env, version):
    rename_fields(env)
    rename_in_templates(env)
    neutralize_stale_extensions(env)
