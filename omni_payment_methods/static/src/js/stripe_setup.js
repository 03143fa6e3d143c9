/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
//
// Adding a card through a Stripe SetupIntent, shared by the portal, the emailed link page
// and the back-office dialog. The card number, expiry and CVC stay in Stripe's element;
// Odoo's server creates the SetupIntent, checks the result with Stripe and saves the token.
// Only Stripe.js's documented API is used, the same whichever server serves it (Stripe, or
// a Stripe-compatible development server): elements().create("card" / "iban"),
// confirmCardSetup, confirmSepaDebitSetup. Canadian pre-authorized debits
// (confirmAcssDebitSetup) and US bank accounts (collectBankAccountForSetup +
// confirmUsBankAccountSetup) open Stripe's own dialogs; a Stripe.js without them gets a
// clear error.
import {loadJS} from "@web/core/assets";

const ROUTE = "/omni/payment_method/setup";

export class OmniStripeSetup {
    constructor({stripeJsUrl, publishableKey, csrfToken, onCardError}) {
        this.stripeJsUrl = stripeJsUrl;
        this.publishableKey = publishableKey;
        this.csrfToken = csrfToken;
        this.onCardError = onCardError || (() => {});
        this.pending = null;
    }

    async mount(container, ibanContainer) {
        await loadJS(this.stripeJsUrl);
        this.stripe = window.Stripe(this.publishableKey);
        this.card = this.stripe.elements().create("card", {hidePostalCode: true});
        this.card.mount(container);
        this.card.on("change", (event) => this.onCardError(event && event.error));
        this.ibanContainer = ibanContainer;
    }

    /** Mount the IBAN field the first time SEPA is chosen. */
    mountIban() {
        if (!this.ibanContainer || this.iban) {
            return;
        }
        this.iban = this.stripe
            .elements()
            .create("iban", {supportedCountries: ["SEPA"], placeholderCountry: "DE"});
        this.iban.mount(this.ibanContainer);
        this.iban.on("change", (event) => this.onCardError(event && event.error));
    }

    /** Confirm the SetupIntent of ``start`` with Stripe.js for its method type. */
    async _confirm(start, values) {
        const billing = {
            name: values.holder_name,
            email: start.billing_email || undefined,
        };
        const secret = start.client_secret;
        const unsupported = {
            error: {
                code: "unsupported_here",
                message: "This kind of bank account cannot be added with this Stripe.js.",
            },
        };
        if (start.method_type === "sepa_debit") {
            return this.stripe.confirmSepaDebitSetup(secret, {
                payment_method: {sepa_debit: this.iban, billing_details: billing},
            });
        }
        if (start.method_type === "acss_debit") {
            if (!this.stripe.confirmAcssDebitSetup) {
                return unsupported;
            }
            return this.stripe.confirmAcssDebitSetup(secret, {
                payment_method: {billing_details: billing},
            });
        }
        if (start.method_type === "us_bank_account") {
            if (!this.stripe.collectBankAccountForSetup) {
                return unsupported;
            }
            const collected = await this.stripe.collectBankAccountForSetup({
                clientSecret: secret,
                params: {
                    payment_method_type: "us_bank_account",
                    payment_method_data: {billing_details: billing},
                },
            });
            if (collected.error || collected.setupIntent?.status !== "requires_confirmation") {
                return collected;
            }
            return this.stripe.confirmUsBankAccountSetup(secret);
        }
        return this.stripe.confirmCardSetup(secret, {
            payment_method: {
                card: this.card,
                billing_details: {
                    name: values.holder_name,
                    address: {country: values.country_code || undefined},
                },
            },
        });
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
            return {error: `${response.status} ${response.statusText}`};
        }
        return response.json();
    }

    /**
     * Start, confirm with Stripe, finish. Resolves to {message, token_id} or {error}.
     * @param {Object} values holder_name, country_id, country_code, nickname, mode, link,
     *  partner_id, consent
     */
    async submit(values) {
        const {country_code, ...fields} = values;
        const start = await this._post(`${ROUTE}/start`, fields);
        if (start.error) {
            return start;
        }
        this.pending = start;
        const result = await this._confirm(start, values);
        this.pending = null;
        if (result.error) {
            return this._post(`${ROUTE}/${start.setup_id}/fail`, {
                handle: start.handle,
                code: result.error.decline_code || result.error.code || "",
                message: result.error.message || "",
            });
        }
        return this._post(`${ROUTE}/${start.setup_id}/finish`, {handle: start.handle});
    }

    /** The page is left while an attempt is open: cancel its SetupIntent. */
    abandon() {
        if (this.pending && navigator.sendBeacon) {
            const {setup_id, handle} = this.pending;
            navigator.sendBeacon(`${ROUTE}/${setup_id}/abandon`, this._formData({handle}));
            this.pending = null;
        }
    }

    destroy() {
        this.abandon();
        if (this.card) {
            this.card.destroy();
        }
        if (this.iban) {
            this.iban.destroy();
        }
    }
}
