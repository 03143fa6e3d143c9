# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Tables and helpers of the adversarial suite (test_adversarial.py, test_faults.py).

Each table is data: a new route, role, operation or webhook variant is one more row.
An attack is expected to be refused with nothing changed in the database, except the rows
of ``ALLOWED`` (what the role is meant to do), which must succeed.
"""

import json

from odoo import Command
from odoo.tests import new_test_user
from odoo.tests.common import JsonRpcException

from . import compat
from .common import CARD_YEAR

VIEWER = "omni_payment_methods.group_omni_payment_method_viewer"
MANAGER = "omni_payment_methods.group_omni_payment_method_manager"

# Card numbers the suite pushes into text (Visa, Mastercard, Amex 15, Discover; spaced, dashed).
PANS = ("4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005", "6011111111111117")

# === ROLES x TARGETS x OPERATIONS ON payment.token === #

# role: groups of the user (None: the public user); "salesman" is skipped when its module
# (sales_team, pulled in by sale) is not installed.
ROLES = {
    "internal": "base.group_user",
    "viewer": VIEWER,
    "manager": MANAGER,
    "billing": "account.group_account_invoice",
    "salesman": "sales_team.group_sale_salesman",
    "portal": "base.group_portal",
    "public": None,
}
# own: the role's own customer (for a portal user: the company it buys for);
# other: another customer of the same company; other_company: a customer in another company.
TARGETS = ("own", "other", "other_company")
READ_OPS = frozenset({"read", "search", "count", "export"})
MANAGE_OPS = frozenset({"write", "set_default", "delete"})
OPERATIONS = (
    "read",
    "search",
    "count",
    "export",
    "write",
    "set_default",
    "delete",
    "unlink",
    "create",
)

# What each role may do; everything else must be refused and change nothing. Nobody
# unlinks a token (methods are archived, history keeps them), and nobody creates one with a
# raw create: methods come from the payment flows (Stripe), which Odoo runs as superuser
# (payment.token's create reads the provider, which only system users may read).
ALLOWED = {
    "internal": {"own": READ_OPS},
    "viewer": {"own": READ_OPS, "other": READ_OPS},
    "manager": {"own": READ_OPS | MANAGE_OPS, "other": READ_OPS | MANAGE_OPS},
    "billing": {"own": READ_OPS},
    "salesman": {"own": READ_OPS},
    "portal": {"own": READ_OPS},
    "public": {},
}


def allowed(role, target, operation):
    return operation in ALLOWED.get(role, {}).get(target, ())


def attack_rows(roles=None):
    """Every (role, target, operation) of the matrix, in a stable order."""
    for role in roles or ROLES:
        for target in TARGETS:
            if role == "public" and target == "own":
                continue  # the public user has no customer of its own
            for operation in OPERATIONS:
                yield role, target, operation


class AdversarialFixture:
    """Users of every role and, per target, a default method A and a second method B."""

    def _execute_kw(self, login, model, method, args, kwargs=None):
        """``execute_kw`` through /jsonrpc, as an integration logging in with a password."""
        uid = self.env["res.users"].search([("login", "=", login)]).id
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [self.env.cr.dbname, uid, login, model, method, args, kwargs or {}],
            },
        }
        self.env.flush_all()
        response = self.url_open(
            "/jsonrpc", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        self.env.invalidate_all()
        body = response.json()
        if "error" in body:
            raise JsonRpcException(body["error"].get("code"), json.dumps(body["error"]))
        return body["result"]

    @classmethod
    def _adv_setup(cls):
        env = cls.env
        cls.company_2 = env["res.company"].create({"name": "Omni Adversarial Co 2"})
        cls.provider_1 = compat.dummy_provider(cls)
        cls.provider_2 = compat.dummy_provider(cls, cls.company_2)
        company = env.company
        common = {"company_id": company.id, "company_ids": [company.id]}
        cls.adv_customer = env["res.partner"].create({"name": "Adv Customer", "is_company": True})
        cls.adv_contact = env["res.partner"].create(
            {"name": "Adv Contact", "parent_id": cls.adv_customer.id, "email": "c@adv.test"}
        )
        cls.adv_other = env["res.partner"].create({"name": "Adv Other", "is_company": True})
        cls.adv_users = {}
        cls.adv_skipped = {}
        for role, groups in ROLES.items():
            if groups is None:
                cls.adv_users[role] = env.ref("base.public_user")
                continue
            if not env.ref(groups, raise_if_not_found=False):
                cls.adv_skipped[role] = f"{groups} does not exist (its module is not installed)"
                continue
            values = dict(common)
            if role == "portal":
                values["partner_id"] = cls.adv_contact.id
            user = new_test_user(env, f"omni_adv_{role}", groups=groups, **values)
            # The export right, so that exporting is stopped by the rules, not by the menu.
            user[compat.USER_GROUPS] = [Command.link(env.ref("base.group_allow_export").id)]
            cls.adv_users[role] = user
        cls.adv_tokens = {}
        seq = 0
        for role, user in cls.adv_users.items():
            if role == "public":
                continue
            owner = user.partner_id.commercial_partner_id
            cls.adv_tokens[(role, "own")] = cls._adv_pair(owner, cls.provider_1, seq)
            seq += 2
        cls.adv_tokens["other"] = cls._adv_pair(cls.adv_other, cls.provider_1, 90)
        cls.adv_tokens["other_company"] = cls._adv_pair(cls.adv_other, cls.provider_2, 80)

    @classmethod
    def _adv_pair(cls, partner, provider, seq):
        Token = cls.env["payment.token"]
        tokens = Token
        for index in (1, 2):
            tokens |= Token.create(cls._adv_token_vals(partner, provider, f"{seq + index:04d}"))
        assert tokens[0].omni_is_default and not tokens[1].omni_is_default
        return tokens

    @classmethod
    def _adv_token_vals(cls, partner, provider, last4):
        return {
            "provider_id": provider.id,
            "payment_method_id": cls.env.ref("payment.payment_method_card").id,
            "partner_id": partner.id,
            "payment_details": last4,
            "provider_ref": f"cus_adv_{last4}",
            "omni_card_brand": "visa",
            "omni_method_kind": "card",
            "omni_card_exp_month": 12,
            "omni_card_exp_year": CARD_YEAR,
        }

    def _adv_target(self, role, target):
        """(default method A, second method B) the attack aims at."""
        pair = self.adv_tokens[(role, "own")] if target == "own" else self.adv_tokens[target]
        return pair[0], pair[1]

    # === DATABASE STATE === #

    def _adv_state(self):
        """What an attack must not change: every stored value of every method, the
        customers' text, and the number of methods, messages, audit rows and events."""
        env = self.env(su=True)
        env.flush_all()
        env.invalidate_all()
        Token = env["payment.token"].with_context(active_test=False)
        names = [
            name
            for name, field in Token._fields.items()
            if field.store and field.type not in ("one2many", "many2many", "binary")
        ]
        partners = env["res.partner"].search(
            [("id", "in", (self.adv_customer | self.adv_contact | self.adv_other).ids)]
        )
        return {
            "tokens": Token.search([], order="id").read(names),
            "partners": partners.read(["name", "comment", "street", "write_date"]),
            "messages": env["mail.message"].search_count([]),
            "audit": env["omni.payment.audit"].search_count([]),
            "events": env["omni.stripe.event"].search_count([]),
        }

    def _adv_assert_unchanged(self, before, label):
        after = self._adv_state()
        for key in before:
            self.assertEqual(after[key], before[key], f"{label}: {key} changed")
