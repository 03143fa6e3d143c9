# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import datetime
import json
import unittest
import xmlrpc.client
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.omni_payment_methods.compat import ODOO_MAJOR
from odoo.addons.omni_payment_methods.tests.common import CARD_YEAR
from odoo.addons.omni_payment_methods.tests.test_security import MANAGER, VIEWER

from .charge_common import ChargeCommon, FakeClient, FakeCustomers, FakePaymentIntents

# Fault codes of Odoo's /xmlrpc/2 endpoint (odoo/addons/base/controllers/rpc.py).
FAULT_USER_ERROR = 2
FAULT_ACCESS_ERROR = 4
JSON2_ONLY = "the JSON-2 API is Odoo 19.0's (18.0: XML-RPC and JSON-RPC only)"

API_KEYS = {
    "id",
    "customer_id",
    "kind",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "is_default",
    "authorized",
    "nickname",
}


class FakePaymentMethods:
    """``client.v1.payment_methods``: records the detachments Odoo asks for."""

    def __init__(self):
        self.detached = []

    def detach(self, payment_method_id, params=None, options=None):
        self.detached.append(payment_method_id)
        return {"id": payment_method_id, "object": "payment_method", "customer": None}


@tagged("post_install", "-at_install")
class TestExternalApi(ChargeCommon, HttpCase):
    """The documented integration methods, called over real XML-RPC and JSON-RPC by an
    integration user of each kind: manager, viewer, internal user outside the groups, portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.card = cls._authorized_token(cls.customer, last4="4242", month=8, year=CARD_YEAR + 1)
        cls.card_2 = cls._omni_token(
            cls.customer, last4="4444", brand="mastercard", omni_nickname="Backup card"
        )
        cls.bank = cls._omni_token(
            cls.customer,
            last4="3000",
            brand=False,
            month=0,
            year=0,
            omni_method_kind="bank",
            omni_stripe_pm_type="sepa_debit",
            omni_bank_name="Commerzbank",
            payment_method_id=cls.env.ref("payment.payment_method_sepa_direct_debit").id,
        )
        cls.other_card = cls._omni_token(cls.other_customer, last4="0005", brand="amex")
        company = cls.env.company
        common = {"company_id": company.id, "company_ids": [company.id]}
        cls.manager = new_test_user(
            cls.env,
            "omni_api_manager",
            groups=f"{MANAGER},base.group_partner_manager",
            email="integration@omni.example",
            **common,
        )
        cls.viewer = new_test_user(cls.env, "omni_api_viewer", groups=VIEWER, **common)
        cls.internal = new_test_user(
            cls.env, "omni_api_internal", groups="base.group_user", **common
        )
        cls.portal = new_test_user(
            cls.env,
            "omni_api_portal",
            groups="base.group_portal",
            partner_id=cls.env["res.partner"]
            .create({"name": "Portal Contact", "parent_id": cls.customer.id})
            .id,
            **common,
        )

    def setUp(self):
        super().setUp()
        self.intents = FakePaymentIntents()
        self.customers_api = FakeCustomers()
        self.payment_methods_api = FakePaymentMethods()
        client = FakeClient(self.intents, self.customers_api)
        client.v1.payment_methods = self.payment_methods_api
        patcher = patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: client
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    # --- helpers --------------------------------------------------------------------

    def _rpc(self, user, model, method, *args, **kwargs):
        """``execute_kw`` over XML-RPC, as ``user`` (password = login in tests)."""
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs
        )

    @contextlib.contextmanager
    def _fault(self, code, message):
        with mute_logger("odoo.http"), self.assertRaises(xmlrpc.client.Fault) as caught:
            yield
        self.assertEqual(caught.exception.faultCode, code, caught.exception.faultString)
        self.assertIn(message, caught.exception.faultString)

    def _jsonrpc(self, user, model, method, args, kwargs=None):
        """The same through /jsonrpc (service "object", method "execute_kw")."""
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.env.cr.dbname,
                    user.id,
                    user.login,
                    model,
                    method,
                    args,
                    kwargs or {},
                ],
            },
        }
        response = self.url_open(
            "/jsonrpc", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def _customer_notes(self):
        return self.customer.message_ids.mapped("body")

    # --- list -----------------------------------------------------------------------

    def test_manager_lists_methods_with_only_the_documented_fields(self):
        methods = self._rpc(
            self.manager, "res.partner", "omni_api_list_payment_methods", [self.customer.id]
        )
        self.assertEqual(len(methods), 3)
        for method in methods:
            self.assertEqual(set(method), API_KEYS, "never more than the documented fields")
            self.assertEqual(method["customer_id"], self.customer.id)
        self.assertEqual(methods[0]["id"], self.card.id, "default first")
        by_id = {m["id"]: m for m in methods}
        self.assertEqual(
            by_id[self.card.id],
            {
                "id": self.card.id,
                "customer_id": self.customer.id,
                "kind": "card",
                "brand": "Visa",
                "last4": "4242",
                "exp_month": 8,
                "exp_year": CARD_YEAR + 1,
                "is_default": True,
                "authorized": True,
                "nickname": "",
            },
        )
        self.assertEqual(by_id[self.card_2.id]["nickname"], "Backup card")
        self.assertFalse(by_id[self.card_2.id]["authorized"])
        bank = by_id[self.bank.id]
        self.assertEqual(
            (bank["kind"], bank["brand"], bank["last4"], bank["exp_month"]),
            ("bank", "Commerzbank", "3000", False),
        )
        serialized = json.dumps(methods)
        for secret in ("pm_omni_", "cus_omni_", self.card.provider_ref):
            self.assertNotIn(secret, serialized, "no Stripe ids leave Odoo")

    def test_list_through_a_contact_gives_the_commercial_entity_methods(self):
        methods = self._rpc(
            self.viewer, "res.partner", "omni_api_list_payment_methods", [self.customer_contact.id]
        )
        self.assertEqual({m["id"] for m in methods}, {self.card.id, self.card_2.id, self.bank.id})

    def test_list_over_jsonrpc(self):
        answer = self._jsonrpc(
            self.viewer,
            "res.partner",
            "omni_api_list_payment_methods",
            [[self.customer.id, self.other_customer.id]],
        )
        self.assertNotIn("error", answer)
        self.assertEqual(
            {m["id"] for m in answer["result"]},
            {self.card.id, self.card_2.id, self.bank.id, self.other_card.id},
        )

    def test_user_outside_the_groups_cannot_list_another_customer(self):
        with self._fault(FAULT_ACCESS_ERROR, "Saved Payment Methods / Viewer"):
            self._rpc(
                self.internal, "res.partner", "omni_api_list_payment_methods", [self.customer.id]
            )
        with mute_logger("odoo.http"):
            answer = self._jsonrpc(
                self.internal, "res.partner", "omni_api_list_payment_methods", [[self.customer.id]]
            )
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")

    def test_portal_user_lists_own_methods_only(self):
        methods = self._rpc(
            self.portal,
            "res.partner",
            "omni_api_list_payment_methods",
            [self.portal.partner_id.id],
        )
        self.assertEqual({m["id"] for m in methods}, {self.card.id, self.card_2.id, self.bank.id})
        with self._fault(FAULT_ACCESS_ERROR, ""):
            self._rpc(
                self.portal,
                "res.partner",
                "omni_api_list_payment_methods",
                [self.other_customer.id],
            )

    def test_list_unknown_ids_is_a_clear_error(self):
        with self._fault(FAULT_USER_ERROR, "Unknown customer id(s): 999999999."):
            self._rpc(
                self.manager,
                "res.partner",
                "omni_api_list_payment_methods",
                [self.customer.id, 999999999],
            )
        with self._fault(FAULT_USER_ERROR, "Give at least one customer id."):
            self._rpc(self.manager, "res.partner", "omni_api_list_payment_methods", [])

    # --- set default ----------------------------------------------------------------

    def test_manager_sets_the_default_in_odoo_and_stripe(self):
        result = self._rpc(self.manager, "payment.token", "omni_api_set_default", [self.card_2.id])
        self.assertEqual(result["id"], self.card_2.id)
        self.assertTrue(result["is_default"])
        self.env.invalidate_all()
        self.assertTrue(self.card_2.omni_is_default)
        self.assertFalse(self.card.omni_is_default)
        self.assertEqual(
            self.customers_api.updates,
            [
                (
                    self.card_2.provider_ref,
                    {
                        "invoice_settings": {
                            "default_payment_method": self.card_2.stripe_payment_method
                        }
                    },
                )
            ],
        )
        self.assertTrue(
            any("ending in 4444 set as the default" in body for body in self._customer_notes())
        )

    def test_set_default_refused_outside_the_manager_group_changes_nothing(self):
        for user in (self.viewer, self.internal, self.portal):
            with self.subTest(user=user.login), self._fault(FAULT_ACCESS_ERROR, "Manager"):
                self._rpc(user, "payment.token", "omni_api_set_default", [self.card_2.id])
        self.env.invalidate_all()
        self.assertTrue(self.card.omni_is_default)
        self.assertFalse(self.card_2.omni_is_default)
        self.assertEqual(self.customers_api.updates, [])

    def test_set_default_bad_ids(self):
        with self._fault(FAULT_USER_ERROR, "Unknown payment method id: 999999999."):
            self._rpc(self.manager, "payment.token", "omni_api_set_default", [999999999])
        with self._fault(FAULT_USER_ERROR, "Give exactly one payment method id (got 2)."):
            self._rpc(
                self.manager,
                "payment.token",
                "omni_api_set_default",
                [self.card.id, self.card_2.id],
            )
        self.card_2.with_context(omni_stripe_sync=True).write({"active": False})
        with self._fault(FAULT_USER_ERROR, "already deleted"):
            self._rpc(self.manager, "payment.token", "omni_api_set_default", [self.card_2.id])
        self.env.invalidate_all()
        self.assertTrue(self.card.omni_is_default)

    # --- delete ---------------------------------------------------------------------

    def test_manager_deletes_a_method_detached_in_stripe(self):
        result = self._rpc(self.manager, "payment.token", "omni_api_delete", [self.card_2.id])
        self.assertEqual(
            result, {"id": self.card_2.id, "deleted": True, "was_last": False, "warning": ""}
        )
        self.env.invalidate_all()
        self.assertFalse(self.card_2.active)
        self.assertEqual(self.payment_methods_api.detached, [self.card_2.stripe_payment_method])
        self.assertTrue(any("ending in 4444 deleted" in b for b in self._customer_notes()))

    def test_default_cannot_be_deleted_while_others_exist(self):
        with self._fault(FAULT_USER_ERROR, "Set another method as default"):
            self._rpc(self.manager, "payment.token", "omni_api_delete", [self.card.id])
        self.env.invalidate_all()
        self.assertTrue(self.card.active)
        self.assertEqual(self.payment_methods_api.detached, [])

    def test_last_method_is_deleted_with_the_billing_warning(self):
        result = self._rpc(self.manager, "payment.token", "omni_api_delete", [self.other_card.id])
        self.assertTrue(result["was_last"])
        self.assertIn("automatic billing stops", result["warning"])
        self.env.invalidate_all()
        self.assertFalse(self.other_card.active)

    def test_delete_refused_outside_the_manager_group_changes_nothing(self):
        for user in (self.viewer, self.internal, self.portal):
            with self.subTest(user=user.login), self._fault(FAULT_ACCESS_ERROR, "Manager"):
                self._rpc(user, "payment.token", "omni_api_delete", [self.card_2.id])
        self.env.invalidate_all()
        self.assertTrue(self.card_2.active)
        self.assertEqual(self.payment_methods_api.detached, [])

    # --- link, payment mode ---------------------------------------------------------

    def test_manager_sends_the_add_link(self):
        result = self._rpc(
            self.manager, "res.partner", "omni_api_send_add_link", [self.customer.id]
        )
        self.assertEqual(result, {"customer_id": self.customer.id, "email": "billing@omni.example"})
        self.assertEqual(
            self.env["omni.payment.link"].search_count([("partner_id", "=", self.customer.id)]), 1
        )
        sent = self._customer_emails()
        self.assertEqual(len(sent), 1)
        self.assertIn("/omni/payment_methods/", sent.body)

    def test_send_link_refusals(self):
        with self._fault(FAULT_ACCESS_ERROR, "Manager"):
            self._rpc(self.viewer, "res.partner", "omni_api_send_add_link", [self.customer.id])
        with self._fault(FAULT_USER_ERROR, "has no email address"):
            self._rpc(
                self.manager, "res.partner", "omni_api_send_add_link", [self.other_customer.id]
            )
        with self._fault(FAULT_USER_ERROR, "Give exactly one customer id (got 2)."):
            self._rpc(
                self.manager,
                "res.partner",
                "omni_api_send_add_link",
                [self.customer.id, self.other_customer.id],
            )
        self.assertFalse(self._customer_emails())
        self.assertFalse(self.env["omni.payment.link"].search_count([]))

    def test_manager_switches_the_payment_mode(self):
        result = self._rpc(
            self.manager,
            "res.partner",
            "omni_api_set_payment_mode",
            [self.customer_contact.id],
            "manual",
        )
        self.assertEqual(result, [{"customer_id": self.customer.id, "payment_mode": "manual"}])
        self.env.invalidate_all()
        self.assertEqual(self.customer.omni_payment_mode, "manual")
        self.assertTrue(any("Payment mode: manual" in b for b in self._customer_notes()))
        answer = self._jsonrpc(
            self.manager,
            "res.partner",
            "omni_api_set_payment_mode",
            [[self.customer.id]],
            {"mode": "automatic"},
        )
        self.assertEqual(answer["result"][0]["payment_mode"], "automatic")

    def test_payment_mode_refusals_change_nothing(self):
        with self._fault(FAULT_USER_ERROR, "Unknown payment mode 'sometimes'"):
            self._rpc(
                self.manager,
                "res.partner",
                "omni_api_set_payment_mode",
                [self.customer.id],
                "sometimes",
            )
        for user in (self.viewer, self.internal, self.portal):
            with self.subTest(user=user.login), self._fault(FAULT_ACCESS_ERROR, "Manager"):
                self._rpc(
                    user, "res.partner", "omni_api_set_payment_mode", [self.customer.id], "manual"
                )
        self.env.invalidate_all()
        self.assertEqual(self.customer.omni_payment_mode, "automatic")

    # --- dunning state --------------------------------------------------------------

    def test_dunning_state_after_a_failed_charge(self):
        state = self._rpc(self.viewer, "res.partner", "omni_api_dunning_state", [self.customer.id])
        self.assertEqual(
            state,
            [
                {
                    "customer_id": self.customer.id,
                    "payment_mode": "automatic",
                    "state": "active",
                    "case_state": False,
                    "amount_due": 0.0,
                    "currency": self.company.currency_id.name,
                    "since": False,
                    "day": 0,
                    "last_attempt": False,
                    "reason": "",
                    "hard_decline": False,
                }
            ],
        )
        self.intents.script[self.card.stripe_payment_method] = ("decline", "insufficient_funds")
        invoice = self._invoice(amount=120.0)
        self.Attempt._charge(invoice)
        case = self.Case.search([("partner_id", "=", self.customer.id)])
        self.assertTrue(case)
        (state,) = self._rpc(
            self.viewer, "res.partner", "omni_api_dunning_state", [self.customer_contact.id]
        )
        self.assertEqual(state["state"], "grace")
        self.assertEqual(state["case_state"], "open")
        self.assertAlmostEqual(state["amount_due"], invoice.amount_residual)
        self.assertEqual(state["since"], str(case.started_on))
        self.assertTrue(state["last_attempt"])
        self.assertIn("insufficient_funds", state["reason"])
        self.assertFalse(state["hard_decline"])

    def test_dunning_state_refused_outside_the_viewer_group(self):
        with self._fault(FAULT_ACCESS_ERROR, "Saved Payment Methods / Viewer"):
            self._rpc(self.internal, "res.partner", "omni_api_dunning_state", [self.customer.id])
        with self._fault(FAULT_ACCESS_ERROR, ""):
            self._rpc(
                self.portal, "res.partner", "omni_api_dunning_state", [self.other_customer.id]
            )

    # --- JSON-2 (Odoo 19.0) -------------------------------------------------------------
    # The same methods through 19.0's JSON-2 API (``POST /json/2/<model>/<method>``, a bearer
    # API key, the record ids in ``ids`` and every other argument by name), which replaces
    # XML-RPC and JSON-RPC (deprecated in 19.0, removed in 20.0).

    def _json2(self, user, model, method, ids=(), **kwargs):
        key = (
            self.env["res.users.apikeys"]
            .with_user(user)
            ._generate(
                scope="rpc",
                name="omni integration",
                expiration_date=fields.Datetime.now() + datetime.timedelta(days=1),
            )
        )
        return self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps({"ids": list(ids), **kwargs}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )

    @unittest.skipIf(ODOO_MAJOR < 19, JSON2_ONLY)
    def test_list_over_json2(self):
        response = self._json2(
            self.viewer, "res.partner", "omni_api_list_payment_methods", [self.customer.id]
        )
        self.assertEqual(response.status_code, 200, response.text)
        methods = response.json()
        self.assertEqual({m["id"] for m in methods}, {self.card.id, self.card_2.id, self.bank.id})
        self.assertEqual(set(methods[0]), API_KEYS)

    @unittest.skipIf(ODOO_MAJOR < 19, JSON2_ONLY)
    def test_payment_mode_over_json2(self):
        response = self._json2(
            self.manager,
            "res.partner",
            "omni_api_set_payment_mode",
            [self.customer.id],
            mode="manual",
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(
            response.json(), [{"customer_id": self.customer.id, "payment_mode": "manual"}]
        )

    @unittest.skipIf(ODOO_MAJOR < 19, JSON2_ONLY)
    def test_json2_errors_are_odoos(self):
        with mute_logger("odoo.http"):
            response = self._json2(
                self.internal, "res.partner", "omni_api_dunning_state", [self.customer.id]
            )
        self.assertEqual(response.status_code, 403, response.text)
        self.assertEqual(response.json()["name"], "odoo.exceptions.AccessError")
