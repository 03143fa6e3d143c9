# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reading is free of side effects: a Viewer reading every field of every model of the
addon through RPC (the models it defines and the core models it extends) creates no row
anywhere in the database (no link issued, no log line, no message)."""

from odoo.tests import HttpCase, tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.omni_payment_methods.tests.adversarial import AdversarialFixture

from .charge_common import ChargeCommon

# Tables whose rows come from the RPC session itself, not from what is read.
SESSION_TABLES = frozenset({"res_users_log", "bus_bus", "bus_presence", "mail_presence"})


#: the modules whose models and fields are read
OUR_MODULES = {
    "omni_pan_base",
    "omni_pan_guard",
    "omni_payment_methods",
    "omni_payment_charging",
    "omni_payment_charging_queue_job",
}


@tagged("post_install", "-at_install")
class TestReadingCreatesNothing(AdversarialFixture, ChargeCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.card = cls._authorized_token(cls.customer)

    def _row_counts(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        counts = {}
        for (table,) in self.env.cr.fetchall():
            self.env.cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(table)))
            counts[table] = self.env.cr.fetchone()[0]
        return counts

    def _addon_models(self):
        """The models our modules define or extend (ir.model's modules), not transient."""
        models = (
            self.env["ir.model"]
            .search([])
            .filtered(lambda m: OUR_MODULES & set((m.modules or "").split(", ")))
        )
        return sorted(
            m.model
            for m in models
            if m.model in self.env
            and not self.env[m.model]._transient
            and not self.env[m.model]._abstract
        )

    @mute_logger("odoo.addons.omni_payment_methods", "odoo.http")
    def test_viewer_reads_every_field_of_every_model_and_nothing_is_created(self):
        # Something to read in the addon's own models: a declined charge (attempt,
        # transaction, dunning case and its emails), a sent link, a reminder, audit lines.
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[self.card.stripe_payment_method] = ("decline", "insufficient_funds")
            self._run_charges()
        self.assertTrue(self._attempts(invoice).case_id, "the decline opened dunning")
        self.customer.with_context(omni_send_links=True)._omni_payment_methods_url()
        self.card.action_omni_notify()
        models = self._addon_models()
        self.assertIn("payment.token", models)
        self.assertIn("omni.dunning.case", models)
        before = self._row_counts()
        read = {}
        viewer_env = self.env(user=self.adv_users["viewer"])
        for model in models:
            if not viewer_env[model].has_access("read"):
                continue
            # Every field the viewer may see (fields_get leaves out those of other groups),
            # but relations to models the viewer may not read (Odoo refuses the whole read).
            described = self._execute_kw(
                "omni_adv_viewer", model, "fields_get", [], {"attributes": ["relation"]}
            )
            fields = [
                name
                for name, attrs in described.items()
                if not attrs.get("relation") or viewer_env[attrs["relation"]].has_access("read")
            ]
            if self.env[model]._original_module not in OUR_MODULES:
                # A core model our modules extend: their fields (the core's own are the
                # core's business, and some need rights a viewer need not have).
                fields = [
                    name
                    for name in fields
                    if getattr(self.env[model]._fields.get(name), "_module", None) in OUR_MODULES
                ]
            if not fields:
                continue  # e.g. res.groups: the addon adds methods, no field
            rows = self._execute_kw(
                "omni_adv_viewer", model, "search_read", [[]], {"fields": fields, "limit": 20}
            )
            read[model] = len(rows)
        after = self._row_counts()
        self.assertGreater(read.get("payment.token", 0), 0, read)
        self.assertGreater(read.get("omni.dunning.case", 0), 0, read)
        self.assertGreater(read.get("omni.charge.attempt", 0), 0, read)
        created = {
            table: after[table] - before.get(table, 0)
            for table in after
            if table not in SESSION_TABLES and after[table] != before.get(table, 0)
        }
        self.assertEqual(created, {}, f"rows created by reading {sorted(read)}")
