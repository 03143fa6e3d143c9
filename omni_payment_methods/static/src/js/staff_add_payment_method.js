/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
//
// Back-office dialog (client action, target "new") for staff adding a card given on the
// phone: Stripe Elements, holder name, country, nickname and the customer's consent.
import { Component, onMounted, onWillUnmount, useRef, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { OmniStripeSetup } from "./stripe_setup";

export class OmniStaffAddPaymentMethod extends Component {
    static template = "omni_payment_methods.StaffAddPaymentMethod";
    static props = ["*"];

    setup() {
        this.params = this.props.action.params;
        this.action = useService("action");
        this.notification = useService("notification");
        this.cardRef = useRef("card");
        this.state = useState({
            holderName: "",
            countryId: String(this.params.default_country_id || ""),
            nickname: "",
            consent: false,
            error: "",
            busy: false,
            ready: false,
        });
        this.stripeSetup = new OmniStripeSetup({
            stripeJsUrl: this.params.stripe_js_url,
            publishableKey: this.params.publishable_key,
            csrfToken: odoo.csrf_token,
            onCardError: (error) => (this.state.error = (error && error.message) || ""),
        });
        onMounted(async () => {
            await this.stripeSetup.mount(this.cardRef.el);
            this.state.ready = true;
        });
        onWillUnmount(() => this.stripeSetup.destroy());
    }

    async save() {
        this.state.error = "";
        this.state.busy = true;
        const country = this.params.countries.find((c) => String(c.id) === this.state.countryId);
        let result;
        try {
            result = await this.stripeSetup.submit({
                mode: "staff",
                partner_id: this.params.partner_id,
                holder_name: this.state.holderName,
                country_id: this.state.countryId,
                country_code: country && country.code,
                nickname: this.state.nickname,
                consent: this.state.consent ? "1" : "",
            });
        } catch (error) {
            result = { error: error.message || String(error) };
        }
        this.state.busy = false;
        if (result.error) {
            this.state.error = result.error;
            return;
        }
        this.notification.add(result.message, { type: "success" });
        await this.action.doAction({ type: "ir.actions.act_window_close" });
    }

    cancel() {
        this.action.doAction({ type: "ir.actions.act_window_close" });
    }
}

registry.category("actions").add("omni_add_payment_method", OmniStaffAddPaymentMethod);
