# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The wording a customer accepts when a payment method is saved.

Every function takes the translation function ``_`` of the caller (Odoo's ``env._``: it
translates its msgid into the language of the environment, then formats the named
placeholders), so that the texts stay in the addon's translations while the choice of the
text needs no Odoo.
"""

# Pure functions: the caller passes its own ``env._`` as ``_``, whose calls Odoo's
# extractor finds; there is no ``self.env`` here.
# pylint: disable=prefer-env-translation


def consent_wording(channel, _, user=""):
    """The consent to off-session charges given when saving a method through ``channel``.

    :param channel: a value of ``payment.token``'s ``added_channel``
    :param _: the translation function (``env._``)
    :param user: the name of the staff member who confirms the consent of a method saved
        before the addon was installed (channel ``import``)
    :return: the translated wording
    """
    if channel == "checkout":
        return _(
            "I ticked 'Save my payment details' when paying online: the company may "
            "charge this payment method for my future payments."
        )
    if channel == "import":
        return _(
            "Saved before the payment methods addon was installed; %(user)s confirmed "
            "that the customer agreed to automatic charges of this method.",
            user=user,
        )
    if channel == "staff":
        return _(
            "The customer agreed on the phone that the company saves this payment method "
            "and charges it for future invoices."
        )
    return _(
        "I authorize the company to save this payment method and to charge it for my "
        "future invoices until I remove it."
    )


def mandate_wording(pm_type, _, company=""):
    """The debit mandate accepted when saving a bank account of Stripe type ``pm_type``
    (Stripe's recommended wording for each scheme).

    :param pm_type: ``sepa_debit``, ``acss_debit`` or ``us_bank_account``
    :param _: the translation function (``env._``)
    :param company: the name of the company that will debit the account
    :return: the translated wording; ``""`` for a type without a mandate (a card)
    """
    if pm_type == "sepa_debit":
        return _(
            "By providing your IBAN and confirming, you authorise (A) %(company)s and "
            "Stripe, our payment service provider, to send instructions to your bank to "
            "debit your account and (B) your bank to debit your account in accordance "
            "with those instructions. As part of your rights, you are entitled to a "
            "refund from your bank under the terms and conditions of your agreement with "
            "your bank. A refund must be claimed within 8 weeks starting from the date on "
            "which your account was debited. Your rights are explained in a statement "
            "that you can obtain from your bank.",
            company=company,
        )
    if pm_type == "acss_debit":
        return _(
            "I authorize %(company)s and Stripe, its payment service provider, to debit "
            "this Canadian bank account, by pre-authorized debit, for the invoices I owe "
            "as they fall due (sporadic debits), until I revoke this authorization. The "
            "mandate confirmation is sent to my email address.",
            company=company,
        )
    if pm_type == "us_bank_account":
        return _(
            "By confirming, you authorize %(company)s to debit the bank account specified "
            "for any amount owed for charges arising from your use of %(company)s' services "
            "and/or purchase of products from %(company)s, pursuant to %(company)s' terms, "
            "until this authorization is revoked. You may amend or cancel this "
            "authorization at any time by providing notice to %(company)s with 30 (thirty) "
            "days notice.",
            company=company,
        )
    return ""
