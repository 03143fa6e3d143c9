"""Steps of ``tools/omnictl.py uninstall-check`` and ``upgrade-check``, run through
``odoo-bin shell``.

``env`` is Odoo's environment. OMNI_CHECK_STEP says what to do, OMNI_CHECK_OUT where the
JSON result goes, OMNI_CHECK_ADDONS (comma separated) which addons are ours (those of the
tree that is installed: the working tree's, or an older one's for ``upgrade-check``):

- ``seed``: add what the demo data lacks (settings, a reminder run, an audit row of each
  event) so that every model of ours holds rows, then commit; it uses only what
  omni_payment_methods had before it was split (``upgrade-check`` seeds the old module);
- ``snapshot``: every stored field of every record of our addons' models and of the models
  they extend (payment.token, and our fields of res.partner), and our system parameters;
- ``leftovers``: once click-odoo-uninstall has uninstalled our addons, what they left in
  the database (and each module's state);
- ``states``: the state of each of our modules.
"""

import json
import os

ADDON = "omni_payment_methods"
ADDONS = [name for name in os.environ.get("OMNI_CHECK_ADDONS", ADDON).split(",") if name]
STEP = os.environ["OMNI_CHECK_STEP"]
OUT = os.environ["OMNI_CHECK_OUT"]


def addon_models(env):
    """Our own models, and the models we add stored fields to (with those fields)."""
    data = env["ir.model.data"].search([("module", "in", ADDONS), ("model", "=", "ir.model")])
    # Odoo gives every module that extends a model an xml id of it: keep the models ours
    # define (their every stored field); for the others only our fields.
    own = {
        model.model: None
        for model in env["ir.model"].browse(data.mapped("res_id"))
        if model.model in env and env[model.model]._original_module in ADDONS
    }
    field_data = env["ir.model.data"].search(
        [("module", "in", ADDONS), ("model", "=", "ir.model.fields")]
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
    # The settings our addons keep as system parameters.
    domain = ["|"] * (len(ADDONS) - 1) + [("key", "=like", f"{name}.%") for name in ADDONS]
    params = env["ir.config_parameter"].search(domain, order="id")
    result["ir.config_parameter"] = params.read(["key", "value"])
    return result


def seed(env):
    ICP = env["ir.config_parameter"]
    # The old module's settings, some of which later versions rename (their migrations'
    # RENAMED_PARAMS): the guard on (then its module is installed), and charging's.
    ICP.set_param("omni_payment_methods.pan_guard", "1")
    ICP.set_param("omni_payment_methods.charge_concurrency", "6")
    ICP.set_param("omni_payment_methods.reminder_offsets", "45, 15, 0")
    env["omni.payment.reminder"]._cron_send_expiry_reminders()
    # The old module's names, or the prefixed ones of 1.2.0 (uninstall-check seeds today's).
    prefix = "omni_" if "omni_method_kind" in env["payment.token"]._fields else ""
    tokens = env["payment.token"].search([(f"{prefix}method_kind", "!=", False)], limit=2)
    for event in ("charged", "failed"):
        tokens[:1]._omni_log(f"{event} (upgrade check)", event=event, channel="system")
    if len(tokens) == 2:
        tokens[1][f"{prefix}nickname"] = "Upgrade check"
    env.cr.commit()  # a harness step: the next odoo-bin run reads these rows
    return {"tokens": len(tokens)}


def states(env):
    modules = env["ir.module.module"].search([("name", "in", ADDONS)])
    found = {module.name: module.state for module in modules}
    return {name: found.get(name, "absent") for name in ADDONS}


def leftovers(env):
    cr = env.cr
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'payment_token'"
    )
    columns = {row[0] for row in cr.fetchall()}
    cr.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%omni%"])
    indexes = [row[0] for row in cr.fetchall()]
    cr.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", ["omni\\_%"])
    tables = [row[0] for row in cr.fetchall()]
    params = []
    for name in ADDONS:
        cr.execute("SELECT key FROM ir_config_parameter WHERE key LIKE %s", [f"{name}.%"])
        params += [row[0] for row in cr.fetchall()]
    cr.execute(
        "SELECT module, count(*) FROM ir_model_data WHERE module IN %s GROUP BY module",
        [tuple(ADDONS)],
    )
    xmlids = dict(cr.fetchall())
    return {
        "states": states(env),
        "token_columns_left": sorted(
            c for c in columns if c in ("omni_is_default", "omni_nickname", "commercial_partner_id")
        ),
        "indexes_left": indexes,
        "tables_left": tables,
        "params_left": params,
        "xmlids_left": xmlids,
    }


def main(env):
    with open(OUT, "w") as out:
        steps = {"seed": seed, "snapshot": snapshot, "leftovers": leftovers, "states": states}
        json.dump(steps[STEP](env), out)


main(globals()["env"])
