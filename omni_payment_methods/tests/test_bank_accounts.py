# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import copy
import itertools
import json
import time
from unittest.mock import patch

import stripe

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.payment_stripe.controllers.main import StripeController

from ..models.omni_payment_setup import MAX_BANK_ACCOUNTS_PARAM
from .common import LocalStripeMixin, OmniCommon, stripe_event, stripe_signature
from .compat import TX_LOOKUP
from .test_portal_payment_methods import SETUP, PortalFlowMixin

GOOD_IBAN = "DE89370400440532013000"
FAILING_IBAN = "DE62370400440532013001"


@tagged("post_install", "-at_install")
class TestSepaAddLocalStripe(PortalFlowMixin, LocalStripeMixin, OmniCommon, HttpCase):
    """A SEPA bank account added in the portal: SetupIntent (sepa_debit) → confirmation as
    Stripe.js's confirmSepaDebitSetup sends it → token with bank, last 4 and mandate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, "omni_sepa", groups="base.group_portal", partner_id=cls.customer_contact.id
        )
        cls.customer_contact.email = "ada@example.com"
        cls.Setup = cls.env["omni.payment.setup"]
        cls.sepa_method = cls.env.ref("payment.payment_method_sepa_direct_debit")
        cls.fr = cls.env.ref("base.fr")

    def setUp(self):
        super().setUp()
        self.authenticate("omni_sepa", "omni_sepa")
        self.csrf = self._csrf()

    def _confirm_sepa(self, client_secret, iban=GOOD_IBAN, email="ada@example.com"):
        """What Stripe.js's confirmSepaDebitSetup sends (localstripe's fake does the same)."""
        return self.client.v1.setup_intents.confirm(
            client_secret.split("_secret_")[0],
            {
                "payment_method_data": {
                    "type": "sepa_debit",
                    "sepa_debit": {"iban": iban},
                    "billing_details": {"name": "Ada Lovelace", "email": email},
                }
            },
        )

    def _start_sepa(self, **values):
        return self._start(self.csrf, method_type="sepa_debit", country_id="", **values)

    def test_add_sepa_account_end_to_end(self):
        start = self._start_sepa(nickname="Main account")
        self.assertNotIn("error", start)
        self.assertEqual(start["billing_email"], "ada@example.com")
        setup = self.Setup.browse(start["setup_id"])
        self.assertEqual(setup.method_type, "sepa_debit")
        mandate_text = self.Token._omni_mandate_wording("sepa_debit")
        self.assertEqual(setup.consent_text, mandate_text)
        intent = self.client.v1.setup_intents.retrieve(setup.setup_intent_ref)
        self.assertEqual(intent["payment_method_types"], ["sepa_debit"])
        self.assertEqual(intent["usage"], "off_session")
        self._confirm_sepa(start["client_secret"])
        result = self._post(f"{SETUP}/{setup.id}/finish", {"handle": start["handle"]}, self.csrf)
        result = result.json()
        self.assertNotIn("error", result)
        token = self.Token.browse(result["token_id"])
        self.assertRecordValues(
            token,
            [
                {
                    "omni_method_kind": "bank",
                    "omni_stripe_pm_type": "sepa_debit",
                    "payment_method_id": self.sepa_method.id,
                    "payment_details": "3000",
                    # localstripe knows no bank names: its PaymentMethod carries the bank code.
                    "omni_bank_name": "37040044",
                    "omni_holder_name": "Ada Lovelace",
                    "omni_mandate_reference": "NXDSYREGC9PSMKWY",
                    "omni_mandate_status": "active",
                    "omni_authorized": True,
                    "omni_consent_text": mandate_text,
                    "omni_consent_version": "sepa_debit-2026-11",
                    "omni_added_channel": "portal",
                    "omni_nickname": "Main account",
                    "omni_is_default": True,
                    "omni_card_exp_year": 0,
                    "omni_expiry_date": False,
                }
            ],
        )
        self.assertEqual(
            result["message"], "Your 37040044 ending in 3000 has been added to your account."
        )
        self.assertEqual(token.omni_issuer_display, "37040044 •••• 3000")
        self.assertTrue(self.customer.omni_has_bank_account)
        pm = self.client.v1.payment_methods.retrieve(token.stripe_payment_method)
        self.assertEqual(pm["customer"], token.provider_ref)
        # The portal lists it beside the cards, with the mandate and the authorization.
        page = self.url_open("/my/payment_method").text
        self.assertIn("37040044 ending in 3000", page)
        self.assertIn("NXDSYREGC9PSMKWY", page)
        self.assertIn("Authorized for automatic payments", page)

    def test_add_form_offers_bank_accounts_with_mandates(self):
        page = self.url_open("/my/payment_method/add").text
        self.assertIn('value="sepa_debit"', page)
        self.assertIn('value="acss_debit"', page)
        self.assertIn('value="us_bank_account"', page)
        self.assertIn("you are entitled to a refund from your bank", page)
        self.assertIn("The mandate confirmation is emailed to", page)
        self.customer_contact.email = False
        self.customer.email = False
        page = self.url_open("/my/payment_method/add").text
        self.assertIn("An email address is required to save this bank account", page)

    def test_sepa_refused_without_email(self):
        self.customer_contact.email = False
        self.customer.email = False
        result = self._start_sepa()
        self.assertIn("An email address is required", result["error"])
        self.assertFalse(self.Setup.search([("partner_id", "=", self.customer.id)]))

    def test_staff_dialog_says_email_is_required_and_server_refuses(self):
        new_test_user(
            self.env,
            "omni_bank_manager",
            groups="base.group_user,base.group_partner_manager,"
            "omni_payment_methods.group_omni_payment_method_manager",
        )
        self.customer.email = False
        self.authenticate("omni_bank_manager", "omni_bank_manager")
        page = self.url_open(f"/omni/payment_method/staff/{self.customer.id}").text
        self.assertIn("Add the customer's email address first.", page)
        self.assertIn("Read the mandate to the customer", page)
        csrf = self._csrf(f"/omni/payment_method/staff/{self.customer.id}")
        result = self._start(
            csrf,
            mode="staff",
            partner_id=self.customer.id,
            consent="1",
            method_type="acss_debit",
            country_id="",
        )
        self.assertIn("An email address is required", result["error"])
        self.assertFalse(self.Setup.search([("partner_id", "=", self.customer.id)]))

    def test_account_holder_is_required(self):
        result = self._start_sepa(holder_name="")
        self.assertIn("account holder's name", result["error"])

    def test_unknown_method_type_is_refused(self):
        result = self._start(self.csrf, method_type="bitcoin")
        self.assertIn("cannot be saved", result["error"])

    def test_bank_account_limit(self):
        self.env["ir.config_parameter"].set_param(MAX_BANK_ACCOUNTS_PARAM, "1")
        first = self._start_sepa()
        self._confirm_sepa(first["client_secret"])
        self._post(f"{SETUP}/{first['setup_id']}/finish", {"handle": first["handle"]}, self.csrf)
        self.assertEqual(
            self.Token.search_count(
                [
                    ("commercial_partner_id", "=", self.customer.id),
                    ("omni_method_kind", "=", "bank"),
                ]
            ),
            1,
        )
        result = self._start_sepa()
        self.assertIn("1 saved bank accounts, the maximum allowed", result["error"])
        # The card limit is separate: a card can still be added.
        self.assertNotIn("error", self._start(self.csrf))

    def test_bank_limit_reached_after_confirmation_detaches_the_account(self):
        self.env["ir.config_parameter"].set_param(MAX_BANK_ACCOUNTS_PARAM, "1")
        first, second = self._start_sepa(), self._start_sepa()
        self._confirm_sepa(first["client_secret"])
        self._confirm_sepa(second["client_secret"], iban="FR1420041010050500013M02606")
        self._post(f"{SETUP}/{first['setup_id']}/finish", {"handle": first["handle"]}, self.csrf)
        result = self._post(
            f"{SETUP}/{second['setup_id']}/finish", {"handle": second["handle"]}, self.csrf
        ).json()
        self.assertIn("maximum allowed", result["error"])
        pm_id = self.client.v1.setup_intents.retrieve(
            self.Setup.browse(second["setup_id"]).setup_intent_ref
        )["payment_method"]
        self.assertFalse(self.client.v1.payment_methods.retrieve(pm_id)["customer"])


# === ACSS AND ACH: SDK-LEVEL FAKE (localstripe has neither) === #


class FakeSetupStripe:
    """``client.v1`` for the add flow, answering with Stripe's current-API shapes:
    setup_intents (create records the parameters), payment_methods, mandates, customers."""

    _ids = itertools.count(1)

    def __init__(self, payment_method, mandate, intent_status="succeeded", next_action=None):
        self.payment_method = payment_method
        self.mandate = mandate
        self.intent_status = intent_status
        self.next_action = next_action
        self.intents = {}
        self.created = []
        self.customers_created = []
        self.verifications = []
        self.expected = {"descriptor_code": "SM11AA"}
        self.v1 = self
        self.setup_intents = self.payment_methods = self.mandates = self.customers = self

    # customers / setup_intents / payment_methods / mandates share one object: dispatch on
    # the id prefix.
    def create(self, params, options=None):  # pylint: disable=method-required-super
        if "usage" in params:
            self.created.append(params)
            seti = f"seti_fake_{next(self._ids)}"
            self.intents[seti] = {
                "id": seti,
                "object": "setup_intent",
                "client_secret": f"{seti}_secret_x",
                "customer": params["customer"],
                "payment_method_types": params["payment_method_types"],
                "status": "requires_payment_method",
                "payment_method": None,
                "mandate": None,
            }
            return self.intents[seti]
        self.customers_created.append(params)
        return {"id": f"cus_fake_{next(self._ids)}", "object": "customer"}

    def confirm(self, seti):
        intent = self.intents[seti]
        intent.update(status=self.intent_status, next_action=self.next_action)
        intent["payment_method"] = self.payment_method["id"]
        if self.intent_status == "succeeded":
            self.succeed(seti)

    def succeed(self, seti):
        """The SetupIntent succeeds (confirmed, or its micro-deposits verified): Stripe
        attaches the method and activates the mandate."""
        intent = self.intents[seti]
        intent.update(status="succeeded", next_action=None, mandate=self.mandate["id"])
        self.mandate["status"] = "active"
        self.payment_method["customer"] = intent["customer"]

    def fail(self, seti, code="payment_method_microdeposit_verification_attempts_exceeded"):
        """The verification failed or expired: back to requires_payment_method."""
        intent = self.intents[seti]
        intent.update(
            status="requires_payment_method",
            next_action=None,
            payment_method=None,
            last_setup_error={"code": code, "message": "Verification failed (fake)."},
        )

    def verify_microdeposits(self, seti, params, options=None):
        """Stripe checks the amounts or the descriptor code against ``self.expected``."""
        self.verifications.append((seti, params))
        if params != self.expected:
            raise stripe.InvalidRequestError(
                "The amounts provided do not match the amounts that were sent to the bank account.",
                "amounts",
                code="payment_method_microdeposit_verification_amounts_mismatch",
                http_status=400,
            )
        self.succeed(seti)
        return copy.deepcopy(self.intents[seti])

    def retrieve(self, object_id):
        if object_id.startswith("seti_"):
            return copy.deepcopy(self.intents[object_id])
        if object_id.startswith("mandate_"):
            return copy.deepcopy(self.mandate)
        return copy.deepcopy(self.payment_method)

    def cancel(self, object_id, params=None, options=None):
        self.intents[object_id]["status"] = "canceled"

    def attach(self, pm_id, params, options=None):
        self.payment_method["customer"] = params["customer"]
        return copy.deepcopy(self.payment_method)

    def detach(self, pm_id, params=None, options=None):
        self.payment_method["customer"] = None
        return copy.deepcopy(self.payment_method)


def microdeposits_action(microdeposit_type="descriptor_code"):
    """SetupIntent.next_action while Stripe waits for the micro-deposits to be confirmed."""
    return {
        "type": "verify_with_microdeposits",
        "verify_with_microdeposits": {
            "arrival_date": int(time.time()) + 2 * 86400,
            "hosted_verification_url": "https://payments.stripe.com/microdeposit/sacs_fake",
            "microdeposit_type": microdeposit_type,
        },
    }


def acss_payment_method():
    return {
        "id": "pm_fake_acss",
        "object": "payment_method",
        "type": "acss_debit",
        "acss_debit": {
            "bank_name": "TD Canada Trust",
            "fingerprint": "Fxo2DjZbrUvHAN5V",
            "institution_number": "000",
            "last4": "6789",
            "transit_number": "11000",
        },
        "billing_details": {"email": "billing@omni.example", "name": "Omni Customer"},
        "customer": None,
        "created": 1700000000,
        "livemode": False,
        "metadata": {},
    }


def ach_payment_method():
    return {
        "id": "pm_fake_ach",
        "object": "payment_method",
        "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": "company",
            "account_type": "checking",
            "bank_name": "STRIPE TEST BANK",
            "financial_connections_account": "fca_fake",
            "fingerprint": "ickfX9sbxIyAlbuh",
            "last4": "6789",
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": "110000000",
            "status_details": {},
        },
        "billing_details": {"email": None, "name": "Omni Customer"},
        "customer": None,
        "created": 1700000000,
        "livemode": False,
        "metadata": {},
    }


def mandate(pm, pm_type, status="active", details=None):
    return {
        "id": f"mandate_fake_{pm_type}",
        "object": "mandate",
        "customer_acceptance": {
            "accepted_at": 1700000000,
            "online": {"ip_address": "127.0.0.1", "user_agent": "test"},
            "type": "online",
        },
        "livemode": False,
        "multi_use": {},
        "payment_method": pm["id"],
        "payment_method_details": {pm_type: details or {}, "type": pm_type},
        "status": status,
        "type": "multi_use",
    }


@tagged("post_install", "-at_install")
class TestBankDebitsSdkFake(OmniCommon):
    """Canadian pre-authorized debits and US bank accounts through the add flow, with an
    SDK-level Stripe answering in the current API's shapes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Setup = cls.env["omni.payment.setup"]
        cls.customer.email = "billing@omni.example"
        cls.acss_method = cls.env.ref("omni_payment_methods.payment_method_acss_debit")
        cls.ach_method = cls.env.ref("payment.payment_method_ach_direct_debit")

    def _fake(self, fake):
        return patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: fake
        )

    def _add(self, fake, method_type, channel="portal"):
        consent = self.Token._omni_mandate_wording(method_type)
        with self._fake(fake):
            setup, _secret, _handle = self.Setup._omni_start(
                self.customer, channel, method_type=method_type, consent_text=consent
            )
            fake.confirm(setup.setup_intent_ref)
            return setup, setup._finish()

    def test_acss_setup_intent_carries_the_mandate_options(self):
        pm = acss_payment_method()
        details = {"payment_schedule": "sporadic", "transaction_type": "business"}
        fake = FakeSetupStripe(pm, mandate(pm, "acss_debit", details=details))
        setup, token = self._add(fake, "acss_debit")
        (params,) = fake.created
        self.assertEqual(params["payment_method_types"], ["acss_debit"])
        self.assertEqual(params["usage"], "off_session")
        options = params["payment_method_options"]["acss_debit"]
        self.assertEqual(options["currency"], "cad")
        self.assertEqual(
            options["mandate_options"],
            {"payment_schedule": "sporadic", "transaction_type": "business"},
        )
        self.assertRecordValues(
            token,
            [
                {
                    "omni_method_kind": "bank",
                    "omni_stripe_pm_type": "acss_debit",
                    "payment_method_id": self.acss_method.id,
                    "omni_bank_name": "TD Canada Trust",
                    "payment_details": "6789",
                    "omni_holder_name": "Omni Customer",
                    "stripe_mandate": "mandate_fake_acss_debit",
                    "omni_mandate_reference": "mandate_fake_acss_debit",
                    "omni_mandate_status": "active",
                    "omni_authorized": True,
                    "omni_consent_version": "acss_debit-2026-11",
                }
            ],
        )
        self.assertEqual(setup.state, "done")
        self.assertEqual(token._omni_issuer_label(), "TD Canada Trust ending in 6789")
        self.assertIn("pre-authorized debit", token.omni_consent_text)

    def test_acss_personal_customer_mandate(self):
        self.customer.is_company = False
        pm = acss_payment_method()
        fake = FakeSetupStripe(pm, mandate(pm, "acss_debit"))
        self._add(fake, "acss_debit")
        self.assertEqual(
            fake.created[0]["payment_method_options"]["acss_debit"]["mandate_options"][
                "transaction_type"
            ],
            "personal",
        )

    def test_acss_refused_without_email(self):
        self.customer.email = False
        pm = acss_payment_method()
        fake = FakeSetupStripe(pm, mandate(pm, "acss_debit"))
        with self._fake(fake), self.assertRaisesRegex(UserError, "email address is required"):
            self.Setup._omni_start(self.customer, "staff", method_type="acss_debit")
        self.assertFalse(fake.created, "nothing is created in Stripe")
        self.assertFalse(self.Setup.search([("partner_id", "=", self.customer.id)]))
        # The contact's address is enough.
        self.customer_contact.email = "ap@omni.example"
        with self._fake(fake):
            self.Setup._omni_start(self.customer_contact, "staff", method_type="acss_debit")
        self.assertEqual(len(fake.created), 1)

    def test_ach_setup_intent_and_token(self):
        self.customer.email = False  # ACH needs no email address
        pm = ach_payment_method()
        fake = FakeSetupStripe(pm, mandate(pm, "us_bank_account"))
        _setup, token = self._add(fake, "us_bank_account", channel="staff")
        options = fake.created[0]["payment_method_options"]["us_bank_account"]
        self.assertEqual(options["verification_method"], "automatic")
        self.assertRecordValues(
            token,
            [
                {
                    "omni_method_kind": "bank",
                    "omni_stripe_pm_type": "us_bank_account",
                    "payment_method_id": self.ach_method.id,
                    "omni_bank_name": "STRIPE TEST BANK",
                    "payment_details": "6789",
                    "stripe_mandate": "mandate_fake_us_bank_account",
                    "omni_mandate_status": "active",
                    "omni_added_channel": "staff",
                    "omni_authorized": True,
                }
            ],
        )
        self.assertIn("30 (thirty) days notice", token.omni_consent_text)

    def test_customer_email_is_sent_as_one_normalised_address(self):
        # Odoo accepts a display name and a list; Stripe wants one address.
        self.customer.email = '"Omni Billing" <Billing@Omni.Example>, ap@omni.example'
        pm = acss_payment_method()
        fake = FakeSetupStripe(pm, mandate(pm, "acss_debit"))
        self._add(fake, "acss_debit")
        self.assertEqual(fake.customers_created[0]["email"], "billing@omni.example")
        # The address the browser puts in the PaymentMethod's billing details too.
        self.assertEqual(self.Setup._billing_email(self.customer), "billing@omni.example")

    def test_invalid_customer_email_is_not_sent(self):
        self.customer.email = "billing at omni"
        pm = ach_payment_method()
        fake = FakeSetupStripe(pm, mandate(pm, "us_bank_account"))
        self._add(fake, "us_bank_account")
        self.assertNotIn("email", fake.customers_created[0])
        self.assertEqual(self.Setup._billing_email(self.customer), "")
        # A bank debit that needs an address refuses an invalid one as it refuses none.
        with self._fake(fake), self.assertRaisesRegex(UserError, "email address is required"):
            self.Setup._omni_start(self.customer, "staff", method_type="sepa_debit")

    def test_payment_stripe_customer_email_is_normalised(self):
        """The customer payment_stripe creates when Odoo's checkout saves a method."""
        payload = {"name": "Omni", "email": "Omni <AP@Omni.Example>; x@y.org"}
        sent = self.stripe._omni_stripe_request_payload("POST", "customers", payload)
        self.assertEqual(sent["email"], "ap@omni.example")
        sent = self.stripe._omni_stripe_request_payload("POST", "customers", {"email": "nope"})
        self.assertIsNone(sent["email"])

    def test_other_method_than_asked_is_refused_and_detached(self):
        pm = ach_payment_method()
        fake = FakeSetupStripe(pm, mandate(pm, "us_bank_account"))
        with self.assertRaisesRegex(UserError, "another kind of payment method"):
            self._add(fake, "acss_debit")
        self.assertIsNone(fake.payment_method["customer"])

    def test_bank_limit_applies_to_acss(self):
        self.env["ir.config_parameter"].set_param(MAX_BANK_ACCOUNTS_PARAM, "1")
        self._omni_token(self.customer, omni_method_kind="bank", omni_stripe_pm_type="sepa_debit")
        pm = acss_payment_method()
        fake = FakeSetupStripe(pm, mandate(pm, "acss_debit"))
        with self._fake(fake), self.assertRaisesRegex(UserError, "saved bank accounts"):
            self.Setup._omni_start(self.customer, "portal", method_type="acss_debit")
        self.assertFalse(fake.created)


