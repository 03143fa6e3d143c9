# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime

from freezegun import freeze_time

from odoo.tests import HttpCase, new_test_user, tagged

from .common import TODAY, OmniCommon

NOW = datetime.datetime.combine(TODAY, datetime.time(9, 0))


@tagged("post_install", "-at_install")
class TestPaymentMethodsLink(OmniCommon, HttpCase):
    """The single-use link of the emails: the customer's methods, no account needed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Expires at the end of this month: "Expiring" (60 days or less).
        cls.card = cls._omni_token(
            cls.customer_contact, last4="4242", month=TODAY.month, year=TODAY.year
        )
        cls.other_card = cls._omni_token(cls.other_customer, last4="1117", brand="discover")

    def _path(self, url):
        return url[url.index("/omni/payment_methods/") :]

    def test_link_shows_the_customer_methods_only(self):
        with freeze_time(NOW):
            url = self.card.with_context(omni_send_links=True)._omni_update_url()
            self.assertTrue(url.startswith(self.customer.get_base_url()))
            response = self.url_open(self._path(url))
        self.assertEqual(response.status_code, 200)
        self.assertIn("Omni Customer", response.text)
        self.assertIn("Visa •••• 4242", response.text)
        self.assertIn("Expiring", response.text)
        self.assertNotIn("1117", response.text, "another customer's card never shows")

    def test_tampered_link_is_refused(self):
        path = self._path(self.card.with_context(omni_send_links=True)._omni_update_url())
        for bad in (path[:-3] + "abc", path + "x", "/omni/payment_methods/AAAA", path[:-20]):
            with self.subTest(bad=bad):
                response = self.url_open(bad)
                self.assertEqual(response.status_code, 403)
                self.assertIn("no longer valid", response.text)
                self.assertNotIn("4242", response.text)

    def test_preview_and_saved_template_issue_no_link(self):
        """Only an email being sent issues a link: not a preview of the template, not the
        rendering Odoo 19.0 runs to check a template when it is saved, not a direct call."""
        Link = self.env["omni.payment.link"]
        before = Link.search_count([])
        template = self.env.ref("omni_payment_methods.mail_template_add_payment_method_link")
        template.write({"body_html": template.body_html})
        preview = self.env["mail.template.preview"].create(
            {"mail_template_id": template.id, "resource_ref": f"res.partner,{self.customer.id}"}
        )
        self.assertIn("/omni/payment_methods/issued-when-sent", preview.body_html)
        self.assertIn("issued-when-sent", self.customer._omni_payment_methods_url())
        self.assertEqual(Link.search_count([]), before, "no link row for what is not sent")
        sent = self.customer.with_context(omni_send_links=True)._omni_payment_methods_url()
        self.assertNotIn("issued-when-sent", sent)
        self.assertEqual(Link.search_count([]), before + 1)

    def test_link_stores_only_a_hash_and_names_one_customer(self):
        secret = self._path(self.card.with_context(omni_send_links=True)._omni_update_url()).rsplit(
            "/", 1
        )[1]
        link = self.env["omni.payment.link"].search([], limit=1)
        self.assertEqual(link.partner_id, self.customer)
        self.assertNotIn(secret, link.token_hash, "the database never holds a usable link")
        self.assertEqual(self.env["res.partner"]._omni_partner_from_link(secret), self.customer)
        self.assertFalse(self.env["res.partner"]._omni_partner_from_link("not-base64!"))
        self.assertFalse(self.env["res.partner"]._omni_partner_from_link(None))
        # Each email gets its own link.
        self.assertNotEqual(
            self.customer.with_context(omni_send_links=True)._omni_payment_methods_url(),
            self.customer.with_context(omni_send_links=True)._omni_payment_methods_url(),
        )

    def test_link_expires(self):
        with freeze_time(datetime.datetime.now() - datetime.timedelta(days=31)):
            url = self.card.with_context(omni_send_links=True)._omni_update_url()
        response = self.url_open(self._path(url))
        self.assertEqual(response.status_code, 403)
        self.assertIn("It has expired", response.text)
        self.assertNotIn("4242", response.text)
        with freeze_time(datetime.datetime.now() - datetime.timedelta(days=29)):
            url = self.card.with_context(omni_send_links=True)._omni_update_url()
        self.assertEqual(self.url_open(self._path(url)).status_code, 200)

    def test_link_is_single_use(self):
        url = self.card.with_context(omni_send_links=True)._omni_update_url()
        secret = self._path(url).rsplit("/", 1)[1]
        # Viewing does not consume the link.
        for _i in range(2):
            self.assertEqual(self.url_open(self._path(url)).status_code, 200)
        link = self.env["res.partner"]._omni_link_from_payload(secret)
        self.assertTrue(link._consume(self.card))
        self.assertFalse(link._consume(self.card), "a link is consumed once")
        self.assertEqual(link.used_token_id, self.card)
        response = self.url_open(self._path(url))
        self.assertEqual(response.status_code, 403)
        self.assertIn("already used", response.text)
        self.assertNotIn("4242", response.text)
        self.assertFalse(self.env["res.partner"]._omni_partner_from_link(secret))

    def test_signed_in_customer_goes_to_the_portal_page(self):
        new_test_user(
            self.env,
            "omni_link_portal",
            groups="base.group_portal",
            partner_id=self.customer_contact.id,
        )
        self.authenticate("omni_link_portal", "omni_link_portal")
        response = self.url_open(
            self._path(self.card.with_context(omni_send_links=True)._omni_update_url()),
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/my/payment_method"))
