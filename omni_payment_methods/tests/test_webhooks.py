# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import json
import time
from unittest.mock import Mock, patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_stripe import const as stripe_const
from odoo.addons.payment_stripe.controllers.main import StripeController

from ..models.omni_stripe_event import OMNI_WEBHOOK_EVENTS
from . import compat
from .common import (
    CARD_YEAR,
    OmniCommon,
    current_api_payment_method,
    endpoint_version_payment_method,
    stripe_event,
    stripe_signature,
)

MUTED = (
    "odoo.addons.omni_payment_methods.models.omni_stripe_event",
    "odoo.addons.omni_payment_methods.controllers.main",
)
AUTO_UPDATED = "payment_method.automatically_updated"
UPDATED = "payment_method.updated"
DETACHED = "payment_method.detached"
# The card updater's event in API versions before 2020-08-27, such as 2019-05-16, the
# version of the endpoint payment_stripe creates (Stripe's changelog, 2020-08-27).
CARD_AUTO_UPDATED = "payment_method.card_automatically_updated"
ENDPOINT_VERSION = stripe_const.API_VERSION


class FakeWebhookEndpoints:
    """``client.v1.webhook_endpoints``: the account's endpoints; records the updates."""

    def __init__(self, endpoints):
        self.endpoints = endpoints
        self.updates = []

    def list(self, params=None, options=None):
        return {"object": "list", "data": self.endpoints, "has_more": False}

    def update(self, endpoint_id, params, options=None):
        self.updates.append((endpoint_id, params, options or {}))
        return {"id": endpoint_id, **params}


def utc(timestamp):
    """The naive UTC datetime Odoo stores for a Unix timestamp."""
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).replace(tzinfo=None)