# === MICRO-DEPOSIT VERIFICATION (ACH, ACSS): SDK-LEVEL FAKE === #


@tagged("post_install", "-at_install")
class TestMicrodeposits(PortalFlowMixin, OmniCommon, HttpCase):
    """A US bank account Stripe verifies with micro-deposits: saved as awaiting verification,
    completed later in the portal, through Stripe's hosted page (emailed) and its webhook."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, "omni_ach", groups="base.group_portal", partner_id=cls.customer_contact.id
        )
        cls.customer.email = "billing@omni.example"
        cls.Setup = cls.env["omni.payment.setup"]
        cls.Event = cls.env["omni.stripe.event"]
        cls.secret = cls.stripe.stripe_webhook_secret
        cls.fr = cls.env.ref("base.fr")

    def setUp(self):
        super().setUp()
        pm = ach_payment_method()
        self.fake = FakeSetupStripe(
            pm,
            mandate(pm, "us_bank_account", status="pending"),
            intent_status="requires_action",
            next_action=microdeposits_action(),
        )
        patcher = patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: self.fake
        )
        patcher.start()
        self.addCleanup(patcher.stop)
        self.authenticate("omni_ach", "omni_ach")
        self.csrf = self._csrf()

    def _add_ach(self):
        """Start, confirm as Stripe.js's collectBankAccountForSetup + confirmUsBankAccountSetup
        do, then finish: return (finish answer, attempt)."""
        start = self._start(self.csrf, method_type="us_bank_account", country_id="")
        self.assertNotIn("error", start)
        setup = self.Setup.browse(start["setup_id"])
        self.fake.confirm(setup.setup_intent_ref)
        result = self._post(
            f"{SETUP}/{setup.id}/finish", {"handle": start["handle"]}, self.csrf
        ).json()
        self.env.invalidate_all()
        return result, setup

    def _post_event(self, event_type, setup):
        intent = copy.deepcopy(self.fake.intents[setup.setup_intent_ref])
        intent["metadata"] = {"odoo_setup_id": str(setup.id), "channel": setup.channel}
        # The endpoint payment_stripe creates sends its events in 2019-05-16.
        body = json.dumps(stripe_event(event_type, intent, api_version="2019-05-16"))
        self.env.flush_all()
        response = self.url_open(
            StripeController._webhook_url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_signature(body, self.secret, int(time.time())),
            },
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200)
        return response

    def test_account_awaiting_microdeposits_is_kept_for_verification(self):
        result, setup = self._add_ach()
        self.assertNotIn("error", result)
        self.assertIn("small deposits", result["message"])
        self.assertEqual(setup.state, "verifying")
        self.assertEqual(self.fake.intents[setup.setup_intent_ref]["status"], "requires_action")
        token = setup.token_id
        self.assertRecordValues(
            token,
            [
                {
                    "active": True,
                    "omni_awaiting_verification": True,
                    "omni_method_kind": "bank",
                    "omni_stripe_pm_type": "us_bank_account",
                    "payment_details": "6789",
                    "stripe_payment_method": "pm_fake_ach",
                }
            ],
        )
        # Not attached by Odoo: Stripe attaches it once verified.
        self.assertIsNone(self.fake.payment_method["customer"])
        # The portal shows it awaiting verification, with the form to enter the code.
        page = self.url_open("/my/payment_method").text
        self.assertIn("Awaiting verification", page)
        self.assertIn(f"/my/payment_method/{token.id}/verify", page)
        self.assertIn('name="descriptor_code"', page)
        # The customer is emailed Stripe's verification page.
        emails = self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("body", "ilike", "payments.stripe.com/microdeposit/sacs_fake"),
            ]
        )
        self.assertEqual(len(emails), 1)
        self.assertIn(self.customer_contact, emails.partner_ids)
        # Abandoned-attempt clean-up leaves it alone, however old.
        self.env.cr.execute(
            "UPDATE omni_payment_setup SET create_date = now() - interval '3 days' WHERE id = %s",
            (setup.id,),
        )
        self.env.invalidate_all()
        self.Setup._gc_abandoned_setups()
        self.assertEqual(setup.state, "verifying")
        self.assertEqual(self.fake.intents[setup.setup_intent_ref]["status"], "requires_action")

    def test_portal_verification_with_the_descriptor_code(self):
        _result, setup = self._add_ach()
        token = setup.token_id
        response = self._post(
            f"/my/payment_method/{token.id}/verify", {"descriptor_code": " sm11aa "}, self.csrf
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(
            self.fake.verifications, [(setup.setup_intent_ref, {"descriptor_code": "SM11AA"})]
        )
        self.assertRecordValues(
            token,
            [
                {
                    "omni_awaiting_verification": False,
                    "stripe_mandate": "mandate_fake_us_bank_account",
                    "omni_mandate_status": "active",
                    "omni_authorized": True,
                }
            ],
        )
        self.assertEqual(setup.state, "done")
        self.assertIn("has been verified", response.text)

    def test_portal_verification_with_wrong_amounts_keeps_it_awaiting(self):
        self.fake.next_action = microdeposits_action("amounts")
        self.fake.expected = {"amounts": [32, 45]}
        _result, setup = self._add_ach()
        token = setup.token_id
        page = self.url_open("/my/payment_method").text
        self.assertIn('name="amount_1"', page)
        response = self._post(
            f"/my/payment_method/{token.id}/verify",
            {"amount_1": "0.45", "amount_2": "0.32"},
            self.csrf,
        )
        self.env.invalidate_all()
        self.assertEqual(self.fake.verifications[0][1], {"amounts": [45, 32]})
        self.assertIn("do not match", response.text)
        self.assertTrue(token.omni_awaiting_verification)
        self.assertEqual(setup.state, "verifying")
        self._post(
            f"/my/payment_method/{token.id}/verify",
            {"amount_1": "0.32", "amount_2": "0.45"},
            self.csrf,
        )
        self.env.invalidate_all()
        self.assertFalse(token.omni_awaiting_verification)
        self.assertEqual(setup.state, "done")

    def test_webhook_succeeded_after_the_hosted_page_makes_it_usable(self):
        _result, setup = self._add_ach()
        self.fake.succeed(setup.setup_intent_ref)  # verified on Stripe's hosted page
        Tx = type(self.env["payment.transaction"])
        with patch.object(Tx, TX_LOOKUP) as get_tx_mock:
            response = self._post_event("setup_intent.succeeded", setup)
        get_tx_mock.assert_not_called()  # not payment_stripe's: it has no transaction
        self.assertEqual(response.json(), {"status": "processed"})
        self.assertRecordValues(
            setup.token_id,
            [{"omni_awaiting_verification": False, "omni_mandate_status": "active"}],
        )
        self.assertEqual(setup.state, "done")
        event = self.Event.search([("object_id", "=", setup.setup_intent_ref)])
        self.assertRecordValues(event, [{"state": "processed", "token_id": setup.token_id.id}])
        # The same event again changes nothing.
        self.assertEqual(self._post_event("setup_intent.succeeded", setup).status_code, 200)

    def test_webhook_setup_failed_marks_it_failed(self):
        _result, setup = self._add_ach()
        token = setup.token_id
        self.fake.fail(setup.setup_intent_ref)
        response = self._post_event("setup_intent.setup_failed", setup)
        self.assertEqual(response.json(), {"status": "processed"})
        self.assertFalse(token.active)
        self.assertRecordValues(
            setup,
            [
                {
                    "state": "failed",
                    "error_code": "payment_method_microdeposit_verification_attempts_exceeded",
                }
            ],
        )

    def test_unsigned_setup_event_is_refused(self):
        _result, setup = self._add_ach()
        self.fake.succeed(setup.setup_intent_ref)
        body = json.dumps(stripe_event("setup_intent.succeeded", {"id": setup.setup_intent_ref}))
        response = self.url_open(
            StripeController._webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
        )
        self.assertEqual(response.status_code, 403)
        self.env.invalidate_all()
        self.assertTrue(setup.token_id.omni_awaiting_verification)


# === DEBITS PROCESSING, FAILED PAYMENTS, AUTHORIZED CUSTOMERS === #
