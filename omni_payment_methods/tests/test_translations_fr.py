# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..lib import expiry
from .common import TODAY, OmniCommon

NOW = datetime.datetime.combine(TODAY, datetime.time(9, 0))
NEXT_MONTH = TODAY + relativedelta(months=1)  # a card expiring at its end
LAST_MONTH = TODAY - relativedelta(months=1)  # a card expired at its end


@tagged("post_install", "-at_install")
class TestFrenchTranslation(OmniCommon):
    """The addon's fr.po, loaded into Odoo: the reminder email and the errors in French."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["omni_payment_methods"], ["fr_FR"], overwrite=True
        )
        cls.customer.write({"lang": "fr_FR", "email": "billing@omni-customer.example.com"})
        cls.template = cls.env.ref("omni_payment_methods.mail_template_card_expiry")

    def _render(self, token):
        values = self.template._generate_template(token.ids, ["subject", "body_html", "lang"])
        return values[token.id]

    @freeze_time(NOW)
    def test_expiry_reminder_email_in_french(self):
        month, year = NEXT_MONTH.month, NEXT_MONTH.year
        days = (expiry.expiry_date(month, year) - TODAY).days
        token = self._omni_token(self.customer, last4="4242", month=month, year=year)
        values = self._render(token)
        self.assertEqual(values["lang"], "fr_FR")
        self.assertEqual(
            values["subject"], f"Votre carte expire bientôt : Visa •••• 4242 ({month:02d}/{year})"
        )
        body = " ".join(str(values["body_html"]).split())
        for text in (
            "Bonjour Omni Customer,",
            "Votre carte <strong>Visa •••• 4242</strong>, enregistrée pour vos paiements "
            f"automatiques, expire fin {month:02d}/{year}, dans {days} jours.",
            "veuillez ajouter une nouvelle carte et la définir comme moyen de paiement par défaut.",
            "Mettre à jour mon moyen de paiement",
            "Ce lien vous est personnel et reste valable 30 jours.",
        ):
            self.assertIn(text, body)
        for english in ("Hello", "Your", "saved for automatic payments", "Update my"):
            self.assertNotIn(english, body)
        self.assertIn('href="http', body)
        self.assertIn("/omni/payment_methods/", body)

    @freeze_time(NOW)
    def test_expired_card_email_in_french(self):
        month, year = LAST_MONTH.month, LAST_MONTH.year
        token = self._omni_token(
            self.customer, last4="0005", brand="mastercard", month=month, year=year
        )
        values = self._render(token)
        self.assertEqual(
            values["subject"], f"Votre carte a expiré : Mastercard •••• 0005 ({month:02d}/{year})"
        )
        self.assertIn(
            f"a expiré fin {month:02d}/{year}.", " ".join(str(values["body_html"]).split())
        )

    def test_user_error_in_french(self):
        default = self._omni_token(self.customer)
        self._omni_token(self.customer, last4="4444")
        with self.assertRaises(UserError) as caught:
            default.with_context(lang="fr_FR")._omni_delete()
        self.assertEqual(
            caught.exception.args[0],
            "Visa se terminant par 4242 est le moyen de paiement par défaut. Définissez un autre "
            "moyen de paiement par défaut avant de supprimer celui-ci.",
        )
        # the same error for an English-speaking user stays in English
        with self.assertRaisesRegex(UserError, "^Visa ending in 4242 is the default payment"):
            default.with_context(lang="en_US")._omni_delete()

    def test_consent_and_mandate_wording_in_french(self):
        """The wording built in lib/consent.py is translated with the addon's fr.po (the
        texts are looked up for the module of the lib, omni_payment_methods)."""
        Token = self.env["payment.token"].with_context(lang="fr_FR")
        company = self.env.company.name
        self.assertTrue(
            Token._omni_mandate_wording("sepa_debit").startswith(
                f"En fournissant votre IBAN et en confirmant, vous autorisez (A) {company} "
            )
        )
        self.assertTrue(
            Token._omni_mandate_wording("acss_debit").startswith(
                f"J'autorise {company} et Stripe, son prestataire de services de paiement"
            )
        )
        self.assertTrue(
            Token._omni_consent_wording("portal").startswith(
                "J'autorise la société à enregistrer ce moyen de paiement"
            )
        )
        self.assertEqual(
            Token._omni_consent_wording("portal"),
            self.env["payment.token"].with_context(lang="fr_FR")._omni_consent_wording("link"),
        )
        # in English, the msgid
        self.assertTrue(
            self.env["payment.token"]
            .with_context(lang="en_US")
            ._omni_consent_wording("portal")
            .startswith("I authorize the company")
        )