@tagged("post_install", "-at_install")
class TestWebhooks(OmniCommon, PaymentHttpCommon):
    """Stripe's payment_method.* events, posted to /payment/stripe/webhook as Stripe does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret = cls.stripe.stripe_webhook_secret
        cls.Event = cls.env["omni.stripe.event"]
        cls.token = cls._omni_token(
            cls.customer, last4="4242", brand="visa", month=12, year=CARD_YEAR
        )
        cls.other_token = cls._omni_token(
            cls.customer, last4="5556", brand="visa", month=1, year=CARD_YEAR + 1
        )
        # The second method was added after the first (the order the default follows).
        cls.other_token._omni_system_write(
            {"omni_added_on": cls.token.omni_added_on + datetime.timedelta(minutes=1)}
        )

    # === HELPERS === #

    def _pm(self, token, **card):
        """Stripe's current-API PaymentMethod, as the one of ``token``, with ``card`` values."""
        pm = current_api_payment_method()
        pm.update(id=token.stripe_payment_method, customer=token.provider_ref)
        if "brand" in card:
            card.setdefault("display_brand", card["brand"])
        pm["card"].update(card)
        return pm

    def _event(self, event_type, pm, created=None, event_id=None):
        return stripe_event(event_type, pm, created=created, event_id=event_id)

    @staticmethod
    def _sign(body, secret, timestamp):
        return stripe_signature(body, secret, timestamp)

    def _post(self, event=None, body=None, secret=None, timestamp=None, signed=True):
        """POST an event signed like Stripe does; return the response."""
        body = json.dumps(event) if body is None else body
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["Stripe-Signature"] = self._sign(
                body, secret or self.secret, timestamp or int(time.time())
            )
        self.env.flush_all()
        response = self.url_open(StripeController._webhook_url, data=body, headers=headers)
        self.env.invalidate_all()
        return response

    def _events(self):
        return self.Event.search([])

    def _notes(self, partner):
        return partner.message_ids.filtered(lambda m: "by Stripe" in (m.body or ""))

    def _assert_unchanged(self, token, month=12, year=CARD_YEAR, last4="4242"):
        self.assertRecordValues(
            token,
            [
                {
                    "active": True,
                    "omni_card_exp_month": month,
                    "omni_card_exp_year": year,
                    "payment_details": last4,
                    "omni_card_brand": "visa",
                }
            ],
        )

    # === VALID EVENTS === #

    def test_automatically_updated_stores_new_details(self):
        created = int(time.time()) - 30
        pm = self._pm(
            self.token, brand="mastercard", last4="4444", exp_month=8, exp_year=CARD_YEAR + 1
        )
        event = self._event(AUTO_UPDATED, pm, created=created)
        response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "processed"})
        self.assertRecordValues(
            self.token,
            [
                {
                    "active": True,
                    "omni_card_brand": "mastercard",
                    "payment_details": "4444",
                    "omni_card_exp_month": 8,
                    "omni_card_exp_year": CARD_YEAR + 1,
                    "omni_expiry_date": datetime.date(CARD_YEAR + 1, 8, 31),
                    "omni_stripe_state_at": utc(created),
                    "omni_is_default": True,
                }
            ],
        )
        self.assertRecordValues(
            self._events(),
            [
                {
                    "event_id": event["id"],
                    "event_type": AUTO_UPDATED,
                    "object_id": self.token.stripe_payment_method,
                    "stripe_created": utc(created),
                    "provider_id": self.stripe.id,
                    "token_id": self.token.id,
                    "state": "processed",
                }
            ],
        )
        notes = self._notes(self.customer)
        self.assertEqual(len(notes), 1)
        self.assertIn(
            "Visa ending in 4242 was updated by Stripe: now Mastercard ending in 4444, "
            f"expires 08/{CARD_YEAR + 1}.",
            notes.body,
        )
        self.assertEqual(notes.author_id, self.env.ref("base.partner_root"))
        # The other method of the customer is untouched.
        self._assert_unchanged(self.other_token, month=1, year=CARD_YEAR + 1, last4="5556")

    def _old_pm(self, token, **card):
        """Stripe's PaymentMethod in the endpoint's version (2019-05-16): no display_brand."""
        pm = endpoint_version_payment_method()
        pm.update(id=token.stripe_payment_method, customer=token.provider_ref)
        pm["card"].update(card)
        self.assertNotIn("display_brand", pm["card"])
        return pm

    def test_card_updater_event_in_the_endpoint_version_is_processed(self):
        """What the endpoint payment_stripe creates delivers: the 2019-05-16 name and shape."""
        self.assertEqual(ENDPOINT_VERSION, "2019-05-16")
        created = int(time.time()) - 30
        pm = self._old_pm(
            self.token, brand="mastercard", last4="4444", exp_month=8, exp_year=CARD_YEAR + 1
        )
        event = stripe_event(CARD_AUTO_UPDATED, pm, created=created, api_version=ENDPOINT_VERSION)
        response = self._post(event)
        self.assertEqual(response.json(), {"status": "processed"})
        self.assertRecordValues(
            self.token,
            [
                {
                    "omni_card_brand": "mastercard",
                    "payment_details": "4444",
                    "omni_card_exp_month": 8,
                    "omni_card_exp_year": CARD_YEAR + 1,
                    "omni_stripe_state_at": utc(created),
                }
            ],
        )
        self.assertRecordValues(
            self._events(),
            [
                {
                    "event_type": CARD_AUTO_UPDATED,
                    "api_version": ENDPOINT_VERSION,
                    "state": "processed",
                    "token_id": self.token.id,
                }
            ],
        )
        self.assertEqual(len(self._notes(self.customer)), 1)

    def test_updated_event_in_the_endpoint_version_is_processed(self):
        pm = self._old_pm(self.token, brand="amex", last4="0005", exp_month=3)
        response = self._post(stripe_event(UPDATED, pm, api_version=ENDPOINT_VERSION))
        self.assertEqual(response.json(), {"status": "processed"})
        self.assertRecordValues(
            self.token,
            [{"omni_card_brand": "amex", "payment_details": "0005", "omni_card_exp_month": 3}],
        )

    def test_newer_name_in_the_endpoint_version_is_processed_too(self):
        """Both names are read whatever the version the event says it is in."""
        pm = self._old_pm(self.token, exp_month=4)
        response = self._post(stripe_event(AUTO_UPDATED, pm, api_version=ENDPOINT_VERSION))
        self.assertEqual(response.json(), {"status": "processed"})
        self.assertEqual(self.token.omni_card_exp_month, 4)

    def test_updated_new_expiry_is_logged(self):
        event = self._event(UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1))
        response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self._assert_unchanged(self.token, month=8, year=CARD_YEAR + 1)
        self.assertEqual(self._events().state, "processed")
        self.assertIn(
            f"Visa ending in 4242 was updated by Stripe: expires 08/{CARD_YEAR + 1}.",
            self._notes(self.customer).body,
        )

    def test_updated_without_visible_change_posts_no_note(self):
        # Only the billing details changed (e.g. the holder's email): nothing to tell.
        event = self._event(UPDATED, self._pm(self.token, exp_month=12, exp_year=CARD_YEAR))
        response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self._assert_unchanged(self.token)
        self.assertEqual(self.token.omni_stripe_state_at, utc(event["created"]))
        self.assertEqual(self._events().state, "processed")
        self.assertFalse(self._notes(self.customer))

    def test_detached_archives_and_moves_default(self):
        self.assertTrue(self.token.omni_is_default)
        event = self._event(DETACHED, self._pm(self.token))
        response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self.assertRecordValues(
            self.token,
            [
                {
                    "active": False,
                    "omni_is_default": False,
                    "omni_stripe_state_at": utc(event["created"]),
                }
            ],
        )
        self.assertRecordValues(self.other_token, [{"active": True, "omni_is_default": True}])
        self.assertRecordValues(self._events(), [{"state": "processed", "token_id": self.token.id}])
        self.assertIn(
            "Visa ending in 4242 was removed in Stripe.", self.customer.message_ids[0].body
        )

    def test_unknown_payment_method_is_recorded_as_ignored(self):
        pm = current_api_payment_method()  # pm_1Pgc75B7WZ01zgkWlHVgdEGJ: no token holds it.
        event = self._event(UPDATED, pm)
        response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ignored"})
        self.assertRecordValues(
            self._events(),
            [
                {
                    "event_id": event["id"],
                    "object_id": pm["id"],
                    "provider_id": self.stripe.id,
                    "token_id": False,
                    "state": "ignored",
                }
            ],
        )
        self._assert_unchanged(self.token)

    def test_other_payment_method_event_is_recorded_as_ignored(self):
        event = self._event("payment_method.attached", self._pm(self.token, exp_year=CARD_YEAR + 5))
        response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self.assertRecordValues(
            self._events(), [{"state": "ignored", "reason": "Event type not handled."}]
        )
        self._assert_unchanged(self.token)

    # === REFUSED EVENTS === #

    @mute_logger(*MUTED)
    def test_forged_signature_is_refused(self):
        event = self._event(DETACHED, self._pm(self.token))
        response = self._post(event, secret="whsec_not_the_right_one")
        self.assertEqual(response.status_code, 403)
        self._assert_unchanged(self.token)
        self.assertFalse(self._events())

    @mute_logger(*MUTED)
    def test_tampered_body_is_refused(self):
        event = self._event(UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1))
        body = json.dumps(event)
        timestamp = int(time.time())
        header = self._sign(body, self.secret, timestamp)
        tampered = body.replace(f'"exp_year": {CARD_YEAR + 1}', f'"exp_year": {CARD_YEAR + 9}')
        self.assertNotEqual(tampered, body)
        self.env.flush_all()
        response = self.url_open(
            StripeController._webhook_url,
            data=tampered,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 403)
        self._assert_unchanged(self.token)
        self.assertFalse(self._events())

    @mute_logger(*MUTED)
    def test_unsigned_event_is_refused(self):
        event = self._event(DETACHED, self._pm(self.token))
        response = self._post(event, signed=False)
        self.assertEqual(response.status_code, 403)
        self._assert_unchanged(self.token)
        self.assertFalse(self._events())

    @mute_logger(*MUTED)
    def test_stale_signature_is_refused(self):
        event = self._event(DETACHED, self._pm(self.token))
        response = self._post(event, timestamp=int(time.time()) - 11 * 60)
        self.assertEqual(response.status_code, 403)
        self._assert_unchanged(self.token)
        self.assertFalse(self._events())
        # Within the tolerance the same event is accepted.
        response = self._post(event, timestamp=int(time.time()) - 5 * 60)
        self.assertEqual(response.status_code, 200)
        self.assertFalse(self.token.active)

    @mute_logger(*MUTED)
    def test_provider_without_webhook_secret_refuses_events(self):
        self.stripe.stripe_webhook_secret = False
        event = self._event(DETACHED, self._pm(self.token))
        response = self._post(event, secret=self.secret)
        self.assertEqual(response.status_code, 403)
        self._assert_unchanged(self.token)
        self.assertFalse(self._events())
        # Nor is an event on an unknown PaymentMethod recorded without a secret to check it.
        response = self._post(self._event(UPDATED, current_api_payment_method()))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self._events())

    @mute_logger(*MUTED)
    def test_only_the_token_provider_secret_counts(self):
        """Another Stripe provider's secret does not authenticate events on this token."""
        other = self._prepare_provider(
            "stripe",
            company=self.env["res.company"].create({"name": "Omni Other Co"}),
            # the keys too: 19.0 copies the provider without them, then requires them
            update_values={
                "stripe_webhook_secret": "whsec_other_provider",
                "stripe_secret_key": "sk_test_other_provider",
                "stripe_publishable_key": "pk_test_other_provider",
            },
        )
        self.assertNotEqual(other, self.stripe)
        event = self._event(DETACHED, self._pm(self.token))
        response = self._post(event, secret="whsec_other_provider")
        self.assertEqual(response.status_code, 403)
        self._assert_unchanged(self.token)
        # An unknown PaymentMethod may be signed by any enabled/test Stripe provider.
        response = self._post(
            self._event(UPDATED, current_api_payment_method()), secret="whsec_other_provider"
        )
        self.assertEqual(response.status_code, 200)
        self.assertRecordValues(self._events(), [{"provider_id": other.id, "state": "ignored"}])

    @mute_logger(*MUTED)
    def test_malformed_json_is_a_bad_request(self):
        response = self._post(body='{"type": "payment_method.detached", "id": ')
        self.assertEqual(response.status_code, 400)
        self._assert_unchanged(self.token)
        self.assertFalse(self._events())
        response = self._post(body="[1, 2]")
        self.assertEqual(response.status_code, 400)
        # Valid JSON without the object the event is about.
        event = self._event(DETACHED, self._pm(self.token))
        del event["data"]
        response = self._post(event)
        self.assertEqual(response.status_code, 400)
        self._assert_unchanged(self.token)
        self.assertFalse(self._events())

    # === DUPLICATES === #

    def test_duplicate_delivery_changes_nothing(self):
        event = self._event(AUTO_UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1))
        self.assertEqual(self._post(event).status_code, 200)
        self._assert_unchanged(self.token, month=8, year=CARD_YEAR + 1)
        # People act on the methods between both deliveries (Stripe is not called here).
        self.token.omni_nickname = "Company Visa"
        with patch.object(type(self.token), "_omni_stripe_call") as stripe_call_mock:
            self.other_token.action_omni_set_default()
        self.assertEqual(stripe_call_mock.call_count, 1)
        self.env.flush_all()
        write_date = self.token.write_date
        messages = self.customer.message_ids
        Token = type(self.env["payment.token"])
        with patch.object(
            Token,
            "_omni_apply_payment_method",
            autospec=True,
            side_effect=Token._omni_apply_payment_method,
        ) as apply_mock:
            response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "duplicate"})
        self.assertEqual(apply_mock.call_count, 0)
        self.assertRecordValues(
            self.token,
            [
                {
                    "omni_nickname": "Company Visa",
                    "omni_is_default": False,
                    "omni_card_exp_month": 8,
                    "omni_card_exp_year": CARD_YEAR + 1,
                    "write_date": write_date,
                }
            ],
        )
        self.assertTrue(self.other_token.omni_is_default)
        self.assertEqual(self.customer.message_ids, messages)
        self.assertEqual(len(self._events()), 1)

    def test_duplicate_detached_after_a_change_changes_nothing(self):
        event = self._event(DETACHED, self._pm(self.token))
        self.assertEqual(self._post(event).status_code, 200)
        self.assertFalse(self.token.active)
        self.assertTrue(self.other_token.omni_is_default)
        self.other_token.omni_nickname = "Backup"
        messages = self.customer.message_ids
        response = self._post(event)
        self.assertEqual(response.status_code, 200)
        self.assertFalse(self.token.active)
        self.assertRecordValues(
            self.other_token, [{"omni_is_default": True, "omni_nickname": "Backup"}]
        )
        self.assertEqual(self.customer.message_ids, messages)
        self.assertEqual(len(self._events()), 1)

    @mute_logger("odoo.sql_db", *MUTED)
    def test_simultaneous_duplicate_hits_the_unique_index(self):
        """Two deliveries at once: the second one does not see the first's row yet."""
        event = self._event(AUTO_UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1))
        Event = self.Event.with_user(self.env.ref("base.user_root"))
        first = Event._process_event(event, self.stripe)
        self.assertEqual(first.state, "processed")
        self.token.omni_nickname = "Company Visa"
        messages = self.customer.message_ids
        with patch.object(type(self.Event), "_find_event", return_value=self.Event):
            second = Event._process_event(event, self.stripe)
        self.assertFalse(second)
        self.assertEqual(len(self._events()), 1)
        self.assertRecordValues(
            self.token,
            [
                {
                    "omni_nickname": "Company Visa",
                    "omni_card_exp_month": 8,
                    "omni_card_exp_year": CARD_YEAR + 1,
                }
            ],
        )
        self.assertEqual(self.customer.message_ids, messages)

    # === ORDER === #

    def test_older_update_after_newer_update_is_stale(self):
        now = int(time.time())
        newer = self._event(
            UPDATED, self._pm(self.token, exp_month=9, exp_year=CARD_YEAR + 2), now - 10
        )
        older = self._event(
            UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1), now - 60
        )
        self.assertEqual(self._post(newer).status_code, 200)
        response = self._post(older)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "stale"})
        self._assert_unchanged(self.token, month=9, year=CARD_YEAR + 2)
        self.assertEqual(self.token.omni_stripe_state_at, utc(now - 10))
        events = self._events()
        self.assertEqual(events.filtered(lambda e: e.event_id == older["id"]).state, "stale")
        self.assertEqual(events.filtered(lambda e: e.event_id == newer["id"]).state, "processed")
        self.assertEqual(len(self._notes(self.customer)), 1)

    def test_older_update_after_detach_keeps_it_archived(self):
        now = int(time.time())
        detached = self._event(DETACHED, self._pm(self.token), now - 10)
        older = self._event(
            UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1), now - 60
        )
        self.assertEqual(self._post(detached).status_code, 200)
        response = self._post(older)
        self.assertEqual(response.status_code, 200)
        self.assertRecordValues(
            self.token,
            [{"active": False, "omni_card_exp_month": 12, "omni_card_exp_year": CARD_YEAR}],
        )
        self.assertEqual(
            self._events().filtered(lambda e: e.event_id == older["id"]).state, "stale"
        )

    def test_newer_update_after_detach_keeps_it_archived(self):
        now = int(time.time())
        detached = self._event(DETACHED, self._pm(self.token), now - 60)
        newer = self._event(
            UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1), now - 10
        )
        self.assertEqual(self._post(detached).status_code, 200)
        response = self._post(newer)
        self.assertEqual(response.status_code, 200)
        self.assertRecordValues(
            self.token,
            [{"active": False, "omni_card_exp_month": 12, "omni_stripe_state_at": utc(now - 60)}],
        )
        self.assertRecordValues(
            self._events().filtered(lambda e: e.event_id == newer["id"]),
            [{"state": "ignored", "token_id": self.token.id}],
        )
        self.assertTrue(self.other_token.omni_is_default)

    def test_older_detach_after_newer_update_is_stale(self):
        now = int(time.time())
        newer = self._event(
            UPDATED, self._pm(self.token, exp_month=8, exp_year=CARD_YEAR + 1), now - 10
        )
        detached = self._event(DETACHED, self._pm(self.token), now - 60)
        self.assertEqual(self._post(newer).status_code, 200)
        response = self._post(detached)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "stale"})
        self.assertRecordValues(self.token, [{"active": True, "omni_is_default": True}])
        self._assert_unchanged(self.token, month=8, year=CARD_YEAR + 1)

    # === CORE EVENTS AND SUBSCRIPTION === #

    def test_core_events_still_reach_payment_stripe(self):
        tx = self._create_transaction("redirect")
        body = json.dumps(compat.stripe_event_data(self))  # payment_intent.succeeded
        Tx = type(self.env["payment.transaction"])
        with patch.object(
            Tx,
            compat.TX_LOOKUP,
            autospec=True,
            side_effect=getattr(Tx, compat.TX_LOOKUP),
        ) as get_tx_mock:
            response = self._post(body=body)
        self.assertEqual(response.status_code, 200)
        # payment_stripe's controller looks the transaction up (and so does its handling).
        self.assertTrue(get_tx_mock.call_count)
        _tx_model, provider_code, data = get_tx_mock.call_args_list[0].args
        self.assertEqual(provider_code, "stripe")
        self.assertEqual(data["event_type"], "payment_intent.succeeded")
        self.assertEqual(data["reference"], tx.reference)
        self.assertEqual(tx.state, "done")
        self.assertFalse(self._events())

    def test_payment_method_events_never_reach_payment_stripe(self):
        Tx = type(self.env["payment.transaction"])
        with patch.object(Tx, compat.TX_LOOKUP) as get_tx_mock:
            response = self._post(
                self._event(UPDATED, self._pm(self.token, exp_year=CARD_YEAR + 3))
            )
        self.assertEqual(response.status_code, 200)
        get_tx_mock.assert_not_called()
        self.assertEqual(self.token.omni_card_exp_year, CARD_YEAR + 3)

    def test_created_webhook_subscribes_to_payment_method_events(self):
        """payment_stripe creates the endpoint in its version (2019-05-16): the addon's events
        are asked under the names valid in that version."""
        self.stripe.stripe_webhook_secret = False
        response = Mock(ok=True, status_code=200)
        response.json.return_value = {"secret": "whsec_new"}
        with patch(compat.STRIPE_REQUEST, return_value=response) as request_mock:
            self.stripe.action_stripe_create_webhook()
        self.assertEqual(request_mock.call_count, 1)
        self.assertTrue(request_mock.call_args.args[1].endswith("/webhook_endpoints"))
        data = request_mock.call_args.kwargs["data"]
        self.assertEqual(data["api_version"], ENDPOINT_VERSION)
        events = data["enabled_events[]"]
        self.assertIn(CARD_AUTO_UPDATED, events)
        self.assertNotIn(AUTO_UPDATED, events, "not a valid name in the endpoint's version")
        self.assertLessEqual({UPDATED, DETACHED}, set(events))
        self.assertIn("payment_intent.succeeded", events)
        self.assertEqual(len(events), len(set(events)), "no event is asked twice")
        self.assertEqual(self.stripe.stripe_webhook_secret, "whsec_new")
        # Core's own list is left as it is (other databases of the server do not get them).
        self.assertFalse(set(OMNI_WEBHOOK_EVENTS) & set(stripe_const.HANDLED_WEBHOOK_EVENTS))

    def test_existing_endpoint_is_resubscribed_in_its_version(self):
        """The migration of an endpoint created before: the provider's button adds the
        addon's events, in the endpoint's version, keeping the ones it has."""
        url = self.stripe._get_stripe_webhook_url()
        endpoints = FakeWebhookEndpoints(
            [
                {"id": "we_other", "url": "https://other.example/hook", "api_version": None},
                {
                    "id": "we_odoo",
                    "url": url,
                    "api_version": ENDPOINT_VERSION,
                    "enabled_events": ["payment_intent.succeeded", "setup_intent.succeeded"],
                },
            ]
        )
        client = Mock(v1=Mock(webhook_endpoints=endpoints))
        with patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: client
        ):
            action = self.stripe.action_omni_stripe_update_webhook()
        ((endpoint_id, params, options),) = endpoints.updates
        self.assertEqual(endpoint_id, "we_odoo")
        self.assertEqual(options["stripe_version"], ENDPOINT_VERSION)
        events = params["enabled_events"]
        self.assertEqual(events[:2], ["payment_intent.succeeded", "setup_intent.succeeded"])
        self.assertIn(CARD_AUTO_UPDATED, events)
        self.assertNotIn(AUTO_UPDATED, events)
        self.assertLessEqual({UPDATED, DETACHED}, set(events))
        self.assertEqual(action["params"]["type"], "success")
        # Once up to date, nothing is sent again.
        endpoints.endpoints[1]["enabled_events"] = events
        with patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: client
        ):
            self.stripe.action_omni_stripe_update_webhook()
        self.assertEqual(len(endpoints.updates), 1)

    def test_resubscribing_without_an_endpoint_says_so(self):
        client = Mock(v1=Mock(webhook_endpoints=FakeWebhookEndpoints([])))
        with patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: client
        ):
            action = self.stripe.action_omni_stripe_update_webhook()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("Generate your webhook", action["params"]["message"])

    # === ACCESS === #

    def test_managers_read_the_log_only(self):
        self._post(self._event(UPDATED, current_api_payment_method()))
        event = self._events()
        self.assertTrue(event)
        manager = new_test_user(
            self.env,
            "omni_evt_manager",
            groups="omni_payment_methods.group_omni_payment_method_manager",
        )
        admin = new_test_user(self.env, "omni_evt_admin", groups="base.group_system")
        event.with_user(manager).check_access("read")
        self.assertEqual(event.with_user(manager).read(["state"])[0]["state"], "ignored")
        for operation in ("write", "create", "unlink"):
            with self.assertRaises(AccessError):
                event.with_user(manager).check_access(operation)
            event.with_user(admin).check_access(operation)
        user = new_test_user(self.env, "omni_evt_user", groups="base.group_user")
        with self.assertRaises(AccessError):
            event.with_user(user).check_access("read")
