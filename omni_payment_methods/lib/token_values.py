# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""How a saved payment method is named to people, and what the external API returns of it.

Plain values in, plain values out: ``payment.token`` passes its stored fields. The texts
go through the caller's translation function ``_`` (Odoo's ``env._``).
"""

# Pure functions: the caller passes its own ``env._`` as ``_``, whose calls Odoo's
# extractor finds; there is no ``self.env`` here.
# pylint: disable=prefer-env-translation

from . import stripe_api


def last4(payment_details):
    """The last 4 digits of Odoo's masked ``payment_details`` ("•••• 4242" -> "4242")."""
    return (payment_details or "")[-4:]


def issuer_name(_, kind=False, card_brand=False, bank_name=False, method_name=False):
    """The issuer of a method: the bank for a bank account, else the card brand's label,
    else the name of the method's Odoo payment method."""
    if kind == "bank":
        return bank_name or _("Bank account")
    if card_brand:
        return stripe_api.brand_label(card_brand)
    return method_name or _("Payment method")


def issuer_label(
    _,
    kind=False,
    card_brand=False,
    bank_name=False,
    method_name=False,
    payment_details=False,
    short=False,
):
    """'Visa ending in 4242', or 'Visa •••• 4242' with ``short``; the issuer alone when the
    last 4 digits are unknown.

    :param _: the translation function (``env._``)
    :return: the (translated) label
    """
    issuer = issuer_name(_, kind, card_brand, bank_name, method_name)
    digits = last4(payment_details)
    if not digits:
        return issuer
    if short:
        return f"{issuer} •••• {digits}"
    return _("%(issuer)s ending in %(last4)s", issuer=issuer, last4=digits)


def api_values(
    *,
    method_id,
    customer_id,
    kind,
    card_brand,
    bank_name,
    payment_details,
    exp_month,
    exp_year,
    is_default,
    authorized,
    nickname,
):
    """What an integration may know of a method, never more: the JSON object of the
    external API (``res.partner.omni_api_list_payment_methods``, ``payment.token``'s
    ``omni_api_*``). Its keys are a public contract: documented in README.md.

    :return: a dict of JSON/XML-RPC values
    """
    if kind == "bank":
        brand = bank_name or ""
    else:
        brand = stripe_api.brand_label(card_brand) if card_brand else ""
    return {
        "id": method_id,
        "customer_id": customer_id,
        "kind": kind or "card",
        "brand": brand,
        "last4": last4(payment_details),
        "exp_month": exp_month or False,
        "exp_year": exp_year or False,
        "is_default": bool(is_default),
        "authorized": bool(authorized),
        "nickname": nickname or "",
    }
