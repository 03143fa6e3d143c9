/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import publicWidget from "@web/legacy/js/public/public_widget";
import { OmniStripeSetup } from "./stripe_setup";

publicWidget.registry.OmniAddPaymentMethod = publicWidget.Widget.extend({
    selector: ".o_omni_add_payment_method",
    events: { submit: "_onSubmit", change: "_onEdit" },

    async start() {
        await this._super(...arguments);
        const data = this.el.dataset;
        this.setup = new OmniStripeSetup({
            stripeJsUrl: data.stripeJsUrl,
            publishableKey: data.publishableKey,
            csrfToken: this.el.querySelector("input[name='csrf_token']").value,
            onCardError: (error) => this._showError(error && error.message),
        });
        this._onPageHide = () => this.setup.abandon();
        window.addEventListener("pagehide", this._onPageHide);
        await this.setup.mount(
            this.el.querySelector(".o_omni_card_element"),
            this.el.querySelector(".o_omni_iban_element")
        );
        this._showMethodType();
        this.el.classList.add("o_omni_ready");
    },

    destroy() {
        window.removeEventListener("pagehide", this._onPageHide);
        if (this.setup) {
            this.setup.destroy();
        }
        this._super(...arguments);
    },

    _onEdit(ev) {
        // A corrected field clears the previous message.
        this._showError("");
        if (ev && ev.target && ev.target.name === "method_type") {
            this._showMethodType();
        }
    },

    _methodType() {
        return this.el.querySelector("select[name='method_type']")?.value || "card";
    },

    /** Show the fields, mandate and button of the chosen kind of method. */
    _showMethodType() {
        const type = this._methodType();
        const isCard = type === "card";
        const toggle = (selector, visible) => {
            for (const el of this.el.querySelectorAll(selector)) {
                el.classList.toggle("d-none", !visible);
            }
        };
        toggle(".o_omni_for_card", isCard);
        toggle(".o_omni_for_bank", !isCard);
        toggle(".o_omni_for_sepa", type === "sepa_debit");
        toggle(".o_omni_for_email_bank", type === "sepa_debit" || type === "acss_debit");
        for (const el of this.el.querySelectorAll(".o_omni_mandate_text")) {
            el.classList.toggle("d-none", el.dataset.methodType !== type);
        }
        if (type === "sepa_debit") {
            this.setup.mountIban();
        }
    },

    _showError(message) {
        const box = this.el.querySelector(".o_omni_error");
        box.textContent = message || "";
        box.classList.toggle("d-none", !message);
    },

    async _onSubmit(ev) {
        ev.preventDefault();
        const button = this.el.querySelector(".o_omni_submit");
        const country = this.el.querySelector("select[name='country_id']");
        const data = this.el.dataset;
        this._showError("");
        button.disabled = true;
        let result;
        try {
            result = await this.setup.submit({
                mode: data.mode,
                method_type: this._methodType(),
                link: data.link || undefined,
                holder_name: this.el.querySelector("input[name='holder_name']").value,
                country_id: country.value,
                country_code: country.selectedOptions[0]?.dataset.code,
                nickname: this.el.querySelector("input[name='nickname']").value,
                partner_id: data.partnerId || undefined,
                consent: this.el.querySelector("input[name='consent']")?.checked ? "1" : undefined,
            });
        } catch (error) {
            result = { error: error.message || String(error) };
        }
        button.disabled = false;
        if (result.error) {
            this._showError(result.error);
            return;
        }
        if (data.mode === "portal") {
            window.location.assign("/my/payment_method");
            return;
        }
        if (data.mode === "staff" && window.parent !== window) {
            // The back-office dialog around this page closes itself and notifies.
            window.parent.postMessage(
                { type: "omni_payment_method_added", message: result.message },
                window.location.origin
            );
        }
        const success = this.el.querySelector(".o_omni_success");
        success.textContent = result.message;
        success.classList.remove("d-none");
        for (const el of document.querySelectorAll(".o_omni_hide_on_success")) {
            el.classList.add("d-none");
        }
        for (const el of this.el.querySelectorAll(".mb-3, .o_omni_submit, p.small")) {
            el.classList.add("d-none");
        }
    },
});

export default publicWidget.registry.OmniAddPaymentMethod;
