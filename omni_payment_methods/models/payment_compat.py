# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment framework's hooks, as Odoo 18.0 and 19.0 name them.

The addon's own logic is in series-neutral methods (``_omni_before_payment_data``,
``_omni_after_payment_data``, ``_omni_after_stripe_tokenize``,
``_omni_stripe_request_payload``, ``_omni_charge_with_token``); this module plugs them
into the hooks of the running series:

=============================  ==================================  ========================
what                           18.0                                19.0
=============================  ==================================  ========================
payment data checked first     ``_process_notification_data``      ``_validate_amount``
                               (before super)                      (before super)
payment data applied to a tx   ``_process_notification_data``      ``_process``
token created from a payment   ``_stripe_tokenize_from_``          ``_tokenize``
                               ``notification_data``
requests to Stripe             provider ``_stripe_make_request``   provider
                               (endpoint, payload, method)         ``_send_api_request``
                                                                   (method, endpoint, data)
charge a token                 ``_send_payment_request``           ``_charge_with_token``
                               (logs, checks the provider)         (logs, checks the
                                                                   provider, then sends)
apply a PaymentIntent found    ``_handle_notification_data``       ``_process``
                               (``_include_payment_intent_in_``    (``_include_payment_``
                               ``notification_data``)              ``intent_in_payment_data``)
=============================  ==================================  ========================
"""

from odoo import models

from odoo.addons.payment_stripe.controllers.main import StripeController

from ..compat import ODOO_MAJOR

if ODOO_MAJOR >= 19:  # 19.0

    class PaymentProvider(models.Model):
        # one class per series, beside the business one: on purpose
        _inherit = "payment.provider"  # pylint: disable=consider-merging-classes-inherited

        def _send_api_request(self, method, endpoint, *, data=None, **kwargs):
            """Override of `payment` (19.0): the addon's additions to Stripe payloads."""
            if self.code == "stripe":
                data = self._omni_stripe_request_payload(method, endpoint, data)
            return super()._send_api_request(method, endpoint, data=data, **kwargs)

    class PaymentTransaction(models.Model):
        # one class per series, beside the business one: on purpose
        _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

        def _validate_amount(self, payment_data):
            """Override of `payment` (19.0): the first step of ``_process`` on the found
            transaction; refuse data that is not about the addon's PaymentIntent before."""
            self._omni_before_payment_data(payment_data)
            return super()._validate_amount(payment_data)

        def _process(self, provider_code, payment_data):
            """Override of `payment` (19.0): follow up the new state of the transaction,
            also when the payment data was refused (amount or currency mismatch: the
            transaction is then in error without ``_apply_updates``)."""
            tx = super()._process(provider_code, payment_data)
            for one_tx in tx:
                one_tx._omni_after_payment_data(payment_data)
            return tx

        def _tokenize(self, payment_data):
            """Override of `payment` (19.0): capture the details of a new Stripe token."""
            res = super()._tokenize(payment_data)
            if self.provider_code == "stripe":
                self._omni_after_stripe_tokenize(payment_data)
            return res

        def _omni_charge_with_token(self):
            """Charge the transaction's token: 19.0's ``_charge_with_token``."""
            return self._charge_with_token()

        def _omni_process_stripe_intent(self, intent):
            """Apply a Stripe PaymentIntent to the transaction as payment_stripe's webhook
            does: 19.0's ``_process``."""
            payment_data = {"reference": self.reference}
            StripeController._include_payment_intent_in_payment_data(intent, payment_data)
            return self._process("stripe", payment_data)

else:  # 18.0

    class PaymentProvider(models.Model):
        # one class per series, beside the business one: on purpose
        _inherit = "payment.provider"  # pylint: disable=consider-merging-classes-inherited

        def _stripe_make_request(
            self, endpoint, payload=None, method="POST", offline=False, idempotency_key=None
        ):
            """Override of `payment_stripe` (18.0): the addon's additions to Stripe
            payloads."""
            payload = self._omni_stripe_request_payload(method, endpoint, payload)
            return super()._stripe_make_request(
                endpoint,
                payload=payload,
                method=method,
                offline=offline,
                idempotency_key=idempotency_key,
            )

    class PaymentTransaction(models.Model):
        # one class per series, beside the business one: on purpose
        _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

        def _process_notification_data(self, notification_data):
            """Override of `payment` (18.0): check the data is about the addon's
            PaymentIntent, then follow up the new state of the transaction."""
            self._omni_before_payment_data(notification_data)
            res = super()._process_notification_data(notification_data)
            self._omni_after_payment_data(notification_data)
            return res

        def _stripe_tokenize_from_notification_data(self, notification_data):
            """Override of `payment_stripe` (18.0): capture the details of the new token."""
            res = super()._stripe_tokenize_from_notification_data(notification_data)
            self._omni_after_stripe_tokenize(notification_data)
            return res

        def _omni_charge_with_token(self):
            """Charge the transaction's token: 18.0's ``_send_payment_request``."""
            return self._send_payment_request()

        def _omni_process_stripe_intent(self, intent):
            """Apply a Stripe PaymentIntent to the transaction as payment_stripe's webhook
            does: 18.0's ``_handle_notification_data``."""
            notification_data = {"reference": self.reference}
            StripeController._include_payment_intent_in_notification_data(intent, notification_data)
            return self._handle_notification_data("stripe", notification_data)
