/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
//
// The page of the emailed link where a customer authenticates (3-D Secure) a charge that the
// bank declined off-session: the server hands over the PaymentIntent of that charge, Stripe.js
// confirms it with the saved payment method (the bank's own window), then the server checks
// it in Stripe and records the payment.
import publicWidget from "@web/legacy/js/public/public_widget";
import {loadJS} from "@web/core/assets";

publicWidget.registry.OmniAuthenticatePayment = publicWidget.Widget.extend({
    selector: ".o_omni_authenticate_payment",
    events: {"click .o_omni_authenticate_button": "_onConfirm"},

    async start() {
        await this._super(...arguments);
        await loadJS(this.el.dataset.stripeJsUrl);
        this.stripe = window.Stripe(this.el.dataset.publishableKey);
        this.el.classList.add("o_omni_ready");
    },

    async _post(path) {
        const body = new FormData();
        body.append("csrf_token", this.el.querySelector("input[name='csrf_token']").value);
        const response = await fetch(path, {method: "POST", body, credentials: "same-origin"});
        if (!response.ok) {
            return {error: `${response.status} ${response.statusText}`};
        }
        return response.json();
    },

    _show(message, kind) {
        const error = this.el.querySelector(".o_omni_error");
        const success = this.el.querySelector(".o_omni_success");
        error.textContent = kind === "danger" ? message : "";
        error.classList.toggle("d-none", kind !== "danger");
        success.textContent = kind === "success" ? message : "";
        success.classList.toggle("d-none", kind !== "success");
        if (kind === "success") {
            for (const el of this.el.querySelectorAll(".o_omni_hide_on_success")) {
                el.classList.add("d-none");
            }
        }
    },

    async _onConfirm(ev) {
        const button = ev.currentTarget;
        button.disabled = true;
        this._show("", "");
        try {
            const route = this.el.dataset.route;
            const start = await this._post(`${route}/start`);
            if (start.error) {
                this._show(start.error, "danger");
                return;
            }
            if (!start.done) {
                // A failed or cancelled authentication is reported by the server's check.
                await this.stripe.confirmCardPayment(start.client_secret, {
                    payment_method: start.payment_method,
                });
            }
            const finish = await this._post(`${route}/finish`);
            if (finish.error) {
                this._show(finish.error, "danger");
                return;
            }
            this._show(finish.message, "success");
        } finally {
            button.disabled = false;
        }
    },
});
