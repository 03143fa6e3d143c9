"""How a saved method is named and what the external API returns of it
(omni_payment_methods/lib/token_values.py)."""

from omni_pm_lib import token_values


def english(text, **params):
    return text % params if params else text


def test_card_label():
    assert (
        token_values.issuer_label(english, kind="card", card_brand="visa", payment_details="4242")
        == "Visa ending in 4242"
    )
    assert (
        token_values.issuer_label(
            english, kind="card", card_brand="amex", payment_details="•••• 0005", short=True
        )
        == "American Express •••• 0005"
    )


def test_bank_label():
    assert (
        token_values.issuer_label(
            english, kind="bank", bank_name="TD Canada Trust", payment_details="6789"
        )
        == "TD Canada Trust ending in 6789"
    )
    # no bank name known: a generic, translated name
    assert (
        token_values.issuer_label(english, kind="bank", payment_details="3000", short=True)
        == "Bank account •••• 3000"
    )


def test_label_without_brand_or_last4():
    # a method Odoo saved without details: the name of its Odoo payment method
    assert token_values.issuer_label(english, kind="card", method_name="Card") == "Card"
    assert token_values.issuer_label(english, kind=False) == "Payment method"
    assert token_values.issuer_label(english, kind="card", card_brand="visa") == "Visa"


def test_label_is_translated():
    french = {
        "%(issuer)s ending in %(last4)s": "%(issuer)s se terminant par %(last4)s",
        "Bank account": "Compte bancaire",
    }

    def to_french(text, **params):
        text = french.get(text, text)
        return text % params if params else text

    assert (
        token_values.issuer_label(to_french, kind="bank", payment_details="3000")
        == "Compte bancaire se terminant par 3000"
    )


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


def test_api_values_of_a_card():
    values = token_values.api_values(
        method_id=7,
        customer_id=3,
        kind="card",
        card_brand="mastercard",
        bank_name=False,
        payment_details="•••• 4444",
        exp_month=12,
        exp_year=2031,
        is_default=True,
        authorized=True,
        nickname=False,
    )
    assert values == {
        "id": 7,
        "customer_id": 3,
        "kind": "card",
        "brand": "Mastercard",
        "last4": "4444",
        "exp_month": 12,
        "exp_year": 2031,
        "is_default": True,
        "authorized": True,
        "nickname": "",
    }


def test_api_values_of_a_bank_account():
    values = token_values.api_values(
        method_id=8,
        customer_id=3,
        kind="bank",
        card_brand=False,
        bank_name="STRIPE TEST BANK",
        payment_details="3000",
        exp_month=0,
        exp_year=0,
        is_default=False,
        authorized=False,
        nickname="Office account",
    )
    assert set(values) == API_KEYS  # the API's JSON keys never change
    assert values["brand"] == "STRIPE TEST BANK"
    assert values["last4"] == "3000"
    assert values["exp_month"] is False and values["exp_year"] is False
    assert values["nickname"] == "Office account"


def test_api_values_without_details():
    values = token_values.api_values(
        method_id=9,
        customer_id=4,
        kind=False,
        card_brand=False,
        bank_name=False,
        payment_details=False,
        exp_month=0,
        exp_year=0,
        is_default=False,
        authorized=False,
        nickname=False,
    )
    assert set(values) == API_KEYS
    assert (values["kind"], values["brand"], values["last4"]) == ("card", "", "")
