"""Steps of ``tools/omnictl.py uninstall-check``, run through ``odoo-bin shell``.

``env`` is Odoo's environment. OMNI_CHECK_STEP says what to do, OMNI_CHECK_OUT where the
JSON result goes:

- ``seed``: add what the demo data lacks (settings, a reminder run, an audit row of each
  event) so that every model of the addon holds rows, then commit;
- ``snapshot``: every stored field of every record of the addon's models and of the models
  it extends (payment.token, and the addon's fields of res.partner);
- ``leftovers``: once click-odoo-uninstall has uninstalled the addon, what it left in the
  database (and the module's state).
"""

import json
import os

ADDON = "omni_payment_methods"
STEP = os.environ["OMNI_CHECK_STEP"]
OUT = os.environ["OMNI_CHECK_OUT"]


def addon_models(env):
    """The addon's own models, and the models it adds stored fields to (with those fields)."""
    data = env["ir.model.data"].search([("module", "=", ADDON), ("model", "=", "ir.model")])
    # Odoo gives every module that extends a model an xml id of it: keep the models the
    # addon defines (their every stored field); for the others only the addon's fields.
    own = {
        model.model: None
        for model in env["ir.model"].browse(data.mapped("res_id"))
        if model.model in env and env[model.model]._original_module == ADDON
    }
    field_data = env["ir.model.data"].search(
        [("module", "=", ADDON), ("model", "=", "ir.model.fields")]
    )
    extended = {}
    for field in env["ir.model.fields"].browse(field_data.mapped("res_id")):
        if field.store and field.model not in own:
            extended.setdefault(field.model, set()).add(field.name)
    # payment.token: every stored field (the addon makes it its main model).
    extended["payment.token"] = None
    return {**own, **{model: sorted(names) if names else None for model, names in extended.items()}}


def snapshot(env):
    result = {}
    for model_name, field_names in sorted(addon_models(env).items()):
        if model_name not in env or env[model_name]._abstract or env[model_name]._transient:
            continue
        model = env[model_name].with_context(active_test=False)
        names = field_names or [
            name
            for name, field in model._fields.items()
            if field.store and field.type not in ("one2many", "many2many", "binary")
        ]
        rows = model.search([], order="id").read(names)
        result[model_name] = json.loads(json.dumps(rows, default=str))
    # The settings the addon keeps as system parameters.
    params = env["ir.config_parameter"].search([("key", "=like", f"{ADDON}.%")], order="id")
    result["ir.config_parameter"] = params.read(["key", "value"])
    return result


def seed(env):
    ICP = env["ir.config_parameter"]
    ICP.set_param("omni_payment_methods.pan_guard", "0")
    ICP.set_param("omni_payment_methods.reminder_offsets", "45, 15, 0")
    env["omni.payment.reminder"]._cron_send_expiry_reminders()
    tokens = env["payment.token"].search([("method_kind", "!=", False)], limit=2)
    for event in ("charged", "failed"):
        tokens[:1]._omni_log(f"{event} (upgrade check)", event=event, channel="system")
    if len(tokens) == 2:
        tokens[1].nickname = "Upgrade check"
    env.cr.commit()  # a harness step: the next odoo-bin run reads these rows
    return {"tokens": len(tokens)}


def leftovers(env):
    module = env["ir.module.module"].search([("name", "=", ADDON)])
    cr = env.cr
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'payment_token'"
    )
    columns = {row[0] for row in cr.fetchall()}
    cr.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%omni%"])
    indexes = [row[0] for row in cr.fetchall()]
    cr.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", ["omni\\_%"])
    tables = [row[0] for row in cr.fetchall()]
    cr.execute("SELECT key FROM ir_config_parameter WHERE key LIKE %s", [f"{ADDON}.%"])
    params = [row[0] for row in cr.fetchall()]
    cr.execute("SELECT count(*) FROM ir_model_data WHERE module = %s", [ADDON])
    xmlids = cr.fetchone()[0]
    return {
        "state": module.state,
        "token_columns_left": sorted(
            c for c in columns if c in ("is_default", "nickname", "commercial_partner_id")
        ),
        "indexes_left": indexes,
        "tables_left": tables,
        "params_left": params,
        "xmlids_left": xmlids,
    }


def main(env):
    with open(OUT, "w") as out:
        json.dump({"seed": seed, "snapshot": snapshot, "leftovers": leftovers}[STEP](env), out)


main(globals()["env"])
