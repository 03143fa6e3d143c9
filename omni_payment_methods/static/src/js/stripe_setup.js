/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
//
// Adding a card through a Stripe SetupIntent, shared by the portal, the emailed link page
// and the back-office dialog. The card number, expiry and CVC stay in Stripe's element;
// Odoo's server creates the SetupIntent, checks the result with Stripe and saves the token.
// Only the subset of Stripe.js that localstripe's fake also serves is used
// (elements().create("card"), confirmCardSetup), so development and production share it.
import { loadJS } from "@web/core/assets";

const ROUTE = "/omni/payment_method/setup";

export class OmniStripeSetup {
    constructor({ stripeJsUrl, publishableKey, csrfToken, onCardError }) {
        this.stripeJsUrl = stripeJsUrl;
        this.publishableKey = publishableKey;
        this.csrfToken = csrfToken;
        this.onCardError = onCardError || (() => {});
        this.pending = null;
    }

    async mount(container) {
        await loadJS(this.stripeJsUrl);
        this.stripe = window.Stripe(this.publishableKey);
        this.card = this.stripe.elements().create("card", { hidePostalCode: true });
        this.card.mount(container);
        this.card.on("change", (event) => this.onCardError(event && event.error));
    }

    _formData(values) {
        const body = new FormData();
        for (const [key, value] of Object.entries(values)) {
            if (value !== undefined && value !== null) {
                body.append(key, value);
            }
        }
        body.append("csrf_token", this.csrfToken);
        return body;
    }

    async _post(path, values) {
        const response = await fetch(path, {
            method: "POST",
            body: this._formData(values),
            credentials: "same-origin",
        });
        if (!response.ok) {
            return { error: `${response.status} ${response.statusText}` };
        }
        return response.json();
    }

    /**
     * Start, confirm with Stripe, finish. Resolves to {message, token_id} or {error}.
     * @param {Object} values holder_name, country_id, country_code, nickname, mode, link,
     *  partner_id, consent
     */
    async submit(values) {
        const { country_code, ...fields } = values;
        const start = await this._post(`${ROUTE}/start`, fields);
        if (start.error) {
            return start;
        }
        this.pending = start;
        const result = await this.stripe.confirmCardSetup(start.client_secret, {
            payment_method: {
                card: this.card,
                billing_details: {
                    name: values.holder_name,
                    address: { country: country_code || undefined },
                },
            },
        });
        this.pending = null;
        if (result.error) {
            return this._post(`${ROUTE}/${start.setup_id}/fail`, {
                handle: start.handle,
                code: result.error.decline_code || result.error.code || "",
                message: result.error.message || "",
            });
        }
        return this._post(`${ROUTE}/${start.setup_id}/finish`, { handle: start.handle });
    }

    /** The page is left while an attempt is open: cancel its SetupIntent. */
    abandon() {
        if (this.pending && navigator.sendBeacon) {
            const { setup_id, handle } = this.pending;
            navigator.sendBeacon(`${ROUTE}/${setup_id}/abandon`, this._formData({ handle }));
            this.pending = null;
        }
    }

    destroy() {
        this.abandon();
        if (this.card) {
            this.card.destroy();
        }
    }
}
