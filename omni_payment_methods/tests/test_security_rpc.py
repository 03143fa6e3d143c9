# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .test_security import MANAGER, VIEWER


@tagged("post_install", "-at_install")
class TestSecurityRpc(HttpCase):
    """The same rules hold through JSON-RPC, as a browser or an integration would call."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        provider = cls.env["payment.provider"].create({"name": "Omni RPC", "code": "none"})
        customer = cls.env["res.partner"].create({"name": "RPC Customer"})
        cls.token = cls.env["payment.token"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": cls.env.ref("payment.payment_method_unknown").id,
                "partner_id": customer.id,
                "payment_details": "4242",
                "provider_ref": "ref-rpc",
            }
        )
        for login, groups in (
            ("omni_rpc_internal", "base.group_user"),
            ("omni_rpc_viewer", VIEWER),
            ("omni_rpc_manager", MANAGER),
        ):
            new_test_user(cls.env, login, groups=groups)

    def _call(self, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "payment.token",
                "method": method,
                "args": args,
                "kwargs": kwargs or {},
            },
        )

    def test_internal_user_sees_nothing_over_rpc(self):
        self.authenticate("omni_rpc_internal", "omni_rpc_internal")
        rows = self._call("search_read", [[("id", "=", self.token.id)]], {"fields": ["id"]})
        self.assertEqual(rows, [])
        with mute_logger("odoo.http"), self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call("read", [[self.token.id], ["payment_details"]])

    def test_viewer_reads_but_cannot_write_over_rpc(self):
        self.authenticate("omni_rpc_viewer", "omni_rpc_viewer")
        rows = self._call("read", [[self.token.id], ["payment_details", "omni_is_default"]])
        self.assertEqual(rows[0]["payment_details"], "4242")
        with mute_logger("odoo.http"), self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call("write", [[self.token.id], {"omni_nickname": "x"}])
        with mute_logger("odoo.http"), self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call("action_omni_delete", [[self.token.id]])
        self.assertFalse(self.token.omni_nickname)

    def test_manager_renames_over_rpc_but_never_types_a_card_number(self):
        self.authenticate("omni_rpc_manager", "omni_rpc_manager")
        self._call("write", [[self.token.id], {"omni_nickname": "Main card"}])
        self.assertEqual(self.token.omni_nickname, "Main card")
        with mute_logger("odoo.http"), self.assertRaisesRegex(JsonRpcException, "ValidationError"):
            self._call("write", [[self.token.id], {"omni_nickname": "4242 4242 4242 4242"}])
        self.token.invalidate_recordset()
        self.assertEqual(self.token.omni_nickname, "Main card")
