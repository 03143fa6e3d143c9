/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
//
// Adding a card through a Stripe SetupIntent, shared by the portal, the emailed link page
// and the back-office dialog. The card number, expiry and CVC stay in Stripe's element;
// Odoo's server creates the SetupIntent, checks the result with Stripe and saves the token.
// Only the subset of Stripe.js that localstripe's fake also serves is used
// (elements().create("card"), confirmCardSetup, confirmSepaDebitSetup), so development and
// production share it. Bank accounts: SEPA through Stripe's iban element (with localstripe's
// fake, which has no iban element, a plain input without a name, sent to the fake Stripe
// only); Canadian pre-authorized debits (confirmAcssDebitSetup) and US bank accounts
// (collectBankAccountForSetup + confirmUsBankAccountSetup) open Stripe's own dialogs, which
// localstripe does not serve.
import { loadJS } from "@web/core/assets";

const ROUTE = "/omni/payment_method/setup";

export class OmniStripeSetup {
    constructor({ stripeJsUrl, publishableKey, csrfToken, onCardError }) {
        this.stripeJsUrl = stripeJsUrl;
        // localstripe's fake Stripe.js is served by the fake server, not by Stripe.
        this.isFake = !stripeJsUrl.startsWith("https://js.stripe.com/");
        this.publishableKey = publishableKey;
        this.csrfToken = csrfToken;
        this.onCardError = onCardError || (() => {});
        this.pending = null;
    }

    async mount(container, ibanContainer) {
        await loadJS(this.stripeJsUrl);
        this.stripe = window.Stripe(this.publishableKey);
        this.card = this.stripe.elements().create("card", { hidePostalCode: true });
        this.card.mount(container);
        this.card.on("change", (event) => this.onCardError(event && event.error));
        this.ibanContainer = ibanContainer;
    }

    /** Mount the IBAN field the first time SEPA is chosen. */
    mountIban() {
        if (!this.ibanContainer || this.iban || this.ibanInput) {
            return;
        }
        if (this.isFake) {
            const input = document.createElement("input");
            input.type = "text";
            input.className = "border-0 w-100 o_omni_iban_input";
            input.placeholder = "DE89 3704 0044 0532 0130 00";
            input.autocomplete = "off";
            this.ibanContainer.appendChild(input);
            this.ibanInput = input;
            return;
        }
        this.iban = this.stripe
            .elements()
            .create("iban", { supportedCountries: ["SEPA"], placeholderCountry: "DE" });
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
            const sepa = this.iban || { iban: (this.ibanInput?.value || "").replace(/\s/g, "") };
            return this.stripe.confirmSepaDebitSetup(secret, {
                payment_method: { sepa_debit: sepa, billing_details: billing },
            });
        }
        if (start.method_type === "acss_debit") {
            if (!this.stripe.confirmAcssDebitSetup) {
                return unsupported;
            }
            return this.stripe.confirmAcssDebitSetup(secret, {
                payment_method: { billing_details: billing },
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
                    payment_method_data: { billing_details: billing },
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
                    address: { country: values.country_code || undefined },
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
        const result = await this._confirm(start, values);
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
        if (this.iban) {
            this.iban.destroy();
        }
    }
}
