# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.1.0: the single module is split by feature.

What moved keeps its rows: only the module its xml ids belong to changes, and the modules
now holding those features are loaded in the same upgrade, so that no table, column,
record or setting is lost:

- automatic charging, dunning, Make a payment, installments and bulk charges:
  ``omni_payment_charging``, loaded as an upgrade (its ``noupdate`` records, such as the
  email templates, the scheduled actions and the dunning policy, keep what staff changed);
- the card number masking mixin: ``omni_pan_base`` (a new dependency: Odoo installs it);
- the card number guard of chatter, activities and customers: ``omni_pan_guard``, installed
  unless its setting was off (then its parameter goes: the module not being installed is
  the setting now, and installing it later turns the guard on);
- the job queue glue: ``omni_payment_charging_queue_job`` when queue_job is installed.

The settings of the moved features are renamed to their module's prefix.
"""

import csv
import logging

from lxml import etree

from odoo.modules.module import get_manifest
from odoo.tools import SQL, file_open

_logger = logging.getLogger(__name__)

MODULE = "omni_payment_methods"
CHARGING = "omni_payment_charging"
PAN_BASE = "omni_pan_base"
PAN_GUARD = "omni_pan_guard"
QUEUE_GLUE = "omni_payment_charging_queue_job"

#: the models each module now defines
MOVED_MODELS = {
    CHARGING: (
        "omni.bulk.charge",
        "omni.bulk.charge.line",
        "omni.bulk.charge.preview",
        "omni.bulk.charge.wizard",
        "omni.bulk.charge.wizard.line",
        "omni.charge.attempt",
        "omni.dunning.case",
        "omni.dunning.level",
        "omni.dunning.policy",
        "omni.installment",
        "omni.installment.plan",
        "omni.make.payment.installment.line",
        "omni.make.payment.wizard",
        "omni.stripe.pacing",
    ),
    PAN_BASE: ("omni.pan.guard", "omni.pan.guarded"),
}
#: the fields each module now adds to the models of other modules
MOVED_FIELDS = {
    CHARGING: {
        "account.move": ("omni_installment_count", "omni_installment_plan_ids"),
        "omni.payment.link": ("attempt_id",),
        "payment.transaction": ("omni_charge_attempt_id",),
        "res.config.settings": (
            "omni_charge_concurrency",
            "omni_charge_lanes",
            "omni_stripe_requests_per_second",
        ),
        "res.partner": (
            "omni_dunning_case_ids",
            "omni_dunning_policy_id",
            "omni_dunning_state",
            "omni_installment_count",
            "omni_installment_next_date",
            "omni_payment_mode",
        ),
    },
}
#: the values a module now adds to a selection of another module's field
MOVED_SELECTIONS = {CHARGING: {("omni.payment.link", "purpose"): ("authentication",)}}
#: xml ids the moved modules create at run time (not in their data files)
MOVED_PATTERNS = {CHARGING: ("ir_cron_charge_due_invoices_lane_%",)}
#: system parameters renamed with their module's prefix
RENAMED_PARAMS = {
    "omni_payment_methods.charge_lanes": "omni_payment_charging.charge_lanes",
    "omni_payment_methods.charge_concurrency": "omni_payment_charging.charge_concurrency",
    "omni_payment_methods.stripe_requests_per_second": (
        "omni_payment_charging.stripe_requests_per_second"
    ),
    "omni_payment_methods.default_payment_mode": "omni_payment_charging.default_payment_mode",
    "omni_payment_methods.pan_guard": "omni_pan_guard.enabled",
}
GUARD_PARAM = "omni_payment_methods.pan_guard"


def data_xmlids(module):
    """The names of the xml ids ``module``'s data files define (records, templates, menus,
    access rules)."""
    names = set()
    for filename in get_manifest(module).get("data", []):
        with file_open(f"{module}/{filename}", "rb") as handle:
            if filename.endswith(".csv"):
                rows = list(csv.reader(handle.read().decode().splitlines()))
                names.update(row[0] for row in rows[1:] if row)
            elif filename.endswith(".xml"):
                tree = etree.parse(handle)
                names.update(
                    element.get("id")
                    for element in tree.iter("record", "template", "menuitem")
                    if element.get("id") and "." not in element.get("id")
                )
    return names


def schema_xmlids(cr, module):
    """The ids of the ``ir_model_data`` rows of this module about the models, fields,
    selection values, constraints and relations that ``module`` now defines."""
    models = MOVED_MODELS.get(module, ())
    fields = MOVED_FIELDS.get(module, {})
    field_clauses = [
        SQL("(f.model = %s AND f.name IN %s)", model, tuple(names))
        for model, names in fields.items()
    ]
    if models:
        field_clauses.append(SQL("f.model IN %s", tuple(models)))
    queries = []
    if models:
        queries.append(
            SQL(
                "SELECT d.id FROM ir_model_data d JOIN ir_model m ON m.id = d.res_id "
                "WHERE d.model = 'ir.model' AND m.model IN %s",
                tuple(models),
            )
        )
        queries.append(
            SQL(
                "SELECT d.id FROM ir_model_data d "
                "JOIN ir_model_fields_selection s ON s.id = d.res_id "
                "JOIN ir_model_fields f ON f.id = s.field_id "
                "WHERE d.model = 'ir.model.fields.selection' AND f.model IN %s",
                tuple(models),
            )
        )
        for kind in ("constraint", "relation"):
            queries.append(
                SQL(
                    "SELECT d.id FROM ir_model_data d JOIN ir_model_%s c ON c.id = d.res_id "
                    "JOIN ir_model m ON m.id = c.model WHERE d.model = %s AND m.model IN %s",
                    SQL(kind),
                    f"ir.model.{kind}",
                    tuple(models),
                )
            )
    if field_clauses:
        fields_where = SQL(" OR ").join(field_clauses)
        queries.append(
            SQL(
                "SELECT d.id FROM ir_model_data d JOIN ir_model_fields f ON f.id = d.res_id "
                "WHERE d.model = 'ir.model.fields' AND (%s)",
                fields_where,
            )
        )
    for (model, field), values in MOVED_SELECTIONS.get(module, {}).items():
        queries.append(
            SQL(
                "SELECT d.id FROM ir_model_data d "
                "JOIN ir_model_fields_selection s ON s.id = d.res_id "
                "JOIN ir_model_fields f ON f.id = s.field_id "
                "WHERE d.model = 'ir.model.fields.selection' AND f.model = %s "
                "AND f.name = %s AND s.value IN %s",
                model,
                field,
                tuple(values),
            )
        )
    ids = set()
    for query in queries:
        cr.execute(SQL("%s AND d.module = %s", query, MODULE))
        ids.update(row[0] for row in cr.fetchall())
    return ids


def move_xmlids(cr, module):
    """Give ``module`` the xml ids of what it now defines; return how many moved."""
    ids = schema_xmlids(cr, module)
    names = data_xmlids(module)
    if names:
        cr.execute(
            SQL(
                "SELECT id FROM ir_model_data WHERE module = %s AND name IN %s",
                MODULE,
                tuple(names),
            )
        )
        ids.update(row[0] for row in cr.fetchall())
    for pattern in MOVED_PATTERNS.get(module, ()):
        cr.execute(
            SQL("SELECT id FROM ir_model_data WHERE module = %s AND name LIKE %s", MODULE, pattern)
        )
        ids.update(row[0] for row in cr.fetchall())
    if not ids:
        return 0
    # An xml id the new module already has (omni_pan_base, installed just before as a new
    # dependency, reflected its models) is kept there: the old one goes.
    cr.execute(
        SQL(
            "DELETE FROM ir_model_data old USING ir_model_data new WHERE old.id IN %s "
            "AND new.module = %s AND new.name = old.name",
            tuple(ids),
            module,
        )
    )
    cr.execute(SQL("UPDATE ir_model_data SET module = %s WHERE id IN %s", module, tuple(ids)))
    return cr.rowcount


def module_state(cr, name):
    cr.execute(SQL("SELECT state FROM ir_module_module WHERE name = %s", name))
    row = cr.fetchone()
    return row[0] if row else None


def load_with_this_upgrade(cr, name, state):
    """Have Odoo load module ``name`` later in this run: ``to upgrade`` for the records it
    takes over (loaded in update mode: ``noupdate`` records keep their values), ``to
    install`` for a module whose records are all new."""
    cr.execute(
        SQL(
            "UPDATE ir_module_module SET state = %s, demo = "
            "(SELECT demo FROM ir_module_module WHERE name = %s) "
            "WHERE name = %s AND state = 'uninstalled'",
            state,
            MODULE,
            name,
        )
    )
    if cr.rowcount:
        _logger.info("1.1.0 split: %s marked %s", name, state)
    elif module_state(cr, name) is None:
        _logger.warning("1.1.0 split: module %s is not on the addons path", name)


def rename_params(cr):
    for old, new in RENAMED_PARAMS.items():
        cr.execute(
            SQL(
                "UPDATE ir_config_parameter SET key = %s WHERE key = %s AND NOT EXISTS "
                "(SELECT 1 FROM ir_config_parameter WHERE key = %s)",
                new,
                old,
                new,
            )
        )


def migrate(cr, version):
    cr.execute(
        SQL(
            "SELECT value FROM ir_config_parameter WHERE key = %s", "omni_payment_methods.pan_guard"
        )
    )
    row = cr.fetchone()
    guard_on = not row or row[0] not in ("0", "False", "false")
    for module in (PAN_BASE, CHARGING):
        _logger.info("1.1.0 split: %s xml ids moved to %s", move_xmlids(cr, module), module)
    rename_params(cr)
    load_with_this_upgrade(cr, CHARGING, "to upgrade")
    if guard_on:
        load_with_this_upgrade(cr, PAN_GUARD, "to install")
    if module_state(cr, "queue_job") == "installed":
        load_with_this_upgrade(cr, QUEUE_GLUE, "to install")
