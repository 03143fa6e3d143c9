"""Consent and debit mandate wording (omni_payment_methods/lib/consent.py)."""

import pytest
from omni_pm_lib import consent


def english(text, **params):
    """What Odoo's ``env._`` does in English: the text, formatted with its named params."""
    return text % params if params else text


def test_each_channel_has_its_wording():
    checkout = consent.consent_wording("checkout", english)
    assert checkout.startswith("I ticked 'Save my payment details' when paying online")
    staff = consent.consent_wording("staff", english)
    assert staff.startswith("The customer agreed on the phone")
    imported = consent.consent_wording("import", english, user="Marc Demo")
    assert "Marc Demo confirmed that the customer agreed" in imported
    # the customer's own words for the portal, an emailed link and the API
    for channel in ("portal", "link", "api", None):
        assert consent.consent_wording(channel, english) == (
            "I authorize the company to save this payment method and to charge it for my "
            "future invoices until I remove it."
        )
    assert len({checkout, staff, imported, consent.consent_wording("portal", english)}) == 4


@pytest.mark.parametrize(
    ("pm_type", "start"),
    [
        ("sepa_debit", "By providing your IBAN and confirming, you authorise (A) ACME SA and "),
        ("acss_debit", "I authorize ACME SA and Stripe, its payment service provider, to debit"),
        ("us_bank_account", "By confirming, you authorize ACME SA to debit the bank account"),
    ],
)
def test_mandate_wording_names_the_company(pm_type, start):
    text = consent.mandate_wording(pm_type, english, company="ACME SA")
    assert text.startswith(start)
    assert "%(" not in text


def test_us_mandate_names_the_company_everywhere():
    text = consent.mandate_wording("us_bank_account", english, company="ACME SA")
    assert text.count("ACME SA") == 5


def test_no_mandate_for_a_card():
    assert consent.mandate_wording("card", english, company="ACME SA") == ""


def test_the_text_is_translated_before_it_is_formatted():
    """The wording goes through the translation function with its placeholders intact
    (Odoo looks the msgid up, then formats): a French translator gets the English msgid."""
    seen = []

    def french(text, **params):
        seen.append(text)
        return "[fr] " + (text % params if params else text)

    text = consent.mandate_wording("acss_debit", french, company="ACME SA")
    assert text.startswith("[fr] I authorize ACME SA")
    assert seen and "%(company)s" in seen[0]
    assert consent.consent_wording("import", french, user="Marc").startswith("[fr] Saved before")
