"""Screenshots of the running demo (``make run``) for the README and the apps page.

    python3 tools/demo_screenshots.py [--url http://127.0.0.1:8069] [--out docs/screenshots]

Logs in as admin (and as the demo portal user), opens the pages below in Chromium through
Playwright and writes one PNG per page. Read-only: it clicks nothing that changes data.
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PORTAL_LOGIN, PORTAL_PASSWORD = "jane.cooper@example.com", "jane-demo"


def login(page, url, user, password):
    page.goto(f"{url}/web/login")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def backend(page, url, path, selector):
    page.goto(f"{url}{path}")
    page.wait_for_selector(selector, timeout=30000)
    page.wait_for_timeout(800)  # let the list settle (badges, pager)


def shoot(page, out, name, full_page=False, height=None):
    path = out / name
    clip = None
    if height:
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    page.screenshot(path=str(path), full_page=full_page, clip=clip)
    print(f"screenshot: {path}")


def email_page(page, url, out, partner_name, subject_part, name):
    """Render the last email the demo sent to ``partner_name`` whose subject contains
    ``subject_part`` (the body as the customer receives it)."""
    body = page.evaluate(
        """async ([partner, subject]) => {
            const call = async (model, method, args, kwargs) => {
                const r = await fetch('/web/dataset/call_kw', {
                    method: 'POST', headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({jsonrpc: '2.0', method: 'call', params:
                        {model, method, args, kwargs: kwargs || {}}}),
                });
                return (await r.json()).result;
            };
            const mails = await call('mail.mail', 'search_read',
                [[['subject', 'ilike', subject], ['recipient_ids.name', '=', partner]]],
                {fields: ['subject', 'body_html'], order: 'id desc', limit: 1});
            return mails.length ? mails[0] : null;
        }""",
        [partner_name, subject_part],
    )
    if not body:
        print(f"no email '{subject_part}' to {partner_name}", file=sys.stderr)
        return
    page.set_content(
        f"<html><head><meta charset='utf-8'><title>{body['subject']}</title></head>"
        "<body style='background:#f1f1f1;margin:0;padding:24px'>"
        "<div id='mail' style='background:#fff;max-width:640px;padding:20px 24px;"
        "border:1px solid #ddd;border-radius:6px;font-family:sans-serif'>"
        "<div style='font-size:13px;color:#666;border-bottom:1px solid #eee;"
        f"padding-bottom:8px;margin-bottom:12px'><b>To:</b> {partner_name}<br/>"
        f"<b>Subject:</b> {body['subject']}</div>{body['body_html']}</div></body></html>"
    )
    page.wait_for_timeout(300)
    path = out / name
    page.locator("#mail").screenshot(path=str(path))
    print(f"screenshot: {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    url = args.url.rstrip("/")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 860})
            page = context.new_page()
            login(page, url, "admin", "admin")
            # The customer's Payment Methods page.
            partner_id = page.evaluate(
                """async () => {
                    const r = await fetch('/web/dataset/call_kw', {method: 'POST',
                        headers: {'Content-Type': 'application/json'},
                        body: JSON.stringify({jsonrpc: '2.0', method: 'call', params: {
                            model: 'res.partner', method: 'search',
                            args: [[['name', '=', 'Acme Robotics']]], kwargs: {}}})});
                    return (await r.json()).result[0];
                }"""
            )
            backend(page, url, f"/odoo/contacts/{partner_id}", ".o_form_view")
            page.click("a.nav-link:has-text('Payment Methods')")
            page.wait_for_selector(".o_notebook .o_list_renderer .o_data_row")
            page.wait_for_timeout(500)
            shoot(page, out, "partner_payment_methods.png")
            # Expiring Cards.
            backend(
                page,
                url,
                "/odoo/action-omni_payment_methods.payment_token_action_expiring",
                ".o_list_renderer .o_data_row",
            )
            shoot(page, out, "expiring_cards.png", height=300)
            # Dunning.
            backend(
                page,
                url,
                "/odoo/action-omni_payment_charging.omni_dunning_case_action",
                ".o_list_renderer .o_data_row",
            )
            shoot(page, out, "dunning_list.png", height=400)
            page.click(".o_list_renderer .o_data_row:has-text('Lumen Studio') td.o_data_cell")
            page.wait_for_selector(".o_form_view .o-mail-Chatter, .o_form_view")
            page.wait_for_timeout(1000)
            shoot(page, out, "dunning_case.png", height=560)
            # An email of the dunning sequence, as sent.
            email_page(page, url, out, "Blue Harbor Cafe", "", "dunning_email.png")
            context.close()
            # The portal.
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            login(page, url, PORTAL_LOGIN, PORTAL_PASSWORD)
            page.goto(f"{url}/my/payment_method")
            page.wait_for_selector("main")
            page.wait_for_timeout(800)
            shoot(page, out, "portal_demo.png", height=360)
            context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
