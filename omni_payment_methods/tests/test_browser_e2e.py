# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""End-to-end tests in Debian's Chromium, driven by Playwright from inside the HttpCase.

The HttpCase serves Odoo on the test port with the test cursor (as tours do); localstripe
(started by the project's test command) serves the fake Stripe.js the pages load from the
provider's URL. Every page is captured into ``.omni/screenshots/`` of the repository, or into
``$OMNI_SCREENSHOTS_DIR`` (``OMNI_SCREENSHOTS_DIR=docs/screenshots make test`` refreshes the
README's screenshots).
"""

import contextlib
import datetime
import logging
import os
import pathlib
import re
import resource
import unittest

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from . import compat
from .common import LocalStripeMixin, OmniCommon

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - playwright is in requirements-test.txt
    sync_playwright = None

_logger = logging.getLogger(__name__)

CHROMIUM = os.environ.get("OMNI_CHROMIUM", "/usr/bin/chromium")
REPO = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / (os.environ.get("OMNI_SCREENSHOTS_DIR") or ".omni/screenshots")
TIMEOUT = 60_000
# Card expiry typed in Stripe Elements: always years ahead of the day the suite runs.
EXP_YEAR = datetime.date.today().year + 5
YY = f"{EXP_YEAR % 100:02d}"


class BrowserE2EMixin:
    """Chromium driven by Playwright from inside an HttpCase (mixed in before it)."""

    @classmethod
    def setUpClass(cls):
        if sync_playwright is None or not os.path.exists(CHROMIUM):
            if os.environ.get("CI"):  # CI runs every test: a missing browser fails it
                raise AssertionError(f"playwright or Chromium ({CHROMIUM}) is missing in CI")
            raise unittest.SkipTest("playwright or Chromium is missing")
        super().setUpClass()
        cls._generate_asset_bundles()

    # The bundles the pages load (the portal's and the back office's, with the test assets).
    ASSET_BUNDLES = (
        "web.assets_frontend",
        "web.assets_frontend_minimal",
        "web.assets_frontend_lazy",
        "web.__assets_tests_call__",
        "web.assets_web",
        "web.assets_web_print",
        "web.assets_tests",
    )

    @classmethod
    def _generate_asset_bundles(cls):
        """Compile the asset bundles before any page opens. A page compiling one (tens of
        seconds on a loaded machine) holds the test cursor, and the page's other requests
        give up waiting for it after Odoo's 20 s: the web client then never starts."""
        QWeb = cls.env["ir.qweb"]
        for name in cls.ASSET_BUNDLES:
            bundle = QWeb._get_asset_bundle(name)
            bundle.css()
            bundle.js()

    @contextlib.contextmanager
    def _db(self):
        """Read or write the database from the test thread while a page is open.

        The browser's requests share the test's cursor: each holds the registry's test lock
        while it runs (tests/compat.py). Holding it here makes them wait, so that no query of
        the test thread interleaves with a request's (the ORM's results then get mixed up:
        StopIteration in _fetch_query). Only database work goes inside: a browser call
        would wait forever.
        """
        with compat.database_lock(self):
            self.env.invalidate_all()
            yield

    # === BROWSER HELPERS === #

    @contextlib.contextmanager
    def _page(self):
        """A fresh Chromium page; the browser is always stopped."""
        # Odoo limits the server's address space (limit_memory_hard); Chromium reserves
        # more than that. Playwright's driver and the browser it spawns are started without
        # the limit (as Odoo's own ChromeBrowser does), then the limit is restored.
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        try:
            manager = sync_playwright()
            pw = manager.__enter__()
            try:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
            except BaseException:
                manager.__exit__(None, None, None)
                raise
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        try:
            with compat.browser_requests(self):
                context = browser.new_context(viewport={"width": 1100, "height": 900})
                context.add_cookies(
                    [
                        {
                            "name": TEST_CURSOR_COOKIE_NAME,
                            "value": self.http_request_key,
                            "url": self.base_url(),
                        }
                    ]
                )
                page = context.new_page()
                page.set_default_timeout(TIMEOUT)
                page.on("pageerror", lambda error: _logger.warning("browser error: %s", error))
                page.on(
                    "console",
                    lambda msg: msg.type == "error" and _logger.warning("browser: %s", msg.text),
                )
                yield page
        finally:
            try:
                browser.close()
            finally:
                manager.__exit__(None, None, None)

    def _shot(self, page, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)

    def _login(self, page, login, password, redirect):
        page.goto(f"{self.base_url()}/web/login?redirect={redirect}")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")


@tagged("post_install", "-at_install", "omni_browser")
class TestBrowserE2E(BrowserE2EMixin, LocalStripeMixin, OmniCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fr = cls.env.ref("base.fr")
        cls.customer.write({"email": "billing@example.com", "country_id": cls.fr.id})
        cls.customer_contact.write({"email": "contact@example.com", "country_id": cls.fr.id})
        cls.portal_user = new_test_user(
            cls.env,
            "omni_e2e_portal",
            password="omni_e2e_portal_pw",
            name="Ada Lovelace",
            groups="base.group_portal",
            partner_id=cls.customer_contact.id,
        )
        cls.manager = new_test_user(
            cls.env,
            "omni_e2e_manager",
            password="omni_e2e_manager_pw",
            name="Grace Hopper",
            groups="base.group_user,base.group_partner_manager,"
            "omni_payment_methods.group_omni_payment_method_manager",
        )

    def _fill_card(self, page, number, month="08", year=YY, cvc="123", scope=None):
        """Type into the card element (localstripe's fake one: number, expiry, CVC)."""
        scope = scope or page
        for field, value in (
            ("number", number),
            ("exp_month", month),
            ("exp_year", year),
            ("cvc", cvc),
        ):
            scope.locator(f".o_omni_card_element input[placeholder={field}]").fill(value)

    def _submit_portal_card(self, page, number, expect_error=None, **card):
        page.fill("input[name=holder_name]", "Ada Lovelace")
        self._fill_card(page, number, **card)
        page.click(".o_omni_submit")
        if expect_error:
            expect(page.locator(".o_omni_error")).to_contain_text(expect_error)

    # === PORTAL === #

    def test_portal_add_sepa_account(self):
        """A SEPA bank account in the portal: the mandate shown, the IBAN typed into the
        iban element Stripe.js confirms with (the development server's: a plain field)."""
        with self._page() as page:
            self._login(page, "omni_e2e_portal", "omni_e2e_portal_pw", "/my/payment_method/add")
            page.wait_for_selector(".o_omni_add_payment_method.o_omni_ready")
            page.select_option("select[name=method_type]", "sepa_debit")
            expect(page.locator(".o_omni_mandate_sepa_debit")).to_contain_text(
                "you are entitled to a refund from your bank"
            )
            expect(page.locator(".o_omni_email_note")).to_contain_text(
                "The mandate confirmation is emailed to"
            )
            expect(page.locator(".o_omni_card_element")).to_be_hidden()
            expect(page.locator(".o_omni_submit .o_omni_for_bank")).to_be_visible()
            expect(page.locator(".o_omni_submit .o_omni_for_card")).to_be_hidden()
            page.fill("input[name=holder_name]", "Ada Lovelace")
            page.fill("input[name=nickname]", "Main account")
            page.locator(".o_omni_iban_element input").fill("DE89 3704 0044 0532 0130 00")
            self._shot(page, "portal_add_sepa.png")
            page.click(".o_omni_submit")
            page.wait_for_url("**/my/payment_method")
            expect(page.locator(".o_omni_flash")).to_contain_text("ending in 3000 has been added")
            with self._db():
                token = self.Token.search([("commercial_partner_id", "=", self.customer.id)])
                self.assertRecordValues(
                    token,
                    [
                        {
                            "omni_method_kind": "bank",
                            "omni_stripe_pm_type": "sepa_debit",
                            "payment_details": "3000",
                            "omni_nickname": "Main account",
                            "omni_mandate_status": "active",
                            "omni_authorized": True,
                        }
                    ],
                )
            row = page.locator(f"[data-token-id='{token.id}']")
            expect(row.locator(".o_omni_authorized")).to_contain_text(
                "Authorized for automatic payments"
            )
            expect(row.locator(".o_omni_mandate")).to_contain_text("NXDSYREGC9PSMKWY")
            self._shot(page, "portal_payment_methods_sepa.png")

    def test_portal_add_set_default_rename_delete(self):
        base = self.base_url()
        with self._page() as page:
            self._login(page, "omni_e2e_portal", "omni_e2e_portal_pw", "/my/payment_method")
            page.wait_for_url("**/my/payment_method")
            page.click("a.o_omni_add")
            page.wait_for_selector(".o_omni_add_payment_method.o_omni_ready")
            # Stripe's validation shown as clear messages; nothing is saved.
            page.click(".o_omni_submit")
            expect(page.locator(".o_omni_error")).to_contain_text("cardholder")
            self._submit_portal_card(page, "4000000000000002", expect_error="declined by its bank")
            self._submit_portal_card(page, "4242424242424242", year="20", expect_error="past")
            self._submit_portal_card(page, "4242", expect_error="incomplete or not valid")
            self._shot(page, "portal_add_card_error.png")
            with self._db():
                self.assertFalse(
                    self.Token.search([("commercial_partner_id", "=", self.customer.id)])
                )
            page.fill("input[name=nickname]", "Company Visa")
            page.fill("input[name=holder_name]", "Ada Lovelace")
            self._fill_card(page, "4242424242424242")
            self._shot(page, "portal_add_card.png")
            page.click(".o_omni_submit")
            page.wait_for_url("**/my/payment_method")
            expect(page.locator(".o_omni_flash")).to_have_text(
                "Your Visa ending in 4242 has been added to your account."
            )
            with self._db():
                first = self.Token.search([("commercial_partner_id", "=", self.customer.id)])
                self.assertEqual(len(first), 1)
                self.assertTrue(first.omni_is_default)
                self.assertEqual(
                    (first.omni_added_channel, first.omni_nickname), ("portal", "Company Visa")
                )

            # A second card, then make it the default.
            page.click("a.o_omni_add")
            page.wait_for_selector(".o_omni_add_payment_method.o_omni_ready")
            self._submit_portal_card(page, "4000000000005678", month="11", year=YY)
            page.wait_for_url("**/my/payment_method")
            with self._db():
                second = self.Token.search(
                    [("commercial_partner_id", "=", self.customer.id), ("id", "!=", first.id)]
                )
                self.assertFalse(second.omni_is_default)
            page.locator(f"[data-token-id='{second.id}'] .o_omni_set_default").click()
            expect(page.locator(".o_omni_flash")).to_have_text(
                "Visa ending in 5678 is now your default payment method."
            )
            with self._db():
                self.assertTrue(second.omni_is_default)
            # Rename.
            row = page.locator(f"[data-token-id='{first.id}']")
            row.locator("summary").click()
            row.locator("input[name=nickname]").fill("Old Visa")
            row.locator("button[type=submit]", has_text="Save").click()
            expect(page.locator(".o_omni_flash")).to_contain_text("renamed to 'Old Visa'")
            with self._db():
                self.assertEqual(first.omni_nickname, "Old Visa")
            self._shot(page, "portal_payment_methods.png")
            # Delete the default: refused while another method exists.
            page.locator(f"[data-token-id='{second.id}'] a.o_omni_delete").click()
            expect(page.locator(".o_omni_flash")).to_contain_text(
                "is the default payment method. Set another method as default"
            )
            with self._db():
                self.assertTrue(second.active)
            # Delete the other one: confirmation with card and expiry, then gone.
            page.locator(f"[data-token-id='{first.id}'] a.o_omni_delete").click()
            expect(page.locator(".o_omni_delete_message")).to_contain_text(
                f"Delete Visa ending in 4242 (expires 08/{EXP_YEAR})?"
            )
            self._shot(page, "portal_delete_confirm.png")
            page.click(".o_omni_delete_confirm")
            expect(page.locator(".o_omni_flash")).to_have_text(
                "Visa ending in 4242 has been deleted."
            )
            with self._db():
                self.assertFalse(first.active)
            # The last one: the warning, then allowed.
            page.locator(f"[data-token-id='{second.id}'] a.o_omni_delete").click()
            expect(page.locator(".o_omni_delete_message")).to_contain_text(
                "automatic billing stops"
            )
            self._shot(page, "portal_delete_last.png")
            page.click(".o_omni_delete_confirm")
            expect(page.locator(".o_omni_flash")).to_have_text(
                "Visa ending in 5678 has been deleted."
            )
            with self._db():
                self.assertFalse(second.active)
            self.assertTrue(page.url.startswith(base))

    # === STAFF === #

    def test_staff_add_from_the_back_office(self):
        with self._page() as page:
            self._login(
                page,
                "omni_e2e_manager",
                "omni_e2e_manager_pw",
                f"/odoo/res.partner/{self.customer.id}",
            )
            page.click("a[name=omni_payment_methods]")
            page.click("button[name=action_omni_add_payment_method]")
            frame = page.frame_locator(".modal iframe.o_omni_staff_frame")
            form = frame.locator(".o_omni_add_payment_method.o_omni_ready")
            form.wait_for()
            form.locator("input[name=holder_name]").fill("Grace Hopper")
            self._fill_card(page, "4242424242424242", scope=form)
            form.locator("input[name=nickname]").fill("Phone order card")
            # Without the customer's consent nothing is created.
            form.locator(".o_omni_submit").click()
            expect(form.locator(".o_omni_error")).to_have_text(
                "Confirm that the customer agreed to save this payment method."
            )
            form.locator("input[name=consent]").check()
            expect(form.locator(".o_omni_error")).to_be_hidden()
            self._shot(page, "staff_add_dialog.png")
            form.locator(".o_omni_submit").click()
            expect(page.locator(".o_notification")).to_contain_text(
                "Visa ending in 4242 has been added to the account of Omni Customer."
            )
            expect(page.locator(".modal .o_omni_staff_frame")).to_have_count(0)
            expect(page.locator(".o_field_widget[name=omni_payment_token_ids]")).to_contain_text(
                "Phone order card"
            )
            self._shot(page, "staff_payment_methods_after_add.png")
        self.env.invalidate_all()
        token = self.Token.search([("commercial_partner_id", "=", self.customer.id)])
        self.assertEqual(
            (token.omni_added_channel, token.omni_added_by_id), ("staff", self.manager)
        )
        self.assertTrue(token.omni_authorized)
        email = self.customer.message_ids.filtered(
            lambda m: m.subject and "was added to your account" in m.subject
        )
        self.assertEqual(len(email), 1)

    # === EMAILED LINK === #

    def test_link_add_then_reused_and_expired(self):
        # The link of the email sent by "Send a link to add a payment method".
        # The link is in the email sent only (the chatter's copy has none that works).
        self.customer.with_user(self.manager).action_omni_send_payment_link()
        mail = self.env["mail.mail"].search(
            [("mail_message_id", "=", self.customer.message_ids[0].id)]
        )
        path = re.search(r'href="[^"]*(/omni/payment_methods/[^"]+)"', mail.body_html).group(1)
        with self._page() as page:
            page.goto(self.base_url() + path)
            page.wait_for_selector(".o_omni_add_payment_method.o_omni_ready")
            expect(page.locator("h2")).to_contain_text("Payment methods of Omni Customer")
            page.fill("input[name=holder_name]", "Ada Lovelace")
            self._fill_card(page, "4242424242424242")
            self._shot(page, "link_add_page.png")
            page.click(".o_omni_submit")
            expect(page.locator(".o_omni_success")).to_have_text(
                "Your Visa ending in 4242 has been added to your account."
            )
            self._shot(page, "link_added.png")
            with self._db():
                token = self.Token.search([("commercial_partner_id", "=", self.customer.id)])
                self.assertEqual(token.omni_added_channel, "link")
                self.assertTrue(token.omni_is_default)
            # Reused: the link was consumed by the addition.
            response = page.goto(self.base_url() + path)
            self.assertEqual(response.status, 403)
            expect(page.locator(".o_omni_link_used")).to_contain_text("already used")
            self._shot(page, "link_used.png")
            # Expired: a fresh link whose time is over.
            with self._db():
                url = self.customer.with_context(omni_send_links=True)._omni_payment_methods_url()
                secret = url.rsplit("/", 1)[1]
                link = self.env["res.partner"]._omni_link_from_payload(secret)
                link.expires_on = fields.Datetime.now() - datetime.timedelta(minutes=1)
                link.flush_recordset()
            response = page.goto(url.replace(self.customer.get_base_url(), self.base_url()))
            self.assertEqual(response.status, 403)
            expect(page.locator(".o_omni_link_expired")).to_contain_text("It has expired")
            self.assertEqual(page.locator(".o_omni_add_payment_method").count(), 0)
            self._shot(page, "link_expired.png")
