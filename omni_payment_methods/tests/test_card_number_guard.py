# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import CARD_YEAR, OmniCommon


@tagged("post_install", "-at_install")
class TestCardNumberGuard(OmniCommon):
    def test_create_with_card_number_is_refused(self):
        for field in ("payment_details", "omni_nickname", "omni_holder_name", "provider_ref"):
            with (
                self.subTest(field=field),
                self.assertRaisesRegex(ValidationError, "looks like a card number"),
            ):
                self._omni_token(self.customer, **{field: "4242 4242 4242 4242"})
        self.assertFalse(self.Token.search([("partner_id", "=", self.customer.id)]))

    def test_write_with_card_number_is_refused(self):
        token = self._omni_token(self.customer)
        for value in ("4000-0566-5566-5556", "my card 378282246310005", "6011111111111117"):
            with (
                self.subTest(value=value),
                self.assertRaisesRegex(ValidationError, "looks like a card number"),
            ):
                token.omni_nickname = value
        self.assertFalse(token.omni_nickname)

    def test_luhn_invalid_digits_are_accepted(self):
        token = self._omni_token(self.customer)
        token.omni_nickname = "Order 4242 4242 4242 4241"
        self.assertEqual(token.omni_nickname, "Order 4242 4242 4242 4241")

    def test_token_is_immutable_except_nickname_and_default(self):
        token = self._omni_token(self.customer)
        token.omni_nickname = "Travel card"
        for field, value in (
            ("omni_card_exp_year", CARD_YEAR + 10),
            ("payment_details", "9999"),
            ("omni_card_brand", "amex"),
            ("partner_id", self.other_customer.id),
            ("stripe_payment_method", "pm_other"),
        ):
            with self.subTest(field=field), self.assertRaisesRegex(UserError, "cannot be changed"):
                token.write({field: value})
        self.assertEqual(token.omni_card_exp_year, CARD_YEAR)
        self.assertEqual(token.partner_id, self.customer)
